// Query latency benchmark of the side-port (`benchmarks/query/run.sh` runs it).
//
//   SluiceQueryBenchmark CLICKHOUSE_URL DATABASE [rows=10000000] [iterations=300] [load|query|all]
//
// 1. load: creates the preset schema with Migrator (as `sluice migrate` does) and inserts
//    `rows` raw `metrics` rows spread evenly over the 30 days before 2024-01-31, in
//    batches of 1,000,000 built as ColumnBatches and written with ClickHouseSink
//    (sorted, LZ4 Native blocks); the materialized view fills `metrics_hourly`.
// 2. query: serves the side-port router (Hummingbird, loopback, query cache disabled so
//    every request reaches ClickHouse) and times sequential HTTP requests for the hourly
//    aggregates of one metric of one tenant over the 30 days:
//      - POST /api/v1/metrics/query {"aggregate": true}     (rollup)
//      - POST /v1/query, bucket 1h, count/avg/min/max/p50/p95/p99 (rollup)
//      - POST /v1/query with a label filter (raw table, for contrast)
//    and prints p50, p90, p99 and max per route.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Ingestor
import Logging
import Pipeline
import Prometheus
import Sinks

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 2 else {
    print("usage: SluiceQueryBenchmark CLICKHOUSE_URL DATABASE [rows] [iterations] [load|query|all]")
    exit(2)
}
let url = args[0], database = args[1]
let rows = args.count > 2 ? Int(args[2]) ?? 10_000_000 : 10_000_000
let iterations = args.count > 3 ? Int(args[3]) ?? 300 : 300
let mode = args.count > 4 ? args[4] : "all"

let tenants = (0..<10).map { "tenant-\($0)" }
let metricNames = (0..<20).map { "metric.\($0)" }
let regions = ["us", "eu", "ap"]
let day: Int64 = 86_400_000
let end: Int64 = 1_706_659_200_000 // 2024-01-31T00:00:00Z
let start = end - 30 * day

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let datasets = try DatasetCatalogLoader.load(paths: [root.appendingPathComponent("config/datasets").path])
let logger = Logger(label: "bench")
let transport = try ClickHouseHTTPTransport(configuration: ClickHouseConfiguration(
    url: url, database: database, compression: .lz4, connectTimeout: .seconds(5), requestTimeout: .seconds(600), maxConnections: 4))

func load() async throws {
    try await transport.execute("CREATE DATABASE IF NOT EXISTS \(ClickHouseSQL.quoteIdentifier(database))")
    _ = try await Migrator(transport: transport, logger: logger).migrate(datasets: datasets)
    guard let index = datasets.firstIndex(where: { $0.name == "metrics" }) else { fatalError("no metrics dataset") }
    let dataset = datasets[index]
    let sink = ClickHouseSink(transport: transport, catalog: datasets, compression: .lz4, logger: logger)
    let batchRows = 1_000_000
    var state: UInt64 = 42
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 11
    }
    let clock = ContinuousClock()
    let began = clock.now
    var written = 0
    while written < rows {
        let n = min(batchRows, rows - written)
        let batch = ColumnBatch(schema: dataset.tableSchema, expectedRows: n)
        for i in 0..<n {
            let row = written + i
            let r = next()
            for column in batch.columns {
                let c = column.buffer
                switch column.name {
                case "tenant_id": c.append(string: tenants[Int(r % 10)])
                case "metric_name": c.append(string: metricNames[Int((r >> 4) % 20)])
                case "value": c.append(Double((r >> 9) % 100_000) / 100)
                // Evenly over the 30 days, in arrival order.
                case "timestamp": c.append(start + Int64(row) * (30 * day) / Int64(rows))
                case "dimensions":
                    c.inner?.append(string: "region")
                    c.inner2?.append(string: regions[Int((r >> 20) % 3)])
                    c.finishCollectionRow()
                case "metadata": c.finishCollectionRow()
                case DatasetDefinition.eventKeyColumn:
                    var key = [UInt8](repeating: 0, count: 16)
                    withUnsafeBytes(of: UInt64(row)) { for (j, b) in $0.enumerated() { key[j] = b } }
                    key.withUnsafeBytes { c.append(bytes: $0) }
                case DatasetDefinition.ingestedAtColumn: c.append(UInt32(end / 1000))
                default: c.appendDefault()
                }
            }
        }
        try await sink.insert(into: .dataset(index), batch: batch)
        written += n
        print("loaded \(written) rows (\(clock.now - began))")
    }
    print("load: \(written) rows in \(clock.now - began)")
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func query() async throws {
    var config = QueryPortConfiguration()
    config.cacheTTL = .zero
    config.maxRows = 100_000
    let api = QueryAPI(service: QueryService(catalog: QueryCatalog(datasets: datasets), configuration: config, transport: transport, logger: logger))
    let router = SidePortServer.makeRouter(health: HealthRegistry(), gate: ReadinessGate(open: true), registry: PrometheusCollectorRegistry(), query: api)
    let port = 20_000 + Int.random(in: 0..<20_000)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    let server = Task { try await app.runService() }
    defer { server.cancel() }
    let session = URLSession(configuration: .ephemeral)
    func post(_ path: String, _ body: String, tenant: String) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue(tenant, forHTTPHeaderField: "X-Tenant-ID")
        let (data, response) = try await session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }
    for _ in 0..<100 {
        if (try? await post("/v1/query", "{}", tenant: "x")) != nil { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    let from = QueryTime.format(start), to = QueryTime.format(end - 1000)
    let routes: [(String, String, (String) -> String)] = [
        ("POST /api/v1/metrics/query (aggregate, rollup)", "/api/v1/metrics/query", { metric in
            #"{"metric_name":"\#(metric)","start_time":"\#(from)","end_time":"\#(to)","aggregate":true}"#
        }),
        ("POST /v1/query (1h, 7 measures, rollup)", "/v1/query", { metric in
            #"{"dataset":"metrics","measures":["count","avg","min","max","p50","p95","p99"],"from":"\#(from)","to":"\#(QueryTime.format(end))","bucket":"1h","filters":{"metric_name":"\#(metric)"}}"#
        }),
        ("POST /v1/query (1h, label filter, raw)", "/v1/query", { metric in
            #"{"dataset":"metrics","measures":["count","avg","p95"],"from":"\#(from)","to":"\#(QueryTime.format(end))","bucket":"1h","filters":{"metric_name":"\#(metric)","dimensions.region":"eu"}}"#
        }),
    ]
    for (name, path, body) in routes {
        var samples: [Double] = []
        var bytes = 0
        for i in 0..<(iterations + 10) {
            // Rotate tenants and metrics so every request is a different question.
            let tenant = tenants[i % tenants.count], metric = metricNames[(i / tenants.count) % metricNames.count]
            let began = ContinuousClock.now
            let (status, data) = try await post(path, body(metric), tenant: tenant)
            let elapsed = ContinuousClock.now - began
            guard status == 200 else {
                print("\(name): HTTP \(status): \(String(decoding: data, as: UTF8.self))")
                exit(1)
            }
            bytes = data.count
            if i >= 10 {
                let (s, a) = elapsed.components
                samples.append(Double(s) * 1000 + Double(a) / 1e15)
            }
        }
        samples.sort()
        print(String(format: "%@: n=%d p50=%.1f ms p90=%.1f ms p99=%.1f ms max=%.1f ms (response %d bytes)",
                     name, samples.count, percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.99), samples.last ?? 0, bytes))
    }
}

if mode == "load" || mode == "all" { try await load() }
if mode == "query" || mode == "all" { try await query() }
await transport.shutdown()
