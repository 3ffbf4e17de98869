import Dispatch
import Synchronization

/// Moves read batches from the reader thread, which may block, to the task that hands
/// them to the pipeline, which must not.
///
/// Bounded: ``put(_:)`` parks the reader thread while `capacity` batches wait, so a
/// slow pipeline (a full memory budget) stops the reads and Redis keeps the data. The
/// reader calls ``finish()`` when its read session ends; ``next()`` then returns what is
/// left and nil after it. One producer thread and one consuming task.
final class RedisBatchHandoff: Sendable {
    private struct State {
        var batches: [RedisReadBatch] = []
        var waiter: CheckedContinuation<RedisReadBatch?, Never>?
        var finished = false
    }

    private let state = Mutex(State())
    /// Free places; the producer takes one per batch and the consumer gives it back.
    private let room: DispatchSemaphore

    init(capacity: Int) {
        precondition(capacity >= 1, "room for at least one batch")
        room = DispatchSemaphore(value: capacity)
    }

    /// Blocks the calling thread until there is room, then queues `batch`.
    func put(_ batch: RedisReadBatch) {
        room.wait()
        let waiter = state.withLock { s -> CheckedContinuation<RedisReadBatch?, Never>? in
            precondition(!s.finished, "no batches after finish()")
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.batches.append(batch)
            return nil
        }
        if let waiter {
            room.signal()
            waiter.resume(returning: batch)
        }
    }

    /// The producer is done; the consumer gets nil once the queue is empty.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<RedisReadBatch?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.batches.isEmpty ? s.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    /// The next batch in read order, or nil when the producer finished and all were taken.
    func next() async -> RedisReadBatch? {
        await withCheckedContinuation { (c: CheckedContinuation<RedisReadBatch?, Never>) in
            let ready = state.withLock { s -> RedisReadBatch?? in
                if !s.batches.isEmpty { return .some(s.batches.removeFirst()) }
                if s.finished { return .some(nil) }
                precondition(s.waiter == nil, "one consumer at a time")
                s.waiter = c
                return .none
            }
            guard let ready else { return }
            // A batch taken from the queue frees its place (one handed straight to a
            // waiting consumer gave its place back in put()).
            if ready != nil { room.signal() }
            c.resume(returning: ready)
        }
    }
}
