import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `sluice` binary run against test servers: writes a config to a temp dir,
/// runs `sluice migrate`, starts `sluice run`, and waits until `/health/ready`.
///
/// Crash tests SIGKILL it and call ``start()`` again on the same config.
public final class SluiceDaemonProcess: @unchecked Sendable {
    public let directory: String
    public let configPath: String
    public let httpPort: Int
    public let queryPort: Int
    public private(set) var process: BackgroundProcess?
    /// Sent with the readiness probe; with `auth` configured `/health/ready` needs an
    /// admin key.
    public var readyHeaders: [(String, String)] = []

    /// The `sluice` executable: `$SLUICE_BIN_DIR/sluice` (set by `make test`), else the
    /// release build in the repository.
    public static var binary: String {
        if let dir = ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"] { return dir + "/sluice" }
        return RepositoryRoot.file(".build/release/sluice")
    }

    /// - Parameters:
    ///   - extraYAML: appended to the generated config (inputs, pipeline knobs).
    ///   - httpYAML, queryYAML: more keys of the `http` and `query` sections, one per line.
    public init(
        clickhouseURL: String, database: String, extraYAML: String = "", pipelineYAML: String? = nil, httpYAML: String = "", queryYAML: String = ""
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-daemon-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        httpPort = try FreePort.next()
        queryPort = try FreePort.next()
        configPath = directory + "/sluice.yaml"
        let pipeline = pipelineYAML ?? """
            pipeline:
              batch: {max_rows: 20000, max_bytes: 32MiB, max_age: 200ms}
              dedup: {window: 10m, max_keys: 1000000}
              memory_budget: 256MiB
            """
        let yaml = """
            clickhouse:
              url: \(clickhouseURL)
              database: \(database)
              compression: lz4
              request_timeout: 20s
            http:
              listen: 127.0.0.1:\(httpPort)
              ack_timeout: 10s
            \(httpYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            query:
              listen: 127.0.0.1:\(queryPort)
            \(queryYAML.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            datasets:
              paths: [\(RepositoryRoot.file("config/datasets"))]
            dapr:
              pubsub: pubsub
              topics: [metrics]
            \(pipeline)
            logging:
              level: info
            shutdown:
              timeout: 30s
            \(extraYAML)
            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    public var ingestURL: String { "http://127.0.0.1:\(httpPort)" }
    public var sideURL: String { "http://127.0.0.1:\(queryPort)" }

    public func migrate() async throws {
        try await ProcessRunner.run(Self.binary, ["migrate", "--config", configPath], timeout: .seconds(60))
    }

    /// Starts `sluice run` and waits until it is ready (or fails with its log).
    public func start(waitReady: Bool = true) async throws {
        let p = try BackgroundProcess(Self.binary, ["run", "--config", configPath])
        process = p
        guard waitReady else { return }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard p.isRunning else { throw ProcessRunner.Failure(command: "sluice run", result: nil, reason: "exited early:\n\(p.output)") }
            if let (status, _) = try? await HTTPTestClient.get(sideURL + "/health/ready", headers: readyHeaders), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ProcessRunner.Failure(command: "sluice run", result: nil, reason: "not ready within 60 s:\n\(p.output)")
    }

    public func kill9() async { await process?.kill9() }

    /// SIGTERM and wait; returns the exit status.
    public func terminate(timeout: Duration = .seconds(60)) async -> Int32? {
        guard let p = process else { return nil }
        p.signal(SIGTERM)
        guard await p.waitForExit(timeout: timeout) else { return nil }
        return await p.waitForExit()
    }

    public var log: String { process?.output ?? "" }

    deinit {
        if let p = process, p.isRunning { p.signal(SIGKILL) }
    }
}

/// A minimal HTTP client for tests (URLSession), returning status and body.
public enum HTTPTestClient {
    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 120
        c.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: c)
    }()

    public static func get(_ url: String, headers: [(String, String)] = []) async throws -> (Int, [UInt8]) {
        try await request("GET", url, body: nil, headers: headers)
    }

    public static func post(_ url: String, body: [UInt8], headers: [(String, String)] = []) async throws -> (Int, [UInt8]) {
        try await request("POST", url, body: body, headers: headers)
    }

    public static func post(_ url: String, json: String, contentType: String = "application/json", headers: [(String, String)] = []) async throws -> (Int, String) {
        let (s, b) = try await request("POST", url, body: Array(json.utf8), headers: [("Content-Type", contentType)] + headers)
        return (s, String(decoding: b, as: UTF8.self))
    }

    /// A response with its headers (names lowercased), for tests of response headers.
    public struct Exchange: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    public static func exchange(_ method: String, _ url: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws -> Exchange {
        guard let u = URL(string: url) else { throw URLError(.badURL) }
        var r = URLRequest(url: u)
        r.httpMethod = method
        if let body { r.httpBody = Data(body) }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: r)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http?.allHeaderFields ?? [:] {
            if let k = k as? String, let v = v as? String { fields[k.lowercased()] = v }
        }
        return Exchange(status: http?.statusCode ?? 0, headers: fields, body: Array(data))
    }

    public static func request(_ method: String, _ url: String, body: [UInt8]?, headers: [(String, String)]) async throws -> (Int, [UInt8]) {
        guard let u = URL(string: url) else { throw URLError(.badURL) }
        var r = URLRequest(url: u)
        r.httpMethod = method
        if let body { r.httpBody = Data(body) }
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: r)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
    }
}
