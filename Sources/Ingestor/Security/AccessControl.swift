public import Logging
import Metrics
import Pipeline
import Synchronization

/// Which of Sluice's two listeners a request arrived on.
public enum ServerPort: String, Sendable {
    /// `http.listen`: ingest and Dapr.
    case app
    /// `query.listen`: health, metrics, queries.
    case side
}

/// What a route needs, which decides the roles that may call it.
public enum RouteClass: String, Sendable, CaseIterable {
    /// `/health/live`, and `/metrics` with `auth.public_metrics`: no key.
    case open
    /// `/health`, `/health/ready`, `/metrics`: process-wide answers, so an unscoped admin key.
    case ops
    /// `/v1/events`, `/api/v1/metrics/ingest[/batch]`: ingest or admin.
    case ingest
    /// `/dapr/subscribe`, `/dapr/events/*`, `/add`: Dapr's app token, or ingest or admin.
    case dapr
    /// The side-port's query and catalog routes: query or admin.
    case query
    /// Anything else: an admin key (which then gets a 404). Unknown paths cannot be probed
    /// without one, and a path spelled so that the router reaches a route this table does
    /// not recognise is held to the strictest role.
    case unknown

    var roles: Set<APIKeyRole> {
        switch self {
        case .open: Set(APIKeyRole.allCases)
        case .ops, .unknown: [.admin]
        case .ingest, .dapr: [.ingest, .admin]
        case .query: [.query, .admin]
        }
    }
}

/// Who a request was authenticated as; handed to the route so it can scope the request.
public struct AccessGrant: Sendable, Hashable {
    /// The `auth.keys` name, or `dapr-api-token`.
    public var keyName: String
    public var role: APIKeyRole
    /// Set for a tenant-scoped key: the only tenant it may read or write.
    public var tenant: String?
    /// Loggable start of the presented credential.
    public var keyPrefix: String

    public init(keyName: String, role: APIKeyRole, tenant: String?, keyPrefix: String) {
        self.keyName = keyName
        self.role = role
        self.tenant = tenant
        self.keyPrefix = keyPrefix
    }
}

/// A refused request: the status, a machine-readable reason, a message naming what to fix
/// (and, for rate limits, the configuration key of the limit), and headers to send.
public struct AccessDenial: Error, Sendable {
    public enum Reason: String, Sendable {
        case missingKey = "missing_key"
        case malformedCredentials = "malformed_credentials"
        case unknownKey = "unknown_key"
        case expiredKey = "expired_key"
        case wrongRole = "wrong_role"
        case wrongTenant = "wrong_tenant"
        case rateLimited = "rate_limited"
    }

    public var status: Int
    public var reason: Reason
    public var message: String
    /// For `rate_limited`: the configuration key of the limit that was hit.
    public var limit: String?
    public var headers: [(String, String)]

    /// `{"error": reason, "message": ..., "limit"?: ...}`.
    public var jsonBody: [UInt8] {
        JSONWriter.object { w in
            w.field("error", reason.rawValue)
            w.field("message", message)
            if let limit { w.field("limit", limit) }
        }
    }
}

/// The access decision for one request.
public enum AccessOutcome: Sendable {
    /// Go ahead. `grant` is nil when access control is off or the route is open; `rate`
    /// is what the `X-RateLimit-*` headers report, when a limit applied.
    case allowed(grant: AccessGrant?, rate: RateLimitStatus?)
    case denied(AccessDenial)
}

/// Authentication, authorisation and rate limiting for both ports, independent of the
/// HTTP server so it is unit-tested without sockets (``AccessMiddleware`` mounts it).
///
/// Guarantees:
/// - with `auth` configured, every route but `/health/live` (and `/metrics` when public)
///   needs a valid, unexpired key of a role allowed on the route class;
/// - a presented key is hashed and compared with every configured hash in constant time,
///   so neither the comparison nor the key's position in the list shows in the timing;
/// - a tenant-scoped key cannot name another tenant (`X-Tenant-ID`), and cannot call the
///   process-wide ops routes;
/// - every refusal is written to the audit log (`sluice.audit`) with the key's loggable
///   prefix, the route and the reason, never the key.
public final class AccessControl: Sendable {
    /// Keys and limits in force; replaced whole on reload, read once per request.
    struct Settings {
        var auth: AuthConfiguration?
        var tenantLimits: TenantRateLimits
        var daprTokenHash: [UInt8]?

        init(auth: AuthConfiguration?, tenantLimits: TenantRateLimits) {
            self.auth = auth
            self.tenantLimits = tenantLimits
            daprTokenHash = auth?.daprAPIToken.map { SHA256.hash($0.utf8) }
        }
    }

    private let settings: Mutex<Settings>
    /// Whether the middleware was mounted at start (there was something to check); only
    /// then can a reload change keys or limits, else turning them on needs a restart.
    public let isActive: Bool
    public let limiter: RateLimiter
    let audit: Logger
    let clock: @Sendable () -> Int64
    let denials: [AccessDenial.Reason: Counter]
    let admitted: Counter

    /// - Parameter nowMs: wall-clock milliseconds; tests move time by hand.
    public init(
        auth: AuthConfiguration?, tenantLimits: TenantRateLimits = TenantRateLimits(), limiter: RateLimiter = RateLimiter(),
        audit: Logger = Logger(label: "sluice.audit"), nowMs: (@Sendable () -> Int64)? = nil
    ) {
        settings = Mutex(Settings(auth: auth, tenantLimits: tenantLimits))
        isActive = auth != nil || !tenantLimits.isEmpty
        self.limiter = limiter
        self.audit = audit
        self.clock = nowMs ?? { WallClock.nowNanos() / 1_000_000 }
        var counters: [AccessDenial.Reason: Counter] = [:]
        for reason in [AccessDenial.Reason.missingKey, .malformedCredentials, .unknownKey, .expiredKey, .wrongRole, .wrongTenant, .rateLimited] {
            counters[reason] = Counter(label: "sluice_http_denied_total", dimensions: [("reason", reason.rawValue)])
        }
        denials = counters
        admitted = Counter(label: "sluice_http_authenticated_total")
    }

    public var auth: AuthConfiguration? { settings.withLock { $0.auth } }
    public var tenantLimits: TenantRateLimits { settings.withLock { $0.tenantLimits } }

    /// Puts new keys and limits in force at once (SIGHUP or a file change), so a revoked
    /// key stops working without a restart. Returns false, changing nothing, when access
    /// control was off at start and would now be on: its middleware is not mounted.
    public func reload(auth: AuthConfiguration?, tenantLimits: TenantRateLimits) -> Bool {
        guard isActive || (auth == nil && tenantLimits.isEmpty) else { return false }
        settings.withLock { $0 = Settings(auth: auth, tenantLimits: tenantLimits) }
        audit.notice("access control reloaded", metadata: ["event": "reload", "keys": "\(auth?.keys.count ?? 0)"])
        return true
    }

    public static func classify(port: ServerPort, method: String, path rawPath: String, publicMetrics: Bool) -> RouteClass {
        let path = normalize(rawPath)
        switch port {
        case .app:
            switch path {
            case "/v1/events", "/api/v1/metrics/ingest", "/api/v1/metrics/ingest/batch": return .ingest
            case "/dapr/subscribe", "/add": return .dapr
            default: return path.hasPrefix("/dapr/events/") ? .dapr : .unknown
            }
        case .side:
            switch path {
            case "/health/live": return .open
            case "/metrics": return publicMetrics ? .open : .ops
            case "/health", "/health/ready": return .ops
            default:
                if QueryAPI.routes.contains(where: { $0.path == path }) || path.hasPrefix("/v1/catalog/labels/") { return .query }
                return .unknown
            }
        }
    }

    /// The path as a router could understand it: percent-escapes decoded, empty segments
    /// (`//`, a trailing `/`) dropped, so `/metric%73/` is classified as `/metrics`.
    static func normalize(_ path: String) -> String {
        let decoded = path.contains("%") ? QueryAPI.percentDecode(path) : path
        return "/" + decoded.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    /// Decides one request. `header` looks a header up by its lowercase name.
    public func check(
        port: ServerPort, method: String, path: String, remote: String? = nil, header: (String) -> String?
    ) -> AccessOutcome {
        let current = settings.withLock { $0 }
        let auth = current.auth, tenantLimits = current.tenantLimits
        let routeClass = Self.classify(port: port, method: method, path: path, publicMetrics: auth?.publicMetrics ?? false)
        let route = "\(method) \(path)"
        var grant: AccessGrant?
        if let auth {
            if routeClass == .open { return .allowed(grant: nil, rate: nil) }
            switch authenticate(auth, daprTokenHash: current.daprTokenHash, routeClass: routeClass, header: header) {
            case .failure(let failure):
                return deny(failure.value.0, prefix: failure.value.1, keyName: nil, route: route, remote: remote)
            case .success(let g):
                grant = g
            }
            guard let g = grant else { fatalError("authenticate succeeded without a grant") }
            if !routeClass.roles.contains(g.role) {
                let allowed = routeClass.roles.map(\.rawValue).sorted().joined(separator: " or ")
                return deny(AccessDenial(status: 403, reason: .wrongRole, message: "this route needs a key with role \(allowed); key '\(g.keyName)' has role \(g.role.rawValue)", headers: []),
                            prefix: g.keyPrefix, keyName: g.keyName, route: route, remote: remote)
            }
            if let scoped = g.tenant {
                if let asked = header("x-tenant-id"), asked != scoped {
                    return deny(AccessDenial(status: 403, reason: .wrongTenant, message: "key '\(g.keyName)' is scoped to another tenant than X-Tenant-ID names", headers: []),
                                prefix: g.keyPrefix, keyName: g.keyName, route: route, remote: remote)
                }
                if routeClass == .ops {
                    return deny(AccessDenial(status: 403, reason: .wrongTenant, message: "this route reports on every tenant; key '\(g.keyName)' is scoped to one", headers: []),
                                prefix: g.keyPrefix, keyName: g.keyName, route: route, remote: remote)
                }
            }
            admitted.increment()
        }
        // Rate limits: the key's own, and its tenant's for the route's kind.
        var checks: [RateLimiter.Check] = []
        var limitKeys: [String: String] = [:]
        if let g = grant, let index = auth?.keys.firstIndex(where: { $0.name == g.keyName }), let limit = auth?.keys[index].rateLimit {
            checks.append(.init(bucket: "key:\(g.keyName)", limit: limit))
            limitKeys["key:\(g.keyName)"] = "auth.keys[\(index)].rate_limit"
        }
        let tenant = grant?.tenant ?? header("x-tenant-id").flatMap { TenantID.isValid($0) ? $0 : nil }
        if let tenant {
            switch routeClass {
            case .ingest, .dapr:
                if let limit = tenantLimits.ingestion {
                    checks.append(.init(bucket: "ingest:\(tenant)", limit: limit))
                    limitKeys["ingest:\(tenant)"] = "rate_limits.ingestion"
                }
            case .query:
                if let limit = tenantLimits.query {
                    checks.append(.init(bucket: "query:\(tenant)", limit: limit))
                    limitKeys["query:\(tenant)"] = "rate_limits.query"
                }
            case .open, .ops, .unknown:
                break
            }
        }
        let status = limiter.acquire(checks, nowMs: clock())
        if let status, !status.allowed {
            let key = limitKeys[status.bucket] ?? "rate_limits"
            let whose = status.bucket.hasPrefix("key:") ? "key '\(grant?.keyName ?? "")'" : "tenant '\(tenant ?? "")'"
            return deny(
                AccessDenial(status: 429, reason: .rateLimited,
                             message: "rate limit of \(status.limit) requests per window for \(whose) reached (\(key)); retry after \(status.retryAfterSeconds) s",
                             limit: key, headers: status.headers),
                prefix: grant?.keyPrefix, keyName: grant?.keyName, route: route, remote: remote)
        }
        return .allowed(grant: grant, rate: status)
    }

    /// Finds the key (or the Dapr token) the request presents.
    private func authenticate(
        _ auth: AuthConfiguration, daprTokenHash: [UInt8]?, routeClass: RouteClass, header: (String) -> String?
    ) -> Result<AccessGrant, Failure> {
        if routeClass == .dapr, let expected = daprTokenHash, let token = header("dapr-api-token") {
            let prefix = APIKeyGenerator.loggablePrefix(token)
            guard token.utf8.count <= 1024, Self.constantTimeEqual(SHA256.hash(token.utf8), expected) else {
                return .failure(Failure((AccessDenial(status: 401, reason: .unknownKey, message: "the dapr-api-token is not the configured auth.dapr_api_token", headers: Self.challenge), prefix)))
            }
            return .success(AccessGrant(keyName: "dapr-api-token", role: .ingest, tenant: nil, keyPrefix: prefix))
        }
        var bearer: String?
        if let authorization = header("authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                return .failure(Failure((AccessDenial(status: 401, reason: .malformedCredentials, message: "Authorization must be 'Bearer <key>'", headers: Self.challenge), nil)))
            }
            bearer = parts[1].trimmingCharacters(in: " ")
        }
        let apiKey = header("x-api-key")?.trimmingCharacters(in: " ")
        if let bearer, let apiKey, bearer != apiKey {
            return .failure(Failure((AccessDenial(status: 401, reason: .malformedCredentials, message: "Authorization and X-API-Key carry different keys", headers: Self.challenge), APIKeyGenerator.loggablePrefix(bearer))))
        }
        guard let credential = bearer ?? apiKey, !credential.isEmpty else {
            return .failure(Failure((AccessDenial(status: 401, reason: .missingKey, message: "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>", headers: Self.challenge), nil)))
        }
        let prefix = APIKeyGenerator.loggablePrefix(credential)
        // A longer credential cannot be any configured key; refusing it before hashing
        // keeps a huge header from costing CPU.
        guard credential.utf8.count <= 1024 else {
            return .failure(Failure((AccessDenial(status: 401, reason: .unknownKey, message: "the API key is not valid", headers: Self.challenge), prefix)))
        }
        let digest = SHA256.hash(credential.utf8)
        var match = -1
        for (i, key) in auth.keys.enumerated() {
            // Every configured hash is compared, whatever matched before.
            let equal = Self.constantTimeEqual(key.hash, digest)
            if equal && match < 0 { match = i }
        }
        guard match >= 0 else {
            return .failure(Failure((AccessDenial(status: 401, reason: .unknownKey, message: "the API key is not valid", headers: Self.challenge), prefix)))
        }
        let key = auth.keys[match]
        if let expires = key.expiresAtMs, expires <= clock() {
            return .failure(Failure((AccessDenial(status: 401, reason: .expiredKey, message: "key '\(key.name)' expired at \(QueryTime.format(expires))", headers: Self.challenge), prefix)))
        }
        return .success(AccessGrant(keyName: key.name, role: key.role, tenant: key.tenant, keyPrefix: prefix))
    }

    /// A refusal and the loggable prefix of what was presented.
    struct Failure: Error {
        let value: (AccessDenial, String?)
        init(_ value: (AccessDenial, String?)) { self.value = value }
    }

    static let challenge = [("WWW-Authenticate", #"Bearer realm="sluice""#)]

    /// Equal length and bytes, in time that depends only on the length.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    private func deny(_ denial: AccessDenial, prefix: String?, keyName: String?, route: String, remote: String?) -> AccessOutcome {
        denials[denial.reason]?.increment()
        var metadata: Logger.Metadata = ["event": "denied", "route": "\(route)", "reason": "\(denial.reason.rawValue)", "status": "\(denial.status)"]
        metadata["key_prefix"] = "\(prefix ?? "-")"
        if let keyName { metadata["key_name"] = "\(keyName)" }
        if let remote { metadata["remote"] = "\(remote)" }
        if let limit = denial.limit { metadata["limit"] = "\(limit)" }
        audit.warning("request denied", metadata: metadata)
        return .denied(denial)
    }

    /// Logs a request made with an admin key (every admin action is audited), after it
    /// was answered.
    public func auditAdmin(_ grant: AccessGrant, route: String, status: Int, remote: String?) {
        var metadata: Logger.Metadata = ["event": "admin", "route": "\(route)", "status": "\(status)", "key_name": "\(grant.keyName)", "key_prefix": "\(grant.keyPrefix)"]
        if let remote { metadata["remote"] = "\(remote)" }
        audit.notice("admin request", metadata: metadata)
    }
}
