/// Why a ClickHouse request failed, and whether sending it again can help.
///
/// The sink's retry loop and dead-letter logic depend on the distinction: a network
/// blip or an overloaded server heals by itself, rows of the wrong shape never do, and a
/// wrong password needs an operator. ``isRetryable`` is derived from ``kind`` alone so
/// that the two can never disagree.
public struct ClickHouseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure. Each case documents whether a retry can help.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The connection could not be made or broke mid-request (refused, reset, DNS).
        /// Retryable: with dedup tokens or identical blocks, resending is safe.
        case network
        /// Connecting or the whole request took longer than configured. Retryable.
        case timeout
        /// The server reported a condition of its own (too many parts, memory limit,
        /// checksum mismatch after a corrupted transfer, an unclassified 5xx). Retryable
        /// after a backoff.
        case server
        /// The rows themselves are wrong (unparsable values, type mismatch, corrupt
        /// Native stream). Not retryable: the same bytes fail the same way, so the sink
        /// dead-letters them instead of looping.
        case data
        /// The statement is wrong (syntax error, unknown function, object already
        /// exists). Not retryable: this is a bug in the SQL, not in the rows.
        case invalidRequest
        /// The server refuses us until an operator acts: authentication, permissions,
        /// unknown database, table, column, setting or type. Not retryable.
        case configuration
        /// The transport's queue of waiting requests is full. Retryable: nothing was sent.
        case overloaded
        /// The calling task was cancelled before the request completed. Not retryable:
        /// the caller gave up on it.
        case cancelled
        /// The transport was shut down. Not retryable on this transport instance.
        case shutdown
    }

    /// The class of failure.
    public let kind: Kind
    /// The HTTP status, when a response arrived.
    public let httpStatus: Int?
    /// The ClickHouse exception code (`Code: 60`), when the server sent one.
    public let code: Int?
    /// The symbolic error name modern servers append (`UNKNOWN_TABLE`), when present.
    public let codeName: String?
    /// The server's message (trimmed, at most 4 KiB) or a description of the local failure.
    public let message: String
    /// libcurl's result code for transport-level failures, for diagnostics.
    public let curlCode: Int?

    public init(kind: Kind, httpStatus: Int? = nil, code: Int? = nil, codeName: String? = nil, message: String, curlCode: Int? = nil) {
        self.kind = kind
        self.httpStatus = httpStatus
        self.code = code
        self.codeName = codeName
        self.message = message
        self.curlCode = curlCode
    }

    /// Whether sending the same request again (after a backoff) can succeed.
    public var isRetryable: Bool {
        switch kind {
        case .network, .timeout, .server, .overloaded: true
        case .data, .invalidRequest, .configuration, .cancelled, .shutdown: false
        }
    }

    public var description: String {
        var parts = ["ClickHouse \(kind.rawValue) error"]
        if let httpStatus { parts.append("HTTP \(httpStatus)") }
        if let code { parts.append("code \(code)" + (codeName.map { " \($0)" } ?? "")) }
        if let curlCode { parts.append("curl \(curlCode)") }
        parts.append(isRetryable ? "retryable" : "not retryable")
        return parts.joined(separator: ", ") + ": " + message
    }
}
