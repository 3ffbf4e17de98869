import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Ingestor
import Prometheus
import Testing
import TestSupport

/// The query API is mounted into the real side-port router next to `/health*` and
/// `/metrics`, and answers over HTTP.
@Suite struct SidePortQueryRoutesTests {
    @Test func sidePortServesQueriesHealthAndMetrics() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let router = SidePortServer.makeRouter(
            health: HealthRegistry(), gate: ReadinessGate(open: true), registry: PrometheusCollectorRegistry(), query: api)
        let port = try FreePort.next()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        let session = URLSession(configuration: .ephemeral)

        func call(_ method: String, _ path: String, body: String? = nil, tenant: String? = nil) async throws -> (Int, String) {
            var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
            request.httpMethod = method
            if let body { request.httpBody = Data(body.utf8) }
            if let tenant { request.setValue(tenant, forHTTPHeaderField: "X-Tenant-ID") }
            let (data, response) = try await session.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        var live = (0, "")
        for _ in 0..<100 {
            if let answer = try? await call("GET", "/health/live") { live = answer; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(live.0 == 200)
        let metrics = try await call("GET", "/metrics")
        #expect(metrics.0 == 200)

        let query = try await call("POST", "/v1/query", body: """
            {"dataset":"metrics","measures":["count"],"from":"\(iso(QueryFixture.base))","to":"\(iso(QueryFixture.base + QueryFixture.day))"}
            """, tenant: "t1")
        #expect(query.0 == 200, "\(query.1)")
        let count = try JSONInput.parse(Array(query.1.utf8))["series"]?[0]?["points"]?[0]?["values"]?["count"]?.double
        #expect(count == Double(f.metrics.filter { $0.tenant == "t1" && $0.ms < QueryFixture.base + QueryFixture.day }.count))

        let values = try await call("GET", "/v1/catalog/labels/region/values?from=\(iso(QueryFixture.base))&to=\(iso(QueryFixture.base + QueryFixture.day))", tenant: "t1")
        #expect(values.0 == 200 && values.1.contains("\"us\""), "\(values.1)")
        let bad = try await call("GET", "/gateway/top-routes?limit=0")
        #expect(bad.0 == 400 && bad.1.contains("\"parameter\":\"limit\""))
    }
}
