import DequeModule
import Synchronization

/// The single budget of in-flight bytes that keeps Sluice's memory bounded whatever the
/// input rate (DESIGN §2, back-pressure).
///
/// An input charges a chunk's bytes before it hands the chunk to the pipeline and the
/// charge is released only when every message of the chunk has been acknowledged, so
/// bytes that sit in a batch waiting for ClickHouse still count. When the budget is full,
/// pulling inputs (Redis, Kafka) wait in ``acquire(_:)``; pushing inputs (HTTP, Dapr)
/// call ``tryAcquire(_:)`` and answer 429 or RETRY instead of queueing without bound.
public final class MemoryBudget: Sendable {
    /// Total bytes that may be in flight.
    public let limit: Int

    private struct State {
        var used = 0
        var waiters: Deque<(bytes: Int, continuation: CheckedContinuation<Void, Never>)> = []
    }

    private let state = Mutex(State())

    public init(limit: Int) {
        precondition(limit > 0, "a memory budget must be positive")
        self.limit = limit
    }

    /// Bytes currently charged.
    public var used: Int { state.withLock { $0.used } }

    /// Takes `bytes` if they fit now. A single request larger than the whole budget is
    /// admitted when nothing else is in flight, so an oversized message cannot wedge the
    /// pipeline (input limits keep such messages rare and bounded).
    public func tryAcquire(_ bytes: Int) -> Bool {
        state.withLock { s in
            guard s.waiters.isEmpty, s.used + bytes <= limit || s.used == 0 else { return false }
            s.used += bytes
            return true
        }
    }

    /// Waits until `bytes` fit, first come first served.
    public func acquire(_ bytes: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { s -> Bool in
                if s.waiters.isEmpty, s.used + bytes <= limit || s.used == 0 {
                    s.used += bytes
                    return true
                }
                s.waiters.append((bytes, c))
                return false
            }
            if admitted { c.resume() }
        }
    }

    /// Returns bytes to the budget and admits waiters that now fit.
    public func release(_ bytes: Int) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.used -= bytes
            precondition(s.used >= 0, "memory budget released more than it held")
            var ready: [CheckedContinuation<Void, Never>] = []
            while let first = s.waiters.first, s.used + first.bytes <= limit || s.used == 0 {
                s.waiters.removeFirst()
                s.used += first.bytes
                ready.append(first.continuation)
            }
            return ready
        }
        for c in ready { c.resume() }
    }

    /// True when a new charge of `bytes` would have to wait.
    public func isFull(adding bytes: Int = 1) -> Bool {
        state.withLock { s in !s.waiters.isEmpty || (s.used + bytes > limit && s.used > 0) }
    }
}
