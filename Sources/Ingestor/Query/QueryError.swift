/// Why a query was not answered, as the HTTP API reports it.
///
/// Every rejection names what the caller must change: the request parameter at fault
/// (`parameter`, e.g. `group_by[1]`) or the configured limit it hit (`limit`, e.g.
/// `query.max_range`). Server-side failures carry no SQL and no server message detail
/// beyond ClickHouse's error code, so a response never echoes generated SQL.
public struct QueryError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        /// The request is malformed or names something the catalog does not have (400).
        case invalidParameter = "invalid_parameter"
        /// A configured limit was exceeded by the request itself (400).
        case limitExceeded = "limit_exceeded"
        /// The query ran longer than `query.timeout` (504).
        case timeout
        /// The caller's key may not see what the request asks for (403).
        case forbidden = "wrong_tenant"
        /// No such route or resource (404).
        case notFound = "not_found"
        /// ClickHouse could not be reached or failed (503 / 502).
        case unavailable
        case upstream = "upstream_error"
    }

    public let kind: Kind
    public let message: String
    /// The request parameter at fault, in the request's own spelling.
    public let parameter: String?
    /// The configuration key of the limit that was hit.
    public let limit: String?

    public init(kind: Kind, message: String, parameter: String? = nil, limit: String? = nil) {
        self.kind = kind
        self.message = message
        self.parameter = parameter
        self.limit = limit
    }

    public static func invalid(_ parameter: String, _ message: String) -> QueryError {
        QueryError(kind: .invalidParameter, message: message, parameter: parameter)
    }

    public static func limit(_ key: String, _ message: String, parameter: String? = nil) -> QueryError {
        QueryError(kind: .limitExceeded, message: message, parameter: parameter, limit: key)
    }

    public var httpStatus: Int {
        switch kind {
        case .invalidParameter, .limitExceeded: 400
        case .timeout: 504
        case .forbidden: 403
        case .notFound: 404
        case .unavailable: 503
        case .upstream: 502
        }
    }

    public var description: String {
        var s = "\(kind.rawValue): \(message)"
        if let parameter { s += " (parameter \(parameter))" }
        if let limit { s += " (limit \(limit))" }
        return s
    }

    /// `{"error": kind, "message": ..., "parameter": ..., "limit": ...}`.
    public var jsonBody: [UInt8] {
        JSONWriter.object { w in
            w.field("error", kind.rawValue)
            w.field("message", message)
            if let parameter { w.field("parameter", parameter) }
            if let limit { w.field("limit", limit) }
        }
    }
}
