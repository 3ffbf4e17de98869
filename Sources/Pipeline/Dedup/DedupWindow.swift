import CPrefetch

/// The in-memory part of deduplication: keys of events accepted in the last `window`,
/// bounded by `maxKeys`.
///
/// Keys are counted in a few time slices; expiring a slice only moves a horizon, so
/// expiry costs nothing per key. When the key count passes `maxKeys` the oldest slice is
/// dropped early: the window gets shorter rather than memory growing. Events whose key
/// has left the window are caught by the ClickHouse check when their source marks them
/// as possible redeliveries (see `TableWriter`).
///
/// A key is *pending* from the moment its row enters a batch until the batch is durable.
/// A duplicate of a pending key must not be acknowledged before the original is durable,
/// so lookups report which batch holds it.
///
/// Why one open-addressing table rather than a `Set` per slice and a `Dictionary` of
/// pending keys: a fresh key used to cost a probe of the pending dictionary and of every
/// slice's set (up to seven hash probes, each a cache miss in a large window), an insert
/// into the dictionary, and later a removal from it and an insert into a set. That was
/// ~12% of a Kafka→ClickHouse run's CPU, half of it on the table writer's actor where it
/// held up every append. Here each key lives in one slot for its whole life: a lookup
/// is one probe sequence, becoming durable rewrites the slot's state in place, and
/// expired keys stay behind as dead slots until the next rehash drops them.
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

    /// One slot. `state` says what the slot holds:
    /// - `0`: never used; ends every probe sequence;
    /// - `removed`: a pending key that was dropped; probes go on past it;
    /// - negative: a pending key, in batch `-state`;
    /// - positive: a durable key, in the slice that starts `state - stampBias` ns after
    ///   the epoch; dead (treated as absent) once that slice has expired.
    private struct Slot {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var state: Int64 = 0
    }

    private static let removed = Int64.min
    private static let stampBias: Int64 = 1 << 62

    public private(set) var window: Duration
    public private(set) var maxKeys: Int
    private let slices: Int
    /// Durable keys per time slice, oldest first.
    private var generations: [(start: Int64, count: Int)] = []
    /// Durable keys of slices that start before this have expired.
    private var liveFrom = Int64.min
    private var durableCount = 0
    private var pending = 0
    private var table: [Slot]
    private var mask: Int
    /// Slots that are not empty: live, dead and removed keys. A rehash happens before
    /// this passes three quarters of the table, so probe sequences stay short.
    private var used = 0
    /// Varies the layout per process, so crafted event ids cannot pile onto one run of
    /// slots (keys are CityHash128 of publisher-controlled bytes).
    private let seed: UInt64

    /// - Parameters:
    ///   - window: how long keys are remembered.
    ///   - maxKeys: the most keys kept; the window shrinks instead of growing past it.
    ///   - slices: generations per window; more slices expire more precisely.
    public init(window: Duration, maxKeys: Int, slices: Int = 6) {
        precondition(maxKeys > 0 && slices > 0)
        self.window = window
        self.maxKeys = maxKeys
        self.slices = slices
        table = Array(repeating: Slot(), count: 1024)
        mask = 1023
        seed = UInt64.random(in: .min ... .max) | 1
    }

    private var sliceNanos: Int64 {
        Swift.max(window.nanoseconds / Int64(slices), 1_000_000)
    }

    public var count: Int { durableCount + pending }
    public var pendingCount: Int { pending }

    /// Start of the oldest slice still held, in nanoseconds since the epoch; events older
    /// than this are no longer covered.
    public var coveredSince: Int64? { generations.first?.start }

    // MARK: Queries and updates

    public func lookup(_ key: EventKey) -> Lookup {
        guard let i = find(key) else { return .fresh }
        let state = table[i].state
        if state < 0 { return .pending(BatchID(-state)) }
        return isLive(state) ? .durable : .fresh
    }

    public mutating func addPending(_ key: EventKey, batch: BatchID) {
        _ = claim(key, batch: batch)
    }

    /// Looks `key` up and, if it is fresh, makes it pending in `batch` with the same
    /// probe. Returns what the key was before: `.fresh` means it is now pending.
    public mutating func claim(_ key: EventKey, batch: BatchID) -> Lookup {
        precondition(batch > 0 && batch < BatchID(Int64.max), "batch ids are positive")
        let i = slot(for: key)
        let state = table[i].state
        if state < 0, state != Self.removed { return .pending(BatchID(-state)) }
        if state > 0, isLive(state) { return .durable }
        table[i].state = -Int64(batch)
        pending += 1
        return .fresh
    }

    /// Moves keys from pending to durable at time `now` (nanoseconds since the epoch).
    public mutating func markDurable(_ keys: some Sequence<EventKey>, now: Int64) {
        let stamp = stamp(for: now)
        var added = 0
        for key in keys where makeDurable(key, stamp: stamp) { added += 1 }
        if added > 0 { count(added, into: stamp) }
        enforceLimit()
    }

    /// ``markDurable(_:now:)`` for a batch's keys, reading each key's slot into the cache
    /// a few keys ahead: the slots of a large window are random reads that miss the
    /// cache, and issued one at a time they were most of the cost.
    public mutating func markDurable(_ keys: [EventKey], now: Int64) {
        let stamp = stamp(for: now)
        var added = 0
        let ahead = Self.prefetchDistance
        for i in keys.indices {
            if i + ahead < keys.count { prefetch(keys[i + ahead]) }
            if makeDurable(keys[i], stamp: stamp) { added += 1 }
        }
        if added > 0 { count(added, into: stamp) }
        enforceLimit()
    }

    /// How many keys ahead a loop over keys should call ``prefetch(_:)``.
    public static let prefetchDistance = 8

    /// A hint that `key` is about to be looked up or claimed: starts loading its home
    /// slot into the cache. Changes nothing.
    @inline(__always)
    public func prefetch(_ key: EventKey) {
        let i = home(key)
        table.withUnsafeBufferPointer { sluice_prefetch($0.baseAddress! + i) }
    }

    /// Forgets pending keys without making them durable (their rows were abandoned).
    public mutating func dropPending(_ keys: some Sequence<EventKey>) {
        for key in keys {
            guard let i = find(key), table[i].state < 0, table[i].state != Self.removed else { continue }
            table[i].state = Self.removed
            pending -= 1
        }
    }

    /// Adds a key known to be in ClickHouse, e.g. while rebuilding the window at start.
    public mutating func insertDurable(_ key: EventKey, at time: Int64) {
        let stamp = stamp(for: time)
        if makeDurable(key, stamp: stamp) { count(1, into: stamp) }
        enforceLimit()
    }

    /// Drops slices older than the window.
    public mutating func expire(now: Int64) {
        let horizon = now - window.nanoseconds - sliceNanos
        while let first = generations.first, first.start < horizon { dropOldestSlice() }
    }

    /// Applies new settings from a configuration reload; keys already held stay.
    public mutating func reconfigure(window: Duration, maxKeys: Int, now: Int64) {
        precondition(maxKeys > 0)
        self.window = window
        self.maxKeys = maxKeys
        expire(now: now)
        enforceLimit()
    }

    // MARK: Slices

    /// The slice a key made durable at `time` is counted in. A time before the oldest
    /// slice still held (a rebuild reading old rows, a clock step) is filed in the oldest
    /// live position instead: the key is in ClickHouse, so keeping it a little longer is
    /// right, and an expired slice must stay expired.
    private func stamp(for time: Int64) -> Int64 {
        let span = sliceNanos
        let start = time - ((time % span) + span) % span
        return Swift.min(Swift.max(start, liveFrom, -Self.stampBias + 1), Self.stampBias - 1)
    }

    private func isLive(_ state: Int64) -> Bool {
        state &- Self.stampBias >= liveFrom
    }

    /// Sets `key` durable in slice `stamp`. Returns true if it adds a durable key
    /// (false when it was durable already, in which case it keeps the later slice).
    private mutating func makeDurable(_ key: EventKey, stamp: Int64) -> Bool {
        let i = slot(for: key)
        let state = table[i].state
        let encoded = stamp &+ Self.stampBias
        if state > 0 {
            if isLive(state) {
                if encoded > state {
                    uncount(state)
                    table[i].state = encoded
                    return true
                }
                return false
            }
        } else if state < 0, state != Self.removed {
            pending -= 1
        }
        table[i].state = encoded
        return true
    }

    private mutating func uncount(_ state: Int64) {
        let start = state &- Self.stampBias
        if let g = generations.firstIndex(where: { $0.start == start }) {
            generations[g].count -= 1
            durableCount -= 1
        }
    }

    private mutating func count(_ n: Int, into stamp: Int64) {
        durableCount += n
        if let last = generations.indices.last, generations[last].start == stamp {
            generations[last].count += n
        } else if let g = generations.firstIndex(where: { $0.start >= stamp }) {
            if generations[g].start == stamp {
                generations[g].count += n
            } else {
                generations.insert((stamp, n), at: g)
            }
        } else {
            generations.append((stamp, n))
        }
    }

    private mutating func dropOldestSlice() {
        let oldest = generations.removeFirst()
        durableCount -= oldest.count
        liveFrom = Swift.max(liveFrom, oldest.start + 1)
    }

    private mutating func enforceLimit() {
        while durableCount + pending > maxKeys, generations.count > 1 { dropOldestSlice() }
    }

    // MARK: The table

    @inline(__always)
    private func home(_ key: EventKey) -> Int {
        Int(truncatingIfNeeded: TwoWordMixer.mix(key.low, key.high, seed: seed)) & mask
    }

    /// The slot holding `key`, if any (live, dead or pending; never a removed one).
    private func find(_ key: EventKey) -> Int? {
        var i = home(key)
        while true {
            let s = table[i]
            if s.state == 0 { return nil }
            if s.low == key.low, s.high == key.high, s.state != Self.removed { return i }
            i = (i + 1) & mask
        }
    }

    /// The slot holding `key`, or a free one that now holds it with state `removed`
    /// (the caller sets the real state at once).
    private mutating func slot(for key: EventKey) -> Int {
        if (used + 1) * 4 > table.count * 3 { rehash() }
        var i = home(key)
        var reusable: Int?
        while true {
            let s = table[i]
            if s.state == 0 { break }
            if s.state == Self.removed {
                if reusable == nil { reusable = i }
            } else if s.low == key.low, s.high == key.high {
                return i
            } else if reusable == nil, s.state > 0, !isLive(s.state) {
                reusable = i
            }
            i = (i + 1) & mask
        }
        if let r = reusable {
            i = r
        } else {
            used += 1
        }
        table[i] = Slot(low: key.low, high: key.high, state: Self.removed)
        return i
    }

    /// Rebuilds the table with only live and pending keys, at most half full. The keys
    /// are counted here rather than taken from the counters, which `markDurable` brings
    /// up to date only after its loop.
    private mutating func rehash() {
        let old = table
        let liveFrom = self.liveFrom
        let keeps = { (s: Slot) -> Bool in
            s.state != 0 && s.state != Self.removed && (s.state < 0 || s.state &- Self.stampBias >= liveFrom)
        }
        let live = old.reduce(0) { keeps($1) ? $0 + 1 : $0 }
        var capacity = 1024
        while capacity < live * 2 + 2 { capacity *= 2 }
        table = Array(repeating: Slot(), count: capacity)
        mask = capacity - 1
        used = 0
        for s in old where keeps(s) {
            var i = home(EventKey(low: s.low, high: s.high))
            while table[i].state != 0 { i = (i + 1) & mask }
            table[i] = s
            used += 1
        }
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
