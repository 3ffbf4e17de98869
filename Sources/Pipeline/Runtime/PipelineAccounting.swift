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
        var runs = SourceRuns()
        for (m, n) in zip(messages, events) where n > 0 {
            runs.add(m.origin) { $0.received += Int(n) }
        }
        for (source, t) in runs.runs {
            handles(for: source).received.increment(by: t.received)
            totals.withLock { $0[Self.totalsKey(source), default: Totals()].received += t.received }
        }
    }

    /// Counts settled messages.
    public func settled(_ resolved: [ResolvedMessage]) {
        var runs = SourceRuns()
        for r in resolved where r.resolution.total > 0 {
            runs.add(r.message.origin) { t in
                t.inserted += Int(r.resolution.inserted)
                t.duplicates += Int(r.resolution.duplicates)
                t.deadLettered += Int(r.resolution.deadLettered)
            }
        }
        for (source, t) in runs.runs {
            let h = handles(for: source)
            if t.inserted > 0 { h.inserted.increment(by: t.inserted) }
            if t.duplicates > 0 { h.duplicates.increment(by: t.duplicates) }
            if t.deadLettered > 0 { h.deadLettered.increment(by: t.deadLettered) }
            totals.withLock { all in
                var v = all[Self.totalsKey(source), default: Totals()]
                v.inserted += t.inserted
                v.duplicates += t.duplicates
                v.deadLettered += t.deadLettered
                all[Self.totalsKey(source)] = v
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

/// Sums per source over runs of messages from the same source.
///
/// A chunk or a settled batch holds thousands of messages, nearly always from one
/// source or a few in long runs, so comparing with the previous message's source is
/// enough; hashing the source (its strings) and taking the locks per message was ~6%
/// of the daemon's CPU on one Redis stream.
struct SourceRuns {
    var runs: [(MessageOrigin, PipelineAccounting.Totals)] = []

    mutating func add(_ origin: MessageOrigin, _ update: (inout PipelineAccounting.Totals) -> Void) {
        if let last = runs.indices.last, runs[last].0.partition == origin.partition, runs[last].0.kind == origin.kind,
            runs[last].0.stream == origin.stream
        {
            update(&runs[last].1)
            return
        }
        var t = PipelineAccounting.Totals()
        update(&t)
        runs.append((MessageOrigin(kind: origin.kind, stream: origin.stream, partition: origin.partition), t))
    }
}
