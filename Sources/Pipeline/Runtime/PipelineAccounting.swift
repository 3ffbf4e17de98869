import Metrics
import Synchronization

/// The accounting counters of DESIGN §2, per source stream or partition:
/// received = inserted + duplicates + dead-lettered + in flight. Any gap is a bug, so
/// the counters are moved at exactly two places: when a chunk is decoded (received) and
/// when a message settles (the other three).
public final class PipelineAccounting: Sendable {
    struct Handles: Sendable {
        let received: Counter
        let inserted: Counter
        let duplicates: Counter
        let deadLettered: Counter
    }

    struct Totals: Sendable {
        var received = 0
        var inserted = 0
        var duplicates = 0
        var deadLettered = 0
    }

    private let handles = Mutex<[MessageOrigin: Handles]>([:])
    private let totals = Mutex<[String: Totals]>([:])

    public init() {}

    private func handles(for origin: MessageOrigin) -> Handles {
        // Offsets vary per message; the series is per stream and partition.
        let key = MessageOrigin(kind: origin.kind, stream: origin.stream, partition: origin.partition)
        return handles.withLock { h in
            if let existing = h[key] { return existing }
            var dims = [("source", key.kind.rawValue), ("stream", key.stream)]
            if key.partition >= 0 { dims.append(("partition", String(key.partition))) }
            let made = Handles(
                received: Counter(label: "sluice_events_received_total", dimensions: dims),
                inserted: Counter(label: "sluice_events_inserted_total", dimensions: dims),
                duplicates: Counter(label: "sluice_events_duplicate_total", dimensions: dims),
                deadLettered: Counter(label: "sluice_events_dead_lettered_total", dimensions: dims))
            h[key] = made
            return made
        }
    }

    private static func totalsKey(_ origin: MessageOrigin) -> String {
        origin.partition >= 0 ? "\(origin.kind.rawValue):\(origin.stream):\(origin.partition)" : "\(origin.kind.rawValue):\(origin.stream)"
    }

    /// Counts decoded events of a chunk.
    public func received(messages: [InboundMessage], events: [Int32]) {
        var perOrigin: [MessageOrigin: Int] = [:]
        for (m, n) in zip(messages, events) where n > 0 {
            perOrigin[MessageOrigin(kind: m.origin.kind, stream: m.origin.stream, partition: m.origin.partition), default: 0] += Int(n)
        }
        for (origin, n) in perOrigin {
            handles(for: origin).received.increment(by: n)
            totals.withLock { $0[Self.totalsKey(origin), default: Totals()].received += n }
        }
    }

    /// Counts settled messages.
    public func settled(_ resolved: [ResolvedMessage]) {
        for r in resolved where r.resolution.total > 0 {
            let h = handles(for: r.message.origin)
            if r.resolution.inserted > 0 { h.inserted.increment(by: Int(r.resolution.inserted)) }
            if r.resolution.duplicates > 0 { h.duplicates.increment(by: Int(r.resolution.duplicates)) }
            if r.resolution.deadLettered > 0 { h.deadLettered.increment(by: Int(r.resolution.deadLettered)) }
            totals.withLock { t in
                var v = t[Self.totalsKey(r.message.origin), default: Totals()]
                v.inserted += Int(r.resolution.inserted)
                v.duplicates += Int(r.resolution.duplicates)
                v.deadLettered += Int(r.resolution.deadLettered)
                t[Self.totalsKey(r.message.origin)] = v
            }
        }
    }

    /// Events received but not yet settled, over all sources.
    public var inFlight: Int {
        totals.withLock { t in t.values.reduce(0) { $0 + $1.received - $1.inserted - $1.duplicates - $1.deadLettered } }
    }

    /// A snapshot per source, for logs and the health endpoint.
    public var snapshot: [String: (received: Int, inserted: Int, duplicates: Int, deadLettered: Int)] {
        totals.withLock { t in t.mapValues { ($0.received, $0.inserted, $0.duplicates, $0.deadLettered) } }
    }
}
