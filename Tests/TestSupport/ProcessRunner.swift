import Foundation

/// The outcome of a finished command.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Both streams, for error messages.
    public var combinedOutput: String { [stdout, stderr].filter { !$0.isEmpty }.joined(separator: "\n") }
}

/// Runs commands for test fixtures and captures their output.
///
/// Output goes to temporary files rather than pipes: the scripts this runs start
/// daemons in the background, and a daemon that inherited a pipe would keep it open and
/// make a pipe reader wait forever.
public enum ProcessRunner {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let result: ProcessResult?
        public let reason: String
        public var description: String {
            "\(command): \(reason)" + (result.map { "\n" + $0.combinedOutput } ?? "")
        }
    }

    /// Runs `executable` with `arguments` and waits for it without blocking a thread.
    /// - Parameters:
    ///   - checked: throw unless the exit status is 0.
    ///   - timeout: terminate the command (SIGTERM) after this long and throw.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], checked: Bool = true, timeout: Duration = .seconds(120)
    ) async throws -> ProcessResult {
        let command = ([executable] + arguments).joined(separator: " ")
        let outputDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sluice-process-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outputDirectory) }
        let stdoutURL = outputDirectory.appendingPathComponent("stdout")
        let stderrURL = outputDirectory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdoutHandle.close()
            try? stderrHandle.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        process.standardInput = FileHandle.nullDevice

        let exited = AsyncStream<Int32>.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        process.terminationHandler = { finished in
            exited.continuation.yield(finished.terminationStatus)
            exited.continuation.finish()
        }
        do {
            try process.run()
        } catch {
            throw Failure(command: command, result: nil, reason: "cannot start: \(error)")
        }
        let status: Int32? = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in exited.stream { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let status else {
            process.terminate()
            throw Failure(command: command, result: nil, reason: "did not finish within \(timeout)")
        }
        let result = ProcessResult(
            status: status,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
        if checked && status != 0 {
            throw Failure(command: command, result: result, reason: "exited with status \(status)")
        }
        return result
    }
}
