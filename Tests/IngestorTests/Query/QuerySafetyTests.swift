import Foundation
import Ingestor
import Testing

/// Injection attempts in every parameter are rejected (a `400` naming the parameter) or
/// harmless (a literal that matches nothing), tenants never see each other's rows, and
/// the limits and the cache behave as configured.
@Suite struct QuerySafetyTests {
    static let base = QueryFixture.base
    static let day = QueryFixture.day
    var range: String { #""from":"\#(iso(Self.base))","to":"\#(iso(Self.base + 3 * Self.day))""# }

    @Test func hostileValuesAreLiteralsThatMatchNothing() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        for value in ["' OR 1=1 --", "cpu' OR '1'='1", "cpu\\' OR 1=1 --", "x'); DROP TABLE metrics; --", "\\", "'"] {
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            let r = await api.handle(.post("/v1/query", json: """
                {"dataset":"metrics","measures":["count"],\(range),"filters":{"metric_name":"\(escaped)","dimensions.region":"\(escaped)"}}
                """))
            #expect(r.status == 200, "\(value): \(r.text)")
            #expect(counted(r) == 0, "\(value) matched rows: \(r.text)")
        }
        // A hostile tenant header is a tenant that does not exist.
        let r = await api.handle(.post("/v1/query", json: #"{"dataset":"metrics","measures":["count"],\#(range)}"#,
                                       headers: [("X-Tenant-ID", "t1' OR '1'='1")]))
        #expect(r.status == 200)
        #expect(counted(r) == 0, "\(r.text)")
        // The same requests with plain values do match rows, so the zeros above mean something.
        let plain = await api.handle(.post("/v1/query", json: #"{"dataset":"metrics","measures":["count"],\#(range),"filters":{"metric_name":"cpu"}}"#,
                                           headers: [("X-Tenant-ID", "t1")]))
        #expect(counted(plain) == Double(f.metrics.filter { $0.tenant == "t1" && $0.metric == "cpu" }.count))
    }

    /// The total `count` over every series and point (an ungrouped whole-range query
    /// that matches nothing answers one point with count 0 on 18.16).
    func counted(_ r: QueryHTTPResponse) -> Double {
        (r.json["series"]?.array ?? []).flatMap { $0["points"]?.array ?? [] }.reduce(0) { $0 + ($1["values"]?["count"]?.double ?? 0) }
    }

    @Test func hostileNamesAreRejectedNamingTheParameter() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let evil = "value); DROP TABLE metrics; --"
        let cases: [(String, String)] = [
            (#"{"dataset":"\#(evil)","measures":["count"],\#(range)}"#, "dataset"),
            (#"{"dataset":"metrics","measures":["count","\#(evil)"],\#(range)}"#, "measures[1]"),
            (#"{"dataset":"metrics","measures":["count"],\#(range),"group_by":["\#(evil)"]}"#, "group_by[0]"),
            (#"{"dataset":"metrics","measures":["count"],\#(range),"filters":{"\#(evil)":"x"}}"#, "filters.\(evil)"),
            (#"{"dataset":"metrics","measures":["count"],\#(range),"filters":{"dimensions.re'gion":"x"}}"#, "filters.dimensions.re'gion"),
            (#"{"dataset":"metrics","measures":["count"],\#(range),"bucket":"1h); DROP TABLE metrics; --"}"#, "bucket"),
            (#"{"dataset":"metrics","measures":["count"],\#(range),"group_by":["metric_name"],"top_k":{"n":1,"by":"\#(evil)"}}"#, "top_k.by"),
            (#"{"dataset":"metrics","measures":["count"],\#(range),"group_by":["metric_name"],"top_k":{"n":"1; DROP"}}"#, "top_k.n"),
            (#"{"dataset":"metrics","measures":["count"],"from":"2024-01-01'; DROP","to":"2024-01-02T00:00:00Z"}"#, "from"),
            (#"{"dataset":"metrics","measures":["count"],\#(range),"\#(evil)":1}"#, evil),
            (#"{"dataset":"inference","measures":["requests"],\#(range),"filters":{"project_id":"' OR 1=1 --"}}"#, "filters.project_id"),
            (#"{"dataset":"gateway","measures":["requests"],\#(range),"filters":{"status_code":"200 OR 1=1"}}"#, "filters.status_code"),
        ]
        for (body, parameter) in cases {
            let r = await api.handle(.post("/v1/query", json: body))
            #expect(r.status == 400, "\(body): \(r.text)")
            #expect(r.json["parameter"]?.string == parameter, "\(body): \(r.text)")
        }
        let routes = await api.handle(.get("/gateway/top-routes", query: [("order_by", "requests; DROP TABLE gateway")]))
        #expect(routes.status == 400 && routes.json["parameter"]?.string == "order_by")
        let limit = await api.handle(.get("/gateway/top-routes", query: [("limit", "1; DROP TABLE gateway")]))
        #expect(limit.status == 400 && limit.json["parameter"]?.string == "limit")
        let label = await api.handle(.get("/v1/catalog/labels/x'%29%3B%20DROP/values"))
        #expect(label.status == 400 && label.json["parameter"]?.string == "name")
        let projects = await api.handle(.get("/gateway/geographical-stats", query: [("project_ids", "') OR 1=1 --")]))
        #expect(projects.status == 400 && projects.json["parameter"]?.string == "project_ids")
        let inferenceTenant = await api.handle(.post("/v1/query", json: #"{"dataset":"inference","measures":["requests"],\#(range)}"#,
                                                     headers: [("X-Tenant-ID", "' OR 1=1 --")]))
        #expect(inferenceTenant.status == 400 && inferenceTenant.json["parameter"]?.string == "X-Tenant-ID")

        // Nothing was dropped or changed.
        let count = try await f.server.query("SELECT count() FROM \(f.database).metrics")
        #expect(Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) == f.metrics.count)
        let tables = try await f.server.query("SELECT count() FROM system.tables WHERE database = '\(f.database)'")
        #expect(Int(tables.trimmingCharacters(in: .whitespacesAndNewlines)) == 10)
    }

    @Test func aTenantSeesOnlyItsRowsWhateverTheFiltersSay() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        // Filtering on the tenant column cannot widen the scope: it is ANDed with it.
        let r = await api.handle(.post("/v1/query", json: """
            {"dataset":"metrics","measures":["count"],\(range),"filters":{"tenant_id":["t1","t2"]},"group_by":["tenant_id"]}
            """, headers: [("X-Tenant-ID", "t1")]))
        #expect(r.status == 200)
        let series = r.json["series"]?.array ?? []
        #expect(series.compactMap { $0["group"]?["tenant_id"]?.string } == ["t1"])
        #expect(series.first?["points"]?[0]?["values"]?["count"]?.double == Double(f.metrics.filter { $0.tenant == "t1" }.count))
        let p1 = QueryFixture.projects[1]
        let g = await api.handle(.get("/gateway/top-routes", query: [("start_time", iso(Self.base)), ("end_time", iso(Self.base + 3 * Self.day)), ("limit", "100")],
                                      headers: [("X-Tenant-ID", p1)]))
        let total = (g.json["data"]?["routes"]?.array ?? []).reduce(0) { $0 + ($1["request_count"]?.double ?? 0) }
        #expect(total == Double(f.gateway.filter { $0.project == p1 }.count))
    }

    @Test func rangeAndRowLimitsAre400sNamingTheLimit() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api { c in
            c.maxRange = .seconds(86400)
            c.maxRows = 10
        }
        let long = await api.handle(.post("/v1/query", json: #"{"dataset":"metrics","measures":["count"],\#(range)}"#))
        #expect(long.status == 400 && long.json["limit"]?.string == "query.max_range")
        let many = await api.handle(.post("/v1/query", json: """
            {"dataset":"metrics","measures":["count"],"from":"\(iso(Self.base))","to":"\(iso(Self.base + Self.day))","bucket":"1h"}
            """))
        #expect(many.status == 400 && many.json["limit"]?.string == "query.max_rows", "\(many.text)")
        let filled = await api.handle(.post("/v1/query", json: """
            {"dataset":"metrics","measures":["count"],"from":"\(iso(Self.base))","to":"\(iso(Self.base + Self.day))","bucket":"1h","fill":"zero",
             "filters":{"metric_name":"none"}}
            """))
        #expect(filled.status == 400 && filled.json["limit"]?.string == "query.max_rows")
    }

    @Test func aQueryThatOutlastsTheTimeoutIsA504NamingIt() async throws {
        let f = try await QueryFixture.shared()
        // ClickHouse's sleep() stands in for an expensive query; the executor's deadline
        // cancels the transfer at query.timeout.
        struct Sleepy: QueryRunning {
            let executor: QueryExecutor
            func rows(_ sql: String) async throws(QueryError) -> [[String?]] { try await executor.rows("SELECT sleep(2) FORMAT TabSeparated") }
        }
        let (api, _) = f.api(configure: { $0.timeout = .milliseconds(300) }) { _ in
            Sleepy(executor: QueryExecutor(transport: f.transport, timeout: .milliseconds(300)))
        }
        let r = await api.handle(.post("/v1/query", json: #"{"dataset":"metrics","measures":["count"],\#(range)}"#))
        #expect(r.status == 504)
        #expect(r.json["limit"]?.string == "query.timeout")
        // Had the deadline not fired, the 2 s query would have answered 200. No wall-clock
        // bound here: on a loaded CI box the transport thread itself may start late.

        // The server-side limit: max_execution_time stops the query in ClickHouse.
        let executor = QueryExecutor(transport: f.transport, timeout: .seconds(1))
        do {
            _ = try await executor.rows("SELECT count() FROM system.numbers FORMAT TabSeparated")
            Issue.record("an endless query must time out")
        } catch {
            #expect(error.kind == .timeout && error.limit == "query.timeout")
        }
    }

    @Test func identicalQueriesAreAnsweredFromTheCacheWithinTheTTL() async throws {
        let f = try await QueryFixture.shared()
        let (api, counter) = f.api { $0.cacheTTL = .seconds(60) }
        let a = #"{"dataset":"metrics","measures":["count"],\#(range),"filters":{"metric_name":"cpu","dimensions.region":["us","eu"]}}"#
        let b = #"{"dataset":"metrics","measures":["count"],\#(range),"filters":{"dimensions.region":["eu","us"],"metric_name":"cpu"}}"#
        let first = await api.handle(.post("/v1/query", json: a, headers: [("X-Tenant-ID", "t1")]))
        #expect(first.status == 200)
        #expect(counter.count == 1)
        let second = await api.handle(.post("/v1/query", json: b, headers: [("X-Tenant-ID", "t1")]))
        #expect(counter.count == 1, "the same query with reordered filters must be a cache hit")
        #expect(first.body == second.body)
        _ = await api.handle(.post("/v1/query", json: a, headers: [("X-Tenant-ID", "t2")]))
        #expect(counter.count == 2, "another tenant must not get the first tenant's cached rows")
        _ = await api.handle(.post("/v1/query", json: a))
        #expect(counter.count == 3)

        let (uncached, plain) = f.api { $0.cacheTTL = .zero }
        _ = await uncached.handle(.post("/v1/query", json: a))
        _ = await uncached.handle(.post("/v1/query", json: a))
        #expect(plain.count == 2)
    }

    @Test func cacheExpiresAndStaysBounded() {
        let cache = ResultCache<Int>(ttl: .seconds(5), capacity: 2)
        let t0 = ContinuousClock.now
        cache.store(1, for: "a", now: t0)
        #expect(cache.value(for: "a", now: t0.advanced(by: .seconds(4))) == 1)
        #expect(cache.value(for: "a", now: t0.advanced(by: .seconds(6))) == nil)
        cache.store(1, for: "a", now: t0)
        cache.store(2, for: "b", now: t0)
        _ = cache.value(for: "a", now: t0)
        cache.store(3, for: "c", now: t0)
        #expect(cache.count == 2)
        #expect(cache.value(for: "b", now: t0) == nil, "the least recently used entry goes first")
        #expect(cache.value(for: "a", now: t0) == 1)
    }
}
