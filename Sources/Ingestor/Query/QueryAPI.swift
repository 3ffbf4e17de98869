import Pipeline

/// One HTTP request to the query side-port, independent of the HTTP server library, so
/// the API is tested without a socket and mounted into Hummingbird by a thin adapter.
public struct QueryHTTPRequest: Sendable {
    public var method: String
    /// The path without the query string, percent-decoding not applied.
    public var path: String
    /// Decoded query-string parameters in order.
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The caller's API key, when access control is on. A tenant-scoped key fixes the
    /// query scope to its tenant, whatever the request says.
    public var grant: AccessGrant?

    public init(
        method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [], body: [UInt8] = [], grant: AccessGrant? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.grant = grant
    }

    /// A JSON POST.
    public static func post(_ path: String, json: String, headers: [(String, String)] = [], grant: AccessGrant? = nil) -> QueryHTTPRequest {
        QueryHTTPRequest(method: "POST", path: path, headers: headers, body: Array(json.utf8), grant: grant)
    }

    /// A GET with query parameters.
    public static func get(_ path: String, query: [(String, String)] = [], headers: [(String, String)] = [], grant: AccessGrant? = nil) -> QueryHTTPRequest {
        QueryHTTPRequest(method: "GET", path: path, query: query, headers: headers, grant: grant)
    }

    /// The first header of that name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }

    public func parameter(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
}

/// The answer to a ``QueryHTTPRequest``: a status and a JSON body.
public struct QueryHTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Decides whose rows a request without an API key may see (access control off). The
/// default reads `X-Tenant-ID`; requests with a key are scoped by ``QueryAPI/grantScope``.
public typealias QueryScopeResolver = @Sendable (QueryHTTPRequest) throws(QueryError) -> QueryScope

/// The query side-port's routes: the general query, the seed-compatible APIs and the
/// catalog. Each handler parses its request into ``QuerySpec``s (validated against the
/// catalog), runs them through ``QueryService`` and writes the route's response shape.
///
/// | method | path | shape |
/// |---|---|---|
/// | POST | `/v1/query` | ``QueryRequest`` → ``QueryResult/jsonBody`` |
/// | POST | `/observability/analytics` | seed 000 |
/// | POST | `/gateway/analytics` | seed 003 |
/// | GET | `/gateway/geographical-stats`, `/gateway/top-routes`, `/gateway/client-analytics`, `/gateway/blocking-stats` | seed 003 |
/// | POST | `/api/v1/metrics/query` | seed 004 (raw or hourly aggregates) |
/// | GET | `/v1/catalog/datasets`, `/v1/catalog/metrics`, `/v1/catalog/labels`, `/v1/catalog/labels/{name}/values` | discovery |
///
/// Errors are `{"error": kind, "message": ..., "parameter"?: ..., "limit"?: ...}` with
/// 400 (bad parameter or limit), 404, 502/503 (ClickHouse) or 504 (`query.timeout`).
public final class QueryAPI: Sendable {
    public let service: QueryService
    let resolveScope: QueryScopeResolver

    public init(service: QueryService, scope: @escaping QueryScopeResolver = QueryAPI.headerScope) {
        self.service = service
        self.resolveScope = scope
    }

    /// Every route, for mounting into an HTTP router (`:name` is a path parameter).
    public static let routes: [(method: String, path: String)] = [
        ("POST", "/v1/query"),
        ("POST", "/observability/analytics"),
        ("POST", "/gateway/analytics"),
        ("GET", "/gateway/geographical-stats"),
        ("GET", "/gateway/top-routes"),
        ("GET", "/gateway/client-analytics"),
        ("GET", "/gateway/blocking-stats"),
        ("POST", "/api/v1/metrics/query"),
        ("GET", "/v1/catalog/datasets"),
        ("GET", "/v1/catalog/metrics"),
        ("GET", "/v1/catalog/labels"),
        ("GET", "/v1/catalog/labels/:name/values"),
    ]

    /// `X-Tenant-ID` when present (a tenant-scoped request), otherwise every tenant.
    public static let headerScope: QueryScopeResolver = { request throws(QueryError) in
        guard let tenant = request.header("X-Tenant-ID") else { return .unrestricted }
        guard !tenant.isEmpty, tenant.utf8.count <= 256, !tenant.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw QueryError.invalid("X-Tenant-ID", "the tenant must be 1 to 256 printable characters")
        }
        return .tenant(tenant)
    }

    /// The scope of a request made with an API key: the key's tenant when it is scoped
    /// (an `X-Tenant-ID` naming another tenant is refused, 403), else whatever
    /// `X-Tenant-ID` narrows it to.
    public static func grantScope(_ grant: AccessGrant, _ request: QueryHTTPRequest) throws(QueryError) -> QueryScope {
        guard let tenant = grant.tenant else { return try headerScope(request) }
        if let asked = request.header("X-Tenant-ID"), asked != tenant {
            throw QueryError(kind: .forbidden, message: "key '\(grant.keyName)' is scoped to another tenant than X-Tenant-ID names", parameter: "X-Tenant-ID")
        }
        return .tenant(tenant)
    }

    public func handle(_ request: QueryHTTPRequest) async -> QueryHTTPResponse {
        do {
            let scope: QueryScope
            if let grant = request.grant {
                scope = try Self.grantScope(grant, request)
            } else {
                scope = try resolveScope(request)
            }
            let body = try await route(request, scope: scope)
            return QueryHTTPResponse(status: 200, body: body)
        } catch {
            return QueryHTTPResponse(status: error.httpStatus, body: error.jsonBody)
        }
    }

    private func route(_ r: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        switch (r.method, r.path) {
        case ("POST", "/v1/query"):
            let spec = try QueryRequest.parse(body: r.body, catalog: service.catalog)
            return try await service.run(spec, scope: scope).jsonBody
        case ("POST", "/observability/analytics"): return try await observabilityAnalytics(r, scope: scope)
        case ("POST", "/gateway/analytics"): return try await gatewayAnalytics(r, scope: scope)
        case ("GET", "/gateway/geographical-stats"): return try await gatewayGeography(r, scope: scope)
        case ("GET", "/gateway/top-routes"): return try await gatewayTopRoutes(r, scope: scope)
        case ("GET", "/gateway/client-analytics"): return try await gatewayClients(r, scope: scope)
        case ("GET", "/gateway/blocking-stats"): return try await gatewayBlocking(r, scope: scope)
        case ("POST", "/api/v1/metrics/query"): return try await metricsQuery(r, scope: scope)
        case ("GET", "/v1/catalog/datasets"): return catalogDatasets()
        case ("GET", "/v1/catalog/metrics"): return try await catalogMetrics(r, scope: scope)
        case ("GET", "/v1/catalog/labels"): return try await catalogLabels(r, scope: scope)
        default:
            let prefix = "/v1/catalog/labels/", suffix = "/values"
            if r.method == "GET", r.path.hasPrefix(prefix), r.path.hasSuffix(suffix), r.path.count > prefix.count + suffix.count {
                let raw = String(r.path.dropFirst(prefix.count).dropLast(suffix.count))
                return try await catalogLabelValues(r, name: Self.percentDecode(raw), scope: scope)
            }
            throw QueryError(kind: .notFound, message: "no route \(r.method) \(r.path)")
        }
    }

    static func percentDecode(_ s: String) -> String {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count, let v = UInt8(String(decoding: b[i + 1...i + 2], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Shared helpers for the seed routes

    /// A time query parameter, or `fallback` when absent.
    func timeParameter(_ r: QueryHTTPRequest, _ name: String, default fallback: Int64) throws(QueryError) -> Int64 {
        guard let text = r.parameter(name) else { return fallback }
        guard let ms = QueryTime.parse(text) else { throw QueryError.invalid(name, "'\(text)' is not an RFC 3339 timestamp") }
        return ms
    }

    /// Now, rounded down to the second so repeated requests without a range share a
    /// cache entry for the cache TTL.
    static func nowMs() -> Int64 { WallClock.nowNanos() / 1_000_000_000 * 1000 }

    /// `a,b,c` as a list (empty items dropped).
    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
    }

    /// A filter on a dimension whose values were given by a caller (checked against the
    /// dimension's type; a bad value is a 400 naming `parameter`).
    func filter(_ dataset: String, _ dimension: String, _ values: [String], parameter: String) throws(QueryError) -> QuerySpec.Filter? {
        guard !values.isEmpty else { return nil }
        guard let dim = try service.dataset(dataset).dimension(named: dimension) else {
            throw QueryError.invalid(parameter, "unknown dimension '\(dimension)'")
        }
        guard values.count <= QueryRequest.maxFilterValues else { throw QueryError.invalid(parameter, "too many values") }
        var out: [String] = []
        for v in values {
            guard let c = QueryLiteral.canonical(v, kind: dim.kind) else {
                throw QueryError.invalid(parameter, "'\(v)' is not a valid \(dim.kind.rawValue) value")
            }
            if !out.contains(c) { out.append(c) }
        }
        return QuerySpec.Filter(dimension: dimension, values: out)
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
