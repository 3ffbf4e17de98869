import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A server started by one of the repository's `deploy/local/*.sh` scripts, in a
/// private directory, and guaranteed to be stopped when the test process exits.
///
/// The scripts own the how (config files, readiness checks, stop by PID); this type owns
/// the lifetime: every started directory is registered, and an `atexit` handler runs the
/// script's `stop` for each, so no server outlives the tests. Directories are named
/// `sluice-test-<kind>-<pid>-<random>`; a later run stops and removes those whose test
/// process died without running its exit handlers (a crash or SIGKILL).
final class LocalServerProcess: Sendable {
    let kind: String
    let script: String
    let directory: String

    private static let registry = Locked<[String: String]>([:])  // directory -> script
    private static let exitHandlerInstalled: Bool = {
        atexit { LocalServerProcess.stopAllAtExit() }
        return true
    }()

    /// Creates a fresh directory for a server of `kind` (e.g. `clickhouse`) managed by
    /// `deploy/local/<scriptName>`.
    init(kind: String, scriptName: String) throws {
        _ = Self.exitHandlerInstalled
        Self.removeStaleDirectories(kind: kind)
        self.kind = kind
        self.script = RepositoryRoot.file("deploy/local/\(scriptName)")
        guard FileManager.default.isExecutableFile(atPath: script) || FileManager.default.fileExists(atPath: script) else {
            throw ProcessRunner.Failure(command: script, result: nil, reason: "script not found (set SLUICE_REPO_ROOT)")
        }
        let name = "sluice-test-\(kind)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Runs `script start <directory> <arguments...>`.
    func start(_ arguments: [String]) async throws {
        Self.registry.withLock { $0[directory] = script }
        try await ProcessRunner.run("/bin/bash", [script, "start", directory] + arguments, timeout: .seconds(90))
    }

    /// Runs `script stop <directory>`; the data directory stays for a later `start`.
    func stop() async throws {
        try await ProcessRunner.run("/bin/bash", [script, "stop", directory], timeout: .seconds(30))
    }

    /// Stops the server and deletes its directory.
    func destroy() async {
        _ = try? await stop()
        Self.registry.withLock { _ = $0.removeValue(forKey: directory) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// PID of the running server process, if the script recorded one that is alive.
    var pid: Int32? {
        for file in ["pid", "pid.launch"] {
            let path = directory + "/" + file
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0 {
                return pid
            }
        }
        return nil
    }

    // MARK: Exit and stale cleanup

    /// Runs in `atexit`: no async, no Foundation `Process`; spawn the script and wait.
    private static func stopAllAtExit() {
        let entries = registry.withLock { registry in
            let all = registry
            registry.removeAll()
            return all
        }
        for (directory, script) in entries {
            runSynchronously(["/bin/bash", script, "stop", directory])
            killRecordedProcesses(in: directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Stops servers left behind by test processes that no longer exist.
    private static func removeStaleDirectories(kind: String) {
        let temp = FileManager.default.temporaryDirectory.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temp) else { return }
        let prefix = "sluice-test-\(kind)-"
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let owner = rest.split(separator: "-").first.flatMap({ Int32($0) }) else { continue }
            if owner == getpid() || kill(owner, 0) == 0 { continue }
            let directory = temp + "/" + name
            killRecordedProcesses(in: directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// SIGTERM, then SIGKILL after 10 s, for every PID file in `directory`.
    private static func killRecordedProcesses(in directory: String) {
        for file in ["pid", "pid.launch"] {
            guard let text = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
                  kill(pid, 0) == 0, belongs(pid: pid, to: directory) else { continue }
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(100_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
    }

    /// Whether `pid` is still the server of `directory` and not a recycled PID: its
    /// command line names the directory (ClickHouse's `--config-file`) or its working
    /// directory is it (Redis `--dir`). Without `/proc` nothing is assumed to match.
    private static func belongs(pid: Int32, to directory: String) -> Bool {
        if let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
           String(decoding: cmdline, as: UTF8.self).contains(directory) {
            return true
        }
        if let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") {
            return URL(fileURLWithPath: cwd).standardizedFileURL.path == URL(fileURLWithPath: directory).standardizedFileURL.path
        }
        return false
    }

    private static func runSynchronously(_ argv: [String]) {
        var pid: pid_t = 0
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        guard posix_spawn(&pid, argv[0], nil, nil, &cArgs, environ) == 0 else { return }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}
