public import Sinks

/// The SQL dialect of the ClickHouse the side-port queries, read once from
/// `SELECT version()` on first use.
///
/// ClickHouse may be down when Sluice starts, so the version is not read at start-up: the
/// first query reads it, a failure is answered `503` and the next query tries again.
public actor DialectProvider {
    private let transport: ClickHouseHTTPTransport?
    private var known: ClickHouseDialect?

    public init(transport: ClickHouseHTTPTransport) {
        self.transport = transport
    }

    /// A provider with a fixed dialect (tests, tools that already know the server).
    public init(fixed: ClickHouseDialect) {
        transport = nil
        known = fixed
    }

    public func dialect() async throws(QueryError) -> ClickHouseDialect {
        if let known { return known }
        guard let transport else { throw QueryError(kind: .unavailable, message: "no ClickHouse transport") }
        do {
            let version = try await transport.serverVersion()
            let d = ClickHouseDialect(version: version)
            known = d
            return d
        } catch {
            throw QueryError(kind: .unavailable, message: "cannot read the ClickHouse version: \(error.kind.rawValue)")
        }
    }
}
