import Dispatch
import Foundation
import Synchronization

/// A dedicated OS thread that owns one Redis connection and runs blocking hiredis calls
/// for async callers.
///
/// hiredis's blocking API parks its thread for a whole round trip (or a whole
/// `XREADGROUP ... BLOCK`), which must never happen on Swift's cooperative pool: with two
/// cores that pool has two threads. Callers `await` ``perform(_:)``; the job runs on this
/// thread and resumes the caller through a continuation. Jobs run one at a time in FIFO
/// order, and the queue is bounded: a full queue fails fast with `.overloaded` instead
/// of growing. The connection is made on first use and again after any error that
/// kills it; pacing reconnects is the caller's job (it can sleep without holding a
/// thread).
final class RedisWorker: Sendable {
    typealias Job = @Sendable (RedisSession) -> Void

    private enum Admission { case queued(startThread: Bool), refused(RedisError) }

    private struct State {
        var jobs: [Job] = []
        var started = false
        var stopping = false
    }

    let name: String
    let endpoint: RedisEndpoint
    let capacity: Int
    private let state = Mutex(State())
    /// One signal per queued job, plus one at shutdown.
    private let wakeups = DispatchSemaphore(value: 0)
    private let connects: Mutex<Int> = Mutex(0)

    init(name: String, endpoint: RedisEndpoint, capacity: Int = 64) {
        self.name = name
        self.endpoint = endpoint
        self.capacity = capacity
    }

    /// Connections made so far (the first one included).
    var connectionCount: Int { connects.withLock { $0 } }

    /// Runs `body` on the worker thread with its session and returns what it returned.
    func perform<T: Sendable>(_ body: @escaping @Sendable (RedisSession) throws(RedisError) -> T) async throws(RedisError) -> T {
        let result: Result<T, RedisError> = await withCheckedContinuation { continuation in
            let job: Job = { session in
                do throws(RedisError) {
                    continuation.resume(returning: .success(try session.run(body)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            let admission = state.withLock { s -> Admission in
                if s.stopping { return .refused(RedisError(kind: .shutdown, message: "\(name) is shut down")) }
                if s.jobs.count >= capacity {
                    return .refused(RedisError(kind: .overloaded, message: "\(name) has \(capacity) commands waiting"))
                }
                s.jobs.append(job)
                let start = !s.started
                s.started = true
                return .queued(startThread: start)
            }
            switch admission {
            case .refused(let error): continuation.resume(returning: .failure(error))
            case .queued(let startThread):
                if startThread { startThreadNow() }
                wakeups.signal()
            }
        }
        return try result.get()
    }

    /// Stops taking jobs; those already queued still run, then the thread closes the
    /// connection and exits.
    func shutdown() {
        let wasRunning = state.withLock { s -> Bool in
            let running = s.started && !s.stopping
            s.stopping = true
            return running
        }
        if wasRunning { wakeups.signal() }
    }

    private func startThreadNow() {
        let name = self.name
        let thread = Thread { [self] in
            // Set from inside: on Linux that is what reaches the OS thread name.
            Thread.current.name = name
            self.runLoop()
        }
        thread.name = name
        thread.start()
    }

    private func runLoop() {
        let session = RedisSession(endpoint: endpoint, onConnect: { [self] in self.connects.withLock { $0 += 1 } })
        while true {
            wakeups.wait()
            enum Next { case job(Job), idle, exit }
            let next = state.withLock { s -> Next in
                if !s.jobs.isEmpty { return .job(s.jobs.removeFirst()) }
                return s.stopping ? .exit : .idle
            }
            switch next {
            case .job(let job): job(session)
            case .idle: continue
            case .exit:
                session.disconnect()
                return
            }
        }
    }
}

/// The worker thread's view of its connection: connects lazily and forgets a connection
/// that an error has killed, so the next job starts on a fresh one. Lives and dies on
/// the worker thread.
final class RedisSession {
    let endpoint: RedisEndpoint
    private var current: RedisConnection?
    private let onConnect: () -> Void

    init(endpoint: RedisEndpoint, onConnect: @escaping () -> Void = {}) {
        self.endpoint = endpoint
        self.onConnect = onConnect
    }

    var isConnected: Bool { current != nil }

    /// The open connection, connecting first if there is none.
    func connection() throws(RedisError) -> RedisConnection {
        if let current { return current }
        let made = try RedisConnection(endpoint: endpoint)
        current = made
        onConnect()
        return made
    }

    func disconnect() {
        current = nil
    }

    func run<T>(_ body: (RedisSession) throws(RedisError) -> T) throws(RedisError) -> T {
        do {
            return try body(self)
        } catch {
            if error.dropsConnection { current = nil }
            throw error
        }
    }
}
