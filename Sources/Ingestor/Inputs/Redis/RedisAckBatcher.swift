/// The bookkeeping behind Redis acknowledgements, as a plain value (no locks, no I/O) so
/// it can be unit-tested; ``RedisAcknowledger`` guards it with a mutex.
///
/// - `inFlight`: per stream, the ids handed to the pipeline and not yet acknowledged.
///   The reader consults it so that a pending-list re-read or an XAUTOCLAIM does not
///   submit an entry this process is already working on, and the input's graceful stop
///   waits until it is empty.
/// - `queued`: ids whose messages the pipeline has settled (or whose payload was
///   trimmed), waiting for `XACK`. ``takeBatch(maxIDs:)`` hands out up to `maxIDs` of
///   them grouped per stream (one variadic XACK per stream); a failed batch goes back to
///   the front, and an id leaves `inFlight` only once its XACK succeeded, so nothing is
///   forgotten when the connection drops.
///
/// Its size is bounded by the memory budget: every in-flight id belongs to a chunk that
/// holds budget until it settles, and the reader stops when the budget is full.
public struct RedisAckBatcher: Sendable {
    /// A group of ids to acknowledge together: per stream index, its ids.
    public struct Batch: Sendable, Hashable {
        public var ids: [[RedisEntryID]]
        public var count: Int { ids.reduce(0) { $0 + $1.count } }
    }

    public private(set) var inFlight: [Set<RedisEntryID>]
    private var queued: [[RedisEntryID]]
    private var queuedCount = 0
    /// Batches taken and not yet reported back.
    public private(set) var outstanding = 0

    public init(streamCount: Int) {
        inFlight = Array(repeating: [], count: streamCount)
        queued = Array(repeating: [], count: streamCount)
    }

    /// Marks entries as in flight. Returns, per entry, true when it already was (the
    /// caller leaves it out); the others are now tracked.
    public mutating func track(_ entries: [(stream: Int, id: RedisEntryID)]) -> [Bool] {
        entries.map { e in !inFlight[e.stream].insert(e.id).inserted }
    }

    /// Forgets entries that never reached the pipeline (it was shutting down); they stay
    /// pending in Redis and are redelivered later.
    public mutating func untrack(stream: Int, ids: some Sequence<RedisEntryID>) {
        for id in ids { inFlight[stream].remove(id) }
    }

    /// Queues an acknowledgement (a settled message or a trimmed entry).
    public mutating func enqueue(stream: Int, id: RedisEntryID) {
        queued[stream].append(id)
        queuedCount += 1
    }

    public var queuedIDs: Int { queuedCount }
    public var inFlightCount: Int { inFlight.reduce(0) { $0 + $1.count } }

    /// Everything read has been acknowledged and nothing is being sent.
    public var isDrained: Bool { queuedCount == 0 && outstanding == 0 && inFlight.allSatisfy(\.isEmpty) }

    /// Takes up to `maxIDs` queued ids, oldest first per stream; nil when none are queued.
    public mutating func takeBatch(maxIDs: Int) -> Batch? {
        guard queuedCount > 0 else { return nil }
        var out = Batch(ids: Array(repeating: [], count: queued.count))
        var room = maxIDs
        for s in queued.indices where room > 0 && !queued[s].isEmpty {
            let n = Swift.min(room, queued[s].count)
            out.ids[s] = Array(queued[s].prefix(n))
            queued[s].removeFirst(n)
            room -= n
            queuedCount -= n
        }
        outstanding += 1
        return out
    }

    /// The batch's XACKs succeeded: its ids are no longer in flight.
    public mutating func acknowledged(_ batch: Batch) {
        outstanding -= 1
        for (s, ids) in batch.ids.enumerated() {
            for id in ids { inFlight[s].remove(id) }
        }
    }

    /// The batch's XACKs were refused for good: stop tracking its ids (they stay pending
    /// in Redis and come back as redeliveries) so that a graceful stop does not wait on them.
    public mutating func abandoned(_ batch: Batch) {
        acknowledged(batch)
    }

    /// The batch's XACKs failed (the connection dropped): queue its ids again, first.
    public mutating func failed(_ batch: Batch) {
        outstanding -= 1
        for (s, ids) in batch.ids.enumerated() where !ids.isEmpty {
            queued[s].insert(contentsOf: ids, at: 0)
            queuedCount += ids.count
        }
    }
}
