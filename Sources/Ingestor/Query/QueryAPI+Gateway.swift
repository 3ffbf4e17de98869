/// Seed 003's gateway analytics over the `gateway` dataset.
///
/// Every route is scoped like any query (the tenant is the dataset's `project_id`), takes
/// `start_time`/`end_time` (RFC 3339; default the last 7 days) and `project_ids`
/// (comma-separated UUIDs), and answers `{"success": true, "data": {...}}`.
extension QueryAPI {
    static let gatewayDataset = "gateway"

    /// Seed 003's metric names and the catalog measures behind them.
    static let gatewayMetrics: [String: String] = [
        "total_requests": "requests",
        "total_errors": "errors",
        "error_rate": "errors_rate",
        "blocked_requests": "blocked",
        "avg_response_time": "response_time_ms_avg",
        "p50_response_time": "response_time_ms_p50",
        "p95_response_time": "response_time_ms_p95",
        "p99_response_time": "response_time_ms_p99",
        "total_tokens": "total_tokens",
        "total_cost": "cost",
        "unique_users": "unique_clients",
    ]

    static let sevenDaysMs: Int64 = 7 * 86_400_000

    /// The common GET parameters: range and project filter.
    func gatewayScope(_ r: QueryHTTPRequest) throws(QueryError) -> (from: Int64, to: Int64, filters: [QuerySpec.Filter]) {
        let now = Self.nowMs()
        let to = try timeParameter(r, "end_time", default: now)
        let from = try timeParameter(r, "start_time", default: to - Self.sevenDaysMs)
        var filters: [QuerySpec.Filter] = []
        if let f = try filter(Self.gatewayDataset, "project_id", Self.list(r.parameter("project_ids")), parameter: "project_ids") { filters.append(f) }
        return (from, to, filters)
    }

    func gatewaySpec(
        _ measures: [String], from: Int64, to: Int64, filters: [QuerySpec.Filter], groupBy: [String] = [],
        bucket: TimeBucket = .whole, topK: QuerySpec.TopK? = nil
    ) -> QuerySpec {
        QuerySpec(dataset: Self.gatewayDataset, measures: measures, fromMs: from, toMs: to, bucket: bucket, filters: filters, groupBy: groupBy, topK: topK)
    }

    static func success(_ body: (inout JSONWriter) -> Void) -> [UInt8] {
        JSONWriter.object { w in
            w.field("success", true)
            w.key("data")
            w.beginObject()
            body(&w)
            w.endObject()
        }
    }

    /// The whole-range value of `measure` for one series (single bucket queries).
    static func value(_ result: QueryResult, _ series: QueryResult.Series, _ measure: String) -> QueryResult.Value? {
        guard let i = result.measures.firstIndex(where: { $0.name == measure }), let p = series.points.first else { return nil }
        return p.values[i]
    }

    static func number(_ result: QueryResult, _ series: QueryResult.Series, _ measure: String) -> Double {
        value(result, series, measure)?.number ?? 0
    }

    static func group(_ result: QueryResult, _ series: QueryResult.Series, _ dimension: String) -> String? {
        guard let i = result.groupBy.firstIndex(where: { $0.name == dimension }) else { return nil }
        return series.group[i]
    }

    // MARK: POST /gateway/analytics

    func gatewayAnalytics(_ request: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let r = try JSONObjectReader.parse(body: request.body)
        try r.rejectUnknown(["project_ids", "model_ids", "endpoint_ids", "start_time", "end_time", "time_bucket", "metrics", "group_by", "filters"])
        guard let from = try r.time("start_time") else { throw QueryError.invalid("start_time", "'start_time' is required") }
        guard let to = try r.time("end_time") else { throw QueryError.invalid("end_time", "'end_time' is required") }
        let bucketText = try r.string("time_bucket") ?? "1h"
        guard let bucket = TimeBucket(parsing: bucketText) else { throw QueryError.invalid("time_bucket", "'\(bucketText)' is not a bucket") }
        let names = try r.strings("metrics", max: 16) ?? ["total_requests"]
        var measures: [String] = []
        for (i, n) in names.enumerated() {
            guard let m = Self.gatewayMetrics[n] else {
                throw QueryError.invalid("metrics[\(i)]", "unknown metric '\(n)'; expected one of \(Self.gatewayMetrics.keys.sorted().joined(separator: ", "))")
            }
            if !measures.contains(m) { measures.append(m) }
        }
        var filters: [QuerySpec.Filter] = []
        for (key, column) in [("project_ids", "project_id"), ("model_ids", "model_id"), ("endpoint_ids", "endpoint_id")] {
            if let f = try filter(Self.gatewayDataset, column, try r.strings(key, max: QueryRequest.maxFilterValues) ?? [], parameter: key) { filters.append(f) }
        }
        let dataset = try service.dataset(Self.gatewayDataset)
        filters += try QueryRequest.parseFilters(r.object("filters"), dataset: dataset)
        let groupBy = try r.strings("group_by", max: 8) ?? []
        for (i, g) in groupBy.enumerated() where dataset.dimension(named: g) == nil {
            throw QueryError.invalid("group_by[\(i)]", "unknown dimension '\(g)'")
        }
        let series = try await service.run(gatewaySpec(measures, from: from, to: to, filters: filters, groupBy: groupBy, bucket: bucket), scope: scope)
        let summary = try await service.run(
            gatewaySpec(["requests", "errors", "response_time_ms_avg"], from: from, to: to, filters: filters), scope: scope)
        return Self.success { w in
            w.key("time_series")
            w.beginArray()
            var points: [(Int64, QueryResult.Series, QueryResult.Point)] = []
            for s in series.series { for p in s.points { points.append((p.start, s, p)) } }
            // Time first, then the series order ClickHouse gave.
            for (_, s, p) in points.enumerated().sorted(by: { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }).map(\.element) {
                w.beginObject()
                w.field("timestamp", QueryTime.format(p.start * 1000))
                w.key("metrics")
                w.beginObject()
                for n in names {
                    guard let m = Self.gatewayMetrics[n], let i = series.measures.firstIndex(where: { $0.name == m }) else { continue }
                    w.key(n)
                    QueryResult.write(p.values[i], into: &w)
                }
                w.endObject()
                w.key("groups")
                series.writeGroup(s.group, into: &w)
                w.endObject()
            }
            w.endArray()
            w.key("summary")
            w.beginObject()
            let total = summary.series.first
            w.field("total_requests", total.map { Self.number(summary, $0, "requests") } ?? 0)
            w.field("total_errors", total.map { Self.number(summary, $0, "errors") } ?? 0)
            w.key("avg_response_time")
            QueryResult.write(total.flatMap { Self.value(summary, $0, "response_time_ms_avg") }, into: &w)
            w.endObject()
        }
    }

    // MARK: GET /gateway/geographical-stats

    func gatewayGeography(_ r: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let (from, to, filters) = try gatewayScope(r)
        let measures = ["requests", "errors", "response_time_ms_avg", "total_tokens"]
        let countries = try await service.run(gatewaySpec(measures, from: from, to: to, filters: filters, groupBy: ["country_code", "country_name"]), scope: scope)
        let regions = try await service.run(gatewaySpec(measures, from: from, to: to, filters: filters, groupBy: ["country_code", "region"]), scope: scope)
        let cities = try await service.run(gatewaySpec(measures, from: from, to: to, filters: filters, groupBy: ["country_code", "region", "city"]), scope: scope)
        func write(_ result: QueryResult, into w: inout JSONWriter) {
            w.beginArray()
            let sorted = result.series.sorted { Self.number(result, $0, "requests") > Self.number(result, $1, "requests") }
            for s in sorted {
                w.beginObject()
                for (d, v) in zip(result.groupBy, s.group) { w.field(d.name, v ?? "") }
                w.field("request_count", Self.number(result, s, "requests"))
                w.field("error_count", Self.number(result, s, "errors"))
                w.key("avg_response_time")
                QueryResult.write(Self.value(result, s, "response_time_ms_avg"), into: &w)
                w.field("total_tokens", Self.number(result, s, "total_tokens"))
                w.endObject()
            }
            w.endArray()
        }
        return Self.success { w in
            w.key("countries")
            write(countries, into: &w)
            w.key("regions")
            write(regions, into: &w)
            w.key("cities")
            write(cities, into: &w)
            w.key("summary")
            w.beginObject()
            w.field("total_countries", Set(countries.series.map { $0.group.first ?? nil }).count)
            w.field("total_requests", countries.series.reduce(0) { $0 + Self.number(countries, $1, "requests") })
            w.endObject()
        }
    }

    // MARK: GET /gateway/top-routes

    static let topRouteOrders = ["requests": "requests", "errors": "errors", "avg_time": "response_time_ms_avg"]

    func gatewayTopRoutes(_ r: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let (from, to, filters) = try gatewayScope(r)
        var limit = 10
        if let text = r.parameter("limit") {
            guard let n = Int(text), (1...100).contains(n) else { throw QueryError.invalid("limit", "'limit' must be an integer from 1 to 100") }
            limit = n
        }
        let orderText = r.parameter("order_by") ?? "requests"
        guard let order = Self.topRouteOrders[orderText] else {
            throw QueryError.invalid("order_by", "'order_by' must be requests, errors or avg_time")
        }
        let measures = ["requests", "errors", "errors_rate", "response_time_ms_avg", "response_time_ms_p95", "response_time_ms_p99", "total_tokens"]
        let result = try await service.run(
            gatewaySpec(measures, from: from, to: to, filters: filters, groupBy: ["path", "method"], topK: QuerySpec.TopK(n: limit, measure: order)),
            scope: scope)
        let sorted = result.series.sorted { a, b in
            let x = Self.number(result, a, order), y = Self.number(result, b, order)
            return x != y ? x > y : ((a.group.first ?? nil) ?? "") < ((b.group.first ?? nil) ?? "")
        }
        return Self.success { w in
            w.key("routes")
            w.beginArray()
            for s in sorted {
                w.beginObject()
                w.field("path", Self.group(result, s, "path") ?? "")
                w.field("method", Self.group(result, s, "method") ?? "")
                w.field("request_count", Self.number(result, s, "requests"))
                w.field("error_count", Self.number(result, s, "errors"))
                w.field("error_rate", Self.number(result, s, "errors_rate"))
                for (key, m) in [("avg_response_time", "response_time_ms_avg"), ("p95_response_time", "response_time_ms_p95"), ("p99_response_time", "response_time_ms_p99")] {
                    w.key(key)
                    QueryResult.write(Self.value(result, s, m), into: &w)
                }
                w.field("total_tokens", Self.number(result, s, "total_tokens"))
                w.endObject()
            }
            w.endArray()
        }
    }

    // MARK: GET /gateway/client-analytics

    func gatewayClients(_ r: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let (from, to, filters) = try gatewayScope(r)
        var limit = 100
        if let text = r.parameter("limit") {
            guard let n = Int(text), (1...1000).contains(n) else { throw QueryError.invalid("limit", "'limit' must be an integer from 1 to 1000") }
            limit = n
        }
        let attributes = ["client_ip", "user_agent", "device_type", "browser", "os"]
        let measures = ["requests", "errors", "response_time_ms_avg", "total_tokens", "cost", "timestamp_last"] + attributes.map { "\($0)_any" }
        let result = try await service.run(
            gatewaySpec(measures, from: from, to: to, filters: filters, groupBy: ["client_id"], topK: QuerySpec.TopK(n: limit, measure: "requests")),
            scope: scope)
        let sorted = result.series.sorted { Self.number(result, $0, "requests") > Self.number(result, $1, "requests") }
        return Self.success { w in
            w.key("clients")
            w.beginArray()
            for s in sorted {
                w.beginObject()
                w.field("client_id", Self.group(result, s, "client_id") ?? "")
                w.key("client_ip")
                QueryResult.write(Self.value(result, s, "client_ip_any"), into: &w)
                w.field("request_count", Self.number(result, s, "requests"))
                w.field("error_count", Self.number(result, s, "errors"))
                w.key("avg_response_time")
                QueryResult.write(Self.value(result, s, "response_time_ms_avg"), into: &w)
                w.field("total_tokens", Self.number(result, s, "total_tokens"))
                w.field("total_cost", Self.number(result, s, "cost"))
                w.key("last_activity")
                QueryResult.write(Self.value(result, s, "timestamp_last"), into: &w)
                for a in attributes.dropFirst() {
                    w.key(a)
                    QueryResult.write(Self.value(result, s, "\(a)_any"), into: &w)
                }
                w.endObject()
            }
            w.endArray()
        }
    }

    // MARK: GET /gateway/blocking-stats

    func gatewayBlocking(_ r: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let (from, to, filters) = try gatewayScope(r)
        var limit = 100
        if let text = r.parameter("limit") {
            guard let n = Int(text), (1...1000).contains(n) else { throw QueryError.invalid("limit", "'limit' must be an integer from 1 to 1000") }
            limit = n
        }
        let blocked = filters + [QuerySpec.Filter(dimension: "is_blocked", values: ["1"])]
        let byReason = try await service.run(
            gatewaySpec(["requests", "timestamp_first", "timestamp_last"], from: from, to: to, filters: blocked, groupBy: ["client_ip", "block_reason"]),
            scope: scope)
        let rules = try await service.run(
            gatewaySpec(["requests"], from: from, to: to, filters: blocked, groupBy: ["block_rule_id", "block_rule_type"]), scope: scope)
        let totals = try await service.run(gatewaySpec(["requests", "blocked"], from: from, to: to, filters: filters), scope: scope)

        struct IP {
            var count = 0.0
            var reasons: [String] = []
            var first = Int64.max
            var last = Int64.min
        }
        var ips: [String: IP] = [:]
        for s in byReason.series {
            let ip = Self.group(byReason, s, "client_ip") ?? ""
            var entry = ips[ip] ?? IP()
            entry.count += Self.number(byReason, s, "requests")
            if let reason = Self.group(byReason, s, "block_reason"), !reason.isEmpty, !entry.reasons.contains(reason) { entry.reasons.append(reason) }
            if case .time(let t)? = Self.value(byReason, s, "timestamp_first") { entry.first = min(entry.first, t) }
            if case .time(let t)? = Self.value(byReason, s, "timestamp_last") { entry.last = max(entry.last, t) }
            ips[ip] = entry
        }
        let totalRequests = totals.series.first.map { Self.number(totals, $0, "requests") } ?? 0
        let totalBlocked = totals.series.first.map { Self.number(totals, $0, "blocked") } ?? 0
        return Self.success { w in
            w.key("blocked_ips")
            w.beginArray()
            for (ip, e) in ips.sorted(by: { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }).prefix(limit) {
                w.beginObject()
                w.field("ip_address", ip)
                w.field("block_count", e.count)
                w.key("reasons")
                w.beginArray()
                for reason in e.reasons.sorted() { w.string(reason) }
                w.endArray()
                w.field("first_blocked", QueryTime.format(e.first))
                w.field("last_blocked", QueryTime.format(e.last))
                w.endObject()
            }
            w.endArray()
            w.key("blocking_rules")
            w.beginArray()
            for s in rules.series.sorted(by: { Self.number(rules, $0, "requests") > Self.number(rules, $1, "requests") }).prefix(limit) {
                w.beginObject()
                w.field("rule_id", Self.group(rules, s, "block_rule_id") ?? "")
                w.field("rule_type", Self.group(rules, s, "block_rule_type") ?? "")
                let count = Self.number(rules, s, "requests")
                w.field("match_count", count)
                // The share of all blocked requests this rule accounts for.
                w.field("effectiveness", totalBlocked > 0 ? count / totalBlocked : 0)
                w.endObject()
            }
            w.endArray()
            w.key("summary")
            w.beginObject()
            w.field("total_blocked", totalBlocked)
            w.field("block_rate", totalRequests > 0 ? totalBlocked / totalRequests : 0)
            w.endObject()
        }
    }
}
