public import Logging
public import Pipeline

/// Talks to ClickHouse's HTTP interface through libcurl, on a fixed pool of dedicated
/// OS threads.
///
/// Guarantees:
/// - `curl_easy_perform` blocks, so it never runs on Swift's cooperative pool: each
///   request is queued and performed by one of ``ClickHouseConfiguration/maxConnections``
///   threads, and the calling task is resumed through a continuation.
/// - Each thread owns one libcurl handle for its whole life, so its keep-alive
///   connection is reused across requests (see ``ClickHouseRequestMetrics/connectionsOpened``).
/// - A request that fails on a *reused* connection before any response byte arrived
///   (the server closed it after `keep_alive_timeout`) is resent once on a fresh
///   connection. Every other retry is the caller's decision, guided by
///   ``ClickHouseError/isRetryable``.
/// - Success means HTTP 200, no `X-ClickHouse-Exception-Code`, and a body that is not a
///   ClickHouse exception.
/// - Cancelling the calling task removes a queued request, or aborts a running one.
/// - ``shutdown()`` lets running requests finish, fails queued ones with a
///   ``ClickHouseError/Kind/shutdown`` error, and joins the threads.
///
/// Statements address tables as `` `database`.`table` `` with the configured database;
/// ``query(_:settings:parameters:)`` and ``execute(_:settings:)`` run SQL as given, so
/// qualify names there.
public final class ClickHouseHTTPTransport: Sendable {
    private let pool: TransportThreadPool
    /// The configuration the transport was created with.
    public let configuration: ClickHouseConfiguration

    /// Validates the configuration and starts the transport threads.
    ///
    /// - Parameters:
    ///   - observer: called after every request, successful or not, with what it cost.
    ///     It runs on the transport thread that performed the request, so several calls
    ///     may run at once; keep it cheap and non-blocking (increment counters).
    /// - Throws: a ``ClickHouseError/Kind/configuration`` error naming the bad key.
    public init(
        configuration: ClickHouseConfiguration,
        logger: Logger = Logger(label: "sluice.clickhouse.http"),
        observer: (@Sendable (ClickHouseRequestMetrics) -> Void)? = nil
    ) throws(ClickHouseError) {
        let baseURL: String
        do {
            try configuration.validate()
            baseURL = try configuration.validatedBaseURL()
        } catch {
            throw ClickHouseError(kind: .configuration, message: error.description)
        }
        guard CurlGlobal.initialized else {
            throw ClickHouseError(kind: .configuration, message: "curl_global_init failed")
        }
        var headers = ["X-ClickHouse-User: \(configuration.user)"]
        if !configuration.password.isEmpty {
            headers.append("X-ClickHouse-Key: \(configuration.password)")
        }
        let options = CurlTransferOptions(
            connectTimeoutMilliseconds: Self.milliseconds(configuration.connectTimeout),
            timeoutMilliseconds: Self.milliseconds(configuration.requestTimeout),
            headers: headers,
            maxResponseBytes: 1 << 30)
        self.configuration = configuration
        self.pool = TransportThreadPool(
            baseURL: baseURL, options: options, threadCount: configuration.maxConnections,
            queueCapacity: configuration.maxQueuedRequests, logger: logger, observer: observer)
        pool.startThreads()
    }

    deinit {
        // Threads hold the pool, not this façade: they finish what is running and exit.
        pool.beginShutdown()
    }

    // MARK: Operations

    /// Inserts an already-encoded Native body:
    /// `POST /?query=INSERT INTO `db`.`table` (`c1`, ...) FORMAT Native[&decompress=1]&...`.
    ///
    /// - Parameters:
    ///   - table: table name in the configured database (quoted here).
    ///   - columns: the column names, in the order the Native blocks carry them.
    ///   - body: the request body; sent without a copy and retained until the transfer ends.
    ///   - compressed: whether `body` is ClickHouse compressed frames (`decompress=1`)
    ///     rather than a raw Native stream.
    ///   - settings: query-level settings as URL parameters (e.g. `insert_deduplication_token`).
    ///   - queryID: `query_id`, visible in `system.query_log`.
    /// - Returns: what the request cost; also reported to the observer.
    @discardableResult
    public func insert(
        table: String, columns: [String], body: ByteBlob, compressed: Bool,
        settings: [(String, String)] = [], queryID: String? = nil
    ) async throws(ClickHouseError) -> ClickHouseRequestMetrics {
        guard !table.isEmpty else { throw ClickHouseError(kind: .invalidRequest, message: "empty table name") }
        var parameters = [("query", ClickHouseSQL.insertStatement(database: configuration.database, table: table, columns: columns))]
        if compressed { parameters.append(("decompress", "1")) }
        if let queryID { parameters.append(("query_id", queryID)) }
        try parameters.append(contentsOf: Self.checked(settings: settings))
        let request = HTTPRequest(method: .post, url: pool.url(parameters), body: .blob(body))
        return try await pool.submit(request, operation: .insert).metrics
    }

    /// Runs a statement and returns the raw response body (in the statement's `FORMAT`,
    /// TabSeparated by default).
    ///
    /// The SQL travels as the POST body, so its length is not limited by URL limits.
    /// `wait_end_of_query=1` is added unless `settings` sets it, so that an exception
    /// in the middle of a result becomes an error status instead of a truncated 200.
    ///
    /// - Parameters:
    ///   - parameters: values for `{name:Type}` placeholders, sent as `param_<name>` URL
    ///     arguments. Only servers with query parameters understand them (19.11+; see
    ///     ``ClickHouseServerVersion/hasQueryParameters``): 18.16 answers
    ///     `Unknown setting param_<name>` (a configuration error). On old servers,
    ///     quote values into the SQL with ``ClickHouseSQL/quoteString(_:)`` instead.
    public func query(
        _ sql: String, settings: [(String, String)] = [], parameters: [String: String] = [:]
    ) async throws(ClickHouseError) -> [UInt8] {
        try await run(sql, settings: settings, parameters: parameters, operation: .query).body
    }

    /// Runs a statement whose result is not needed (DDL, `OPTIMIZE`, `SYSTEM ...`).
    public func execute(_ sql: String, settings: [(String, String)] = []) async throws(ClickHouseError) {
        _ = try await run(sql, settings: settings, parameters: [:], operation: .execute)
    }

    /// `GET /ping`: succeeds when the server answers `Ok.`. Cheap liveness only; a
    /// readiness check should also run a query.
    public func ping() async throws(ClickHouseError) {
        let request = HTTPRequest(method: .get, url: pool.baseURL + "/ping", body: .none)
        let response = try await pool.submit(request, operation: .ping)
        guard response.body.starts(with: Array("Ok.".utf8)) else {
            throw ClickHouseError(
                kind: .server, httpStatus: response.status,
                message: "unexpected /ping answer: " + String(decoding: response.body.prefix(200), as: UTF8.self))
        }
    }

    /// The server's version, from `SELECT version()` (works on every release).
    public func serverVersion() async throws(ClickHouseError) -> ClickHouseServerVersion {
        let body = try await query("SELECT version()")
        let text = String(decoding: body, as: UTF8.self)
        guard let version = ClickHouseServerVersion(parsing: text) else {
            throw ClickHouseError(kind: .server, message: "cannot parse server version '\(text.trimmingASCIIWhitespace())'")
        }
        return version
    }

    /// The columns of a table in the configured database, with their exact types and
    /// default expressions (`DESCRIBE TABLE ... FORMAT TabSeparated`).
    public func describe(table: String) async throws(ClickHouseError) -> [ClickHouseColumnDescription] {
        let sql = "DESCRIBE TABLE \(ClickHouseSQL.qualifiedName(database: configuration.database, table: table)) FORMAT TabSeparated"
        return try ClickHouseColumnDescription.parseDescribeOutput(try await query(sql))
    }

    // MARK: Introspection and lifecycle

    /// Totals since the transport started.
    public var statistics: ClickHouseTransportStatistics { pool.statistics }

    /// Whether the calling code runs on a transport thread (of any transport). The
    /// observer runs there; tests use this to prove requests never ran on the
    /// cooperative pool.
    public static var isCurrentThreadATransportThread: Bool { TransportThreadMarker.isCurrentThreadMarked }

    /// Number of transport threads still running: ``ClickHouseConfiguration/maxConnections``
    /// until shutdown, then 0.
    public var threadCount: Int { pool.statistics.threads }

    /// Stops the transport and waits, without blocking a thread, until every transport
    /// thread has exited. Requests already running finish (bounded by the request
    /// timeout); queued ones fail with a ``ClickHouseError/Kind/shutdown`` error, as do
    /// later calls. Safe to call more than once.
    public func shutdown() async {
        pool.beginShutdown()
        await pool.waitForThreads()
    }

    /// Refuses new requests and fails the queued ones, without waiting for the requests
    /// that threads are sending; for a process that is about to exit.
    public func stopAccepting() {
        pool.beginShutdown()
    }

    /// Like the async `shutdown()`, for synchronous callers: blocks the calling thread
    /// until the transport threads have been joined.
    public func shutdown() {
        pool.beginShutdown()
        pool.joinThreads()
    }

    /// The transport's rule for resending a failed request once on a fresh connection:
    /// the connection was a kept-alive one (`connectionsOpened == 0`), not a single
    /// response byte arrived, and libcurl reported an empty reply (52), a send failure
    /// (55) or a receive failure such as a reset (56). That is the signature of a
    /// server that closed an idle connection just as the request was written, so
    /// nothing was processed. libcurl 7.88 already handles most such cases itself; this
    /// is the safety net for the paths where it does not.
    public static func shouldResendOnFreshConnection(curlCode: Int, connectionsOpened: Int, sawResponse: Bool) -> Bool {
        guard connectionsOpened == 0, !sawResponse else { return false }
        return curlCode == 52 || curlCode == 55 || curlCode == 56
    }

    // MARK: Helpers

    private func run(
        _ sql: String, settings: [(String, String)], parameters: [String: String], operation: ClickHouseRequestMetrics.Operation
    ) async throws(ClickHouseError) -> HTTPResponse {
        var urlParameters = try Self.checked(settings: settings)
        if !urlParameters.contains(where: { $0.0 == "wait_end_of_query" }) {
            urlParameters.append(("wait_end_of_query", "1"))
        }
        for name in parameters.keys.sorted() {
            guard ClickHouseSQL.isValidParameterName(name), let value = parameters[name] else {
                throw ClickHouseError(kind: .invalidRequest, message: "invalid query parameter name '\(name)'")
            }
            urlParameters.append(("param_" + name, value))
        }
        let request = HTTPRequest(method: .post, url: pool.url(urlParameters), body: .bytes(Array(sql.utf8)))
        return try await pool.submit(request, operation: operation)
    }

    /// URL parameters the transport sets itself or that would change who runs the
    /// statement; as "settings" they would silently override or duplicate them.
    private static let reservedParameterNames: Set<String> = [
        "query", "database", "user", "password", "quota_key", "query_id", "session_id", "session_timeout",
        "session_check", "compress", "decompress", "default_format", "role",
    ]

    private static func checked(settings: [(String, String)]) throws(ClickHouseError) -> [(String, String)] {
        for (name, _) in settings {
            guard ClickHouseSQL.isValidParameterName(name) else {
                throw ClickHouseError(kind: .invalidRequest, message: "invalid setting name '\(name)'")
            }
            guard !reservedParameterNames.contains(name), !name.hasPrefix("param_") else {
                throw ClickHouseError(kind: .invalidRequest, message: "'\(name)' is set by the transport, not a setting")
            }
        }
        return settings
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return Int.max }
        return Swift.max(1, Int(ms.partialValue + attoseconds / 1_000_000_000_000_000))
    }
}
