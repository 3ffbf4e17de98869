/// What an API key may do. Roles are checked per route class (see ``RouteClass``).
public enum APIKeyRole: String, Sendable, Hashable, CaseIterable {
    /// The app port's ingest and Dapr routes.
    case ingest
    /// The side-port's query and catalog routes.
    case query
    /// Every route on both ports, including `/health`, `/health/ready` and `/metrics`.
    case admin
}

/// `N/unit`: at most N requests per second, minute or hour (`1000/min`, `50/s`, `5000/h`).
///
/// Requests, not events, are counted: seed 004's `RATE_LIMIT_INGESTION` and
/// `RATE_LIMIT_QUERY` count API calls, and a batch of 1,000 events is one call.
public struct RateLimit: Sendable, Hashable, CustomStringConvertible {
    public var requests: Int
    /// Window length in seconds.
    public var periodSeconds: Int

    public init(requests: Int, periodSeconds: Int) {
        self.requests = requests
        self.periodSeconds = periodSeconds
    }

    /// Parses `N/s`, `N/sec`, `N/second`, `N/m`, `N/min`, `N/minute`, `N/h`, `N/hour`; a bare
    /// number is per minute, the unit of seed 004's variables.
    public static func parse(_ text: String) -> RateLimit? {
        let parts = text.trimmingCharacters(in: " ").split(separator: "/", omittingEmptySubsequences: false)
        guard let first = parts.first, let n = Int(first.trimmingCharacters(in: " ")), n > 0, parts.count <= 2 else { return nil }
        let unit = parts.count == 2 ? parts[1].trimmingCharacters(in: " ").lowercased() : "min"
        let seconds: Int
        switch unit {
        case "s", "sec", "second": seconds = 1
        case "m", "min", "minute": seconds = 60
        case "h", "hour": seconds = 3600
        default: return nil
        }
        return RateLimit(requests: n, periodSeconds: seconds)
    }

    public var description: String {
        switch periodSeconds {
        case 1: "\(requests)/s"
        case 3600: "\(requests)/h"
        default: "\(requests)/min"
        }
    }
}

/// One entry of `auth.keys`. Only the SHA-256 of the key is configured, so the config file
/// (and `check-config` output) never holds a usable secret.
public struct APIKeyEntry: Sendable, Hashable {
    /// `auth.keys[i].name`: unique; shown in logs instead of the key.
    public var name: String
    /// `auth.keys[i].hash`: `sha256:<64 hex digits>` of the whole key, `slk_` included.
    public var hash: [UInt8]
    /// `auth.keys[i].role`.
    public var role: APIKeyRole
    /// `auth.keys[i].tenant`: when set, the key reads and writes only this tenant's rows.
    public var tenant: String?
    /// `auth.keys[i].expires`: RFC 3339 instant after which the key is refused (ms since epoch).
    public var expiresAtMs: Int64?
    /// `auth.keys[i].rate_limit`: this key's own request limit.
    public var rateLimit: RateLimit?

    public init(name: String, hash: [UInt8], role: APIKeyRole, tenant: String? = nil, expiresAtMs: Int64? = nil, rateLimit: RateLimit? = nil) {
        self.name = name
        self.hash = hash
        self.role = role
        self.tenant = tenant
        self.expiresAtMs = expiresAtMs
        self.rateLimit = rateLimit
    }

    /// The entry for a plaintext key (tests and `sluice keys new`).
    public init(name: String, key: String, role: APIKeyRole, tenant: String? = nil, expiresAtMs: Int64? = nil, rateLimit: RateLimit? = nil) {
        self.init(name: name, hash: SHA256.hash(key.utf8), role: role, tenant: tenant, expiresAtMs: expiresAtMs, rateLimit: rateLimit)
    }

    public var hashText: String { "sha256:" + Self.hex(hash) }

    /// The YAML list item for `auth.keys`, as `sluice keys new` prints it.
    public var yamlEntry: String {
        var lines = ["  - name: \(name)", "    hash: \"\(hashText)\"", "    role: \(role.rawValue)"]
        if let tenant { lines.append("    tenant: \"\(tenant)\"") }
        if let expiresAtMs { lines.append("    expires: \(QueryTime.format(expiresAtMs))") }
        if let rateLimit { lines.append("    rate_limit: \(rateLimit)") }
        return lines.joined(separator: "\n")
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] })
    }

    /// `sha256:<64 hex>` → 32 bytes; nil for anything else.
    static func parseHash(_ text: String) -> [UInt8]? {
        let lower = text.trimmingCharacters(in: " ").lowercased()
        guard lower.hasPrefix("sha256:") else { return nil }
        let hex = Array(lower.dropFirst(7).utf8)
        guard hex.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let h = IngestHandler.hexValue(hex[i]), let l = IngestHandler.hexValue(hex[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}

/// `auth.*`: API keys and the Dapr app token. Access control is on when the section is
/// present (DESIGN §5); then every route on both ports needs a key, except
/// `/health/live` and, with `auth.public_metrics: true`, `/metrics`.
public struct AuthConfiguration: Sendable, Hashable {
    /// `auth.keys`: at least one.
    public var keys: [APIKeyEntry]
    /// `auth.dapr_api_token`: Dapr's `APP_API_TOKEN`. When set, Dapr routes
    /// (`/dapr/subscribe`, `/dapr/events/*`, `/add`) also accept it in `dapr-api-token`.
    /// Dapr sends the token itself, so it is configured in clear (best through
    /// `SLUICE_AUTH_DAPR_API_TOKEN`) and redacted in `check-config`.
    public var daprAPIToken: String?
    /// `auth.public_metrics`: serve `/metrics` without a key (for a Prometheus that cannot
    /// send one). Default false.
    public var publicMetrics: Bool

    public init(keys: [APIKeyEntry], daprAPIToken: String? = nil, publicMetrics: Bool = false) {
        self.keys = keys
        self.daprAPIToken = daprAPIToken
        self.publicMetrics = publicMetrics
    }

    init(source: ConfigSource) throws(ConfigurationError) {
        let count = source.itemCount("auth.keys")
        for field in ["name", "hash", "role", "tenant", "expires", "rate_limit"] { source.noteListItemKey("auth.keys.N.\(field)") }
        if count == 0, source.string("auth.keys") != nil || source.stringList("auth.keys") != nil {
            throw ConfigurationError(key: "auth.keys", reason: "must be a list of mappings with name, hash and role")
        }
        guard count > 0 else {
            throw ConfigurationError(key: "auth.keys", reason: "at least one key is required when the auth section is present (remove the section to turn access control off)")
        }
        var keys: [APIKeyEntry] = []
        for i in 0..<count {
            let p = "auth.keys.\(i)."
            let shown = "auth.keys[\(i)]"
            guard let name = source.string(p + "name"), !name.isEmpty else {
                throw ConfigurationError(key: shown + ".name", reason: "is required")
            }
            let label = "\(shown).", who = "key '\(name)'"
            guard name.utf8.count <= 128, !name.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
                throw ConfigurationError(key: label + "name", reason: "\(who): must be 1 to 128 printable characters without spaces")
            }
            if keys.contains(where: { $0.name == name }) {
                throw ConfigurationError(key: label + "name", reason: "\(who): the name is used by another key")
            }
            guard let hashText = source.string(p + "hash") else {
                throw ConfigurationError(key: label + "hash", reason: "\(who): is required (sha256:<hex>; `sluice keys new` prints it)")
            }
            guard let hash = APIKeyEntry.parseHash(hashText) else {
                throw ConfigurationError(key: label + "hash", reason: "\(who): '\(hashText)' is not sha256:<64 hex digits>")
            }
            if let other = keys.first(where: { $0.hash == hash }) {
                throw ConfigurationError(key: label + "hash", reason: "\(who): the same key is already configured as '\(other.name)'")
            }
            guard let roleText = source.string(p + "role") else {
                throw ConfigurationError(key: label + "role", reason: "\(who): is required (ingest, query or admin)")
            }
            guard let role = APIKeyRole(rawValue: roleText.lowercased()) else {
                throw ConfigurationError(key: label + "role", reason: "\(who): '\(roleText)' is not ingest, query or admin")
            }
            var tenant: String?
            if let t = source.string(p + "tenant") {
                guard TenantID.isValid(t) else {
                    throw ConfigurationError(key: label + "tenant", reason: "\(who): the tenant must be 1 to 256 printable characters")
                }
                tenant = t
            }
            var expires: Int64?
            if let e = source.string(p + "expires") {
                guard let ms = QueryTime.parse(e) else {
                    throw ConfigurationError(key: label + "expires", reason: "\(who): '\(e)' is not an RFC 3339 time (2026-12-31T00:00:00Z)")
                }
                expires = ms
            }
            var limit: RateLimit?
            if let r = source.string(p + "rate_limit") {
                guard let parsed = RateLimit.parse(r) else {
                    throw ConfigurationError(key: label + "rate_limit", reason: "\(who): '\(r)' is not N/s, N/min or N/h")
                }
                limit = parsed
            }
            keys.append(APIKeyEntry(name: name, hash: hash, role: role, tenant: tenant, expiresAtMs: expires, rateLimit: limit))
        }
        self.keys = keys
        if let token = source.string("auth.dapr_api_token") {
            guard !token.isEmpty else { throw ConfigurationError(key: "auth.dapr_api_token", reason: "must not be empty when set") }
            daprAPIToken = token
        } else {
            daprAPIToken = nil
        }
        publicMetrics = try source.bool("auth.public_metrics", default: false)
    }
}

/// `rate_limits.*`: per-tenant request limits, seed 004's `RATE_LIMIT_INGESTION` and
/// `RATE_LIMIT_QUERY`. They apply with or without `auth`; the tenant is the key's tenant,
/// else the request's `X-Tenant-ID`. Requests naming no tenant are limited only per key.
public struct TenantRateLimits: Sendable, Hashable {
    /// `rate_limits.ingestion`: ingest and Dapr requests per tenant.
    public var ingestion: RateLimit?
    /// `rate_limits.query`: side-port query requests per tenant.
    public var query: RateLimit?

    public init(ingestion: RateLimit? = nil, query: RateLimit? = nil) {
        self.ingestion = ingestion
        self.query = query
    }

    init(source: ConfigSource) throws(ConfigurationError) {
        for (key, path) in [("ingestion", \TenantRateLimits.ingestion), ("query", \TenantRateLimits.query)] {
            guard let text = source.string("rate_limits.\(key)") else { continue }
            guard let limit = RateLimit.parse(text) else {
                throw ConfigurationError(key: "rate_limits.\(key)", reason: "'\(text)' is not N/s, N/min or N/h")
            }
            self[keyPath: path] = limit
        }
    }

    public var isEmpty: Bool { ingestion == nil && query == nil }
}

/// The tenant syntax every entry point accepts (a key's `tenant`, `X-Tenant-ID`).
public enum TenantID {
    public static func isValid(_ t: String) -> Bool {
        !t.isEmpty && t.utf8.count <= 256 && !t.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
    }
}
