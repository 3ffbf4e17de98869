import Foundation
public import Sinks

/// A real ClickHouse (Debian's 18.16) for integration tests, started through
/// `deploy/local/clickhouse.sh` on free loopback ports with a temporary data directory.
///
/// ``shared()`` starts one server lazily per test process and hands it to every test;
/// give each test its own database with ``makeDatabase(prefix:)``. Fault tests that stop
/// and restart a server use ``startPrivate()``. Every server is stopped at process exit.
public final class ClickHouseServer: Sendable {
    /// The HTTP interface port.
    public let httpPort: Int
    /// The native-protocol port (unused by Sluice, but ClickHouse must bind one).
    public let tcpPort: Int
    /// The server's private directory (data, logs, config).
    public var directory: String { process.directory }
    /// `http://127.0.0.1:<httpPort>`.
    public var url: String { "http://127.0.0.1:\(httpPort)" }

    private let process: LocalServerProcess
    /// A transport for the helpers; it survives restarts because libcurl reconnects.
    private let admin: ClickHouseHTTPTransport

    private static let sharedServer = Locked<Task<ClickHouseServer, any Error>?>(nil)

    private init(process: LocalServerProcess, httpPort: Int, tcpPort: Int) throws {
        self.process = process
        self.httpPort = httpPort
        self.tcpPort = tcpPort
        self.admin = try ClickHouseHTTPTransport(configuration: ClickHouseConfiguration(
            url: "http://127.0.0.1:\(httpPort)", database: "default", compression: .none,
            connectTimeout: .seconds(5), requestTimeout: .seconds(60), maxConnections: 2))
    }

    /// The server shared by all tests of this process, started on first use.
    public static func shared() async throws -> ClickHouseServer {
        let task = sharedServer.withLock { existing in
            if let existing { return existing }
            let task = Task { try await launch() }
            existing = task
            return task
        }
        return try await task.value
    }

    /// A server of the caller's own, for tests that stop and restart it. Call
    /// ``destroy()`` at the end (the process exit stops it otherwise).
    public static func startPrivate() async throws -> ClickHouseServer {
        try await launch()
    }

    /// Starts a new server, retrying with other ports if one was taken meanwhile.
    private static func launch() async throws -> ClickHouseServer {
        var lastError: (any Error)?
        for _ in 0..<3 {
            let ports = try FreePort.next(count: 2)
            let process = try LocalServerProcess(kind: "clickhouse", scriptName: "clickhouse.sh")
            let server = try ClickHouseServer(process: process, httpPort: ports[0], tcpPort: ports[1])
            do {
                try await server.start()
                return server
            } catch {
                lastError = error
                await server.destroy()
            }
        }
        throw lastError ?? ProcessRunner.Failure(command: "clickhouse.sh", result: nil, reason: "could not start")
    }

    /// Starts (or restarts) the server on the same ports and data directory, and checks
    /// that the server answering on the port is this one, not another test's.
    public func start() async throws {
        try await process.start(["\(httpPort)", "\(tcpPort)"])
        // The script's readiness probe only pings the port; a server of someone else on
        // the same port would pass it. ClickHouse reports its metadata path, which
        // contains our directory name.
        let path = try await query("SELECT metadata_path FROM system.tables WHERE database = 'system' LIMIT 1")
        let name = URL(fileURLWithPath: directory).lastPathComponent
        guard path.contains(name) else {
            throw ProcessRunner.Failure(
                command: "clickhouse.sh start", result: nil,
                reason: "port \(httpPort) is served by another ClickHouse (metadata at \(path))")
        }
    }

    /// Stops the server; its data stays for a later ``start()``.
    public func stop() async throws {
        try await process.stop()
    }

    /// Stops the server and deletes its directory.
    public func destroy() async {
        await admin.shutdown()
        await process.destroy()
    }

    /// A configuration pointing at this server.
    public func configuration(
        database: String = "default", compression: ClickHouseConfiguration.Compression = .lz4, maxConnections: Int = 4,
        requestTimeout: Duration = .seconds(30)
    ) -> ClickHouseConfiguration {
        ClickHouseConfiguration(
            url: url, database: database, compression: compression, connectTimeout: .seconds(5),
            requestTimeout: requestTimeout, maxConnections: maxConnections)
    }

    /// Creates a database with a unique name (`<prefix>_<random>`) and returns the name.
    public func makeDatabase(prefix: String = "test") async throws -> String {
        let clean = String(prefix.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(40))
        let name = "\(clean)_\(UUID().uuidString.prefix(8).lowercased())"
        try await execute("CREATE DATABASE \(ClickHouseSQL.quoteIdentifier(name))")
        return name
    }

    /// Runs a query and returns its TabSeparated text.
    public func query(_ sql: String, settings: [(String, String)] = []) async throws -> String {
        String(decoding: try await admin.query(sql, settings: settings), as: UTF8.self)
    }

    /// Runs a statement whose result is not needed.
    public func execute(_ sql: String, settings: [(String, String)] = []) async throws {
        try await admin.execute(sql, settings: settings)
    }
}
