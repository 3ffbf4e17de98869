import Foundation
import Synchronization

/// One dedicated thread that runs blocking C calls (librdkafka metadata requests,
/// producer flushes, watermark queries) on behalf of async code, so they never occupy a
/// thread of Swift's cooperative pool.
///
/// The queue in front of the thread is bounded: a caller that finds it full suspends
/// (without blocking a thread) until a job finishes. Jobs run one at a time, in order.
final class BlockingCallThread: Sendable {
    private struct Job: @unchecked Sendable {
        // @unchecked: the closure is @Sendable; it is only boxed for the queue.
        let run: @Sendable () -> Void
    }

    private struct State {
        var jobs: [Job] = []
        /// Jobs admitted and not yet started (queued, or about to be).
        var admitted = 0
        var slotWaiters: [CheckedContinuation<Void, Never>] = []
        var stopped = false
    }

    private let state = Mutex(State())
    private let signal = DispatchSemaphore(value: 0)
    private let capacity: Int

    init(name: String, capacity: Int = 8) {
        self.capacity = Swift.max(1, capacity)
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await acquireSlot()
        return await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            let job = Job { c.resume(returning: body()) }
            let accepted = state.withLock { s -> Bool in
                guard !s.stopped else { return false }
                s.jobs.append(job)
                return true
            }
            if accepted {
                signal.signal()
            } else {
                // Shut down already: still keep the blocking call off the caller's thread.
                Thread { job.run() }.start()
            }
        }
    }

    /// Lets the thread finish the queued jobs and exit.
    func shutdown() {
        state.withLock { $0.stopped = true }
        signal.signal()
    }

    private func acquireSlot() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { s -> Bool in
                if s.admitted < capacity && s.slotWaiters.isEmpty {
                    s.admitted += 1
                    return true
                }
                s.slotWaiters.append(c)
                return false
            }
            if admitted { c.resume() }
        }
    }

    private func loop() {
        while true {
            signal.wait()
            while let (job, waiter) = state.withLock({ s -> (Job, CheckedContinuation<Void, Never>?)? in
                guard !s.jobs.isEmpty else { return nil }
                let job = s.jobs.removeFirst()
                // The finished slot passes straight to the first waiter, if any.
                if s.slotWaiters.isEmpty {
                    s.admitted -= 1
                    return (job, nil)
                }
                return (job, s.slotWaiters.removeFirst())
            }) {
                waiter?.resume()
                job.run()
            }
            if state.withLock({ $0.stopped && $0.jobs.isEmpty }) { return }
        }
    }
}
