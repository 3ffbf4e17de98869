import DequeModule
import Dispatch
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The queue and the dedicated threads behind ``ClickHouseHTTPTransport``.
///
/// Tasks submit requests into a bounded FIFO guarded by a lock; a counting
/// semaphore wakes one thread per request. Each thread owns a ``CurlEasyHandle`` and
/// blocks in libcurl, so Swift's cooperative pool is never blocked. A request is
/// answered exactly once: by the thread that dequeued it, or by whoever removed it from
/// the queue (cancellation, shutdown), and both removals happen under the lock.
final class TransportThreadPool: Sendable {
    private struct Job: Sendable {
        let signal: AbortSignal
        let request: HTTPRequest
        let operation: ClickHouseRequestMetrics.Operation
        let enqueuedAt: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result<HTTPResponse, ClickHouseError>, Never>
    }

    private struct State: Sendable {
        var queue = Deque<Job>()
        var accepting = true
        var threadsStarted = false
        var statistics = ClickHouseTransportStatistics()
    }

    let baseURL: String
    private let options: CurlTransferOptions
    private let threadCount: Int
    private let queueCapacity: Int
    private let logger: Logger
    private let observer: (@Sendable (ClickHouseRequestMetrics) -> Void)?
    private let state = PthreadLockedValue(State())
    /// One signal per queued request, plus one per thread at shutdown. A thread may wake
    /// to find the queue empty (its request was cancelled); it just waits again.
    private let wakeups = DispatchSemaphore(value: 0)
    private let running = DispatchGroup()

    init(
        baseURL: String, options: CurlTransferOptions, threadCount: Int, queueCapacity: Int, logger: Logger,
        observer: (@Sendable (ClickHouseRequestMetrics) -> Void)?
    ) {
        self.baseURL = baseURL
        self.options = options
        self.threadCount = threadCount
        self.queueCapacity = queueCapacity
        self.logger = logger
        self.observer = observer
    }

    func url(_ parameters: [(String, String)]) -> String {
        baseURL + "/?" + ClickHouseSQL.queryString(parameters)
    }

    var statistics: ClickHouseTransportStatistics { state.withLock { $0.statistics } }

    // MARK: Threads

    func startThreads() {
        let start = state.withLock { s -> Bool in
            guard !s.threadsStarted, s.accepting else { return false }
            s.threadsStarted = true
            s.statistics.threads = threadCount
            return true
        }
        guard start else { return }
        for index in 0..<threadCount {
            running.enter()
            let name = Self.threadName(index)
            let thread = Thread { [self] in
                // Set from inside: on Linux that is what reaches the OS thread name
                // (otherwise the thread keeps the creator's, a cooperative-pool name).
                Thread.current.name = name
                TransportThreadMarker.markCurrentThread()
                self.runThread(index: index)
                self.running.leave()
            }
            thread.name = name
            thread.start()
        }
    }

    /// `sluice-ch-<n>`: short enough for Linux's 15-byte thread names, so it shows in
    /// `top -H`, gdb and `/proc/<pid>/task/*/comm`.
    static func threadName(_ index: Int) -> String { "sluice-ch-\(index)" }

    private func runThread(index: Int) {
        var handle: CurlEasyHandle?
        defer { state.withLock { $0.statistics.threads -= 1 } }
        while true {
            wakeups.wait()
            enum Next { case job(Job), idle, exit }
            let next = state.withLock { s -> Next in
                if let job = s.queue.popFirst() {
                    s.statistics.queued -= 1
                    s.statistics.inFlight += 1
                    return .job(job)
                }
                return s.accepting ? .idle : .exit
            }
            switch next {
            case .exit: return
            case .idle: continue
            case .job(let job):
                if handle == nil { handle = CurlEasyHandle() }
                perform(job, handle: handle, worker: index)
            }
        }
    }

    private func perform(_ job: Job, handle: CurlEasyHandle?, worker: Int) {
        let started = ContinuousClock.now
        var metrics = ClickHouseRequestMetrics(operation: job.operation, queueWait: started - job.enqueuedAt, workerIndex: worker)
        let result: Result<HTTPResponse, ClickHouseError>
        if job.signal.isRaised {
            result = .failure(ClickHouseError(kind: .cancelled, message: "the request was cancelled before it was sent"))
        } else if let handle {
            var transfer = handle.perform(job.request, options: options, freshConnection: false, abort: job.signal)
            var connections = transfer.connectionsOpened
            if transfer.looksLikeStaleConnection {
                logger.debug(
                    "kept-alive ClickHouse connection was closed by the server; resending on a fresh connection",
                    metadata: ["curl_error": "\(transfer.errorText)"])
                metrics.retriedOnFreshConnection = true
                transfer = handle.perform(job.request, options: options, freshConnection: true, abort: job.signal)
                connections += transfer.connectionsOpened
            }
            metrics.elapsed = ContinuousClock.now - started
            metrics.connectionsOpened = connections
            metrics.bytesSent = transfer.bytesSent
            metrics.bytesReceived = transfer.body.count
            metrics.httpStatus = transfer.status == 0 ? nil : transfer.status
            result = Self.outcome(of: transfer, metrics: metrics)
        } else {
            result = .failure(ClickHouseError(kind: .network, message: "curl_easy_init failed (out of memory?)"))
        }
        if case .failure(let error) = result { metrics.failure = error.kind }
        state.withLock { s in
            s.statistics.inFlight -= 1
            s.statistics.requests += 1
            if metrics.failure != nil { s.statistics.failures += 1 }
            s.statistics.connectionsOpened += metrics.connectionsOpened
            if metrics.retriedOnFreshConnection { s.statistics.freshConnectionRetries += 1 }
            s.statistics.bytesSent += metrics.bytesSent
            s.statistics.bytesReceived += metrics.bytesReceived
        }
        observer?(metrics)
        job.continuation.resume(returning: result.map { response in
            var response = response
            response.metrics = metrics
            return response
        })
    }

    /// Maps a finished transfer to the caller's result.
    private static func outcome(of transfer: CurlTransfer, metrics: ClickHouseRequestMetrics) -> Result<HTTPResponse, ClickHouseError> {
        let status: Int? = transfer.status == 0 ? nil : transfer.status
        if let kind = transfer.failureKind {
            return .failure(ClickHouseError(kind: kind, httpStatus: status, message: transfer.errorText, curlCode: transfer.code))
        }
        if let error = ClickHouseError.fromResponse(status: transfer.status, exceptionCodeHeader: transfer.exceptionCode, body: transfer.body) {
            return .failure(error)
        }
        return .success(HTTPResponse(
            status: transfer.status, exceptionCode: transfer.exceptionCode, queryID: transfer.queryID,
            summary: transfer.summary, body: transfer.body, metrics: metrics))
    }

    // MARK: Submitting

    func submit(_ request: HTTPRequest, operation: ClickHouseRequestMetrics.Operation) async throws(ClickHouseError) -> HTTPResponse {
        let signal = AbortSignal()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, ClickHouseError>, Never>) in
                let job = Job(signal: signal, request: request, operation: operation, enqueuedAt: .now, continuation: continuation)
                enqueue(job)
            }
        } onCancel: {
            cancel(signal)
        }
        return try result.get()
    }

    private func enqueue(_ job: Job) {
        enum Admission { case queued, rejected(ClickHouseError) }
        let admission = state.withLock { s -> Admission in
            // Checked under the lock: a cancel that ran before this point has already
            // raised the flag, and one that runs after will find the job in the queue.
            if job.signal.isRaised {
                return .rejected(ClickHouseError(kind: .cancelled, message: "the request was cancelled before it was sent"))
            }
            guard s.accepting else {
                return .rejected(ClickHouseError(kind: .shutdown, message: "the ClickHouse transport has been shut down"))
            }
            guard s.queue.count < queueCapacity else {
                return .rejected(ClickHouseError(
                    kind: .overloaded, message: "\(s.queue.count) requests already wait for a ClickHouse connection"))
            }
            s.queue.append(job)
            s.statistics.queued += 1
            return .queued
        }
        switch admission {
        case .queued: wakeups.signal()
        case .rejected(let error): job.continuation.resume(returning: .failure(error))
        }
    }

    private func cancel(_ signal: AbortSignal) {
        signal.raise()
        let removed = state.withLock { s -> Job? in
            guard let index = s.queue.firstIndex(where: { $0.signal === signal }) else { return nil }
            s.statistics.queued -= 1
            return s.queue.remove(at: index)
        }
        removed?.continuation.resume(returning: .failure(ClickHouseError(kind: .cancelled, message: "the request was cancelled before it was sent")))
    }

    // MARK: Shutdown

    func beginShutdown() {
        let (drained, wakeThreads) = state.withLock { s -> (Deque<Job>, Bool) in
            guard s.accepting else { return (Deque(), false) }
            s.accepting = false
            // Swapped out rather than copied with Array(_:): copying an empty Deque
            // writes into Swift's shared empty-array storage, which ThreadSanitizer
            // reports as a (benign) race between two transports shutting down.
            var jobs = Deque<Job>()
            swap(&jobs, &s.queue)
            s.statistics.queued = 0
            return (jobs, s.threadsStarted)
        }
        for job in drained {
            job.continuation.resume(returning: .failure(ClickHouseError(
                kind: .shutdown, message: "the ClickHouse transport shut down before the request was sent")))
        }
        if wakeThreads {
            for _ in 0..<threadCount { wakeups.signal() }
        }
    }

    func joinThreads() {
        running.wait()
    }

    func waitForThreads() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            running.notify(queue: .global()) { continuation.resume() }
        }
    }
}

/// Marks the OS threads that belong to a transport, so code (and tests) can check that
/// a blocking call runs on one of them and not on Swift's cooperative pool. A pthread
/// key rather than the thread name: names are truncated and not reliably applied.
enum TransportThreadMarker {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    static func markCurrentThread() {
        _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
    }

    static var isCurrentThreadMarked: Bool { pthread_getspecific(key) != nil }
}
