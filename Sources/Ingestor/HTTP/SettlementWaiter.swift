import Pipeline
import Synchronization

/// Waits, on behalf of one HTTP request, until the pipeline has settled every message
/// the request carried, or until the ingest timeout.
///
/// Direct HTTP ingest and Dapr answer only once rows are durable (DESIGN §2). When the
/// sink is down the request cannot wait forever: on timeout the caller answers 503 or
/// RETRY, the rows stay in the pipeline, and the client's retry is deduplicated.
final class SettlementWaiter: Sendable {
    enum Result: Sendable {
        case settled([MessageResolution])
        /// Messages that had settled by the deadline; nil for the rest.
        case timedOut([MessageResolution?])
    }

    private struct State {
        var resolutions: [MessageResolution?]
        var remaining: Int
        var rejections: [Rejection] = []
        var continuation: CheckedContinuation<Result, Never>?
        var result: Result?
    }

    private let state: Mutex<State>

    init(messageCount: Int) {
        state = Mutex(State(resolutions: Array(repeating: nil, count: messageCount), remaining: messageCount))
    }

    var rejections: [Rejection] { state.withLock { $0.rejections } }

    @Sendable func decoded(_ rejections: [Rejection]) {
        state.withLock { $0.rejections += rejections }
    }

    @Sendable func resolved(_ messages: [ResolvedMessage]) {
        let wake = state.withLock { s -> (CheckedContinuation<Result, Never>, Result)? in
            for m in messages where s.resolutions[m.index] == nil {
                s.resolutions[m.index] = m.resolution
                s.remaining -= 1
            }
            guard s.remaining == 0, s.result == nil else { return nil }
            let r = Result.settled(s.resolutions.map { $0! })
            s.result = r
            guard let c = s.continuation else { return nil }
            s.continuation = nil
            return (c, r)
        }
        if let (c, r) = wake { c.resume(returning: r) }
    }

    private func expire() {
        let wake = state.withLock { s -> (CheckedContinuation<Result, Never>, Result)? in
            guard s.result == nil else { return nil }
            let r = Result.timedOut(s.resolutions)
            s.result = r
            guard let c = s.continuation else { return nil }
            s.continuation = nil
            return (c, r)
        }
        if let (c, r) = wake { c.resume(returning: r) }
    }

    func wait(timeout: Duration) async -> Result {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self.expire() }
        }
        defer { timer.cancel() }
        // A cancelled request (the server is being torn down) answers at once, as a
        // timeout: the rows stay in the pipeline, and their messages were not settled.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Result, Never>) in
                let ready = state.withLock { s -> Result? in
                    if let r = s.result { return r }
                    s.continuation = c
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: {
            self.expire()
        }
    }
}
