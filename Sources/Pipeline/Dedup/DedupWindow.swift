/// The in-memory part of deduplication: keys of events accepted in the last `window`,
/// bounded by `maxKeys`.
///
/// Keys live in a few time-sliced generations; expiring a slice drops a whole set, so
/// expiry costs nothing per key. When the key count passes `maxKeys` the oldest slice is
/// dropped early: the window gets shorter rather than memory growing. Events whose key
/// has left the window are caught by the ClickHouse check when their source marks them
/// as possible redeliveries (see `TableWriter`).
///
/// A key is *pending* from the moment its row enters a batch until the batch is durable.
/// A duplicate of a pending key must not be acknowledged before the original is durable,
/// so lookups report which batch holds it.
///
/// Owned by one table writer; not thread-safe.
public struct DedupWindow: Sendable {
    /// Identifies a batch that holds pending rows.
    public typealias BatchID = UInt64

    public enum Lookup: Equatable, Sendable {
        case fresh
        case durable
        case pending(BatchID)
    }

    public private(set) var window: Duration
    public private(set) var maxKeys: Int
    private let slices: Int
    private var generations: [(start: Int64, keys: Set<EventKey>)] = []
    private var pending: [EventKey: BatchID] = [:]
    private var durableCount = 0

    /// - Parameters:
    ///   - window: how long keys are remembered.
    ///   - maxKeys: the most keys kept; the window shrinks instead of growing past it.
    ///   - slices: generations per window; more slices expire more precisely.
    public init(window: Duration, maxKeys: Int, slices: Int = 6) {
        precondition(maxKeys > 0 && slices > 0)
        self.window = window
        self.maxKeys = maxKeys
        self.slices = slices
    }

    private var sliceNanos: Int64 {
        Swift.max(window.nanoseconds / Int64(slices), 1_000_000)
    }

    public var count: Int { durableCount + pending.count }
    public var pendingCount: Int { pending.count }

    /// Start of the oldest slice still held, in nanoseconds since the epoch; events older
    /// than this are no longer covered.
    public var coveredSince: Int64? { generations.first?.start }

    public func lookup(_ key: EventKey) -> Lookup {
        if let batch = pending[key] { return .pending(batch) }
        // Newest first: redeliveries are usually recent.
        for g in generations.reversed() where g.keys.contains(key) { return .durable }
        return .fresh
    }

    public mutating func addPending(_ key: EventKey, batch: BatchID) {
        pending[key] = batch
    }

    /// Moves keys from pending to durable at time `now` (nanoseconds since the epoch).
    public mutating func markDurable(_ keys: some Sequence<EventKey>, now: Int64) {
        for key in keys {
            pending.removeValue(forKey: key)
            insertDurable(key, at: now)
        }
        enforceLimit()
    }

    /// Forgets pending keys without making them durable (their rows were abandoned).
    public mutating func dropPending(_ keys: some Sequence<EventKey>) {
        for key in keys { pending.removeValue(forKey: key) }
    }

    /// Adds a key known to be in ClickHouse, e.g. while rebuilding the window at start.
    public mutating func insertDurable(_ key: EventKey, at time: Int64) {
        let span = sliceNanos
        let sliceStart = time - ((time % span) + span) % span
        if let last = generations.last, last.start == sliceStart {
            if generations[generations.count - 1].keys.insert(key).inserted { durableCount += 1 }
            return
        }
        if let last = generations.last, sliceStart < last.start {
            // An older time (rebuild order, clock step): file it in the slice covering it.
            if let i = generations.lastIndex(where: { $0.start <= sliceStart }) {
                if generations[i].keys.insert(key).inserted { durableCount += 1 }
            } else {
                generations.insert((sliceStart, [key]), at: 0)
                durableCount += 1
            }
            return
        }
        generations.append((sliceStart, [key]))
        durableCount += 1
    }

    /// Drops slices older than the window.
    public mutating func expire(now: Int64) {
        let horizon = now - window.nanoseconds - sliceNanos
        while let first = generations.first, first.start < horizon {
            durableCount -= first.keys.count
            generations.removeFirst()
        }
    }

    private mutating func enforceLimit() {
        while durableCount + pending.count > maxKeys, generations.count > 1 {
            durableCount -= generations[0].keys.count
            generations.removeFirst()
        }
    }

    /// Applies new settings from a configuration reload; keys already held stay.
    public mutating func reconfigure(window: Duration, maxKeys: Int, now: Int64) {
        precondition(maxKeys > 0)
        self.window = window
        self.maxKeys = maxKeys
        expire(now: now)
        enforceLimit()
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at Int64's range.
    public var nanoseconds: Int64 {
        let (s, atto) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (s < 0 ? .min : .max) : ns &+ atto / 1_000_000_000
    }
}
