import Metrics
import Synchronization

/// The Redis input's metric handles, made once at start (never per entry).
///
/// Per stream: `sluice_redis_entries_read_total`, `..._acked_total`,
/// `..._already_acked_total` (XACKs of ids no longer pending: another consumer or an
/// earlier copy got there first), `..._claimed_total` (XAUTOCLAIM), `..._trimmed_total`
/// (nil payloads acknowledged without ingest), `..._unreadable_total` (no `data` field,
/// sent to the dead-letter table); gauges `sluice_redis_stream_lag` and
/// `sluice_redis_stream_pending` (from `XINFO GROUPS`, dimensions stream and group).
/// Global: `sluice_redis_reconnects_total` and `sluice_redis_errors_total{kind}`.
final class RedisStreamMetrics: Sendable {
    struct PerStream: Sendable {
        let read: Counter
        let acked: Counter
        let alreadyAcked: Counter
        let claimed: Counter
        let trimmed: Counter
        let unreadable: Counter
        let lag: Gauge
        let pending: Gauge
    }

    let streams: [PerStream]
    let reconnects = Counter(label: "sluice_redis_reconnects_total")
    private let errors = Mutex<[String: Counter]>([:])

    init(streams names: [String], group: String) {
        streams = names.map { name in
            let dims = [("stream", name)]
            return PerStream(
                read: Counter(label: "sluice_redis_entries_read_total", dimensions: dims),
                acked: Counter(label: "sluice_redis_entries_acked_total", dimensions: dims),
                alreadyAcked: Counter(label: "sluice_redis_entries_already_acked_total", dimensions: dims),
                claimed: Counter(label: "sluice_redis_entries_claimed_total", dimensions: dims),
                trimmed: Counter(label: "sluice_redis_entries_trimmed_total", dimensions: dims),
                unreadable: Counter(label: "sluice_redis_entries_unreadable_total", dimensions: dims),
                lag: Gauge(label: "sluice_redis_stream_lag", dimensions: [("stream", name), ("group", group)]),
                pending: Gauge(label: "sluice_redis_stream_pending", dimensions: [("stream", name), ("group", group)]))
        }
    }

    /// Counts an error by kind (`io`, `server`, ...); one handle per kind, made on first use.
    func error(_ error: RedisError) {
        let counter = errors.withLock { e in
            if let c = e[error.kind.rawValue] { return c }
            let c = Counter(label: "sluice_redis_errors_total", dimensions: [("kind", error.kind.rawValue)])
            e[error.kind.rawValue] = c
            return c
        }
        counter.increment()
    }
}
