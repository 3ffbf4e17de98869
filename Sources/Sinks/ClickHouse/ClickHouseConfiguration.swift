/// How Sluice reaches ClickHouse over HTTP.
///
/// A plain value with no dependency on any configuration library: the daemon's config
/// loader fills it in from the `clickhouse.*` keys, and `sluice check-config` calls
/// ``validate()`` before anything connects, so a typo is reported with the key that
/// holds it rather than as a connection error at the first flush.
public struct ClickHouseConfiguration: Sendable, Hashable {
    /// The compression applied to INSERT bodies (`clickhouse.compression`).
    ///
    /// Sluice frames bodies with ClickHouse's own compressed-block format and sends
    /// `decompress=1` (not HTTP `Content-Encoding`), because 18.16 only understands gzip
    /// and deflate there, while the framed LZ4/ZSTD path works on every version.
    public enum Compression: String, Sendable, Hashable, CaseIterable {
        /// LZ4 frames: cheap to produce, the default of every ClickHouse client.
        case lz4
        /// ZSTD frames: smaller bodies for a little more CPU; worth it on slow links.
        case zstd
        /// Frames with method NONE: for debugging the wire format only.
        case none

        /// Parses the configuration text, naming `key` when it is not one of the choices.
        public init(parsing text: String, key: String = "clickhouse.compression") throws(ClickHouseConfigurationError) {
            guard let value = Compression(rawValue: text.lowercased()) else {
                throw ClickHouseConfigurationError(
                    key: key, reason: "'\(text)' is not one of \(Compression.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self = value
        }
    }

    /// Base URL of the HTTP interface (`clickhouse.url`), scheme, host and port only,
    /// e.g. `http://127.0.0.1:8123`. A path prefix is kept (for a reverse proxy), but a
    /// query string or fragment is rejected because Sluice builds the query string itself.
    public var url: String
    /// Database holding Sluice's tables (`clickhouse.database`). Every statement the
    /// transport builds qualifies table names with it, so the server's default database
    /// never matters.
    public var database: String
    /// User name (`clickhouse.user`), sent as `X-ClickHouse-User`: headers keep the
    /// credentials out of URLs, which end up in proxy logs and `system.query_log`.
    public var user: String
    /// Password (`clickhouse.password`), sent as `X-ClickHouse-Key`; omitted when empty.
    public var password: String
    /// Compression of INSERT bodies (`clickhouse.compression`).
    public var compression: Compression
    /// Limit for establishing a TCP connection (`clickhouse.connect_timeout`). Short,
    /// because an unreachable server should turn into a retryable error quickly.
    public var connectTimeout: Duration
    /// Limit for a whole request, upload and response included (`clickhouse.request_timeout`).
    /// It bounds how long a stuck server can hold a transport thread, and how long
    /// ``ClickHouseHTTPTransport/shutdown()`` may wait for requests in flight.
    public var requestTimeout: Duration
    /// Number of requests that may run at once (`clickhouse.max_connections`). The
    /// transport runs exactly this many OS threads, each with one keep-alive connection.
    public var maxConnections: Int
    /// Requests that may wait for a free connection (`clickhouse.max_queued_requests`).
    /// Past that, a request fails at once with a retryable `overloaded` error: every
    /// queued request pins its body in memory, so an unbounded wait list would hide a
    /// caller that ignores back-pressure.
    public var maxQueuedRequests: Int

    public init(
        url: String = "http://127.0.0.1:8123",
        database: String = "sluice",
        user: String = "default",
        password: String = "",
        compression: Compression = .lz4,
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(60),
        maxConnections: Int = 4,
        maxQueuedRequests: Int = 1024
    ) {
        self.url = url
        self.database = database
        self.user = user
        self.password = password
        self.compression = compression
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
        self.maxQueuedRequests = maxQueuedRequests
    }

    /// Checks every field and throws an error that names the offending key.
    public func validate() throws(ClickHouseConfigurationError) {
        _ = try validatedBaseURL()
        if database.isEmpty || database.count > 255 || database.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "`" }) {
            throw ClickHouseConfigurationError(
                key: "clickhouse.database", reason: "'\(database)' must be 1 to 255 characters without control characters or backticks")
        }
        // Credentials travel in HTTP headers: a CR or LF would let them inject headers.
        if user.isEmpty || user.unicodeScalars.contains(where: Self.isHeaderUnsafe) {
            throw ClickHouseConfigurationError(key: "clickhouse.user", reason: "must be non-empty and free of control characters")
        }
        if password.unicodeScalars.contains(where: Self.isHeaderUnsafe) {
            throw ClickHouseConfigurationError(key: "clickhouse.password", reason: "must not contain control characters")
        }
        if connectTimeout <= .zero {
            throw ClickHouseConfigurationError(key: "clickhouse.connect_timeout", reason: "must be positive, got \(connectTimeout)")
        }
        if requestTimeout <= .zero {
            throw ClickHouseConfigurationError(key: "clickhouse.request_timeout", reason: "must be positive, got \(requestTimeout)")
        }
        if !(1...256).contains(maxConnections) {
            throw ClickHouseConfigurationError(key: "clickhouse.max_connections", reason: "must be between 1 and 256, got \(maxConnections)")
        }
        if maxQueuedRequests < 1 {
            throw ClickHouseConfigurationError(key: "clickhouse.max_queued_requests", reason: "must be at least 1, got \(maxQueuedRequests)")
        }
    }

    /// ``url`` checked and without trailing slashes; the transport appends `/?...` or `/ping`.
    public func validatedBaseURL() throws(ClickHouseConfigurationError) -> String {
        let key = "clickhouse.url"
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ClickHouseConfigurationError(key: key, reason: "'\(url)' must start with http:// or https://")
        }
        if url.contains("?") || url.contains("#") {
            throw ClickHouseConfigurationError(key: key, reason: "'\(url)' must not carry a query string or fragment")
        }
        if url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f }) {
            throw ClickHouseConfigurationError(key: key, reason: "'\(url)' must not contain spaces or control characters")
        }
        let afterScheme = url.drop(while: { $0 != ":" }).dropFirst(3)
        let authority = afterScheme.prefix(while: { $0 != "/" })
        let host = authority.split(separator: "@").last.map(String.init) ?? ""
        if host.isEmpty || host.hasPrefix(":") {
            throw ClickHouseConfigurationError(key: key, reason: "'\(url)' has no host")
        }
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") {
            let port = host[host.index(after: colon)...]
            guard let number = Int(port), (1...65535).contains(number) else {
                throw ClickHouseConfigurationError(key: key, reason: "'\(url)' has an invalid port '\(port)'")
            }
        }
        var trimmed = url
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    private static func isHeaderUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7f
    }
}

/// A configuration value that cannot work, with the key that holds it.
public struct ClickHouseConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration key, e.g. `clickhouse.url`.
    public let key: String
    /// What is wrong with its value.
    public let reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(key): \(reason)" }
}
