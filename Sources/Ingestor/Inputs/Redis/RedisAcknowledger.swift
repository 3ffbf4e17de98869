import Logging
import Pipeline
import Synchronization

/// Sends `XACK`s for settled messages on a connection of its own.
///
/// The pipeline reports settled messages through ``onResolved(_:)`` from whatever thread
/// settled them (a table writer finishing an insert); that call only appends ids under a
/// lock and wakes ``run()``. ``run()`` drains the queue in batches: one variadic XACK per
/// stream, all streams pipelined in one round trip, on the ack worker's thread, never on
/// the blocking reader's connection. Batching is natural: ids that settle while an XACK is
/// on the wire go out together in the next one.
///
/// An id is acknowledged only after its message settled (inserted, a duplicate of a row
/// already in ClickHouse, or dead-lettered). A failed XACK is retried after reconnecting
/// (XACK is idempotent), so a dropped connection delays acknowledgements but loses none;
/// a SIGKILL before the XACK leaves the entry pending, to be read again: redelivery,
/// never loss.
final class RedisAcknowledger: Sendable {
    let group: String
    let streams: [String]
    let worker: RedisWorker
    let metrics: RedisStreamMetrics
    let logger: Logger
    /// Largest number of ids in one round of XACKs.
    let maxBatch: Int

    private struct State {
        var batcher: RedisAckBatcher
        var finishing = false
    }

    private let state: Mutex<State>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(group: String, streams: [String], worker: RedisWorker, metrics: RedisStreamMetrics, logger: Logger, maxBatch: Int = 8192) {
        self.group = group
        self.streams = streams
        self.worker = worker
        self.metrics = metrics
        self.logger = logger
        self.maxBatch = maxBatch
        state = Mutex(State(batcher: RedisAckBatcher(streamCount: streams.count)))
        // Newest(1): a wake-up signal, not a queue; the ids themselves are in `state`.
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Called by the reader

    /// Marks entries as in flight; returns per entry whether it already was.
    func track(_ entries: [(stream: Int, id: RedisEntryID)]) -> [Bool] {
        state.withLock { $0.batcher.track(entries) }
    }

    /// The pipeline refused a chunk (it is shutting down): its entries stay pending.
    func untrack(_ batch: RedisReadBatch) {
        state.withLock { s in
            for (stream, id) in zip(batch.streams, batch.ids) { s.batcher.untrack(stream: Int(stream), ids: CollectionOfOne(id)) }
        }
        wake.yield()
    }

    /// Entries trimmed while pending: nothing to ingest, acknowledge them.
    func acknowledgeDeleted(_ entries: [(stream: Int, id: RedisEntryID)]) {
        guard !entries.isEmpty else { return }
        state.withLock { s in
            for e in entries { s.batcher.enqueue(stream: e.stream, id: e.id) }
        }
        wake.yield()
    }

    var inFlightCount: Int { state.withLock { $0.batcher.inFlightCount } }

    // MARK: Called by the pipeline

    /// The settle callback for one read batch: it queues the XACK of every settled
    /// message, on the settling thread (no I/O here). Message `i` of the batch's chunk is
    /// entry `ids[i]` of stream `streams[i]`, so nothing is parsed back from text or
    /// looked up by stream name per message.
    func resolver(for batch: RedisReadBatch) -> @Sendable ([ResolvedMessage]) -> Void {
        let streams = batch.streams
        let ids = batch.ids
        return { [self] resolved in
            state.withLock { st in
                for r in resolved { st.batcher.enqueue(stream: Int(streams[r.index]), id: ids[r.index]) }
            }
            wake.yield()
        }
    }

    // MARK: The ack loop

    /// Asks ``run()`` to return once everything in flight has been acknowledged.
    func finishWhenDrained() {
        state.withLock { $0.finishing = true }
        wake.yield()
    }

    /// Sends XACKs until ``finishWhenDrained()`` was called and nothing is left, or the
    /// task is cancelled (a graceful shutdown that ran out of time; what is left stays
    /// pending and is redelivered).
    func run() async {
        var failures = 0
        for await _ in wakeups {
            while let batch = state.withLock({ $0.batcher.takeBatch(maxIDs: maxBatch) }) {
                do {
                    let counts = try await worker.perform { [group, streams] session throws(RedisError) in
                        try Self.acknowledge(batch, group: group, streams: streams, session: session)
                    }
                    state.withLock { $0.batcher.acknowledged(batch) }
                    for (s, ids) in batch.ids.enumerated() where !ids.isEmpty {
                        metrics.streams[s].acked.increment(by: ids.count)
                        if counts[s] < ids.count { metrics.streams[s].alreadyAcked.increment(by: ids.count - counts[s]) }
                    }
                    failures = 0
                } catch where !error.isRetryable {
                    // A retry cannot help (a key of the wrong type, a reply we do not
                    // understand): give the ids up. They stay pending in Redis and come
                    // back through the pending-list read or XAUTOCLAIM, dedup-checked.
                    state.withLock { $0.batcher.abandoned(batch) }
                    metrics.error(error)
                    logger.error("XACK refused; the entries stay pending for redelivery", metadata: [
                        "error": "\(error)", "ids": "\(batch.count)",
                    ])
                } catch {
                    state.withLock { $0.batcher.failed(batch) }
                    metrics.error(error)
                    failures += 1
                    let delay = Self.backoff(failures)
                    logger.warning("XACK failed; will retry", metadata: [
                        "error": "\(error)", "ids": "\(batch.count)", "retry_in": "\(delay)",
                    ])
                    try? await Task.sleep(for: delay)
                    if Task.isCancelled { return }
                }
            }
            if state.withLock({ $0.finishing && $0.batcher.isDrained }) { return }
        }
    }

    static func backoff(_ failures: Int) -> Duration {
        let d = Duration.milliseconds(100) * (1 << Swift.min(failures - 1, 10))
        return Swift.min(d, .seconds(5))
    }

    /// One XACK per stream with ids, pipelined. Returns per stream the number Redis
    /// removed from the pending list (already-acknowledged ids count 0).
    static func acknowledge(_ batch: RedisAckBatcher.Batch, group: String, streams: [String], session: RedisSession) throws(RedisError) -> [Int] {
        var commands: [RedisCommand] = []
        var order: [Int] = []
        for (s, ids) in batch.ids.enumerated() where !ids.isEmpty {
            var c = RedisCommand()
            c.reserve(arguments: ids.count + 3, bytes: ids.count * 20 + 64)
            c.append("XACK")
            c.append(streams[s])
            c.append(group)
            for id in ids { c.append(id) }
            commands.append(c)
            order.append(s)
        }
        var counts = Array(repeating: 0, count: streams.count)
        let replies = try session.connection().pipeline(commands)
        for (i, reply) in replies.enumerated() {
            switch reply {
            case .integer(let n): counts[order[i]] = Int(n)
            case .error(let text):
                let error = RedisError(serverReply: text)
                // The group (and with it its pending list) is gone: nothing left to ack.
                if error.isMissingGroup { continue }
                throw error
            default:
                throw RedisError(kind: .unexpectedReply, message: "XACK answered \(reply)")
            }
        }
        return counts
    }
}
