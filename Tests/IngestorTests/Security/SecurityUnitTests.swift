import Foundation
@testable import Ingestor
import Logging
import Testing
import TestSupport

/// The pieces of access control without sockets: the hand-written SHA-256 against NIST's
/// vectors, the `auth` configuration and its errors, the sliding-window limiter, and the
/// access decision table.
@Suite struct SecurityUnitTests {
    // MARK: SHA-256

    @Test func sha256MatchesTheNISTVectorsAndEveryPaddingBoundary() {
        let vectors: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
            ("slk_test", "34207d1a9c32cd0acb47b1f1d0e232f6b9f9049bb44e589e15ca2572153737e1"),
        ]
        for (input, digest) in vectors { #expect(SHA256.hex(input) == digest, "\(input)") }
        // Lengths around the 56- and 64-byte padding boundaries (from Python's hashlib).
        let boundaries: [(Int, String)] = [
            (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
            (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
            (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
            (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
            (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
            (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
            (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
        ]
        for (n, digest) in boundaries { #expect(SHA256.hex(String(repeating: "a", count: n)) == digest, "\(n) bytes") }
        // One million 'a', fed in uneven pieces: the streaming interface agrees.
        var h = SHA256()
        var fed = 0
        var step = 1
        while fed < 1_000_000 {
            let n = min(step, 1_000_000 - fed)
            h.update(repeatElement(UInt8(ascii: "a"), count: n))
            fed += n
            step = step * 7 % 997 + 1
        }
        #expect(APIKeyEntry.hex(h.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func constantTimeComparisonComparesWholeDigests() {
        let a = SHA256.hash("a".utf8), b = SHA256.hash("b".utf8)
        #expect(AccessControl.constantTimeEqual(a, a))
        #expect(!AccessControl.constantTimeEqual(a, b))
        var lastByte = a
        lastByte[31] ^= 1
        #expect(!AccessControl.constantTimeEqual(a, lastByte), "a difference in the last byte counts")
        #expect(!AccessControl.constantTimeEqual(a, Array(a.prefix(31))))
    }

    // MARK: Keys and configuration

    @Test func newKeysHaveThePrefixEnoughEntropyAndAHashThatMatches() throws {
        let (key, entry) = APIKeyGenerator.make(role: .ingest, tenant: "acme", name: nil)
        #expect(key.hasPrefix("slk_") && key.count == 47)
        #expect(entry.hash == SHA256.hash(key.utf8))
        #expect(entry.name.hasPrefix("ingest-acme-"))
        #expect(entry.yamlEntry.contains("hash: \"sha256:\(SHA256.hex(key))\""))
        #expect(!entry.yamlEntry.contains(key), "the YAML entry must not hold the key")
        let others = Set((0..<200).map { _ in APIKeyGenerator.newKey() })
        #expect(others.count == 200)
        // The loggable prefix identifies a key without revealing it.
        let prefix = APIKeyGenerator.loggablePrefix(key)
        #expect(prefix == String(key.prefix(12)) + "…")
        #expect(APIKeyGenerator.loggablePrefix("short-secret").count <= 5)
    }

    static func load(_ yaml: String) throws(ConfigurationError) -> SluiceConfiguration {
        let base = """
            clickhouse: {url: "http://127.0.0.1:1"}
            datasets: {paths: [\(RepositoryRoot.file("config/datasets"))]}

            """
        let snapshot = try SluiceYAMLSnapshot(yaml: base + yaml)
        return try SluiceConfiguration(source: ConfigSource(file: snapshot, environment: [:], baseDirectory: "/"), path: "test.yaml")
    }

    @Test func authKeysAreReadWithRoleTenantExpiryAndLimit() throws {
        let key = "slk_example"
        let config = try Self.load("""
            auth:
              public_metrics: true
              dapr_api_token: s3cret
              keys:
                - name: ingest-a
                  hash: "sha256:\(SHA256.hex(key))"
                  role: ingest
                  tenant: "tenant-a"
                  expires: 2030-01-01T00:00:00Z
                  rate_limit: 1000/min
                - {name: ops, hash: "sha256:\(SHA256.hex("slk_other"))", role: admin}
            rate_limits:
              ingestion: 1000/min
              query: 100
            """)
        let auth = try #require(config.auth)
        #expect(auth.keys.count == 2)
        #expect(auth.keys[0] == APIKeyEntry(name: "ingest-a", key: key, role: .ingest, tenant: "tenant-a", expiresAtMs: 1_893_456_000_000,
                                            rateLimit: RateLimit(requests: 1000, periodSeconds: 60)))
        #expect(auth.keys[1].role == .admin && auth.keys[1].tenant == nil)
        #expect(auth.daprAPIToken == "s3cret" && auth.publicMetrics)
        #expect(config.rateLimits == TenantRateLimits(ingestion: RateLimit(requests: 1000, periodSeconds: 60), query: RateLimit(requests: 100, periodSeconds: 60)))
        #expect(!config.effectiveYAML.contains("s3cret"))
        #expect(try Self.load("").auth == nil, "no auth section: access control is off")
    }

    @Test func everyAuthConfigurationErrorNamesTheKey() {
        let good = SHA256.hex("slk_a")
        let cases: [(String, String, String)] = [
            ("auth: {public_metrics: true}", "auth.keys", "at least one key"),
            ("auth: {keys: [{hash: \"sha256:\(good)\", role: ingest}]}", "auth.keys[0].name", "is required"),
            ("auth: {keys: [{name: a, hash: \"md5:abc\", role: ingest}]}", "auth.keys[0].hash", "key 'a'"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good.dropLast())\", role: ingest}]}", "auth.keys[0].hash", "64 hex"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\", role: root}]}", "auth.keys[0].role", "'root'"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\"}]}", "auth.keys[0].role", "key 'a'"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\", role: query, expires: tomorrow}]}", "auth.keys[0].expires", "RFC 3339"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\", role: query, rate_limit: lots}]}", "auth.keys[0].rate_limit", "key 'a'"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\", role: query, tenant: \"\"}]}", "auth.keys[0].tenant", "key 'a'"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\", role: query}, {name: a, hash: \"sha256:\(SHA256.hex("x"))\", role: query}]}", "auth.keys[1].name", "another key"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\", role: query}, {name: b, hash: \"sha256:\(good)\", role: ingest}]}", "auth.keys[1].hash", "already configured as 'a'"),
            ("auth: {keys: [{name: a, hash: \"sha256:\(good)\", role: query, scope: x}]}", "auth.keys.0.scope", "unknown key"),
            ("rate_limits: {ingestion: 10/fortnight}", "rate_limits.ingestion", "N/s"),
        ]
        for (yaml, key, reason) in cases {
            do {
                _ = try Self.load(yaml)
                Issue.record("\(yaml) must be refused")
            } catch {
                #expect(error.key == key, "\(yaml): \(error)")
                #expect(error.reason.contains(reason), "\(yaml): \(error)")
            }
        }
    }

    // MARK: Rate limiter

    @Test func theSlidingWindowAdmitsTheLimitAndSaysWhenToRetry() {
        let limiter = RateLimiter()
        let limit = RateLimiter.Check(bucket: "k", limit: RateLimit(requests: 10, periodSeconds: 60))
        let t0: Int64 = 1_800_000_000_000 // a window start
        var admitted = 0
        var last: RateLimitStatus?
        for i in 0..<25 {
            let s = limiter.acquire([limit], nowMs: t0 + Int64(i) * 100)!
            if s.allowed { admitted += 1 }
            last = s
            #expect(s.resetEpochSeconds == t0 / 1000 + 60)
            if i < 10 { #expect(s.allowed && s.remaining == 9 - i, "request \(i): \(s)") }
        }
        #expect(admitted == 10)
        #expect(last?.allowed == false && last?.retryAfterSeconds == 64, "the previous window must decay to 9 of 10: 57.6 s to its end plus 6 s")
        #expect(last?.headers.contains { $0 == ("Retry-After", "64") } == true)
        // Early in the next window the previous one still weighs almost fully ...
        #expect(limiter.acquire([limit], nowMs: t0 + 61_000)?.allowed == false)
        // ... and halfway through half of it has slid out: 5 more fit.
        var later = 0
        for i in 0..<10 where limiter.acquire([limit], nowMs: t0 + 90_000 + Int64(i))!.allowed { later += 1 }
        #expect(later == 5)
    }

    @Test func aRequestRefusedByOneBucketDoesNotUseUpAnother() {
        let limiter = RateLimiter()
        let key = RateLimiter.Check(bucket: "key", limit: RateLimit(requests: 100, periodSeconds: 60))
        let tenant = RateLimiter.Check(bucket: "tenant", limit: RateLimit(requests: 3, periodSeconds: 60))
        let t0: Int64 = 1_800_000_000_000
        for _ in 0..<10 { _ = limiter.acquire([key, tenant], nowMs: t0) }
        let s = limiter.acquire([key], nowMs: t0)!
        #expect(s.allowed && s.remaining == 100 - 3 - 1, "only the three admitted requests count against the key: \(s)")
        let both = limiter.acquire([key, tenant], nowMs: t0)!
        #expect(!both.allowed && both.bucket == "tenant")
    }

    @Test func bucketsStayBoundedUnderAFloodOfTenants() {
        let limiter = RateLimiter(maxBuckets: 1000)
        let t0: Int64 = 1_800_000_000_000
        for i in 0..<20_000 {
            _ = limiter.acquire([.init(bucket: "tenant-\(i)", limit: RateLimit(requests: 5, periodSeconds: 60))], nowMs: t0 + Int64(i))
        }
        #expect(limiter.bucketCount <= 1000)
    }

    // MARK: Access decisions

    static let keys: [String: APIKeyEntry] = [
        "slk_ingest_a_0123456789abcdefghij": APIKeyEntry(name: "ingest-a", key: "slk_ingest_a_0123456789abcdefghij", role: .ingest, tenant: "A"),
        "slk_query_a_0123456789abcdefghij": APIKeyEntry(name: "query-a", key: "slk_query_a_0123456789abcdefghij", role: .query, tenant: "A"),
        "slk_admin_0123456789abcdefghij": APIKeyEntry(name: "admin", key: "slk_admin_0123456789abcdefghij", role: .admin),
        "slk_expired_0123456789abcdefghij": APIKeyEntry(name: "expired", key: "slk_expired_0123456789abcdefghij", role: .admin, expiresAtMs: 1_000),
    ]

    @Test func accessDecisionsFollowRoleTenantAndExpiry() {
        let records = LogCapture()
        let access = AccessControl(
            auth: AuthConfiguration(keys: Array(Self.keys.values).sorted { $0.name < $1.name }, daprAPIToken: "dapr-secret"),
            audit: Logger(label: "audit") { _ in records }, nowMs: { 1_800_000_000_000 })
        func status(_ port: ServerPort, _ path: String, _ headers: [String: String]) -> Int {
            switch access.check(port: port, method: "GET", path: path, header: { headers[$0] }) {
            case .allowed: 200
            case .denied(let d): d.status
            }
        }
        #expect(status(.side, "/health/live", [:]) == 200)
        #expect(status(.side, "/metrics", [:]) == 401)
        #expect(status(.side, "/metrics", ["authorization": "Bearer slk_admin_0123456789abcdefghij"]) == 200)
        #expect(status(.side, "/metrics", ["authorization": "bearer slk_admin_0123456789abcdefghij"]) == 200, "the scheme is case-insensitive")
        #expect(status(.side, "/metrics", ["authorization": "Basic slk_admin_0123456789abcdefghij"]) == 401)
        #expect(status(.side, "/metrics", ["x-api-key": "slk_query_a_0123456789abcdefghij"]) == 403)
        #expect(status(.side, "/metric%73/", ["x-api-key": "slk_query_a_0123456789abcdefghij"]) == 403, "an encoded path is classified as what it routes to")
        #expect(status(.side, "/v1/query", ["x-api-key": "slk_query_a_0123456789abcdefghij"]) == 200)
        #expect(status(.side, "/v1/query", ["x-api-key": "slk_query_a_0123456789abcdefghij", "x-tenant-id": "B"]) == 403)
        #expect(status(.side, "/v1/query", ["x-api-key": "slk_query_a_0123456789abcdefghij", "authorization": "Bearer slk_admin_0123456789abcdefghij"]) == 401, "two different keys")
        #expect(status(.side, "/v1/query", ["x-api-key": "slk_expired_0123456789abcdefghij"]) == 401)
        #expect(status(.side, "/v1/catalog/labels/region/values", ["x-api-key": "slk_ingest_a_0123456789abcdefghij"]) == 403)
        #expect(status(.app, "/v1/events", ["x-api-key": "slk_ingest_a_0123456789abcdefghij"]) == 200)
        #expect(status(.app, "/v1/events", ["x-api-key": "slk_query_a_0123456789abcdefghij"]) == 403)
        #expect(status(.app, "/dapr/events/metrics", ["dapr-api-token": "dapr-secret"]) == 200)
        #expect(status(.app, "/dapr/events/metrics", ["dapr-api-token": "wrong"]) == 401)
        #expect(status(.app, "/v1/events", ["dapr-api-token": "dapr-secret"]) == 401, "the Dapr token opens only Dapr routes")
        #expect(status(.app, "/nope", ["x-api-key": "slk_ingest_a_0123456789abcdefghij"]) == 403)
        // The audit log names prefix, route and reason, and never a key.
        let lines = records.lines
        #expect(lines.contains { $0.contains("reason=expired_key") && $0.contains("route=GET /v1/query") && $0.contains("key_prefix=slk_") })
        #expect(lines.contains { $0.contains("reason=wrong_tenant") && $0.contains("key_name=query-a") })
        for line in lines { for key in Self.keys.keys + ["dapr-secret"] { #expect(!line.contains(key), "\(line) shows a key") } }
    }
}

extension SecurityUnitTests {
    @Test func publicMetricsAndReloadedKeysTakeEffectAtOnce() {
        let old = APIKeyEntry(name: "old", key: "slk_old_0123456789abcdefghij", role: .admin)
        let new = APIKeyEntry(name: "new", key: "slk_new_0123456789abcdefghij", role: .admin)
        let access = AccessControl(auth: AuthConfiguration(keys: [old], publicMetrics: true))
        func status(_ path: String, _ key: String?) -> Int {
            switch access.check(port: .side, method: "GET", path: path, header: { $0 == "x-api-key" ? key : nil }) {
            case .allowed: 200
            case .denied(let d): d.status
            }
        }
        #expect(status("/metrics", nil) == 200, "public_metrics opens /metrics")
        #expect(status("/health", nil) == 401, "but not the other ops routes")
        #expect(status("/health", "slk_old_0123456789abcdefghij") == 200)
        #expect(access.reload(auth: AuthConfiguration(keys: [new]), tenantLimits: TenantRateLimits()))
        #expect(status("/health", "slk_old_0123456789abcdefghij") == 401, "a revoked key stops working on reload")
        #expect(status("/health", "slk_new_0123456789abcdefghij") == 200)
        #expect(status("/metrics", nil) == 401)
        // Off at start: the middleware is not mounted, so turning it on needs a restart.
        let off = AccessControl(auth: nil)
        #expect(!off.reload(auth: AuthConfiguration(keys: [new]), tenantLimits: TenantRateLimits()))
        #expect(off.auth == nil)
    }
}

/// Collects log lines (`message key=value ...`) for assertions on the audit log.
final class LogCapture: LogHandler, @unchecked Sendable {
    private let store = Locked<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    var lines: [String] { store.withLock { $0 } }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        store.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
    }
}
