import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (the `sluice run` daemon under test) that a test can
/// signal, SIGKILL and wait for. Its output goes to files so a test failure can show it.
public final class BackgroundProcess: Sendable {
    public let pid: Int32
    public let stdoutPath: String
    public let stderrPath: String
    private let exit = Locked<Int32?>(nil)
    private let exited: Task<Int32, Never>

    /// Every live background process, killed at exit so none outlives the tests.
    private static let live = Locked<Set<Int32>>([])
    private static let exitHandlerInstalled: Bool = {
        atexit { BackgroundProcess.live.withLock { for pid in $0 { kill(pid, SIGKILL) } } }
        return true
    }()

    public init(_ executable: String, _ arguments: [String], logDirectory: String) throws {
        _ = Self.exitHandlerInstalled
        let stamp = UUID().uuidString.prefix(8)
        stdoutPath = "\(logDirectory)/\(URL(fileURLWithPath: executable).lastPathComponent)-\(stamp).out"
        stderrPath = "\(logDirectory)/\(URL(fileURLWithPath: executable).lastPathComponent)-\(stamp).err"
        let pid = try ProcessRunner.spawn(
            [executable] + arguments, stdoutPath: stdoutPath, stderrPath: stderrPath,
            command: ([executable] + arguments).joined(separator: " "))
        self.pid = pid
        Self.live.withLock { _ = $0.insert(pid) }
        let box = exit
        exited = Task {
            let raw = await ProcessRunner.waitForExit(pid, markExited: {})
            let status: Int32 = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            box.withLock { $0 = status }
            BackgroundProcess.live.withLock { _ = $0.remove(pid) }
            return status
        }
    }

    public var isRunning: Bool { exit.withLock { $0 == nil } }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits for the process to exit; nil if it did not within `timeout`.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exit.withLock({ $0 }) { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    public func kill9() async {
        signal(SIGKILL)
        _ = await exited.value
    }

    public var output: String {
        ((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "")
    }
}
