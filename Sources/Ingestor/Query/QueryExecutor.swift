public import Sinks
import Synchronization

/// Runs a read-only SELECT and returns its rows. ``QueryService`` depends on this
/// protocol so tests can wrap the real executor (to count or slow down queries).
public protocol QueryRunning: Sendable {
    /// The rows of a `FORMAT TabSeparated` statement, cells unescaped, nil for NULL.
    func rows(_ sql: String) async throws(QueryError) -> [[String?]]
}

/// Runs query SQL on ClickHouse with the side-port's limits.
///
/// - `max_execution_time` makes the server stop a query that runs past `query.timeout`
///   (whole seconds, rounded up: 18.16 reads the setting as an integer);
/// - a client-side deadline of exactly `query.timeout` cancels the request (the transport
///   aborts the transfer) when the server does not answer in time, e.g. when it is stuck
///   or the timeout is shorter than a second; either way the caller gets a `504` naming
///   `query.timeout`;
/// - `readonly=2` makes the server refuse anything but reads, whatever the SQL says:
///   a second line of defence behind the catalog allowlist.
public final class QueryExecutor: QueryRunning {
    public let transport: ClickHouseHTTPTransport
    public let timeout: Duration
    private let executed = Atomic<Int>(0)

    public init(transport: ClickHouseHTTPTransport, timeout: Duration) {
        self.transport = transport
        self.timeout = timeout
    }

    /// Statements sent to ClickHouse so far (cache hits send none).
    public var executedQueries: Int { executed.load(ordering: .relaxed) }

    var settings: [(String, String)] {
        let (s, atto) = timeout.components
        let seconds = max(1, s + (atto > 0 ? 1 : 0))
        return [("max_execution_time", "\(seconds)"), ("readonly", "2")]
    }

    public func rows(_ sql: String) async throws(QueryError) -> [[String?]] {
        executed.add(1, ordering: .relaxed)
        let body = try await bodyWithDeadline(sql)
        return TabSeparated.rows(body)
    }

    private enum Outcome: Sendable {
        case body([UInt8])
        case failed(ClickHouseError)
        case deadline
    }

    private func bodyWithDeadline(_ sql: String) async throws(QueryError) -> [UInt8] {
        let transport = self.transport
        let settings = self.settings
        let timeout = self.timeout
        let outcome: Outcome = await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    return .body(try await transport.query(sql, settings: settings))
                } catch let error as ClickHouseError {
                    return .failed(error)
                } catch {
                    return .failed(ClickHouseError(kind: .server, message: "\(error)"))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .deadline
                } catch {
                    return .failed(ClickHouseError(kind: .cancelled, message: "cancelled"))
                }
            }
            let first = await group.next() ?? .deadline
            // Cancelling aborts the running transfer (or wakes the sleeper).
            group.cancelAll()
            return first
        }
        switch outcome {
        case .body(let body): return body
        case .deadline: throw Self.timeoutError(timeout)
        case .failed(let error): throw Self.translate(error, timeout: timeout)
        }
    }

    static func timeoutError(_ timeout: Duration) -> QueryError {
        QueryError(kind: .timeout, message: "the query ran longer than query.timeout (\(timeout))", limit: "query.timeout")
    }

    /// ClickHouse's `TIMEOUT_EXCEEDED` (159) and a transport timeout are the limit; a
    /// server that cannot be reached is `503`; anything else is `502` with the code only.
    static func translate(_ error: ClickHouseError, timeout: Duration) -> QueryError {
        if error.code == 159 || error.kind == .timeout { return timeoutError(timeout) }
        switch error.kind {
        case .network, .overloaded, .shutdown:
            return QueryError(kind: .unavailable, message: "ClickHouse is unavailable (\(error.kind.rawValue))")
        case .cancelled:
            return QueryError(kind: .unavailable, message: "the query was cancelled")
        default:
            return QueryError(kind: .upstream, message: "ClickHouse rejected the query" + (error.code.map { " (code \($0))" } ?? ""))
        }
    }
}
