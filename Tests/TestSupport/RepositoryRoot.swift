import Foundation

/// Where the repository is, so fixtures can run its `deploy/local` scripts.
public enum RepositoryRoot {
    /// `SLUICE_REPO_ROOT` when set (CI and `make test` set it), otherwise derived from
    /// this file's location: `<root>/Tests/TestSupport/RepositoryRoot.swift`.
    public static var path: String {
        if let root = ProcessInfo.processInfo.environment["SLUICE_REPO_ROOT"], !root.isEmpty {
            return root
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .path
    }

    /// Absolute path of a file under the repository root.
    public static func file(_ relativePath: String) -> String {
        URL(fileURLWithPath: path).appendingPathComponent(relativePath).path
    }
}
