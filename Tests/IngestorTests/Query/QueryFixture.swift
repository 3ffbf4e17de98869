import Foundation
import Ingestor
import Logging
import Pipeline
import Sinks
import TestSupport

/// A deterministic random generator (64-bit LCG, Knuth's constants), so every run
/// seeds the same events and a failure reproduces.
struct SeededRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func double(_ scale: Double) -> Double { Double(next() % 1_000_000) / 1_000_000 * scale }
    mutating func chance(_ p: Double) -> Bool { double(1) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }
    /// Picks with weights, so groups get distinct totals (top-k has no ties).
    mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var r = int(total)
        for (item, w) in items {
            if r < w { return item }
            r -= w
        }
        return items[0].0
    }
}

/// A value of one field of a generated event.
enum FieldValue: Sendable {
    case null
    case string(String)
    case uuid(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// Milliseconds since the epoch.
    case time(Int64)
    case map([(String, String)])
}

struct MetricEvent: Sendable {
    var tenant: String, metric: String, value: Double, ms: Int64, dimensions: [(String, String)]
    func label(_ k: String) -> String { dimensions.first { $0.0 == k }?.1 ?? "" }
}

struct InferenceEvent: Sendable {
    var project: String, model: String, endpoint: String, success: Bool, ms: Int64, cost: Double?, input: Int, output: Int, latency: Double?, ttft: Double?
}

struct GatewayEvent: Sendable {
    var project: String, model: String, path: String, method: String, status: Int, ms: Int64, responseTime: Double, tokens: Int, cost: Double
    var client: String, ip: String, agent: String, device: String, browser: String, os: String
    var country: String, countryName: String, region: String, city: String
    var blocked: Bool, reason: String, ruleID: String, ruleType: String
}

/// One ClickHouse 18.16 database with the preset schema (created by ``Migrator``, as
/// `sluice migrate` does) and deterministic events of all three datasets, plus a query
/// API over it. The expected answers in the tests are computed from ``metrics``,
/// ``inference`` and ``gateway``, never read back from ClickHouse.
final class QueryFixture: Sendable {
    static let base: Int64 = 1_704_067_200_000 // 2024-01-01T00:00:00Z, a Monday
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    static let projects = ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"]
    static let models = ["aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002"]
    static let endpoints = ["eeeeeeee-0000-0000-0000-000000000001", "eeeeeeee-0000-0000-0000-000000000002"]

    let server: ClickHouseServer
    let database: String
    let transport: ClickHouseHTTPTransport
    let datasets: [DatasetDefinition]
    let metrics: [MetricEvent]
    let inference: [InferenceEvent]
    let gateway: [GatewayEvent]

    private static let instance = Locked<Task<QueryFixture, any Error>?>(nil)

    /// The fixture shared by every query test of this process.
    static func shared() async throws -> QueryFixture {
        let task = instance.withLock { existing in
            if let existing { return existing }
            let t = Task { try await QueryFixture.make() }
            existing = t
            return t
        }
        return try await task.value
    }

    static var presetsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/datasets").path
    }

    private init(server: ClickHouseServer, database: String, transport: ClickHouseHTTPTransport, datasets: [DatasetDefinition],
                 metrics: [MetricEvent], inference: [InferenceEvent], gateway: [GatewayEvent]) {
        self.server = server
        self.database = database
        self.transport = transport
        self.datasets = datasets
        self.metrics = metrics
        self.inference = inference
        self.gateway = gateway
    }

    static func make() async throws -> QueryFixture {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "query")
        let transport = try ClickHouseHTTPTransport(configuration: server.configuration(database: database))
        let datasets = try DatasetCatalogLoader.load(paths: [presetsDirectory])
        _ = try await Migrator(transport: transport, logger: Logger(label: "test")).migrate(datasets: datasets)

        var rng = SeededRandom(state: 20_240_101)
        let metrics = generateMetrics(&rng, count: 3000)
        let inference = generateInference(&rng, count: 2000)
        let gateway = generateGateway(&rng, count: 2000)
        let sink = ClickHouseSink(transport: transport, catalog: datasets, compression: .lz4, logger: Logger(label: "test"))
        var keys = SeededRandom(state: 7)
        for (i, d) in datasets.enumerated() {
            let rows: [[String: FieldValue]]
            switch d.name {
            case "metrics": rows = metrics.map(row)
            case "inference": rows = inference.map(row)
            case "gateway": rows = gateway.map(row)
            default: continue
            }
            try await sink.insert(into: .dataset(i), batch: batch(d, rows, keys: &keys))
        }
        return QueryFixture(server: server, database: database, transport: transport, datasets: datasets,
                            metrics: metrics, inference: inference, gateway: gateway)
    }

    /// A query API over the fixture's database with its own cache and a counting runner.
    func api(
        configure: (inout QueryPortConfiguration) -> Void = { _ in }, wrap: (any QueryRunning) -> any QueryRunning = { $0 }
    ) -> (QueryAPI, CountingRunner) {
        var config = QueryPortConfiguration()
        config.cacheTTL = .zero
        configure(&config)
        let counting = CountingRunner(QueryExecutor(transport: transport, timeout: config.timeout))
        let service = QueryService(
            catalog: QueryCatalog(datasets: datasets), configuration: config, runner: wrap(counting),
            dialects: DialectProvider(transport: transport), database: database)
        return (QueryAPI(service: service), counting)
    }

    // MARK: Generation

    static func generateMetrics(_ rng: inout SeededRandom, count: Int) -> [MetricEvent] {
        (0..<count).map { _ in
            var dims: [(String, String)] = [("region", rng.weighted([("us", 5), ("eu", 3), ("ap", 1)]))]
            if rng.chance(0.7) { dims.append(("plan", rng.pick(["free", "pro"]))) }
            return MetricEvent(
                tenant: rng.weighted([("t1", 3), ("t2", 2)]), metric: rng.weighted([("cpu", 3), ("mem", 2), ("disk", 1)]),
                value: (rng.double(1000) * 100).rounded() / 100, ms: base + Int64(rng.int(Int(3 * day))), dimensions: dims)
        }
    }

    static func generateInference(_ rng: inout SeededRandom, count: Int) -> [InferenceEvent] {
        (0..<count).map { _ in
            InferenceEvent(
                project: rng.weighted([(projects[0], 5), (projects[1], 3), (projects[2], 1)]),
                model: rng.weighted([(models[0], 3), (models[1], 2)]), endpoint: rng.pick(endpoints), success: rng.chance(0.85),
                ms: base + Int64(rng.int(Int(3 * day))), cost: rng.chance(0.1) ? nil : (rng.double(2) * 10000).rounded() / 10000,
                input: rng.int(2000), output: rng.int(1000), latency: rng.chance(0.05) ? nil : 50 + rng.double(950),
                ttft: 5 + rng.double(200))
        }
    }

    static func generateGateway(_ rng: inout SeededRandom, count: Int) -> [GatewayEvent] {
        let countries = [("US", "United States", ["CA", "NY"]), ("DE", "Germany", ["BE"]), ("IN", "India", ["KA", "MH"])]
        return (0..<count).map { _ in
            let c = rng.weighted([(0, 6), (1, 3), (2, 2)])
            let (code, name, regions) = countries[c]
            let region = rng.pick(regions)
            let client = rng.weighted((0..<8).map { ("client-\($0)", 8 - $0 + ($0 == 0 ? 3 : 0)) })
            let n = Int(client.dropFirst(7)) ?? 0
            let blocked = rng.chance(0.06)
            return GatewayEvent(
                project: rng.weighted([(projects[0], 4), (projects[1], 2)]), model: rng.pick(models),
                path: rng.weighted([("/v1/chat", 40), ("/v1/embed", 25), ("/v1/models", 15), ("/health", 9), ("/v1/images", 4)]),
                method: rng.weighted([("POST", 3), ("GET", 1)]), status: rng.weighted([(200, 85), (404, 7), (500, 5), (429, 3)]),
                ms: base + Int64(rng.int(Int(3 * day))), responseTime: 10 + rng.double(900), tokens: rng.int(3000),
                cost: (rng.double(1) * 1000).rounded() / 1000, client: client, ip: "10.0.0.\(n + 1)",
                agent: "agent/\(n)", device: n % 2 == 0 ? "desktop" : "mobile", browser: "b\(n % 3)", os: n % 2 == 0 ? "Linux" : "iOS",
                country: code, countryName: name, region: region, city: "\(region)-city", blocked: blocked,
                reason: blocked ? rng.pick(["rate_limit", "geo", "suspicious_activity"]) : "",
                ruleID: blocked ? rng.pick(["rule-1", "rule-2", "rule-3"]) : "", ruleType: blocked ? "country_blocking" : "")
        }
    }

    static func row(_ e: MetricEvent) -> [String: FieldValue] {
        ["tenant_id": .string(e.tenant), "metric_name": .string(e.metric), "value": .double(e.value), "timestamp": .time(e.ms),
         "dimensions": .map(e.dimensions), "metadata": .map([("source", "test")])]
    }

    static func row(_ e: InferenceEvent) -> [String: FieldValue] {
        ["inference_id": .uuid(UUID().uuidString.lowercased()), "project_id": .uuid(e.project), "endpoint_id": .uuid(e.endpoint),
         "model_id": .uuid(e.model), "is_success": .bool(e.success), "request_arrival_time": .time(e.ms),
         "request_forward_time": .time(e.ms + 5), "cost": e.cost.map { .double($0) } ?? .null, "input_tokens": .int(Int64(e.input)),
         "output_tokens": .int(Int64(e.output)), "response_time_ms": e.latency.map { .double($0) } ?? .null,
         "ttft_ms": e.ttft.map { .double($0) } ?? .null, "error_code": .string(e.success ? "" : "E500"), "response_analysis": .string("{}")]
    }

    static func row(_ e: GatewayEvent) -> [String: FieldValue] {
        ["request_id": .uuid(UUID().uuidString.lowercased()), "timestamp": .time(e.ms), "project_id": .uuid(e.project),
         "model_id": .uuid(e.model), "endpoint_id": .uuid(endpoints[0]), "method": .string(e.method), "path": .string(e.path),
         "status_code": .int(Int64(e.status)), "response_time_ms": .double(e.responseTime), "total_tokens": .int(Int64(e.tokens)),
         "cost": .double(e.cost), "client_id": .string(e.client), "client_ip": .string(e.ip), "user_agent": .string(e.agent),
         "device_type": .string(e.device), "browser": .string(e.browser), "os": .string(e.os), "country_code": .string(e.country),
         "country_name": .string(e.countryName), "region": .string(e.region), "city": .string(e.city), "is_blocked": .bool(e.blocked),
         "block_reason": .string(e.reason), "block_rule_id": .string(e.ruleID), "block_rule_type": .string(e.ruleType)]
    }

    /// A batch in the dataset's logical schema, the way the validator fills one.
    static func batch(_ d: DatasetDefinition, _ rows: [[String: FieldValue]], keys: inout SeededRandom) -> ColumnBatch {
        let batch = ColumnBatch(schema: d.tableSchema, expectedRows: rows.count)
        for row in rows {
            for column in batch.columns {
                switch column.name {
                case DatasetDefinition.eventKeyColumn:
                    var bytes: [UInt8] = []
                    for _ in 0..<2 { withUnsafeBytes(of: keys.next()) { bytes += $0 } }
                    bytes.withUnsafeBytes { column.buffer.append(bytes: $0) }
                case DatasetDefinition.ingestedAtColumn:
                    column.buffer.append(UInt32(1_704_067_200))
                default:
                    append(row[column.name] ?? .null, to: column.buffer, type: column.buffer.type)
                }
            }
        }
        return batch
    }

    static func append(_ v: FieldValue, to c: ColumnBuffer, type: ColumnType) {
        switch (type, v) {
        case (.nullable, .null): c.appendNull()
        case (.nullable(let inner), _): append(v, to: c.appendNotNull(), type: inner)
        case (.lowCardinality(let inner), _): append(v, to: c, type: inner)
        case (.string, .string(let s)): c.append(string: s)
        case (.uuid, .uuid(let u)):
            let hex = Array(u.replacingOccurrences(of: "-", with: "").utf8)
            var bytes: [UInt8] = []
            var i = 0
            while i < hex.count {
                bytes.append(UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) ?? 0)
                i += 2
            }
            let wire = Array(bytes[0..<8].reversed()) + Array(bytes[8..<16].reversed())
            wire.withUnsafeBytes { c.append(bytes: $0) }
        case (.bool, .bool(let b)): c.append(UInt8(b ? 1 : 0))
        case (.uint16, .int(let i)): c.append(UInt16(i))
        case (.uint32, .int(let i)): c.append(UInt32(i))
        case (.float64, .double(let d)): c.append(d)
        case (.dateTime64, .time(let ms)): c.append(ms)
        case (.map, .map(let pairs)):
            for (k, v) in pairs {
                c.inner?.append(string: k)
                c.inner2?.append(string: v)
            }
            c.finishCollectionRow()
        default: c.appendDefault()
        }
    }
}

/// Counts the statements that reach ClickHouse (cache hits never do) and can delay them.
final class CountingRunner: QueryRunning {
    let inner: any QueryRunning
    let delay: Duration
    private let counter = Locked(0)
    private let statements = Locked<[String]>([])

    init(_ inner: any QueryRunning, delay: Duration = .zero) {
        self.inner = inner
        self.delay = delay
    }

    var count: Int { counter.withLock { $0 } }
    var sql: [String] { statements.withLock { $0 } }

    func rows(_ sql: String) async throws(QueryError) -> [[String?]] {
        counter.withLock { $0 += 1 }
        statements.withLock { $0.append(sql) }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return try await inner.rows(sql)
    }
}
