import Ingestor
import Testing

/// The seed-compatible routes answer in the seeds' shapes with numbers computed here
/// from the generated events.
@Suite struct SeedRouteTests {
    static let base = QueryFixture.base
    static let hour = QueryFixture.hour
    static let day = QueryFixture.day

    @Test func observabilityAnalyticsDailyWithDeltasAndRates() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let p = QueryFixture.projects
        let r = await api.handle(.post("/observability/analytics", json: """
            {"metrics":["request_count","cost","latency"],"from_date":"2024-01-01T00:00:00","to_date":"2024-01-04T00:00:00",
             "frequency_unit":"day","group_by":["project"],"filters":{"project":["\(p[0])","\(p[1])"]},"return_delta":true,"fill_time_gaps":true}
            """))
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["object"]?.string == "observability_metrics")
        let periods = r.json["items"]?.array ?? []
        #expect(periods.map { $0["time_period"]?.string ?? "" } == ["2024-01-01T00:00:00", "2024-01-02T00:00:00", "2024-01-03T00:00:00"])
        func count(_ project: String, _ day: Int64) -> Double {
            Double(f.inference.filter { $0.project == project && $0.ms >= day && $0.ms < day + Self.day }.count)
        }
        for (i, period) in periods.enumerated() {
            let start = Self.base + Int64(i) * Self.day
            let items = period["items"]?.array ?? []
            #expect(Set(items.compactMap { $0["project_id"]?.string }) == [p[0], p[1]])
            for item in items {
                let project = item["project_id"]?.string ?? ""
                let rc = item["data"]?["request_count"]
                let n = count(project, start), previous = count(project, start - Self.day)
                #expect(rc?["count"]?.double == n)
                #expect(close(rc?["rate"]?.double, (n / 24 * 100).rounded() / 100))
                #expect(rc?["delta"]?.double == n - previous)
                if previous > 0 {
                    #expect(close(rc?["delta_percent"]?.double, ((n - previous) / previous * 100 * 100).rounded() / 100))
                } else {
                    #expect(rc?["delta_percent"]?.isNull == true)
                }
                let costs = f.inference.filter { $0.project == project && $0.ms >= start && $0.ms < start + Self.day }.reduce(0) { $0 + ($1.cost ?? 0) }
                #expect(close(item["data"]?["cost"]?["value"]?.double, costs, 1e-6))
                #expect(item["data"]?["latency"]?["p95"]?.double != nil)
            }
        }
    }

    @Test func observabilityCustomIntervalAlignsToFromDate() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let r = await api.handle(.post("/observability/analytics", json: """
            {"metrics":["request_count"],"from_date":"2024-01-01T12:00:00Z","to_date":"2024-01-04T00:00:00Z",
             "frequency_unit":"day","frequency_interval":2,"return_delta":false}
            """))
        #expect(r.status == 200, "\(r.text)")
        let periods = r.json["items"]?.array ?? []
        #expect(periods.map { $0["time_period"]?.string ?? "" } == ["2024-01-01T12:00:00", "2024-01-03T12:00:00"])
        let first = f.inference.filter { $0.ms >= Self.base + 12 * Self.hour && $0.ms < Self.base + 60 * Self.hour }.count
        let second = f.inference.filter { $0.ms >= Self.base + 60 * Self.hour && $0.ms < Self.base + 72 * Self.hour }.count
        #expect(periods.first?["items"]?[0]?["data"]?["request_count"]?["count"]?.double == Double(first))
        #expect(periods.last?["items"]?[0]?["data"]?["request_count"]?["count"]?.double == Double(second))
        #expect(periods.first?["items"]?[0]?["data"]?["request_count"]?["delta"] == nil)
    }

    @Test func observabilityRejectsUnknownMetricsAndTopkWithoutGroups() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let bad = await api.handle(.post("/observability/analytics", json: #"{"metrics":["request_count","nope"],"from_date":"2024-01-01T00:00:00"}"#))
        #expect(bad.status == 400)
        #expect(bad.json["parameter"]?.string == "metrics[1]")
        let topk = await api.handle(.post("/observability/analytics", json: #"{"metrics":["request_count"],"from_date":"2024-01-01T00:00:00","to_date":"2024-01-02T00:00:00","topk":2}"#))
        #expect(topk.json["parameter"]?.string == "topk")
    }

    @Test func gatewayAnalyticsTimeSeriesAndSummary() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let r = await api.handle(.post("/gateway/analytics", json: """
            {"start_time":"\(iso(Self.base))","end_time":"\(iso(Self.base + 3 * Self.day))","time_bucket":"1d",
             "metrics":["total_requests","error_rate","p95_response_time"],"group_by":["country_code"],"filters":{"method":"POST"}}
            """))
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["success"] == .bool(true))
        let series = r.json["data"]?["time_series"]?.array ?? []
        #expect(series.count == 9)
        for s in series {
            let t = QueryTime.parse(s["timestamp"]?.string ?? "") ?? 0
            let country = s["groups"]?["country_code"]?.string ?? ""
            let es = f.gateway.filter { $0.method == "POST" && $0.country == country && $0.ms >= t && $0.ms < t + Self.day }
            #expect(s["metrics"]?["total_requests"]?.double == Double(es.count))
            #expect(close(s["metrics"]?["error_rate"]?.double, Double(es.filter { $0.status >= 400 }.count) / Double(es.count)))
            #expect(quantileClose(s["metrics"]?["p95_response_time"]?.double, es.map(\.responseTime), 0.95))
        }
        let post = f.gateway.filter { $0.method == "POST" }
        #expect(r.json["data"]?["summary"]?["total_requests"]?.double == Double(post.count))
        #expect(r.json["data"]?["summary"]?["total_errors"]?.double == Double(post.filter { $0.status >= 400 }.count))
        #expect(close(r.json["data"]?["summary"]?["avg_response_time"]?.double, post.reduce(0) { $0 + $1.responseTime } / Double(post.count)))
    }

    func gatewayGet(_ api: QueryAPI, _ path: String, _ extra: [(String, String)] = []) async -> QueryHTTPResponse {
        await api.handle(.get(path, query: [("start_time", iso(Self.base)), ("end_time", iso(Self.base + 3 * Self.day))] + extra))
    }

    @Test func gatewayGeographicalStats() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let p0 = QueryFixture.projects[0]
        let r = await gatewayGet(api, "/gateway/geographical-stats", [("project_ids", p0)])
        #expect(r.status == 200, "\(r.text)")
        let countries = r.json["data"]?["countries"]?.array ?? []
        #expect(countries.count == 3)
        for c in countries {
            let es = f.gateway.filter { $0.project == p0 && $0.country == c["country_code"]?.string }
            #expect(c["request_count"]?.double == Double(es.count))
            #expect(c["country_name"]?.string == es.first?.countryName)
            #expect(c["error_count"]?.double == Double(es.filter { $0.status >= 400 }.count))
            #expect(c["total_tokens"]?.double == Double(es.reduce(0) { $0 + $1.tokens }))
        }
        #expect(r.json["data"]?["summary"]?["total_countries"]?.double == 3)
        #expect(r.json["data"]?["summary"]?["total_requests"]?.double == Double(f.gateway.filter { $0.project == p0 }.count))
        #expect((r.json["data"]?["cities"]?.array.count ?? 0) == 5)
    }

    @Test func gatewayTopRoutesHonoursLimitAndOrder() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        var requests: [String: Int] = [:], errors: [String: Int] = [:]
        for e in f.gateway {
            requests["\(e.method) \(e.path)", default: 0] += 1
            if e.status >= 400 { errors["\(e.method) \(e.path)", default: 0] += 1 }
        }
        for order in ["errors", "requests"] {
            let r = await gatewayGet(api, "/gateway/top-routes", [("limit", "3"), ("order_by", order)])
            #expect(r.status == 200, "\(r.text)")
            let routes = r.json["data"]?["routes"]?.array ?? []
            #expect(routes.count == 3)
            let stat = order == "errors" ? errors : requests
            let want = Array(requests.keys.map { stat[$0] ?? 0 }.sorted(by: >).prefix(3))
            #expect(routes.map { Int($0[order == "errors" ? "error_count" : "request_count"]?.double ?? -1) } == want)
            for route in routes {
                let key = "\(route["method"]?.string ?? "") \(route["path"]?.string ?? "")"
                #expect(route["request_count"]?.double == requests[key].map(Double.init))
                #expect(route["error_count"]?.double == Double(errors[key] ?? 0))
            }
        }
        let badLimit = await gatewayGet(api, "/gateway/top-routes", [("limit", "101")])
        #expect(badLimit.status == 400 && badLimit.json["parameter"]?.string == "limit")
        let badOrder = await gatewayGet(api, "/gateway/top-routes", [("order_by", "path")])
        #expect(badOrder.status == 400 && badOrder.json["parameter"]?.string == "order_by")
    }

    @Test func gatewayClientAnalytics() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let r = await gatewayGet(api, "/gateway/client-analytics", [("limit", "3")])
        #expect(r.status == 200, "\(r.text)")
        var byClient: [String: [GatewayEvent]] = [:]
        for e in f.gateway { byClient[e.client, default: []].append(e) }
        let top = byClient.sorted { $0.value.count > $1.value.count }.prefix(3).map(\.key)
        let clients = r.json["data"]?["clients"]?.array ?? []
        #expect(clients.compactMap { $0["client_id"]?.string } == top)
        for c in clients {
            let es = byClient[c["client_id"]?.string ?? ""] ?? []
            #expect(c["request_count"]?.double == Double(es.count))
            #expect(close(c["total_cost"]?.double, es.reduce(0) { $0 + $1.cost }, 1e-9))
            #expect(c["last_activity"]?.string == iso(es.map(\.ms).max() ?? 0))
            #expect(c["client_ip"]?.string == es.first?.ip)
            #expect(c["os"]?.string == es.first?.os)
        }
    }

    @Test func gatewayBlockingStats() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let r = await gatewayGet(api, "/gateway/blocking-stats")
        #expect(r.status == 200, "\(r.text)")
        let blocked = f.gateway.filter(\.blocked)
        #expect(r.json["data"]?["summary"]?["total_blocked"]?.double == Double(blocked.count))
        #expect(close(r.json["data"]?["summary"]?["block_rate"]?.double, Double(blocked.count) / Double(f.gateway.count)))
        let ips = r.json["data"]?["blocked_ips"]?.array ?? []
        #expect(ips.count == Set(blocked.map(\.ip)).count)
        for ip in ips {
            let es = blocked.filter { $0.ip == ip["ip_address"]?.string }
            #expect(ip["block_count"]?.double == Double(es.count))
            #expect(ip["reasons"]?.array.compactMap(\.string) == Set(es.map(\.reason)).sorted())
            #expect(ip["first_blocked"]?.string == iso(es.map(\.ms).min() ?? 0))
            #expect(ip["last_blocked"]?.string == iso(es.map(\.ms).max() ?? 0))
        }
        let rules = r.json["data"]?["blocking_rules"]?.array ?? []
        #expect(rules.count == 3)
        for rule in rules {
            #expect(rule["match_count"]?.double == Double(blocked.filter { $0.ruleID == rule["rule_id"]?.string }.count))
        }
    }

    @Test func metricsQueryRawSamples() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let end = Self.base + 6 * Self.hour
        let r = await api.handle(.post("/api/v1/metrics/query", json: """
            {"metric_name":"cpu","start_time":"\(iso(Self.base))","end_time":"\(iso(end))","dimensions":{"region":"us"},"aggregate":false}
            """, headers: [("X-Tenant-ID", "t1")]))
        #expect(r.status == 200, "\(r.text)")
        let want = f.metrics.filter { $0.tenant == "t1" && $0.metric == "cpu" && $0.label("region") == "us" && $0.ms >= Self.base && $0.ms <= end }
        let data = r.json["data"]?.array ?? []
        #expect(data.count == want.count && !want.isEmpty)
        #expect(data.compactMap { $0["value"]?.double }.sorted() == want.map(\.value).sorted())
        #expect(data.compactMap { $0["timestamp"]?.string } == want.map(\.ms).sorted().map(iso))
        #expect(data.first?["dimensions"]?["region"]?.string == "us")
        #expect(data.first?["metadata"]?["source"]?.string == "test")
    }

    @Test func metricsQueryHourlyAggregates() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        for dims in ["", #","dimensions":{"region":"eu"}"#] {
            let r = await api.handle(.post("/api/v1/metrics/query", json: """
                {"metric_name":"mem","start_time":"2024-01-02T00:00:00Z","end_time":"2024-01-02T23:59:59Z","aggregate":true\(dims)}
                """, headers: [("X-Tenant-ID", "t2")]))
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json["source"]?.string == (dims.isEmpty ? "rollup" : "raw"))
            let data = r.json["data"]?.array ?? []
            #expect(data.count > 12)
            for point in data {
                let t = QueryTime.parse(point["timestamp"]?.string ?? "") ?? 0
                let vs = f.metrics.filter {
                    $0.tenant == "t2" && $0.metric == "mem" && $0.ms >= t && $0.ms < t + Self.hour && (dims.isEmpty || $0.label("region") == "eu")
                }.map(\.value)
                #expect(point["count"]?.double == Double(vs.count))
                #expect(point["min"]?.double == vs.min())
                #expect(point["max"]?.double == vs.max())
                #expect(close(point["avg"]?.double, vs.reduce(0, +) / Double(vs.count)))
                #expect(vs.count < 3 || quantileClose(point["p50"]?.double, vs, 0.5))
            }
        }
        let noTenant = await api.handle(.post("/api/v1/metrics/query", json: #"{"metric_name":"mem","start_time":"2024-01-02T00:00:00Z","end_time":"2024-01-02T01:00:00Z"}"#))
        #expect(noTenant.status == 400 && noTenant.json["parameter"]?.string == "X-Tenant-ID")
    }

    @Test func catalogDiscovery() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let datasets = await api.handle(.get("/v1/catalog/datasets"))
        #expect(datasets.json["datasets"]?.array.compactMap { $0["name"]?.string } == ["gateway", "inference", "metrics"])
        let metricsDataset = datasets.json["datasets"]?.array.first { $0["name"]?.string == "metrics" }
        #expect(metricsDataset?["rollup"]?["table"]?.string == "metrics_hourly")
        #expect(metricsDataset?["measures"]?.array.contains { $0["name"]?.string == "p95" && $0["rollup"] == .bool(true) } == true)

        let metrics = await api.handle(.get("/v1/catalog/metrics", headers: [("X-Tenant-ID", "t1")]))
        #expect(metrics.json["metrics"]?.array.compactMap(\.string) == Set(f.metrics.filter { $0.tenant == "t1" }.map(\.metric)).sorted())
        let none = await api.handle(.get("/v1/catalog/metrics", headers: [("X-Tenant-ID", "nobody")]))
        #expect(none.json["metrics"]?.array.isEmpty == true)

        let range = [("from", iso(Self.base)), ("to", iso(Self.base + 3 * Self.day))]
        let labels = await api.handle(.get("/v1/catalog/labels", query: range, headers: [("X-Tenant-ID", "t1")]))
        #expect(labels.json["labels"]?.array.compactMap(\.string) == ["plan", "region"])
        let values = await api.handle(.get("/v1/catalog/labels/region/values", query: range + [("metric_name", "disk")], headers: [("X-Tenant-ID", "t2")]))
        #expect(values.json["values"]?.array.compactMap(\.string)
            == Set(f.metrics.filter { $0.tenant == "t2" && $0.metric == "disk" }.map { $0.label("region") }).sorted())
        let countries = await api.handle(.get("/v1/catalog/labels/country_code/values", query: range + [("dataset", "gateway")]))
        #expect(countries.json["values"]?.array.compactMap(\.string) == ["DE", "IN", "US"])
    }
}
