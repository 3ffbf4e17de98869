import Foundation
@testable import Ingestor
import Testing
import TestSupport

/// Rate limits per key and per tenant, for ingest and for query, hold within 10% under
/// bursts from a load generator, and every answer carries correct `X-RateLimit-*`
/// headers (and `Retry-After` on a 429).
@Suite(.serialized) struct SecurityRateLimitTests {
    /// One request's outcome.
    struct Shot: Sendable {
        var status: Int
        var limit: Int?
        var remaining: Int?
        var reset: Int64?
        var retryAfter: Int?
        var body: String
        /// Unix seconds when the answer arrived: the reset time is checked against this,
        /// not against the end of a long burst on a slow machine.
        var answeredAt: Int64
    }

    /// A burst of `count` requests, `concurrency` at a time, as fast as the server answers.
    static func burst(count: Int, concurrency: Int, _ request: @escaping @Sendable (Int) async throws -> HTTPTestClient.Exchange) async throws -> [Shot] {
        let next = Locked(0)
        let shots = Locked<[Shot]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while true {
                        let i = next.withLock { n -> Int? in
                            guard n < count else { return nil }
                            n += 1
                            return n - 1
                        }
                        guard let i else { return }
                        let r = try await request(i)
                        let shot = Shot(
                            status: r.status, limit: r.header("X-RateLimit-Limit").flatMap(Int.init), remaining: r.header("X-RateLimit-Remaining").flatMap(Int.init),
                            reset: r.header("X-RateLimit-Reset").flatMap { Int64($0) }, retryAfter: r.header("Retry-After").flatMap(Int.init), body: r.text,
                            answeredAt: Int64(Date().timeIntervalSince1970))
                        shots.withLock { $0.append(shot) }
                    }
                }
            }
            try await group.waitForAll()
        }
        return shots.withLock { $0 }
    }

    /// Every answer has the headers; refusals say when to retry and name the limit.
    static func checkHeaders(_ shots: [Shot], limit: Int, limitKey: String, _ name: String) {
        for s in shots {
            let now = s.answeredAt
            #expect(s.limit == limit, "\(name): X-RateLimit-Limit \(s.limit.map(String.init) ?? "missing")")
            #expect(s.remaining.map { (0..<limit).contains($0) } == true, "\(name): X-RateLimit-Remaining \(s.remaining.map(String.init) ?? "missing")")
            #expect(s.reset.map { $0 >= now - 2 && $0 <= now + 120 } == true, "\(name): X-RateLimit-Reset \(s.reset.map(String.init) ?? "missing")")
            if s.status == 429 {
                #expect(s.remaining == 0)
                #expect(s.retryAfter.map { (1...120).contains($0) } == true, "\(name): Retry-After \(s.retryAfter.map(String.init) ?? "missing")")
                #expect(s.body.contains(limitKey), "\(name): \(s.body)")
            } else {
                #expect(s.retryAfter == nil)
            }
        }
        // Remaining counts down: the smallest value among the admitted is near zero.
        let admitted = shots.filter { $0.status != 429 }
        if !admitted.isEmpty {
            #expect(admitted.compactMap(\.remaining).min().map { $0 <= limit / 10 } == true, "\(name)")
        }
    }

    /// Waits, if needed, until at least `seconds` are left in the current wall-clock
    /// minute. The limiter's windows are wall-clock minutes, and a burst that crosses a
    /// boundary on a slow machine is admitted more than the limit by design (the
    /// previous minute's count starts to decay), which a ±10% check cannot tell apart
    /// from a broken limiter.
    static func waitForMinuteWithRoom(_ seconds: Int = 40) async throws {
        let intoMinute = Int(Date().timeIntervalSince1970) % 60
        if 60 - intoMinute < seconds { try await Task.sleep(for: .seconds(60 - intoMinute)) }
    }

    static func within10Percent(_ admitted: Int, _ limit: Int) -> Bool {
        Double(admitted) >= Double(limit) * 0.9 && Double(admitted) <= Double(limit) * 1.1
    }

    @Test func perKeyAndPerTenantLimitsHoldUnderABurst() async throws {
        let started = ContinuousClock.now
        let t1 = "rl-key-tenant", t2 = "rl-shared-tenant", t3 = "rl-query-tenant"
        let unscoped = SecurityKeys.key(), t2a = SecurityKeys.key(), t2b = SecurityKeys.key(), q3 = SecurityKeys.key(), admin = SecurityKeys.key()
        let entries = [
            APIKeyEntry(name: "burst", key: unscoped, role: .ingest, rateLimit: RateLimit(requests: 100, periodSeconds: 60)),
            APIKeyEntry(name: "t2-a", key: t2a, role: .ingest, tenant: t2),
            APIKeyEntry(name: "t2-b", key: t2b, role: .ingest, tenant: t2),
            APIKeyEntry(name: "q3", key: q3, role: .query, tenant: t3),
            APIKeyEntry(name: "admin", key: admin, role: .admin),
        ]
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "secrl")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, extraYAML: SecurityKeys.authYAML(entries) + """
            rate_limits:
              ingestion: 150/min
              query: 120/min
            """, pipelineYAML: """
            pipeline:
              batch: {max_rows: 20000, max_bytes: 32MiB, max_age: 50ms}
              memory_budget: 256MiB
            """)
        daemon.readyHeaders = SecurityKeys.bearer(admin)
        try await daemon.migrate()
        try await daemon.start()
        defer { Task { _ = await daemon.terminate() } }
        var measured: [String] = []

        // 1. One key's own limit (100/min), driven by the publisher `sluice publish` uses:
        //    300 batch requests of 10 events, 16 at a time.
        let events = SyntheticEvents(dataset: .metrics, total: 3000, tenants: 1, startMillis: 1_704_067_200_000, spanMillis: 3_600_000, seed: 5)
        try await Self.waitForMinuteWithRoom()
        let publisher = Publisher(
            events: events, target: HTTPPublishTarget(baseURL: daemon.ingestURL, mode: .batch, headers: SecurityKeys.bearer(unscoped)),
            batchSize: 10, rate: 0, concurrency: 16, progress: nil)
        let summary = try await publisher.run()
        let spentAt = ContinuousClock.now
        // The headers of that key, checked on a few more requests now that it is spent.
        let spent = try await Self.burst(count: 5, concurrency: 1) { _ in
            try await HTTPTestClient.exchange("POST", daemon.ingestURL + "/v1/events", body: Array("[\(metricEvent(tenant: t1))]".utf8),
                                              headers: SecurityKeys.bearer(unscoped) + [("Content-Type", "application/cloudevents-batch+json")])
        }
        // The sliding window frees one request per 0.6 s once a minute boundary has
        // passed, so on a slow machine a request of these may be admitted again: never
        // more than the time since the key was spent allows, plus two for the fraction
        // of a request the window's estimate can have left when the publisher stopped.
        let refilled = Int((ContinuousClock.now - spentAt) / .milliseconds(600))
        let readmitted = spent.filter { $0.status != 429 }.count
        #expect(readmitted <= refilled + 2, "\(readmitted) of 5 admitted after the key was spent, \(refilled) allowed by the time passed")
        #expect(spent.contains { $0.status == 429 } || refilled + 2 >= spent.count)
        Self.checkHeaders(spent, limit: 100, limitKey: "auth.keys[0].rate_limit", "per-key")
        let admittedRequests = summary.sent / 10
        #expect(Self.within10Percent(admittedRequests, 100), "per-key: \(admittedRequests) of 300 requests admitted for a limit of 100")
        #expect(summary.sent + summary.errors == 3000)
        let stored = Int(try await ch.query("SELECT count() FROM \(db).metrics").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(stored == summary.sent + readmitted, "exactly the admitted events are stored")
        measured.append("per-key 100/min: \(admittedRequests) admitted of 300")

        // 2. A tenant's ingest limit (150/min), shared by its two keys.
        try await Self.waitForMinuteWithRoom()
        let tenantShots = try await Self.burst(count: 450, concurrency: 16) { i in
            try await HTTPTestClient.exchange("POST", daemon.ingestURL + "/api/v1/metrics/ingest",
                                              body: Array(#"{"metric_name":"burst","value":\#(i),"timestamp":"2024-01-01T00:00:00Z"}"#.utf8),
                                              headers: SecurityKeys.bearer(i % 2 == 0 ? t2a : t2b) + [("Content-Type", "application/json")])
        }
        let tenantAdmitted = tenantShots.filter { $0.status == 200 }.count
        #expect(tenantShots.allSatisfy { $0.status == 200 || $0.status == 429 }, "\(Set(tenantShots.map(\.status)))")
        #expect(Self.within10Percent(tenantAdmitted, 150), "per-tenant ingest: \(tenantAdmitted) of 450 admitted for a limit of 150")
        Self.checkHeaders(tenantShots, limit: 150, limitKey: "rate_limits.ingestion", "tenant ingest")
        let tenantRows = Int(try await ch.query("SELECT count() FROM \(db).metrics WHERE tenant_id = '\(t2)'").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(tenantRows == tenantAdmitted)
        measured.append("per-tenant ingestion 150/min: \(tenantAdmitted) admitted of 450")

        // 3. A tenant's query limit (120/min).
        try await Self.waitForMinuteWithRoom()
        let queryShots = try await Self.burst(count: 360, concurrency: 16) { _ in
            try await HTTPTestClient.exchange("GET", daemon.sideURL + "/v1/catalog/datasets", headers: SecurityKeys.bearer(q3))
        }
        let queryAdmitted = queryShots.filter { $0.status == 200 }.count
        #expect(queryShots.allSatisfy { $0.status == 200 || $0.status == 429 })
        #expect(Self.within10Percent(queryAdmitted, 120), "per-tenant query: \(queryAdmitted) of 360 admitted for a limit of 120")
        Self.checkHeaders(queryShots, limit: 120, limitKey: "rate_limits.query", "tenant query")
        measured.append("per-tenant query 120/min: \(queryAdmitted) admitted of 360")

        // Limits of one tenant leave others alone; the audit log counted the refusals.
        let other = try await HTTPTestClient.exchange("GET", daemon.sideURL + "/v1/catalog/datasets", headers: SecurityKeys.bearer(admin))
        #expect(other.status == 200 && other.header("X-RateLimit-Limit") == nil)
        #expect(daemon.log.contains("reason=rate_limited"))
        #expect(await daemon.terminate() == 0)
        print("rate limits: \(measured.joined(separator: "; ")) in \(ContinuousClock.now - started)")
    }
}
