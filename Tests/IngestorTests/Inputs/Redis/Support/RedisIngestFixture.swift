import Foundation
import Ingestor
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One test's world for Redis ingest: its own ClickHouse database (migrated by the real
/// `sluice migrate`), a temp directory for config files and daemon logs, and helpers to
/// publish events, start daemons and read what arrived.
final class RedisIngestFixture: Sendable {
    let clickhouse: ClickHouseServer
    let redis: RedisServer
    let database: String
    let directory: String
    let group: String

    private let daemons = Locked<[SluiceProcess]>([])

    static func make(redis: RedisServer, name: String) async throws -> RedisIngestFixture {
        let clickhouse = try await ClickHouseServer.shared()
        let database = try await clickhouse.makeDatabase(prefix: "redis_\(name)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-redis-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fixture = RedisIngestFixture(clickhouse: clickhouse, redis: redis, database: database, directory: directory, group: "g_\(name)")
        let config = try fixture.writeConfig(name: "migrate", streams: ["unused"], consumer: "migrate")
        try await SluiceProcess.runToCompletion(["migrate", "--config", config])
        return fixture
    }

    private init(clickhouse: ClickHouseServer, redis: RedisServer, database: String, directory: String, group: String) {
        self.clickhouse = clickhouse
        self.redis = redis
        self.database = database
        self.directory = directory
        self.group = group
    }

    /// Writes `<name>.yaml` and returns its path. Ports for http and query are fresh.
    func writeConfig(
        name: String, streams: [String], consumer: String, claimIdle: String = "30s", claimInterval: String = "1s",
        maxAge: String = "300ms", memoryBudget: String = "128MiB"
    ) throws -> String {
        let ports = try FreePort.next(count: 2)
        let yaml = """
            clickhouse:
              url: \(clickhouse.url)
              database: \(database)
              compression: lz4
            http:
              listen: 127.0.0.1:\(ports[0])
            query:
              listen: 127.0.0.1:\(ports[1])
            datasets:
              paths: [\(RepositoryRoot.file("config/datasets"))]
            pipeline:
              batch:
                max_rows: 100000
                max_bytes: 32MiB
                max_age: \(maxAge)
              memory_budget: \(memoryBudget)
            inputs:
              redis:
                url: \(redis.url)
                streams: [\(streams.joined(separator: ", "))]
                group: \(group)
                consumer: \(consumer)
                claim_idle: \(claimIdle)
                claim_interval: \(claimInterval)
                block: 200ms
                lag_interval: 500ms
            logging:
              level: info
            shutdown:
              timeout: 30s

            """
        let path = directory + "/\(name).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func startDaemon(config: String, name: String) throws -> SluiceProcess {
        let process = try SluiceProcess(config: config, logPath: directory + "/\(name).log")
        daemons.withLock { $0.append(process) }
        return process
    }

    /// Kills every daemon still running and drops the database. Call at the end of every
    /// test, also when it fails.
    func tearDown() async {
        for d in daemons.withLock({ $0 }) where !d.hasExited { await d.kill9() }
        try? await clickhouse.execute("DROP DATABASE IF EXISTS \(database)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Daemon logs, for failure messages.
    var logs: String {
        daemons.withLock { $0 }.map { "--- \($0.logPath)\n" + String($0.log.suffix(4000)) }.joined(separator: "\n")
    }

    // MARK: Events

    /// Distinct events per stream: each stream gets its own seed, so ids never collide.
    static func events(count: Int, seed: UInt64) -> SyntheticEvents {
        SyntheticEvents(dataset: .metrics, total: count, tenants: 5, startMillis: Int64(Date().timeIntervalSince1970 * 1000), spanMillis: 0, seed: seed)
    }

    /// Publishes with the real publish target; retries a batch until Redis took all of it
    /// (a batch cut by a Redis restart is sent again: duplicates in the stream, which
    /// dedup must absorb).
    func publish(_ events: SyntheticEvents, stream: String, rate: Double = 0, batch: Int = 500, redisURL: String? = nil) async throws {
        let target = try RedisPublishTarget(url: (redisURL ?? redis.url) + "/" + stream, connections: 1)
        let clock = ContinuousClock()
        let start = clock.now
        var next = 0
        var attempts = 0
        while next < events.total {
            let range = next..<min(next + batch, events.total)
            if rate > 0 {
                let due = start + .seconds(Double(range.lowerBound) / rate)
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            }
            do {
                let sent = try await target.send(events, range: range)
                if sent == range.count {
                    next = range.upperBound
                    attempts = 0
                    continue
                }
            } catch {}
            attempts += 1
            if attempts > 300 { throw SluiceProcess.Failure(description: "could not publish to \(stream)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await target.finish()
    }

    // MARK: What arrived

    /// Rows in `metrics` and distinct event keys among them.
    func metricsRows() async throws -> (rows: Int, distinct: Int) {
        let text = try await clickhouse.query("SELECT count(), uniqExact(_event_key) FROM \(database).metrics")
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").compactMap { Int($0) }
        return (parts.first ?? -1, parts.last ?? -1)
    }

    /// Waits until `metrics` has at least `expected` rows (or the timeout passes) and
    /// returns the final counts, after a short settle so late duplicates would show.
    func waitForRows(_ expected: Int, timeout: Duration) async throws -> (rows: Int, distinct: Int) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await metricsRows().rows >= expected { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        try await Task.sleep(for: .seconds(1))
        return try await metricsRows()
    }

    /// Total entries in the group's pending lists of `streams`.
    func pending(_ streams: [String]) async throws -> Int {
        var total = 0
        for s in streams {
            let out = try await redis.cli("XPENDING", s, group)
            total += Int(out.split(separator: "\n").first.map(String.init) ?? "") ?? 0
        }
        return total
    }

    /// Pending entries per consumer of one stream (`XPENDING` summary form).
    func pendingByConsumer(_ stream: String) async throws -> [String: Int] {
        let lines = try await redis.cli("XPENDING", stream, group).split(separator: "\n").map(String.init)
        var out: [String: Int] = [:]
        var i = 3
        while i + 1 < lines.count {
            out[lines[i]] = Int(lines[i + 1])
            i += 2
        }
        return out
    }

    func waitForPending(_ streams: [String], toBe expected: Int, timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var last = -1
        while ContinuousClock.now < deadline {
            last = try await pending(streams)
            if last == expected { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    /// One sample of a Prometheus metric from a daemon's side-port, summed over series
    /// whose labels contain `matching`.
    func metric(_ name: String, config: String, matching: String = "") async throws -> Double {
        let port = try sidePort(config: config)
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        var total = 0.0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name) && !line.hasPrefix("#") {
            let head = line.prefix { $0 != " " }
            guard head == name || head.hasPrefix(name + "{"), matching.isEmpty || head.contains(matching) else { continue }
            total += Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return total
    }

    func sidePort(config: String) throws -> Int {
        let lines = try String(contentsOfFile: config, encoding: .utf8).split(separator: "\n").map(String.init)
        let q = try #require(lines.firstIndex(of: "query:"))
        return try #require(Int(lines[q + 1].split(separator: ":").last ?? ""))
    }
}
