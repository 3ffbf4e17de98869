import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long-running child process that a test starts, signals, and stops by PID: the
/// `sluice run` daemon, the Kafka mock cluster.
///
/// - stdout and stderr go to files in a private directory (never pipes a test must
///   drain); ``standardOutput`` and ``standardError`` read them;
/// - with `stdinPipe`, the child's stdin is a pipe whose write end only this process
///   holds (close-on-exec, so no other child inherits it): ``send(_:)`` writes commands,
///   and if the test process dies the child sees end of file;
/// - a thread reaps the child, so ``signal(_:)`` never hits a reused PID;
/// - every process still running when the test process exits is SIGKILLed, so a failed
///   or crashed test leaves nothing behind.
public final class BackgroundProcess: Sendable {
    public let pid: Int32
    public let command: String
    /// Where the output files live.
    public let directory: String

    private let stdinFD: Int32?
    private struct State {
        /// The child has exited (maybe not reaped yet): it must not be signalled.
        var exitSeen = false
        /// Reaped, with its status.
        var exited = false
        var status: Int32 = 0
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    private let state = Locked(State())

    private static let live = Locked<Set<Int32>>([])
    private static let exitHandlerInstalled: Bool = {
        atexit { BackgroundProcess.killAllAtExit() }
        return true
    }()

    /// Closes descriptors 3 and up, then execs "$@" (as ``ProcessRunner`` does), so the
    /// child holds none of the test process's sockets.
    private static let prologue =
        #"for p in /proc/$$/fd/*; do n=${p##*/}; case $n in 0|1|2) ;; *) eval "exec $n>&-" ;; esac; done; exec "$@""#

    public init(_ executable: String, _ arguments: [String], stdinPipe: Bool = false, environment: [String: String] = [:]) throws {
        _ = Self.exitHandlerInstalled
        command = ([executable] + arguments).joined(separator: " ")
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sluice-bg-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeFDs: [Int32] = [-1, -1]
        if stdinPipe {
            guard pipe(&pipeFDs) == 0, fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC) == 0 else {
                throw ProcessRunner.Failure(command: command, result: nil, reason: "pipe2 failed: \(String(cString: strerror(errno)))")
            }
            // dup2 onto 0 clears close-on-exec for the child's copy only.
            posix_spawn_file_actions_adddup2(&actions, pipeFDs[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, directory + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ["/bin/bash", "-c", Self.prologue, "sluice-bg", executable] + arguments
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cArguments { free(a) } }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let cEnvironment: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in cEnvironment { free(e) } }
        var child: pid_t = 0
        // An empty signal mask: the spawning thread may block signals, and a child that
        // inherits that never sees the SIGTERM a test sends (see ProcessRunner).
        var attributes = ProcessRunner.cleanSignalAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        let rc = posix_spawn(&child, "/bin/bash", &actions, &attributes, cArguments, cEnvironment)
        if stdinPipe { close(pipeFDs[0]) }
        guard rc == 0 else {
            if stdinPipe { close(pipeFDs[1]) }
            throw ProcessRunner.Failure(command: command, result: nil, reason: "posix_spawn failed: \(String(cString: strerror(rc)))")
        }
        pid = child
        stdinFD = stdinPipe ? pipeFDs[1] : nil
        Self.live.withLock { _ = $0.insert(child) }
        startReaper()
    }

    deinit {
        if let stdinFD { close(stdinFD) }
    }

    public var isRunning: Bool { !state.withLock { $0.exited } }

    public var standardOutput: String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }
    /// Both streams, for a failure message.
    public var output: String { [standardOutput, standardError].filter { !$0.isEmpty }.joined(separator: "\n") }

    /// Sends a signal unless the process has already been reaped.
    public func signal(_ signal: Int32) {
        state.withLock { s in
            guard !s.exitSeen else { return }
            kill(pid, signal)
        }
    }

    /// Writes a line to the child's stdin.
    public func send(_ line: String) throws {
        guard let stdinFD else { throw ProcessRunner.Failure(command: command, result: nil, reason: "started without a stdin pipe") }
        let bytes = Array((line + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ProcessRunner.Failure(command: command, result: nil, reason: "write to stdin failed: \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }

    /// Waits for the process to exit; returns its status (128 + signal when killed).
    @discardableResult
    public func waitForExit() async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let done = state.withLock { s -> Int32? in
                if s.exited { return s.status }
                s.waiters.append(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// Waits up to `timeout` for an exit; true if the process exited.
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !isRunning
    }

    /// SIGTERM, then SIGKILL after `grace`; returns once the process is gone.
    public func stop(grace: Duration = .seconds(10)) async {
        signal(SIGTERM)
        if await waitForExit(timeout: grace) { return }
        signal(SIGKILL)
        await waitForExit()
    }

    /// SIGKILL, and wait until it is reaped.
    public func kill9() async {
        signal(SIGKILL)
        await waitForExit()
    }

    private func startReaper() {
        let pid = self.pid
        let state = self.state
        let thread = Thread {
            // WNOWAIT first: learn of the exit but keep the zombie, so the PID cannot be
            // reused before `signal` knows not to use it.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            state.withLock { $0.exitSeen = true }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR {
                    status = 0x7f
                    break
                }
            }
            let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            BackgroundProcess.live.withLock { _ = $0.remove(pid) }
            let waiters = state.withLock { s -> [CheckedContinuation<Int32, Never>] in
                s.exited = true
                s.status = code
                defer { s.waiters = [] }
                return s.waiters
            }
            for w in waiters { w.resume(returning: code) }
        }
        thread.name = "reap-\(pid)"
        thread.start()
    }

    private static func killAllAtExit() {
        for pid in live.withLock({ $0 }) { kill(pid, SIGKILL) }
    }
}
