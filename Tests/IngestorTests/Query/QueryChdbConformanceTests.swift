import Foundation
import Ingestor
import Pipeline
import Sinks
import Testing
import TestSupport

/// The SQL generated for modern servers runs on the modern engine: chdb-core (ClickHouse
/// 26.x, in-process, from the repository's `.venv`) gets the schema `SchemaPlanner`
/// plans for `.modern` (DateTime64, Map, LowCardinality, Bool), a few rows, and every
/// statement the query routes produce; a few answers are checked against numbers computed
/// here. Like the other chdb test it fails, not skips, when the venv is missing.
@Suite struct QueryChdbConformanceTests {
    /// Returns no rows and remembers each statement, so every route can be driven
    /// without a server and its SQL replayed on chdb.
    final class Capture: QueryRunning {
        let statements = Locked<[String]>([])
        func rows(_ sql: String) async throws(QueryError) -> [[String?]] {
            statements.withLock { $0.append(sql) }
            return []
        }
        func take() -> [String] { statements.withLock { s in defer { s.removeAll() }; return s } }
    }

    static let database = "sluice_q"
    static let hour = QueryFixture.hour
    /// Two days ago at midnight: the modern raw tables have a 90-day TTL, which modern
    /// servers apply as rows are written, so old sample data would vanish on insert.
    static let base = (Int64(Date().timeIntervalSince1970) * 1000 / QueryFixture.day - 2) * QueryFixture.day

    struct Row { var tenant: String; var metric: String; var value: Double; var ms: Int64; var region: String }

    static func metricRows() -> [Row] {
        var rng = SeededRandom(state: 99)
        return (0..<60).map { _ in
            Row(tenant: rng.pick(["t1", "t2"]), metric: rng.pick(["cpu", "mem"]), value: Double(rng.int(1000)) / 4,
                ms: base + Int64(rng.int(Int(6 * hour))), region: rng.pick(["us", "eu"]))
        }
    }

    static func setup(_ datasets: [DatasetDefinition]) throws -> [String] {
        let planner = SchemaPlanner(database: database, dialect: .modern)
        var sql = try planner.migrationStatements(for: datasets)
        let q = ClickHouseSQL.quoteString
        func time(_ ms: Int64) -> String { "fromUnixTimestamp64Milli(toInt64(\(ms)), 'UTC')" }
        let metrics = metricRows().enumerated().map { i, r in
            "(\(q(r.tenant)), \(q(r.metric)), \(r.value), \(time(r.ms)), map('region', \(q(r.region))), map('source', 'chdb'), \(q(String(format: "%016d", i))))"
        }
        sql.append("INSERT INTO \(database).metrics (tenant_id, metric_name, value, timestamp, dimensions, metadata, _event_key) VALUES " + metrics.joined(separator: ", "))
        var rng = SeededRandom(state: 5)
        let p = QueryFixture.projects, m = QueryFixture.models, e = QueryFixture.endpoints
        let inference = (0..<30).map { i in
            "(generateUUIDv4(), toUUID(\(q(rng.pick(p)))), toUUID(\(q(e[0]))), toUUID(\(q(rng.pick(m)))), \(rng.chance(0.8)), \(time(base + Int64(rng.int(Int(6 * hour))))), "
                + "\(time(base)), \(i % 5 == 0 ? "NULL" : "0.5"), \(rng.int(100)), \(rng.int(100)), \(Double(rng.int(900))), 12.5, '', '{}', \(q(String(format: "%016d", i))))"
        }
        sql.append("INSERT INTO \(database).inference (inference_id, project_id, endpoint_id, model_id, is_success, request_arrival_time, request_forward_time, cost, input_tokens, output_tokens, response_time_ms, ttft_ms, error_code, response_analysis, _event_key) VALUES " + inference.joined(separator: ", "))
        let gateway = (0..<30).map { i in
            "(generateUUIDv4(), \(time(base + Int64(rng.int(Int(6 * hour))))), toUUID(\(q(rng.pick(p)))), toUUID(\(q(m[0]))), toUUID(\(q(e[0]))), \(q(rng.pick(["GET", "POST"]))), "
                + "\(q(rng.pick(["/a", "/b"]))), \(rng.pick([200, 404, 500])), \(Double(rng.int(500))), \(rng.int(100)), 0.25, \(q("c\(rng.int(3))")), '10.0.0.1', 'ua', 'desktop', 'b', 'Linux', "
                + "\(q(rng.pick(["US", "DE"]))), 'Country', 'R', 'City', \(i % 4 == 0), \(i % 4 == 0 ? "'geo'" : "''"), \(i % 4 == 0 ? "'rule-1'" : "''"), 'country_blocking', \(q(String(format: "%016d", i))))"
        }
        sql.append("INSERT INTO \(database).gateway (request_id, timestamp, project_id, model_id, endpoint_id, method, path, status_code, response_time_ms, total_tokens, cost, client_id, client_ip, user_agent, device_type, browser, os, country_code, country_name, region, city, is_blocked, block_reason, block_rule_id, block_rule_type, _event_key) VALUES " + gateway.joined(separator: ", "))
        return sql
    }

    @Test func modernSQLRunsOnChdbAndAgreesWithTheRows() async throws {
        let root = ChdbLocation.root
        let python = root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("chdb-core venv missing at \(python): run `bash deploy/local/install.sh` in \(root.path)")
            return
        }
        let datasets = try DatasetCatalogLoader.load(paths: [QueryFixture.presetsDirectory])
        let capture = Capture()
        var config = QueryPortConfiguration()
        config.cacheTTL = .zero
        let service = QueryService(
            catalog: QueryCatalog(datasets: datasets), configuration: config, runner: capture,
            dialects: DialectProvider(fixed: .modern), database: Self.database)
        let api = QueryAPI(service: service)
        let range = #""from":"\#(iso(Self.base))","to":"\#(iso(Self.base + 6 * Self.hour))""#
        let gatewayRange = [("start_time", iso(Self.base)), ("end_time", iso(Self.base + 6 * Self.hour))]
        let t1 = [("X-Tenant-ID", "t1")]

        var queries: [(String, String)] = []
        func run(_ name: String, _ request: QueryHTTPRequest) async {
            let r = await api.handle(request)
            #expect(r.status == 200, "\(name): \(r.text)")
            for (i, sql) in capture.take().enumerated() { queries.append(("\(name)#\(i)", sql)) }
        }
        await run("rollup", .post("/v1/query", json: #"{"dataset":"metrics","measures":["count","sum","avg","p95"],\#(range),"bucket":"1h","group_by":["metric_name"]}"#, headers: t1))
        await run("raw", .post("/v1/query", json: #"{"dataset":"metrics","measures":["count","sum","avg","p95"],\#(range),"bucket":"1h","group_by":["metric_name"],"source":"raw"}"#, headers: t1))
        await run("labels", .post("/v1/query", json: #"{"dataset":"metrics","measures":["count","timestamp_last"],\#(range),"filters":{"dimensions.region":["us"]},"group_by":["dimensions.region","metric_name"]}"#))
        await run("custom", .post("/v1/query", json: #"{"dataset":"metrics","measures":["count","value_p99"],"from":"\#(iso(Self.base + 60_000))","to":"\#(iso(Self.base + 6 * Self.hour))","bucket":"90m","fill":"zero"}"#))
        await run("topk-compare", .post("/v1/query", json: #"{"dataset":"inference","measures":["requests","successes_rate","latency_ms_p99","cost_avg"],\#(range),"bucket":"2h","group_by":["project_id"],"top_k":{"n":2,"by":"requests"},"compare":"previous_period","fill":"null"}"#))
        await run("calendar", .post("/v1/query", json: #"{"dataset":"gateway","measures":["requests","unique_clients"],\#(range),"bucket":"1mo","group_by":["status_class"],"compare":"previous_bucket"}"#))
        await run("observability", .post("/observability/analytics", json: #"{"metrics":["request_count","latency","ttft","throughput","cost"],"from_date":"\#(iso(Self.base))","to_date":"\#(iso(Self.base + 6 * Self.hour))","frequency_unit":"hour","group_by":["model"],"topk":1}"#))
        await run("gateway-analytics", .post("/gateway/analytics", json: #"{"start_time":"\#(iso(Self.base))","end_time":"\#(iso(Self.base + 6 * Self.hour))","metrics":["total_requests","error_rate","p99_response_time","unique_users"],"group_by":["country_code"],"filters":{"status_code":200}}"#))
        for path in ["/gateway/geographical-stats", "/gateway/top-routes", "/gateway/client-analytics", "/gateway/blocking-stats"] {
            await run(path, .get(path, query: gatewayRange))
        }
        await run("metrics-raw", .post("/api/v1/metrics/query", json: #"{"metric_name":"cpu","start_time":"\#(iso(Self.base))","end_time":"\#(iso(Self.base + 6 * Self.hour))","dimensions":{"region":"us"}}"#, headers: t1))
        await run("metrics-agg", .post("/api/v1/metrics/query", json: #"{"metric_name":"cpu","start_time":"\#(iso(Self.base))","end_time":"\#(iso(Self.base + 6 * Self.hour))","aggregate":true}"#, headers: t1))
        await run("catalog-metrics", .get("/v1/catalog/metrics", headers: t1))
        await run("catalog-labels", .get("/v1/catalog/labels", query: [("from", iso(Self.base)), ("to", iso(Self.base + Self.hour * 6))], headers: t1))
        await run("catalog-values", .get("/v1/catalog/labels/region/values", query: [("from", iso(Self.base)), ("to", iso(Self.base + Self.hour * 6))], headers: t1))
        #expect(queries.count >= 20)

        let results = try runOnChdb(python: python, setup: try Self.setup(datasets), queries: queries)
        for (name, sql) in queries {
            #expect(results[name]?["ok"] == .bool(true), "\(name) failed on chdb: \(results[name]?["error"]?.string ?? "no result")\n\(sql)")
        }

        // Values: per metric and hour, from the rollup and from raw rows, for tenant t1.
        var expected: [String: (count: Int, sum: Double)] = [:]
        for r in Self.metricRows() where r.tenant == "t1" {
            let key = "\(r.ms / Self.hour * Self.hour / 1000)\t\(r.metric)"
            expected[key, default: (0, 0)].count += 1
            expected[key, default: (0, 0)].sum += r.value
        }
        for name in ["rollup#0", "raw#0"] {
            let rows = (results[name]?["rows"]?.string ?? "").split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
            #expect(rows.count == expected.count, "\(name): \(rows)\n\(queries.first { $0.0 == name }?.1 ?? "")")
            for row in rows where row.count >= 4 {
                // _b, _g0 (metric_name), count, sum, quantiles
                let e = expected["\(row[0])\t\(row[1])"]
                #expect(Int(row[2]) == e?.count, "\(name) \(row)")
                #expect(close(Double(row[3]), e?.sum), "\(name) \(row)")
            }
        }
        let labelRows = (results["labels#0"]?["rows"]?.string ?? "").split(separator: "\n")
        let usCounts = Dictionary(grouping: Self.metricRows().filter { $0.region == "us" }, by: \.metric).mapValues(\.count)
        #expect(labelRows.count == usCounts.count, "\(labelRows)\n\(queries.first { $0.0 == "labels#0" }?.1 ?? "")")
        for line in labelRows {
            let cells = line.split(separator: "\t").map(String.init)
            #expect(cells.count >= 4 && cells[1] == "us" && Int(cells[3]) == usCounts[cells[2]], "\(cells)")
        }
    }

    func runOnChdb(python: String, setup: [String], queries: [(String, String)]) throws -> [String: JSONInput] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-chdb-query-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func quote(_ s: String) -> String {
            var w = JSONWriter()
            w.string(s)
            return String(decoding: w.bytes, as: UTF8.self)
        }
        let manifest = "{\"setup\":[" + setup.map(quote).joined(separator: ",") + "],\"queries\":["
            + queries.map { "{\"name\":\(quote($0.0)),\"sql\":\(quote($0.1))}" }.joined(separator: ",") + "]}"
        let input = dir.appendingPathComponent("manifest.json"), output = dir.appendingPathComponent("out.json")
        try Data(manifest.utf8).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [ChdbLocation.root.appendingPathComponent("Tests/Conformance/chdb_query_check.py").path, input.path, output.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "chdb setup failed:\n\(text)")
        guard case .object(let members) = try JSONInput.parse(Array(try Data(contentsOf: output))) else { return [:] }
        return Dictionary(members, uniquingKeysWith: { a, _ in a })
    }
}

enum ChdbLocation {
    static var root: URL {
        if let root = ProcessInfo.processInfo.environment["SLUICE_REPO_ROOT"], !root.isEmpty { return URL(fileURLWithPath: root) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
}
