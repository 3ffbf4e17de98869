import Synchronization

/// The single-slot hand-over of chunks from the poll thread to the task that submits
/// them to the pipeline.
///
/// One slot, so at most one chunk waits between Kafka and the pipeline (plus the one the
/// submitting task holds while it waits for memory budget). The poll thread never
/// blocks on it: ``offer(_:)`` fails while the slot is taken, and the poll thread keeps
/// polling (and pauses partitions if its own chunk grows too large).
final class KafkaChunkHandoff: Sendable {
    private struct State {
        var slot: KafkaChunk?
        var waiter: CheckedContinuation<KafkaChunk?, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Places a chunk for the submitting task. False when the slot is taken or closed.
    func offer(_ chunk: KafkaChunk) -> Bool {
        let waiter = state.withLock { s -> CheckedContinuation<KafkaChunk?, Never>?? in
            guard !s.closed, s.slot == nil else { return .none }
            if let w = s.waiter {
                s.waiter = nil
                return .some(w)
            }
            s.slot = chunk
            return .some(nil)
        }
        switch waiter {
        case .none: return false
        case .some(let w):
            w?.resume(returning: chunk)
            return true
        }
    }

    /// True while a chunk waits in the slot.
    var isOccupied: Bool { state.withLock { $0.slot != nil } }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// The next chunk; nil once closed. One consumer only.
    func next() async -> KafkaChunk? {
        await withCheckedContinuation { (c: CheckedContinuation<KafkaChunk?, Never>) in
            let ready = state.withLock { s -> KafkaChunk?? in
                if let chunk = s.slot {
                    s.slot = nil
                    return .some(chunk)
                }
                if s.closed { return .some(nil) }
                precondition(s.waiter == nil, "one consumer of the hand-off at a time")
                s.waiter = c
                return .none
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// Refuses further chunks, wakes the consumer, and returns the chunk left in the
    /// slot (never submitted), if any.
    func close() -> KafkaChunk? {
        let (left, waiter) = state.withLock { s -> (KafkaChunk?, CheckedContinuation<KafkaChunk?, Never>?) in
            s.closed = true
            defer {
                s.slot = nil
                s.waiter = nil
            }
            return (s.slot, s.waiter)
        }
        waiter?.resume(returning: nil)
        return left
    }
}
