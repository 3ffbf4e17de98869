import Foundation
@testable import Ingestor
import Testing
import TestSupport

/// The real daemon with `auth` configured: every route of both ports is called with no
/// key, an unknown key, an expired key, a key of the wrong role, a key of the wrong
/// tenant, and the right key, and only the right key gets through. Rows written show
/// that a tenant-scoped key wrote only its tenant's rows, and the audit log shows every
/// refusal without any key in it.
@Suite(.serialized) struct SecurityMatrixTests {
    struct Keys {
        let ingestA = SecurityKeys.key(), ingestB = SecurityKeys.key()
        let queryA = SecurityKeys.key(), queryB = SecurityKeys.key()
        let admin = SecurityKeys.key(), adminA = SecurityKeys.key()
        let expiredIngest = SecurityKeys.key(), expiredQuery = SecurityKeys.key(), expiredAdmin = SecurityKeys.key()
        let daprToken = "dapr-" + UUID().uuidString

        var entries: [APIKeyEntry] {
            let a = SecurityKeys.tenantA, b = SecurityKeys.tenantB, past: Int64 = 1_600_000_000_000
            return [
                APIKeyEntry(name: "ingest-a", key: ingestA, role: .ingest, tenant: a),
                APIKeyEntry(name: "ingest-b", key: ingestB, role: .ingest, tenant: b),
                APIKeyEntry(name: "query-a", key: queryA, role: .query, tenant: a),
                APIKeyEntry(name: "query-b", key: queryB, role: .query, tenant: b),
                APIKeyEntry(name: "admin", key: admin, role: .admin),
                APIKeyEntry(name: "admin-a", key: adminA, role: .admin, tenant: a),
                APIKeyEntry(name: "expired-ingest", key: expiredIngest, role: .ingest, tenant: a, expiresAtMs: past),
                APIKeyEntry(name: "expired-query", key: expiredQuery, role: .query, tenant: a, expiresAtMs: past),
                APIKeyEntry(name: "expired-admin", key: expiredAdmin, role: .admin, expiresAtMs: past),
            ]
        }
        var all: [String] { [ingestA, ingestB, queryA, queryB, admin, adminA, expiredIngest, expiredQuery, expiredAdmin, daprToken] }
    }

    /// One route and the keys that are right and wrong for it.
    struct Route {
        var port: ServerPort
        var method: String
        var path: String
        /// Built per call so event ids are fresh.
        var body: () -> String? = { nil }
        var contentType = "application/json"
        var right: String
        var wrongRole: String
        var wrongTenant: String
        var expired: String
        var succeeded: (HTTPTestClient.Exchange) -> Bool = { $0.status == 200 }
    }

    static func routes(_ k: Keys) -> [Route] {
        let a = SecurityKeys.tenantA
        let range = #""from":"2024-01-01T00:00:00Z","to":"2024-01-02T00:00:00Z""#
        let ingest = { (path: String, body: @escaping () -> String, accepted: Int) in
            Route(port: .app, method: "POST", path: path, body: body, right: k.ingestA, wrongRole: k.queryA, wrongTenant: k.ingestB,
                  expired: k.expiredIngest, succeeded: { $0.status == 200 && $0.text.contains(#""accepted":\#(accepted)"#) })
        }
        let dapr = { (path: String, body: @escaping () -> String) in
            Route(port: .app, method: "POST", path: path, body: body, right: k.ingestA, wrongRole: k.queryA, wrongTenant: k.ingestB,
                  expired: k.expiredIngest, succeeded: { $0.status == 200 && $0.text.contains("SUCCESS") })
        }
        let ops = { (path: String) in
            Route(port: .side, method: "GET", path: path, right: k.admin, wrongRole: k.queryA, wrongTenant: k.adminA, expired: k.expiredAdmin)
        }
        let query = { (method: String, path: String, body: String?) in
            Route(port: .side, method: method, path: path, body: { body }, right: k.queryA, wrongRole: k.ingestA, wrongTenant: k.queryB, expired: k.expiredQuery)
        }
        var events = ingest("/v1/events", { metricEvent(tenant: a) }, 1)
        events.contentType = "application/cloudevents+json"
        return [
            events,
            ingest("/api/v1/metrics/ingest", { #"{"metric_name":"cpu","value":\#(Double.random(in: 0..<1)),"timestamp":"2024-01-01T00:00:00Z"}"# }, 1),
            ingest("/api/v1/metrics/ingest/batch", {
                #"{"metrics":[{"metric_name":"m1","value":\#(Double.random(in: 0..<1))},{"metric_name":"m2","value":\#(Double.random(in: 0..<1))}]}"#
            }, 2),
            Route(port: .app, method: "GET", path: "/dapr/subscribe", right: k.ingestA, wrongRole: k.queryA, wrongTenant: k.ingestB, expired: k.expiredIngest,
                  succeeded: { $0.status == 200 && $0.text.contains("pubsubname") }),
            dapr("/dapr/events/metrics", { metricEvent(tenant: a) }),
            dapr("/add", { addDelivery(project: a) }),
            ops("/health"), ops("/health/ready"), ops("/metrics"),
            query("POST", "/v1/query", #"{"dataset":"metrics","measures":["count"],\#(range)}"#),
            query("POST", "/observability/analytics", #"{"metrics":["request_count"],"from_date":"2024-01-01T00:00:00","to_date":"2024-01-02T00:00:00"}"#),
            query("POST", "/gateway/analytics", #"{"start_time":"2024-01-01T00:00:00Z","end_time":"2024-01-02T00:00:00Z","time_bucket":"1d","metrics":["total_requests"]}"#),
            query("GET", "/gateway/geographical-stats", nil),
            query("GET", "/gateway/top-routes", nil),
            query("GET", "/gateway/client-analytics", nil),
            query("GET", "/gateway/blocking-stats", nil),
            query("POST", "/api/v1/metrics/query", #"{"metric_name":"cpu","start_time":"2024-01-01T00:00:00Z","end_time":"2024-01-02T00:00:00Z"}"#),
            query("GET", "/v1/catalog/datasets", nil),
            query("GET", "/v1/catalog/metrics", nil),
            query("GET", "/v1/catalog/labels", nil),
            query("GET", "/v1/catalog/labels/region/values", nil),
        ]
    }

    @Test func everyRouteNeedsTheRightKeyOfTheRightRoleAndTenant() async throws {
        let started = ContinuousClock.now
        let k = Keys()
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "sec")
        let auth = SecurityKeys.authYAML(k.entries, extra: "  dapr_api_token: \(k.daprToken)\n")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, extraYAML: auth)
        daemon.readyHeaders = SecurityKeys.bearer(k.admin)
        try await daemon.migrate()
        try await daemon.start()
        defer { Task { _ = await daemon.terminate() } }

        let cases: [(String, (Route) -> [(String, String)], Set<Int>)] = [
            ("no key", { _ in [] }, [401]),
            ("unknown key", { _ in SecurityKeys.bearer(SecurityKeys.key()) }, [401]),
            ("expired key", { r in [("X-API-Key", r.expired)] }, [401]),
            ("wrong role", { r in SecurityKeys.bearer(r.wrongRole) }, [403]),
            // The key of tenant B on a request for tenant A: 403 for the tenant header, or
            // the event is rejected (400, Dapr DROP) when the tenant is in the event itself.
            ("wrong tenant", { r in [("X-API-Key", r.wrongTenant)] }, [400, 403, 200]),
            ("right key", { r in SecurityKeys.bearer(r.right) }, [200]),
        ]
        var succeeded: [String: [String]] = [:]
        for route in Self.routes(k) {
            for (name, credentials, statuses) in cases {
                // Side-port and seed 004 requests name tenant A; events name it in their body.
                var headers = credentials(route) + [("Content-Type", route.contentType)]
                if route.port == .side || route.path.hasPrefix("/api/") || route.path == "/dapr/subscribe" {
                    headers.append(("X-Tenant-ID", SecurityKeys.tenantA))
                }
                let base = route.port == .app ? daemon.ingestURL : daemon.sideURL
                let r = try await HTTPTestClient.exchange(route.method, base + route.path, body: route.body().map { Array($0.utf8) }, headers: headers)
                #expect(statuses.contains(r.status), "\(route.method) \(route.path) with \(name): \(r.status) \(r.text)")
                if route.succeeded(r) { succeeded["\(route.method) \(route.path)", default: []].append(name) }
                if r.status == 401 { #expect(r.header("WWW-Authenticate")?.hasPrefix("Bearer") == true) }
                if name == "wrong tenant", r.status == 200 { #expect(r.text.contains("DROP"), "\(route.path): \(r.text)") }
            }
        }
        for route in Self.routes(k) {
            #expect(succeeded["\(route.method) \(route.path)"] == ["right key"], "\(route.method) \(route.path): \(succeeded["\(route.method) \(route.path)"] ?? [])")
        }
        // Open without a key: liveness only.
        #expect(try await HTTPTestClient.exchange("GET", daemon.sideURL + "/health/live").status == 200)
        // Dapr's app token opens the Dapr routes and nothing else.
        let token = [("dapr-api-token", k.daprToken), ("Content-Type", "application/cloudevents+json")]
        let viaToken = try await HTTPTestClient.exchange("POST", daemon.ingestURL + "/dapr/events/metrics", body: Array(metricEvent(tenant: SecurityKeys.tenantA).utf8), headers: token)
        #expect(viaToken.status == 200 && viaToken.text.contains("SUCCESS"), "\(viaToken.text)")
        #expect(try await HTTPTestClient.exchange("GET", daemon.ingestURL + "/dapr/subscribe", headers: token).status == 200)
        #expect(try await HTTPTestClient.exchange("POST", daemon.ingestURL + "/v1/events", body: Array(metricEvent(tenant: SecurityKeys.tenantA).utf8), headers: token).status == 401)
        let wrongToken = try await HTTPTestClient.exchange("GET", daemon.ingestURL + "/dapr/subscribe", headers: [("dapr-api-token", "nope")])
        #expect(wrongToken.status == 401)

        // What was written: only tenant A's rows, one per successful ingest (1 + 1 + 2 + 1 + the token's 1),
        // and the wrong-tenant events were rejected, not rewritten.
        func count(_ sql: String) async throws -> Int { Int(try await ch.query(sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        #expect(try await count("SELECT count() FROM \(db).metrics WHERE tenant_id = '\(SecurityKeys.tenantA)'") == 6)
        #expect(try await count("SELECT count() FROM \(db).metrics WHERE tenant_id != '\(SecurityKeys.tenantA)'") == 0)
        #expect(try await count("SELECT count() FROM \(db).inference") == 1)
        #expect(try await count("SELECT count() FROM \(db).dead_letter WHERE position(reason, 'scoped to') > 0") == 3)

        // The audit log: each refusal with prefix, route and reason; admin requests too;
        // no key or token anywhere in the daemon's log.
        let log = daemon.log
        #expect(log.contains("reason=missing_key") && log.contains("reason=unknown_key") && log.contains("reason=expired_key"))
        #expect(log.contains("reason=wrong_role") && log.contains("reason=wrong_tenant"))
        #expect(log.contains("admin request") && log.contains("key_name=admin"))
        #expect(log.contains("key_prefix=slk_"))
        for secret in k.all { #expect(!log.contains(secret), "the log shows a key") }
        #expect(await daemon.terminate() == 0)
        print("security matrix: \(Self.routes(k).count) routes x \(cases.count) cases in \(ContinuousClock.now - started)")
    }

    @Test func aKeyRevokedInTheFileStopsWorkingWithoutARestart() async throws {
        let admin = SecurityKeys.key(), doomed = SecurityKeys.key(), fresh = SecurityKeys.key()
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "secrev")
        let before = SecurityKeys.authYAML([
            APIKeyEntry(name: "admin", key: admin, role: .admin), APIKeyEntry(name: "doomed", key: doomed, role: .query),
        ])
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, extraYAML: before)
        daemon.readyHeaders = SecurityKeys.bearer(admin)
        try await daemon.migrate()
        try await daemon.start()
        defer { Task { _ = await daemon.terminate() } }
        let url = daemon.sideURL + "/v1/catalog/datasets"
        #expect(try await HTTPTestClient.exchange("GET", url, headers: SecurityKeys.bearer(doomed)).status == 200)
        let config = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        let after = SecurityKeys.authYAML([APIKeyEntry(name: "admin", key: admin, role: .admin), APIKeyEntry(name: "fresh", key: fresh, role: .query)])
        try config.replacingOccurrences(of: before, with: after).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.process?.signal(SIGHUP)
        var statuses = (0, 0)
        for _ in 0..<100 {
            statuses = (try await HTTPTestClient.exchange("GET", url, headers: SecurityKeys.bearer(doomed)).status,
                        try await HTTPTestClient.exchange("GET", url, headers: SecurityKeys.bearer(fresh)).status)
            if statuses == (401, 200) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(statuses == (401, 200), "after the reload the revoked key must get 401 and the new one 200")
        #expect(daemon.log.contains("access control reloaded"))
        #expect(await daemon.terminate() == 0)
    }
}
