import Sinks

/// Seed 004's `POST /api/v1/metrics/query` over the `metrics` dataset. The tenant is
/// required (`X-Tenant-ID`, or the caller's API key once authentication is on).
///
/// Request: `{"metric_name": "revenue", "start_time": "...", "end_time": "...",
/// "dimensions": {"region": "us-west"}, "aggregate": false}`; `end_time` is inclusive, as
/// in the seed.
///
/// - `aggregate: false` → the samples, oldest first:
///   `{"tenant_id", "metric_name", "aggregate": false, "count": n, "data": [{"timestamp",
///   "value", "dimensions": {...}, "metadata": {...}}]}`.
/// - `aggregate: true` → hourly aggregates of every hour the range touches (read from the
///   rollup unless `dimensions` filters, which only raw rows have):
///   `{"tenant_id", "metric_name", "aggregate": true, "interval": "1h", "source": "rollup",
///   "data": [{"timestamp", "count", "avg", "min", "max", "p50", "p95", "p99"}]}`.
extension QueryAPI {
    static let metricsDataset = "metrics"
    static let metricsAggregates = ["count", "avg", "min", "max", "p50", "p95", "p99"]

    func metricsQuery(_ request: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        guard let tenant = scope.tenant else { throw QueryError.invalid("X-Tenant-ID", "this route needs a tenant (X-Tenant-ID)") }
        let r = try JSONObjectReader.parse(body: request.body)
        try r.rejectUnknown(["metric_name", "start_time", "end_time", "dimensions", "aggregate"])
        let metric = try r.requiredString("metric_name")
        guard let start = try r.time("start_time") else { throw QueryError.invalid("start_time", "'start_time' is required") }
        guard let end = try r.time("end_time") else { throw QueryError.invalid("end_time", "'end_time' is required") }
        guard end >= start else { throw QueryError.invalid("end_time", "'end_time' must not be before 'start_time'") }
        let aggregate = try r.bool("aggregate") ?? false
        var filters = [QuerySpec.Filter(dimension: "metric_name", values: [metric])]
        var labels: [(String, String)] = []
        if let d = try r.object("dimensions") {
            for (key, value) in d.members {
                guard QueryDataset.isValidLabelKey(key) else { throw QueryError.invalid(d.name(key), "'\(key)' is not a valid dimension key") }
                guard case .string(let v) = value else { throw QueryError.invalid(d.name(key), "dimension values are strings") }
                labels.append((key, v))
                filters.append(QuerySpec.Filter(dimension: "dimensions.\(key)", values: [v]))
            }
        }
        if aggregate {
            // Every hour the inclusive range touches, like the seed's hourly view.
            let hour: Int64 = 3_600_000
            let from = QueryTime.floorDivMod(start, hour).0 * hour
            let to = (QueryTime.floorDivMod(end, hour).0 + 1) * hour
            let spec = QuerySpec(
                dataset: Self.metricsDataset, measures: Self.metricsAggregates, fromMs: from, toMs: to,
                bucket: TimeBucket(parsing: "1h") ?? .whole, filters: filters)
            let result = try await service.run(spec, scope: scope)
            return JSONWriter.object { w in
                w.field("tenant_id", tenant)
                w.field("metric_name", metric)
                w.field("start_time", QueryTime.format(start))
                w.field("end_time", QueryTime.format(end))
                w.field("aggregate", true)
                w.field("interval", "1h")
                w.field("source", result.source.rawValue)
                w.key("data")
                w.beginArray()
                for p in result.series.first?.points ?? [] {
                    w.beginObject()
                    w.field("timestamp", QueryTime.format(p.start * 1000))
                    for (m, v) in zip(result.measures, p.values) {
                        w.key(m.name)
                        QueryResult.write(v, into: &w)
                    }
                    w.endObject()
                }
                w.endArray()
            }
        }
        try service.checkRange(fromMs: start, toMs: end + 1, fromName: "start_time", toName: "end_time")
        let dataset = try service.dataset(Self.metricsDataset)
        let builder = try await service.builder(dataset, scope: scope)
        let spec = QuerySpec(dataset: Self.metricsDataset, measures: ["count"], fromMs: start, toMs: end + 1, filters: filters)
        let sql = try builder.samples(spec, limit: service.maxRows + 1)
        let rows = try await service.cachedRows(sql, scope: scope)
        guard rows.count <= service.maxRows else { throw service.rowLimitError() }
        return JSONWriter.object { w in
            w.field("tenant_id", tenant)
            w.field("metric_name", metric)
            w.field("start_time", QueryTime.format(start))
            w.field("end_time", QueryTime.format(end))
            w.field("aggregate", false)
            w.field("count", rows.count)
            w.key("data")
            w.beginArray()
            for row in rows where row.count == 6 {
                w.beginObject()
                w.field("timestamp", QueryTime.format(Int64(row[0] ?? "0") ?? 0))
                w.key("value")
                QueryResult.write(TabSeparated.number(row[1]), into: &w)
                for (name, k, v) in [("dimensions", row[2], row[3]), ("metadata", row[4], row[5])] {
                    w.key(name)
                    w.beginObject()
                    for (key, value) in zip(TabSeparated.stringArray(k) ?? [], TabSeparated.stringArray(v) ?? []) { w.field(key, value) }
                    w.endObject()
                }
                w.endObject()
            }
            w.endArray()
        }
    }
}

extension QuerySQLBuilder {
    /// The `metrics` samples of a spec's range and filters, oldest first: time in ms,
    /// value, dimension keys and values, metadata keys and values.
    func samples(_ spec: QuerySpec, limit: Int) throws(QueryError) -> String {
        func keysAndValues(_ map: String) -> String {
            if dialect.map { return "mapKeys(\(q(map))), mapValues(\(q(map)))" }
            return "\(q("\(map).key")), \(q("\(map).value"))"
        }
        let conds = try conditions(spec, .raw, fromMs: spec.fromMs, toMs: spec.toMs)
        let ms = millisecondsExpression()
        return """
            SELECT \(ms), \(q("value")), \(keysAndValues("dimensions")), \(keysAndValues("metadata"))
            FROM \(table(.raw))
            WHERE \(conds.joined(separator: " AND "))
            ORDER BY \(ms)
            LIMIT \(limit)
            FORMAT TabSeparated
            """
    }
}
