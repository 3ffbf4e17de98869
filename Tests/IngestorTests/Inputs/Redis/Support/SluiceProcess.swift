import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `sluice` binary running as a child process, for tests that SIGKILL and restart
/// the daemon. Every started process is registered and SIGKILLed at test-process exit, so
/// a failing test never leaves a daemon behind.
final class SluiceProcess: Sendable {
    let pid: pid_t
    let logPath: String
    private let exit = Locked<Int32?>(nil)

    private static let running = Locked<Set<pid_t>>([])
    private static let exitHandler: Bool = {
        atexit {
            for pid in SluiceProcess.running.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
        return true
    }()

    /// `.build/release/sluice`, or `$SLUICE_BIN_DIR/sluice` (what `make test` sets).
    static var binary: String {
        if let dir = ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"], !dir.isEmpty { return dir + "/sluice" }
        return RepositoryRoot.file(".build/release/sluice")
    }

    private static let prologue =
        #"for p in /proc/$$/fd/*; do n=${p##*/}; case $n in 0|1|2) ;; *) eval "exec $n>&-" ;; esac; done; exec "$@""#

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Runs `sluice <arguments>` to completion (migrate, check-config, publish).
    @discardableResult
    static func runToCompletion(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ProcessResult {
        try await ProcessRunner.run(binary, arguments, timeout: timeout)
    }

    /// Starts `sluice run --config <config>` with its stderr in `logPath`.
    init(config: String, logPath: String) throws {
        _ = Self.exitHandler
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw Failure(description: "\(Self.binary) not found: build it first (swift build -c release) or set SLUICE_BIN_DIR")
        }
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // Through bash, which closes every inherited descriptor above 2 and then execs
        // sluice (same pid): the daemon must not hold the test process's sockets.
        let argv = ["/bin/bash", "-c", Self.prologue, "sluice-spawn", Self.binary, "run", "--config", config]
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cArguments { free(a) } }
        // SLUICE_* variables override config keys; the test's config file must be the
        // whole truth.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLUICE_") }.map { "\($0.key)=\($0.value)" }
        let cEnvironment: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for e in cEnvironment { free(e) } }
        var attributes = Self.cleanSignalAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, &attributes, cArguments, cEnvironment)
        guard rc == 0 else { throw Failure(description: "posix_spawn failed: \(String(cString: strerror(rc)))") }
        let spawned = pid
        self.pid = spawned
        Self.running.withLock { _ = $0.insert(spawned) }
        let exit = self.exit
        // waitpid blocks, so it gets a thread of its own.
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            SluiceProcess.running.withLock { _ = $0.remove(spawned) }
            exit.withLock { $0 = status }
        }
        thread.start()
    }

    /// An empty signal mask and default handlers for the child: Swift's cooperative
    /// threads block every signal, and a spawned child inherits the mask (a daemon that
    /// never sees SIGTERM cannot be stopped gracefully).
    static func cleanSignalAttributes() -> posix_spawnattr_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return attributes
    }

    var hasExited: Bool { exit.withLock { $0 != nil } }

    /// The raw wait status once exited.
    var exitStatus: Int32? { exit.withLock { $0 } }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func kill9() async {
        if !hasExited { kill(pid, SIGKILL) }
        await waitForExit(timeout: .seconds(10))
    }

    /// SIGTERM, then waits; returns the exit code (nil when it had to be killed).
    @discardableResult
    func terminate(timeout: Duration = .seconds(40)) async -> Int32? {
        if !hasExited { kill(pid, SIGTERM) }
        if await waitForExit(timeout: timeout) {
            guard let status = exitStatus else { return nil }
            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
        await kill9()
        return nil
    }

    @discardableResult
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !hasExited {
            if ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
