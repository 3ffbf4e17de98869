/// What one HTTP request to ClickHouse cost, for metrics and for tests.
///
/// Reported for every request, successful or not, through the transport's observer, and
/// returned by ``ClickHouseHTTPTransport/insert(table:columns:body:compressed:settings:queryID:)``.
/// ``connectionsOpened`` is what proves keep-alive reuse: it is 0 when the request ran on
/// a connection left open by an earlier one.
public struct ClickHouseRequestMetrics: Sendable, Hashable {
    /// Which transport call issued the request.
    public enum Operation: String, Sendable, Hashable {
        case insert, query, execute, ping
    }

    /// Which transport call issued the request.
    public var operation: Operation
    /// Time spent in libcurl, from the start of the transfer to its end, including a
    /// retry on a fresh connection.
    public var elapsed: Duration
    /// Time the request waited in the queue for a free connection.
    public var queueWait: Duration
    /// Request body bytes sent (the final attempt).
    public var bytesSent: Int
    /// Response body bytes received.
    public var bytesReceived: Int
    /// New TCP connections opened for this request (libcurl's `CURLINFO_NUM_CONNECTS`,
    /// summed over attempts): 0 means a kept-alive connection was reused.
    public var connectionsOpened: Int
    /// Whether a reused connection died before any response byte and the request was
    /// resent once on a fresh one.
    public var retriedOnFreshConnection: Bool
    /// The HTTP status, when a response arrived.
    public var httpStatus: Int?
    /// The failure, or nil on success.
    public var failure: ClickHouseError.Kind?
    /// Index (0-based) of the transport thread that ran the request.
    public var workerIndex: Int

    /// Whether the request opened at least one new connection.
    public var openedNewConnection: Bool { connectionsOpened > 0 }

    public init(
        operation: Operation, elapsed: Duration = .zero, queueWait: Duration = .zero, bytesSent: Int = 0,
        bytesReceived: Int = 0, connectionsOpened: Int = 0, retriedOnFreshConnection: Bool = false,
        httpStatus: Int? = nil, failure: ClickHouseError.Kind? = nil, workerIndex: Int = 0
    ) {
        self.operation = operation
        self.elapsed = elapsed
        self.queueWait = queueWait
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
        self.connectionsOpened = connectionsOpened
        self.retriedOnFreshConnection = retriedOnFreshConnection
        self.httpStatus = httpStatus
        self.failure = failure
        self.workerIndex = workerIndex
    }
}

/// Running totals of a transport since it started.
public struct ClickHouseTransportStatistics: Sendable, Hashable {
    /// Requests that reached a transport thread (completed, failed or aborted).
    public var requests: Int = 0
    /// Requests that failed.
    public var failures: Int = 0
    /// TCP connections opened over the transport's lifetime.
    public var connectionsOpened: Int = 0
    /// Requests resent once on a fresh connection after a stale keep-alive connection died.
    public var freshConnectionRetries: Int = 0
    /// Request body bytes sent.
    public var bytesSent: Int = 0
    /// Response body bytes received.
    public var bytesReceived: Int = 0
    /// Requests waiting for a thread right now.
    public var queued: Int = 0
    /// Requests running on a thread right now.
    public var inFlight: Int = 0
    /// Transport threads still running.
    public var threads: Int = 0

    public init() {}
}
