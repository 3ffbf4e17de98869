import Foundation
import Hummingbird
@testable import Ingestor
import Logging
import Pipeline
import Prometheus
import Sinks
import TestSupport

/// Query data of tenants A and B (and a third project C) in a ClickHouse 18.16 database,
/// served by the real side-port router with access control, in this process.
///
/// The events come from ``QueryFixture``'s generators with their tenants renamed so one
/// id scopes every dataset: metrics `t1`/`t2` become A/B, and the projects of inference
/// and gateway are already A (`1111…`), B (`2222…`) and C (`3333…`).
final class SecurityQueryFixture: Sendable {
    let server: ClickHouseServer
    let database: String
    let transport: ClickHouseHTTPTransport
    let datasets: [DatasetDefinition]
    let metrics: [MetricEvent]
    let inference: [InferenceEvent]
    let gateway: [GatewayEvent]
    /// The side-port (`query.listen`) with auth on, on a loopback port.
    let port: Int
    let keys: (queryA: String, queryB: String, admin: String)
    private let app: Task<Void, any Error>

    static let tenantC = "33333333-3333-3333-3333-333333333333"

    private static let instance = Locked<Task<SecurityQueryFixture, any Error>?>(nil)

    static func shared() async throws -> SecurityQueryFixture {
        let task = instance.withLock { existing in
            if let existing { return existing }
            let t = Task { try await SecurityQueryFixture.make() }
            existing = t
            return t
        }
        return try await task.value
    }

    private init(server: ClickHouseServer, database: String, transport: ClickHouseHTTPTransport, datasets: [DatasetDefinition],
                 metrics: [MetricEvent], inference: [InferenceEvent], gateway: [GatewayEvent], port: Int,
                 keys: (queryA: String, queryB: String, admin: String), app: Task<Void, any Error>) {
        self.server = server
        self.database = database
        self.transport = transport
        self.datasets = datasets
        self.metrics = metrics
        self.inference = inference
        self.gateway = gateway
        self.port = port
        self.keys = keys
        self.app = app
    }

    static func make() async throws -> SecurityQueryFixture {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "secq")
        let transport = try ClickHouseHTTPTransport(configuration: server.configuration(database: database))
        let datasets = try DatasetCatalogLoader.load(paths: [QueryFixture.presetsDirectory])
        _ = try await Migrator(transport: transport, logger: Logger(label: "test")).migrate(datasets: datasets)

        var rng = SeededRandom(state: 8_080_808)
        let metrics = QueryFixture.generateMetrics(&rng, count: 3000).map { e in
            var e = e
            e.tenant = e.tenant == "t1" ? SecurityKeys.tenantA : SecurityKeys.tenantB
            return e
        }
        let inference = QueryFixture.generateInference(&rng, count: 2000)
        let gateway = QueryFixture.generateGateway(&rng, count: 2000)
        let sink = ClickHouseSink(transport: transport, catalog: datasets, compression: .lz4, logger: Logger(label: "test"))
        var eventKeys = SeededRandom(state: 11)
        for (i, d) in datasets.enumerated() {
            let rows: [[String: FieldValue]]
            switch d.name {
            case "metrics": rows = metrics.map(QueryFixture.row)
            case "inference": rows = inference.map(QueryFixture.row)
            case "gateway": rows = gateway.map(QueryFixture.row)
            default: continue
            }
            try await sink.insert(into: .dataset(i), batch: QueryFixture.batch(d, rows, keys: &eventKeys))
        }

        let keys = (queryA: SecurityKeys.key(), queryB: SecurityKeys.key(), admin: SecurityKeys.key())
        let auth = AuthConfiguration(keys: [
            APIKeyEntry(name: "query-a", key: keys.queryA, role: .query, tenant: SecurityKeys.tenantA),
            APIKeyEntry(name: "query-b", key: keys.queryB, role: .query, tenant: SecurityKeys.tenantB),
            APIKeyEntry(name: "admin", key: keys.admin, role: .admin),
        ])
        var config = QueryPortConfiguration()
        config.cacheTTL = .zero
        let service = QueryService(
            catalog: QueryCatalog(datasets: datasets), configuration: config,
            runner: QueryExecutor(transport: transport, timeout: config.timeout),
            dialects: DialectProvider(transport: transport), database: database)
        var quiet = Logger(label: "sluice.audit.test")
        quiet.logLevel = .critical
        let router = SidePortServer.makeRouter(
            health: HealthRegistry(), gate: ReadinessGate(open: true), registry: PrometheusCollectorRegistry(),
            query: QueryAPI(service: service), access: AccessControl(auth: auth, audit: quiet))
        let port = try FreePort.next()
        var appLogger = Logger(label: "test.side")
        appLogger.logLevel = .error
        let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: appLogger)
        let app = Task { try await application.runService() }
        for _ in 0..<200 {
            if let (s, _) = try? await HTTPTestClient.get("http://127.0.0.1:\(port)/health/live"), s == 200 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        return SecurityQueryFixture(server: server, database: database, transport: transport, datasets: datasets, metrics: metrics,
                                    inference: inference, gateway: gateway, port: port, keys: keys, app: app)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Calls the side-port; `query` is appended percent-encoded.
    func call(
        _ method: String, _ path: String, query: [(String, String)] = [], body: String? = nil, headers: [(String, String)]
    ) async throws -> HTTPTestClient.Exchange {
        var components = URLComponents(string: url + path)!
        if !query.isEmpty { components.percentEncodedQuery = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&") }
        return try await HTTPTestClient.exchange(method, components.string!, body: body.map { Array($0.utf8) }, headers: headers)
    }

    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}
