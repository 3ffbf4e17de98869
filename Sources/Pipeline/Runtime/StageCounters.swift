import Metrics

/// The per-stage counters an operator reads to find *where* events stop: each stage
/// (`decode`, `dedup`, `sink`) counts what came in, what it passed on, what it dropped on
/// purpose (a duplicate, a dead letter) and what went wrong, by type.
///
/// For every stage, `received = emitted + dropped + (rows still inside the stage)`; a
/// stage whose received keeps growing while its emitted stays flat is the one that is
/// stuck. Handles are made once per stage and table, never per event.
struct StageCounters: Sendable {
    let received: Counter
    let emitted: Counter
    private let dimensions: [(String, String)]

    init(stage: String, table: String? = nil) {
        var dims = [("stage", stage)]
        if let table { dims.append(("table", table)) }
        dimensions = dims
        received = Counter(label: "sluice_stage_received_total", dimensions: dims)
        emitted = Counter(label: "sluice_stage_emitted_total", dimensions: dims)
    }

    /// Rows the stage settled without passing them on, by why (`duplicate`, `dead_letter`).
    func dropped(_ reason: String, count: Int) {
        guard count > 0 else { return }
        // The factory returns the same series for the same labels, so this is a lookup,
        // and it only runs once per batch or chunk.
        Counter(label: "sluice_stage_dropped_total", dimensions: dimensions + [("reason", reason)]).increment(by: count)
    }

    /// Failures by type: a rejection class for `decode`, a ClickHouse code for `sink`.
    func errors(_ type: String, count: Int = 1) {
        guard count > 0 else { return }
        Counter(label: "sluice_stage_errors_total", dimensions: dimensions + [("type", type)]).increment(by: count)
    }
}
