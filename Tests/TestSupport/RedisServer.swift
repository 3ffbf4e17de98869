import Foundation

/// A real Redis 7 for integration tests, started through `deploy/local/redis.sh` on a
/// free loopback port with a temporary directory.
///
/// ``shared()`` is one lazily started instance per test process; use distinct key or
/// stream names per test. ``startPrivate(appendOnly:)`` gives a test its own server to
/// stop and restart (with `appendOnly`, data survives the restart). Every server is
/// stopped at process exit.
public final class RedisServer: Sendable {
    /// The port Redis listens on (127.0.0.1).
    public let port: Int
    /// Whether the append-only file is on, so data survives ``stop()`` and ``start()``.
    public let appendOnly: Bool
    /// The server's private directory (data, log, pid).
    public var directory: String { process.directory }
    /// `redis://127.0.0.1:<port>`.
    public var url: String { "redis://127.0.0.1:\(port)" }
    /// `127.0.0.1`.
    public var host: String { "127.0.0.1" }

    private let process: LocalServerProcess
    private static let sharedServer = Locked<Task<RedisServer, any Error>?>(nil)

    private init(process: LocalServerProcess, port: Int, appendOnly: Bool) {
        self.process = process
        self.port = port
        self.appendOnly = appendOnly
    }

    /// The server shared by all tests of this process, started on first use.
    public static func shared() async throws -> RedisServer {
        let task = sharedServer.withLock { existing in
            if let existing { return existing }
            let task = Task { try await launch(appendOnly: false) }
            existing = task
            return task
        }
        return try await task.value
    }

    /// A server of the caller's own. Call ``destroy()`` at the end (the process exit
    /// stops it otherwise).
    public static func startPrivate(appendOnly: Bool = false) async throws -> RedisServer {
        try await launch(appendOnly: appendOnly)
    }

    private static func launch(appendOnly: Bool) async throws -> RedisServer {
        var lastError: (any Error)?
        for _ in 0..<3 {
            let process = try LocalServerProcess(kind: "redis", scriptName: "redis.sh")
            let server = RedisServer(process: process, port: try FreePort.next(), appendOnly: appendOnly)
            do {
                try await server.start()
                return server
            } catch {
                lastError = error
                await server.destroy()
            }
        }
        throw lastError ?? ProcessRunner.Failure(command: "redis.sh", result: nil, reason: "could not start")
    }

    /// Starts (or restarts) the server on the same port and directory, and checks that
    /// the Redis answering on the port is this one.
    public func start() async throws {
        try await process.start(["\(port)", appendOnly ? "yes" : "no"])
        let reply = try await cli("CONFIG", "GET", "dir")
        let reported = reply.split(separator: "\n").last.map(String.init) ?? ""
        let expected = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        guard URL(fileURLWithPath: reported).resolvingSymlinksInPath().path == expected else {
            throw ProcessRunner.Failure(
                command: "redis.sh start", result: nil, reason: "port \(port) is served by another Redis (dir \(reported))")
        }
    }

    /// Stops the server; with ``appendOnly`` its data survives a later ``start()``.
    public func stop() async throws {
        try await process.stop()
    }

    /// Stops the server and deletes its directory.
    public func destroy() async {
        await process.destroy()
    }

    /// Runs `redis-cli -p <port> <arguments...>` and returns its output, trimmed.
    @discardableResult
    public func cli(_ arguments: String...) async throws -> String {
        try await cli(arguments)
    }

    /// Runs `redis-cli -p <port> <arguments...>` and returns its output, trimmed.
    @discardableResult
    public func cli(_ arguments: [String]) async throws -> String {
        let result = try await ProcessRunner.run(
            "/usr/bin/env", ["redis-cli", "-h", host, "-p", "\(port)"] + arguments, timeout: .seconds(30))
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
