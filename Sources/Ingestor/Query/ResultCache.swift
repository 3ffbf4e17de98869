import Synchronization

/// A small in-memory cache of query results, keyed by the normalized query and tenant.
///
/// Dashboards ask the same question many times a minute; a short TTL (`query.cache_ttl`)
/// answers repeats from memory while keeping results at most that stale. Entries are
/// bounded (`query.cache_entries`): when full, expired entries go first, then the least
/// recently used. A TTL of zero or a capacity of zero disables the cache. Errors are never
/// cached.
public final class ResultCache<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
        var lastUsed: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var tick: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    public let ttl: Duration
    public let capacity: Int
    private let state = Mutex(State())

    public init(ttl: Duration, capacity: Int) {
        self.ttl = ttl
        self.capacity = capacity
    }

    public var isEnabled: Bool { ttl > .zero && capacity > 0 }

    /// The cached value for `key` if it has not expired.
    public func value(for key: String, now: ContinuousClock.Instant = .now) -> Value? {
        guard isEnabled else { return nil }
        return state.withLock { s in
            s.tick += 1
            guard var e = s.entries[key] else {
                s.misses += 1
                return nil
            }
            guard e.expires > now else {
                s.entries[key] = nil
                s.misses += 1
                return nil
            }
            e.lastUsed = s.tick
            s.entries[key] = e
            s.hits += 1
            return e.value
        }
    }

    public func store(_ value: Value, for key: String, now: ContinuousClock.Instant = .now) {
        guard isEnabled else { return }
        state.withLock { s in
            s.tick += 1
            if s.entries[key] == nil, s.entries.count >= capacity {
                let expired = s.entries.filter { $0.value.expires <= now }.map(\.key)
                for k in expired { s.entries[k] = nil }
                if s.entries.count >= capacity, let lru = s.entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                    s.entries[lru] = nil
                }
            }
            s.entries[key] = Entry(value: value, expires: now.advanced(by: ttl), lastUsed: s.tick)
        }
    }

    public var count: Int { state.withLock { $0.entries.count } }
    public var statistics: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }
}
