import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
/// The scripts this runs start daemons, which inherit whatever descriptors the command
/// had. Two consequences shape this type:
/// - Output goes to temporary files, not pipes: a daemon holding a pipe open would make
///   a reader wait forever.
/// - It spawns with `posix_spawn` and reaps with `waitpid` on a dedicated thread rather
///   than using Foundation's `Process`, which on Linux learns of the child's exit from a
///   socket the child inherits; a daemon (`redis-server --daemonize yes`) keeps that
///   socket open and the exit is never reported. The command also runs behind a tiny
///   shell prologue that closes every descriptor above 2, so no daemon inherits the test
///   process's sockets.
public enum ProcessRunner {
    public struct Failure: Error, CustomStringConvertible {
        public let command: String
        public let result: ProcessResult?
        public let reason: String
        public var description: String {
            "\(command): \(reason)" + (result.map { "\n" + $0.combinedOutput } ?? "")
        }
    }

    /// Closes descriptors 3 and up (listed from /proc where it exists), then execs "$@".
    /// bash, not sh: dash cannot name descriptors above 9 in a redirection.
    private static let prologue =
        #"for p in /proc/$$/fd/*; do n=${p##*/}; case $n in 0|1|2) ;; *) eval "exec $n>&-" ;; esac; done; exec "$@""#

    /// Runs `executable` with `arguments` and waits for it without blocking a
    /// cooperative thread.
    /// - Parameters:
    ///   - checked: throw unless the exit status is 0.
    ///   - timeout: kill the command (SIGKILL) after this long and throw.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], checked: Bool = true, timeout: Duration = .seconds(120)
    ) async throws -> ProcessResult {
        let command = ([executable] + arguments).joined(separator: " ")
        let outputDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sluice-process-\(UUID().uuidString)", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outputDirectory) }
        let stdoutPath = outputDirectory + "/stdout"
        let stderrPath = outputDirectory + "/stderr"

        let pid = try spawn(
            ["/bin/bash", "-c", prologue, "sluice-spawn", executable] + arguments,
            stdoutPath: stdoutPath, stderrPath: stderrPath, command: command)

        // (exited, killed by the watchdog); the flag is checked under the lock so the
        // watchdog never signals a PID that has been reaped (and maybe reused).
        let state = Locked((exited: false, killed: false))
        let watchdog = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            state.withLock { s in
                guard !s.exited else { return }
                s.killed = true
                kill(pid, SIGKILL)
            }
        }
        let rawStatus = await waitForExit(pid, markExited: { state.withLock { $0.exited = true } })
        watchdog.cancel()
        let timedOut = state.withLock { $0.killed }
        let status: Int32 = (rawStatus & 0x7f) == 0 ? (rawStatus >> 8) & 0xff : 128 + (rawStatus & 0x7f)
        let result = ProcessResult(
            status: status,
            stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
        if timedOut {
            throw Failure(command: command, result: result, reason: "did not finish within \(timeout)")
        }
        if checked && status != 0 {
            throw Failure(command: command, result: result, reason: "exited with status \(status)")
        }
        return result
    }

    static func spawn(_ argv: [String], stdoutPath: String, stderrPath: String, command: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var attributes = ProcessRunner.cleanSignalAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard rc == 0 else {
            throw Failure(command: command, result: nil, reason: "posix_spawn failed: \(String(cString: strerror(rc)))")
        }
        return pid
    }

    /// Spawn attributes that give the child an empty signal mask and default handlers.
    ///
    /// A child inherits the spawning thread's signal mask, and Swift's cooperative
    /// threads block every signal: without this, a `redis-server` started from a test
    /// never sees the SIGTERM of `redis.sh stop`, is SIGKILLed 10 s later, and loses
    /// the last second of its append-only file.
    static func cleanSignalAttributes() -> posix_spawnattr_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return attributes
    }

    /// `waitpid` blocks, so it runs on a thread of its own.
    static func waitForExit(_ pid: pid_t, markExited: @escaping @Sendable () -> Void) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let thread = Thread {
                var status: Int32 = 0
                // WNOWAIT first: learn of the exit but leave the zombie, so the PID cannot
                // be reused before the watchdog knows not to signal it.
                var info = siginfo_t()
                while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
                markExited()
                while waitpid(pid, &status, 0) < 0 {
                    if errno != EINTR {
                        status = 0x7f  // reported as 255: unknown
                        break
                    }
                }
                continuation.resume(returning: status)
            }
            thread.name = "wait-\(pid)"
            thread.start()
        }
    }
}
