/// Seed 000's `POST /observability/analytics` over the `inference` dataset.
///
/// Request: `metrics` (required; `request_count`, `success_request`, `failure_request`,
/// `cost`, `input_token`, `output_token`, `latency`, `ttft`, `throughput`), `from_date`
/// (required), `to_date` (default now), `frequency_unit` (`hour`, `day` (default), `week`,
/// `month`, `quarter`, `year`), `frequency_interval` (N: custom buckets of N units aligned
/// to `from_date`), `filters` (`project`/`project_id`, `model`/`model_id`,
/// `endpoint`/`endpoint_id`: a UUID or a list), `group_by` (`project`, `model`,
/// `endpoint`), `return_delta` (default true: each bucket against the one before it),
/// `fill_time_gaps` (default true, zeros), `topk` (N groups by the first metric).
///
/// Response: `{"object": "observability_metrics", "items": [{"time_period":
/// "2024-01-01T00:00:00", "items": [{"project_id": ..., "data": {"request_count":
/// {"count": 1000, "rate": 41.67, "delta": 100, "delta_percent": 11.11}}}]}]}`. Counters
/// (`request_count`, `success_request`, `failure_request`, `input_token`, `output_token`)
/// give `count` and `rate` (per hour of the bucket); `cost` and `throughput` (output
/// tokens per second) give `value`; `latency` and `ttft` give `p50`, `p95`, `p99` in ms,
/// and their delta is of `p95`.
extension QueryAPI {
    struct SeedMetric {
        enum Shape { case counter, value, quantiles }
        let measures: [String]
        let shape: Shape
    }

    static let observabilityDataset = "inference"

    static let observabilityMetrics: [String: SeedMetric] = [
        "request_count": SeedMetric(measures: ["requests"], shape: .counter),
        "success_request": SeedMetric(measures: ["successes"], shape: .counter),
        "failure_request": SeedMetric(measures: ["failures"], shape: .counter),
        "input_token": SeedMetric(measures: ["input_tokens"], shape: .counter),
        "output_token": SeedMetric(measures: ["output_tokens"], shape: .counter),
        "cost": SeedMetric(measures: ["cost"], shape: .value),
        "throughput": SeedMetric(measures: ["output_tokens"], shape: .value),
        "latency": SeedMetric(measures: ["latency_ms_p50", "latency_ms_p95", "latency_ms_p99"], shape: .quantiles),
        "ttft": SeedMetric(measures: ["ttft_ms_p50", "ttft_ms_p95", "ttft_ms_p99"], shape: .quantiles),
    ]

    static let observabilityGroups = ["project": "project_id", "model": "model_id", "endpoint": "endpoint_id",
                                      "project_id": "project_id", "model_id": "model_id", "endpoint_id": "endpoint_id"]

    func observabilityAnalytics(_ request: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let r = try JSONObjectReader.parse(body: request.body)
        try r.rejectUnknown(["metrics", "from_date", "to_date", "frequency_unit", "frequency_interval", "filters", "group_by",
                             "return_delta", "fill_time_gaps", "topk"])
        guard let metricNames = try r.strings("metrics", max: 16), !metricNames.isEmpty else {
            throw QueryError.invalid("metrics", "at least one metric is required")
        }
        var metrics: [(String, SeedMetric)] = []
        var measures: [String] = []
        for (i, name) in metricNames.enumerated() {
            guard let m = Self.observabilityMetrics[name] else {
                throw QueryError.invalid("metrics[\(i)]", "unknown metric '\(name)'; expected one of \(Self.observabilityMetrics.keys.sorted().joined(separator: ", "))")
            }
            metrics.append((name, m))
            for x in m.measures where !measures.contains(x) { measures.append(x) }
        }
        guard let from = try r.time("from_date") else { throw QueryError.invalid("from_date", "'from_date' is required") }
        let to = try r.time("to_date") ?? Self.nowMs()
        let unit = try r.string("frequency_unit") ?? "day"
        let interval = try r.int("frequency_interval", in: 1...10_000)
        let bucket = try Self.frequencyBucket(unit: unit, interval: interval)

        var filters: [QuerySpec.Filter] = []
        if let f = try r.object("filters") {
            for (key, value) in f.members {
                guard let column = Self.observabilityGroups[key] else { throw QueryError.invalid(f.name(key), "unknown filter '\(key)'") }
                let items: [JSONInput]
                if case .array(let a) = value { items = a } else { items = [value] }
                var texts: [String] = []
                for item in items {
                    guard let t = item.scalarText else { throw QueryError.invalid(f.name(key), "expected UUIDs") }
                    texts.append(t)
                }
                if let filter = try filter(Self.observabilityDataset, column, texts, parameter: f.name(key)) { filters.append(filter) }
            }
        }
        var groupBy: [String] = []
        for (i, g) in (try r.strings("group_by", max: 3) ?? []).enumerated() {
            guard let column = Self.observabilityGroups[g] else { throw QueryError.invalid("group_by[\(i)]", "unknown group '\(g)'; expected project, model or endpoint") }
            if !groupBy.contains(column) { groupBy.append(column) }
        }
        let returnDelta = try r.bool("return_delta") ?? true
        let fill = try r.bool("fill_time_gaps") ?? true
        var topK: QuerySpec.TopK?
        if let n = try r.int("topk", in: 1...service.configuration.maxRows) {
            guard !groupBy.isEmpty else { throw QueryError.invalid("topk", "topk needs group_by") }
            topK = QuerySpec.TopK(n: n, measure: metrics[0].1.measures[metrics[0].1.shape == .quantiles ? 1 : 0])
        }
        let spec = QuerySpec(
            dataset: Self.observabilityDataset, measures: measures, fromMs: from, toMs: to, bucket: bucket, filters: filters,
            groupBy: groupBy, topK: topK, fill: fill ? .zero : .none, compare: returnDelta ? .previousBucket : .none)
        let result = try await service.run(spec, scope: scope)
        return Self.observabilityBody(result, metrics: metrics, returnDelta: returnDelta)
    }

    /// Seed 000's frequency: a standard bucket per unit, or `frequency_interval` units
    /// aligned to `from_date`.
    static func frequencyBucket(unit: String, interval: Int?) throws(QueryError) -> TimeBucket {
        let n = interval ?? 1
        let letter: String
        switch unit {
        case "hour": letter = "h"
        case "day": letter = "d"
        case "week": letter = "w"
        case "month", "quarter", "year":
            guard n == 1 else { throw QueryError.invalid("frequency_interval", "custom intervals are supported for hour, day and week") }
            return TimeBucket(parsing: ["month": "1mo", "quarter": "1q", "year": "1y"][unit] ?? "1mo") ?? .whole
        default:
            throw QueryError.invalid("frequency_unit", "'\(unit)' is not one of hour, day, week, month, quarter, year")
        }
        // `frequency_interval` set means seed 000's custom interval, aligned to from_date.
        if interval != nil, let custom = TimeBucket(parsing: "\(n)\(letter)"), case .fixed(let s, _, _) = custom {
            return .fixed(seconds: s, anchor: nil, label: "\(n)\(letter)")
        }
        return TimeBucket(parsing: "1\(letter)") ?? .whole
    }

    static func observabilityBody(_ result: QueryResult, metrics: [(String, SeedMetric)], returnDelta: Bool) -> [UInt8] {
        func index(_ measure: String) -> Int { result.measures.firstIndex { $0.name == measure } ?? 0 }
        // Regroup series-of-points into time periods of groups, the seed's nesting.
        var periods: [Int64: [(QueryResult.Series, QueryResult.Point)]] = [:]
        for s in result.series {
            for p in s.points { periods[p.start, default: []].append((s, p)) }
        }
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.field("object", "observability_metrics")
        w.key("items")
        w.beginArray()
        for start in periods.keys.sorted() {
            w.beginObject()
            w.field("time_period", QueryTime.format(start * 1000, zone: false))
            w.key("items")
            w.beginArray()
            for (series, point) in periods[start] ?? [] {
                w.beginObject()
                for (d, v) in zip(result.groupBy, series.group) {
                    w.key(d.name)
                    QueryResult.writeDimensionValue(v, kind: d.kind, into: &w)
                }
                w.key("data")
                w.beginObject()
                let hours = Double(point.seconds) / 3600
                for (name, metric) in metrics {
                    w.key(name)
                    w.beginObject()
                    let deltaIndex: Int
                    switch metric.shape {
                    case .counter:
                        let i = index(metric.measures[0])
                        let count = point.values[i]?.number ?? 0
                        w.field("count", count)
                        w.field("rate", (count / hours * 100).rounded() / 100)
                        deltaIndex = i
                    case .value:
                        let i = index(metric.measures[0])
                        let v = point.values[i]?.number
                        w.key("value")
                        if name == "throughput" {
                            QueryResult.write(v.map { $0 / Double(point.seconds) }, into: &w)
                        } else {
                            QueryResult.write(v, into: &w)
                        }
                        deltaIndex = i
                    case .quantiles:
                        for (label, m) in zip(["p50", "p95", "p99"], metric.measures) {
                            w.key(label)
                            QueryResult.write(point.values[index(m)], into: &w)
                        }
                        deltaIndex = index(metric.measures[1])
                    }
                    if returnDelta {
                        w.key("delta")
                        QueryResult.write(point.delta(deltaIndex).map { ($0 * 100).rounded() / 100 }, into: &w)
                        w.key("delta_percent")
                        QueryResult.write(point.deltaPercent(deltaIndex).map { ($0 * 100).rounded() / 100 }, into: &w)
                    }
                    w.endObject()
                }
                w.endObject()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
