import Foundation
@testable import Ingestor
import Testing
import TestSupport

/// 10,000 randomized requests over every query route, made with a query key scoped to
/// tenant A, against data of tenants A, B and C: none returns a row of another tenant.
///
/// Two checks per request. Where the answer can be computed from the generated events
/// (counts over any filters and groupings), it must equal A's rows alone, so a leak of
/// even one row of B changes a number. And no answer may contain B's or C's id unless
/// the request itself did (a route may echo its filters). Requests that try to widen
/// the scope (filters naming B, `X-Tenant-ID: B`, grouping by the tenant) are part of the
/// mix; `X-Tenant-ID: B` must be refused with 403.
@Suite(.serialized) struct SecurityIsolationFuzzTests {
    static let base = QueryFixture.base
    static let hour = QueryFixture.hour
    static let a = SecurityKeys.tenantA, b = SecurityKeys.tenantB, c = SecurityQueryFixture.tenantC

    /// One generated request and what its answer must satisfy.
    struct Probe {
        var method = "POST"
        var path: String
        var query: [(String, String)] = []
        var body: String?
        var headers: [(String, String)] = []
        var expectedStatus = 200
        /// Checks the answer; returns a problem or nil.
        var verify: @Sendable (JSONInput) -> String? = { _ in nil }
    }

    static func list(_ values: [String]) -> String { "[" + values.map { "\"\($0)\"" }.joined(separator: ",") + "]" }

    static func subset<T>(_ rng: inout SeededRandom, _ items: [T]) -> [T] { items.filter { _ in rng.chance(0.5) } }

    /// A random hour-aligned range inside the three days of data (sometimes beyond it).
    static func range(_ rng: inout SeededRandom) -> (Int64, Int64) {
        let from = Int64(rng.int(72)), to = from + 1 + Int64(rng.int(80 - Int(from)))
        return (base + from * hour, base + to * hour)
    }

    static func total(_ json: JSONInput, measure: String) -> Double {
        (json["series"]?.array ?? []).flatMap { $0["points"]?.array ?? [] }.reduce(0) { $0 + ($1["values"]?[measure]?.double ?? 0) }
    }

    static func groups(_ json: JSONInput, _ name: String) -> [String] {
        (json["series"]?.array ?? []).compactMap { $0["group"]?[name]?.string }
    }

    static func probe(_ index: Int, f: SecurityQueryFixture) -> Probe {
        var rng = SeededRandom(state: UInt64(index) &* 0x9E37_79B9_7F4A_7C15 &+ 17)
        let (from, to) = range(&rng)
        let time = #""from":"\#(iso(from))","to":"\#(iso(to))""#
        var p: Probe
        switch rng.int(100) {
        case 0..<35:
            let names = subset(&rng, ["cpu", "mem", "disk", "nope"]), regions = subset(&rng, ["us", "eu", "ap"])
            let tenants = rng.pick([[], [a], [b], [a, b], [c], [b, c]])
            let groupBy = subset(&rng, ["metric_name", "tenant_id", "dimensions.region"])
            var filters: [String] = []
            if !names.isEmpty { filters.append(#""metric_name":\#(list(names))"#) }
            if !regions.isEmpty { filters.append(#""dimensions.region":\#(list(regions))"#) }
            if !tenants.isEmpty { filters.append(#""tenant_id":\#(list(tenants))"#) }
            let expected = f.metrics.filter { e in
                e.tenant == a && e.ms >= from && e.ms < to && (names.isEmpty || names.contains(e.metric))
                    && (regions.isEmpty || regions.contains(e.label("region"))) && (tenants.isEmpty || tenants.contains(e.tenant))
            }.count
            p = Probe(path: "/v1/query", body: #"{"dataset":"metrics","measures":["count"],\#(time),"filters":{\#(filters.joined(separator: ","))},"group_by":\#(list(groupBy))}"#)
            p.verify = { j in
                if total(j, measure: "count") != Double(expected) { return "count \(total(j, measure: "count")) != A's \(expected)" }
                if groups(j, "tenant_id").contains(where: { $0 != a }) { return "a group of another tenant" }
                return nil
            }
        case 35..<50:
            let projects = rng.pick([[], [a], [b], [a, b], [a, b, c], [c]])
            let models = subset(&rng, QueryFixture.models)
            let groupBy = subset(&rng, ["project_id", "model_id"])
            var filters: [String] = []
            if !projects.isEmpty { filters.append(#""project_id":\#(list(projects))"#) }
            if !models.isEmpty { filters.append(#""model_id":\#(list(models))"#) }
            let expected = f.inference.filter { e in
                e.project == a && e.ms >= from && e.ms < to && (projects.isEmpty || projects.contains(e.project)) && (models.isEmpty || models.contains(e.model))
            }.count
            p = Probe(path: "/v1/query", body: #"{"dataset":"inference","measures":["requests"],\#(time),"filters":{\#(filters.joined(separator: ","))},"group_by":\#(list(groupBy))}"#)
            p.verify = { j in
                if total(j, measure: "requests") != Double(expected) { return "requests \(total(j, measure: "requests")) != A's \(expected)" }
                if groups(j, "project_id").contains(where: { $0 != a }) { return "a group of another project" }
                return nil
            }
        case 50..<65:
            let projects = rng.pick([[], [a], [b], [a, b]])
            let countries = subset(&rng, ["US", "DE", "IN"])
            let groupBy = subset(&rng, ["project_id", "country_code"])
            var filters: [String] = []
            if !projects.isEmpty { filters.append(#""project_id":\#(list(projects))"#) }
            if !countries.isEmpty { filters.append(#""country_code":\#(list(countries))"#) }
            let expected = f.gateway.filter { e in
                e.project == a && e.ms >= from && e.ms < to && (projects.isEmpty || projects.contains(e.project)) && (countries.isEmpty || countries.contains(e.country))
            }.count
            p = Probe(path: "/v1/query", body: #"{"dataset":"gateway","measures":["requests"],\#(time),"filters":{\#(filters.joined(separator: ","))},"group_by":\#(list(groupBy))}"#)
            p.verify = { j in
                if total(j, measure: "requests") != Double(expected) { return "requests \(total(j, measure: "requests")) != A's \(expected)" }
                if groups(j, "project_id").contains(where: { $0 != a }) { return "a group of another project" }
                return nil
            }
        case 65..<75:
            let projects = rng.pick([[], [a], [b], [a, b]])
            var query = [("start_time", iso(from)), ("end_time", iso(to)), ("limit", "100")]
            if !projects.isEmpty { query.append(("project_ids", projects.joined(separator: ","))) }
            let expected = f.gateway.filter { e in e.project == a && e.ms >= from && e.ms < to && (projects.isEmpty || projects.contains(e.project)) }.count
            p = Probe(method: "GET", path: "/gateway/top-routes", query: query)
            p.verify = { j in
                let sum = (j["data"]?["routes"]?.array ?? []).reduce(0) { $0 + ($1["request_count"]?.double ?? 0) }
                return sum == Double(expected) ? nil : "top-routes total \(sum) != A's \(expected)"
            }
        case 75..<82:
            let projects = rng.pick([[], [a], [b], [a, b]])
            var query = [("start_time", iso(from)), ("end_time", iso(to))]
            if !projects.isEmpty { query.append(("project_ids", projects.joined(separator: ","))) }
            let expected = f.gateway.filter { e in e.project == a && e.ms >= from && e.ms < to && (projects.isEmpty || projects.contains(e.project)) }.count
            p = Probe(method: "GET", path: "/gateway/geographical-stats", query: query)
            p.verify = { j in
                let sum = j["data"]?["summary"]?["total_requests"]?.double ?? 0
                return sum == Double(expected) ? nil : "geographical total \(sum) != A's \(expected)"
            }
        case 82..<89:
            let metric = rng.pick(["cpu", "mem", "disk"])
            let expected = f.metrics.filter { $0.tenant == a && $0.metric == metric && $0.ms >= from && $0.ms <= to }.count
            p = Probe(path: "/api/v1/metrics/query", body: #"{"metric_name":"\#(metric)","start_time":"\#(iso(from))","end_time":"\#(iso(to))","aggregate":false}"#)
            p.verify = { j in
                guard j["tenant_id"]?.string == a else { return "answered for tenant \(j["tenant_id"]?.string ?? "-")" }
                let count = j["count"]?.double ?? -1
                return count == Double(expected) ? nil : "raw rows \(count) != A's \(expected)"
            }
        case 89..<95:
            let projects = rng.pick([[a], [b], [a, b], [a, b, c]])
            // Whole days, so the daily periods cover exactly the range.
            let firstDay = Int64(rng.int(3)), days = 1 + Int64(rng.int(3))
            let from = base + firstDay * QueryFixture.day, to = from + days * QueryFixture.day
            p = Probe(path: "/observability/analytics", body: """
                {"metrics":["request_count"],"from_date":"\(QueryTime.format(from, zone: false))","to_date":"\(QueryTime.format(to, zone: false))",
                 "frequency_unit":"day","group_by":["project"],"filters":{"project":\(list(projects))}}
                """)
            let expected = f.inference.filter { e in e.project == a && projects.contains(e.project) && e.ms >= from && e.ms < to }.count
            p.verify = { j in
                let items = (j["items"]?.array ?? []).flatMap { $0["items"]?.array ?? [] }
                if items.contains(where: { $0["project_id"]?.string != a }) { return "an item of another project" }
                let sum = items.reduce(0) { $0 + ($1["data"]?["request_count"]?["count"]?.double ?? 0) }
                return sum == Double(expected) ? nil : "observability total \(sum) != A's \(expected)"
            }
        default:
            // Metric names and labels exist only for a dataset with a label map (metrics);
            // these answers are checked for other tenants' ids only.
            p = Probe(method: "GET", path: rng.pick(["/v1/catalog/metrics", "/v1/catalog/labels", "/v1/catalog/labels/region/values"]),
                      query: [("dataset", "metrics"), ("from", iso(from)), ("to", iso(to))])
        }
        // Attempts to widen the scope through the tenant header.
        switch rng.int(20) {
        case 0:
            p.headers.append(("X-Tenant-ID", b))
            p.expectedStatus = 403
        case 1:
            p.headers.append(("X-Tenant-ID", a))
        default:
            break
        }
        return p
    }

    /// Runs probes `0..<total` with `key`, 8 at a time; returns the problems found and
    /// the count of each status.
    static func run(total: Int, key: String, f: SecurityQueryFixture) async throws -> (problems: [String], statuses: [Int: Int]) {
        let next = Locked(0)
        let problems = Locked<[String]>([])
        let byStatus = Locked<[Int: Int]>([:])
        let auth = SecurityKeys.bearer(key)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    while true {
                        let i = next.withLock { n -> Int? in
                            guard n < total else { return nil }
                            n += 1
                            return n - 1
                        }
                        guard let i else { return }
                        let p = Self.probe(i, f: f)
                        let r = try await f.call(p.method, p.path, query: p.query, body: p.body, headers: auth + p.headers)
                        byStatus.withLock { $0[r.status, default: 0] += 1 }
                        var problem: String?
                        if r.status != p.expectedStatus {
                            problem = "status \(r.status) (expected \(p.expectedStatus)): \(r.text.prefix(300))"
                        } else if r.status == 200 {
                            let asked = (p.body ?? "") + p.query.map(\.1).joined() + p.headers.map(\.1).joined()
                            for other in [Self.b, Self.c] where !asked.contains(other) && r.text.contains(other) {
                                problem = "the answer names \(other)"
                            }
                            if problem == nil { problem = p.verify(try JSONInput.parse(r.body)) }
                        }
                        if let problem {
                            problems.withLock { $0.append("#\(i) \(p.method) \(p.path) \(p.query) \(p.body ?? "") \(p.headers): \(problem)") }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return (problems.withLock { $0 }, byStatus.withLock { $0 })
    }

    @Test func aTenantKeyNeverSeesAnotherTenantsRowsIn10000RandomQueries() async throws {
        let f = try await SecurityQueryFixture.shared()
        let started = ContinuousClock.now
        let total = 10_000
        let (found, statuses) = try await Self.run(total: total, key: f.keys.queryA, f: f)
        #expect(found.isEmpty, "\(found.count) problems, first: \(found.prefix(5).joined(separator: "\n"))")
        #expect(statuses.values.reduce(0, +) == total)
        #expect((statuses[200] ?? 0) > total * 8 / 10, "most probes must be answered: \(statuses)")
        print("isolation fuzz: \(total) requests, statuses \(statuses), in \(ContinuousClock.now - started)")
    }

    /// The control experiment: the same probes with an unscoped admin key see every
    /// tenant, and the checks above catch it. Without this, a checker that accepts
    /// anything would pass the test above too.
    @Test func theChecksCatchALeakWhenTheKeyIsNotScoped() async throws {
        let f = try await SecurityQueryFixture.shared()
        let (found, _) = try await Self.run(total: 300, key: f.keys.admin, f: f)
        let leaks = found.filter { $0.contains("!= A's") || $0.contains("another") || $0.contains("names 2222") || $0.contains("names 3333") }
        #expect(leaks.count > 100, "an unscoped key must show up as leaks in most probes; found \(leaks.count) of 300")
    }
}
