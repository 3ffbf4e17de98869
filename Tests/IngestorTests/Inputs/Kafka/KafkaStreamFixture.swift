import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Ingestor
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Why a stream test gave up, with the daemons' logs.
struct StreamTestFailure: Error, CustomStringConvertible {
    let what: String
    let reason: String
    init(_ what: String, _ reason: String) {
        self.what = what
        self.reason = reason
    }
    var description: String { "\(what): \(reason)" }
}

/// One Kafka stream test's world: its own mock cluster and topic, its own ClickHouse
/// database on the shared server, and the real `sluice run` daemons it starts.
///
/// Everything it starts is stopped by ``tearDown()`` (tests call it on success and on
/// failure), and failing that, SIGKILLed when the test process exits.
final class KafkaStreamFixture: @unchecked Sendable {
    // @unchecked: the daemon list is only changed by the test's own task.
    let cluster: KafkaMockCluster
    let clickhouse: ClickHouseServer
    let database: String
    let topic: String
    let partitions: Int
    let group: String
    let directory: String
    let events: SyntheticEvents
    let producer: KafkaProducer
    let metadata: KafkaMetadataClient
    private(set) var daemons: [Daemon] = []
    private let started = ContinuousClock.now
    private var produced = 0

    /// A `sluice run` process with its config.
    struct Daemon {
        let process: BackgroundProcess
        let configPath: String
        let queryPort: Int
    }

    static var binDirectory: String {
        ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? RepositoryRoot.file(".build/release")
    }

    static var sluice: String { URL(fileURLWithPath: binDirectory).appendingPathComponent("sluice").path }

    init(name: String, partitions: Int = 6, brokers: Int = 3, total: Int = 200_000) async throws {
        self.partitions = partitions
        topic = "\(name)-events"
        group = "\(name)-group"
        cluster = try await KafkaMockCluster.start(brokers: brokers, topics: [(topic, partitions)])
        do {
            clickhouse = try await ClickHouseServer.shared()
            database = try await clickhouse.makeDatabase(prefix: "kafka_\(name)")
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-kafka-\(name)-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            events = SyntheticEvents(dataset: .metrics, total: total, startMillis: now - 60_000, spanMillis: 60_000, seed: UInt64.random(in: 1...1_000_000))
            // Quiet: at teardown the cluster stops before these clients do. lz4: the mock
            // broker keeps only ~10,000 record batches per partition, and a partition whose
            // leader was down (or a slow run) can fall further behind than that; compressed
            // batches of many records keep the whole backlog, as a real broker would.
            producer = try KafkaProducer(brokers: cluster.bootstrap, properties: ["log_level": "2", "compression.codec": "lz4"])
            metadata = try KafkaMetadataClient(brokers: cluster.bootstrap, properties: ["log_level": "2"])
            try await migrate()
        } catch {
            await cluster.stop()
            throw error
        }
    }

    // MARK: Daemons

    /// Writes a config for one daemon (own ports) and returns its path.
    func writeConfig(
        index: Int, extraKafka: [String] = [], extraPipeline: [String] = [], memoryBudget: String = "128MiB", chunkMessages: Int = 2000,
        drainTimeout: String = "5s", shutdownTimeout: String = "20s"
    ) throws -> (path: String, queryPort: Int) {
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
                max_rows: 50000
                max_age: 200ms
              memory_budget: \(memoryBudget)
              retry_max_delay: 500ms
            \(extraPipeline.map { "  " + $0 }.joined(separator: "\n"))
            inputs:
              kafka:
                brokers: "\(cluster.bootstrap)"
                topics: [\(topic)]
                group: \(group)
                commit_interval: 200ms
                chunk_messages: \(chunkMessages)
                chunk_max_wait: 20ms
                drain_timeout: \(drainTimeout)
                statistics_interval: 1s
            \(extraKafka.map { "    " + $0 }.joined(separator: "\n"))
                properties:
                  session.timeout.ms: 6000
                  heartbeat.interval.ms: 500
            shutdown:
              timeout: \(shutdownTimeout)
            logging:
              level: info
            """
        let path = directory + "/sluice-\(index).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, ports[1])
    }

    func migrate() async throws {
        let (path, _) = try writeConfig(index: 0)
        try await ProcessRunner.run(Self.sluice, ["migrate", "--config", path], timeout: .seconds(60))
    }

    /// Starts `sluice run` and waits until its side-port answers.
    @discardableResult
    func startDaemon(
        extraKafka: [String] = [], extraPipeline: [String] = [], memoryBudget: String = "128MiB", chunkMessages: Int = 2000,
        drainTimeout: String = "5s", shutdownTimeout: String = "20s"
    ) async throws -> Daemon {
        let (path, queryPort) = try writeConfig(
            index: daemons.count + 1, extraKafka: extraKafka, extraPipeline: extraPipeline, memoryBudget: memoryBudget,
            chunkMessages: chunkMessages, drainTimeout: drainTimeout, shutdownTimeout: shutdownTimeout)
        let process = try BackgroundProcess(Self.sluice, ["run", "--config", path])
        let daemon = Daemon(process: process, configPath: path, queryPort: queryPort)
        daemons.append(daemon)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw StreamTestFailure(process.command, "exited at start:\n\(process.standardError.suffix(4000))")
            }
            if (try? await httpGet(port: queryPort, path: "/health/live")) != nil { return daemon }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StreamTestFailure(process.command, "side-port never answered")
    }

    /// Waits until the daemon has rebuilt its dedup windows from ClickHouse and opened
    /// its inputs. A test that then hides a table from ClickHouse must wait for this:
    /// `startDaemon` returns once the side-port answers, and a rebuild that finds the
    /// table gone keeps retrying, so the input would never start reading.
    func waitUntilRunning(_ daemon: Daemon) async throws {
        try await waitUntil("pipeline running", timeout: .seconds(30)) {
            daemon.process.standardError.contains("pipeline running")
        }
    }

    /// SIGKILLs a daemon: no flush, no commit, no leaving the group.
    func kill(_ daemon: Daemon) async {
        await daemon.process.kill9()
    }

    func httpGet(port: Int, path: String) async throws -> String {
        let url = URL(string: "http://127.0.0.1:\(port)\(path)")!
        var request = URLRequest(url: url)
        request.timeoutInterval = 5
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Producing

    /// The record of event `i`: keyed by event id; every 10th in binary mode, every
    /// 7th as Dapr writes it (no headers), the rest structured with a content type.
    func record(_ i: Int) -> KafkaProducerRecord {
        let key = Array(events.eventID(i).utf8)
        if i % 10 == 3 {
            var headers = events.attributes(i).map { ("ce_\($0.0)", Array($0.1.utf8)) }
            headers.append(("content-type", Array("application/json".utf8)))
            return KafkaProducerRecord(key: key, value: Array(events.data(i).utf8), headers: headers)
        }
        if i % 7 == 5 { return KafkaProducerRecord(key: key, value: Array(events.cloudEvent(i).utf8)) }
        return KafkaProducerRecord(
            key: key, value: Array(events.cloudEvent(i).utf8),
            headers: [("content-type", Array("application/cloudevents+json; charset=UTF-8".utf8))])
    }

    /// Produces events `produced..<upTo` while keeping the backlog (produced but not yet
    /// in ClickHouse) under `maxBacklog`, because the mock cluster keeps only about
    /// 10,000 records per partition. `milestone` runs between steps with the row count.
    func produce(upTo total: Int, step: Int = 5000, maxBacklog: Int = 24_000, deadline: Duration = .seconds(150),
                 milestone: (Int) async throws -> Void = { _ in }) async throws {
        let end = ContinuousClock.now + deadline
        while produced < total {
            var rows = try await rowCount()
            try await milestone(rows)
            while produced - rows > maxBacklog - step {
                guard ContinuousClock.now < end else {
                    throw StreamTestFailure("produce", "stalled at \(rows) rows of \(produced) produced\n\(diagnostics())")
                }
                try await Task.sleep(for: .milliseconds(100))
                rows = try await rowCount()
                try await milestone(rows)
            }
            let next = Swift.min(produced + step, total)
            try await producer.produce(topic: topic, (produced..<next).map(record))
            produced = next
        }
        try await producer.flush()
        #expect(producer.failed == 0, "the producer lost records: \(producer.lastError ?? "")")
    }

    /// Produces events `produced..<upTo` at once, without watching the backlog.
    func produceAtOnce(upTo total: Int) async throws {
        try await producer.produce(topic: topic, (produced..<total).map(record))
        try await producer.flush()
        produced = total
    }

    /// Notes events produced by other means (``produce(_:partition:)``).
    func markProduced(upTo index: Int) { produced = Swift.max(produced, index) }

    /// Produces specific records to one partition.
    func produce(_ records: [KafkaProducerRecord], partition: Int32) async throws {
        try await producer.produce(topic: topic, records, partition: partition)
        try await producer.flush()
    }

    // MARK: Checks

    func rowCount() async throws -> Int {
        Int(try await clickhouse.query("SELECT count() FROM \(database).metrics").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Rows and distinct event keys in the metrics table.
    func rowsAndDistinctKeys() async throws -> (rows: Int, distinct: Int) {
        let text = try await clickhouse.query("SELECT count(), uniqExact(_event_key) FROM \(database).metrics")
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").compactMap { Int($0) }
        return (parts.first ?? -1, parts.last ?? -1)
    }

    func deadLetterCount() async throws -> Int {
        Int(try await clickhouse.query("SELECT count() FROM \(database).dead_letter").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Waits until `condition` holds, polling; fails with the diagnostics otherwise.
    func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StreamTestFailure("wait", "timed out waiting for \(what)\n\(diagnostics())")
    }

    var allPartitions: [Int32] { (0..<Int32(partitions)).map { $0 } }

    func highWatermarks() async throws -> [Int32: Int64] {
        try await metadata.watermarks(topic: topic, partitions: allPartitions).mapValues(\.high)
    }

    func committedOffsets() async throws -> [Int32: Int64] {
        try await KafkaMetadataClient.committedOffsets(brokers: cluster.bootstrap, group: group, topic: topic, partitions: allPartitions)
    }

    /// Waits until the group's committed offset of every partition is its log end.
    func waitForCommitsAtLogEnd(timeout: Duration = .seconds(30)) async throws {
        try await waitUntil("committed offsets at the log end", timeout: timeout) {
            let (hw, committed) = (try await highWatermarks(), try await committedOffsets())
            return allPartitions.allSatisfy { hw[$0] != nil && committed[$0] == hw[$0] }
        }
    }

    /// Prints a progress line with the time since the fixture started.
    func note(_ text: String) {
        let t = ContinuousClock.now - started
        print(String(format: "[kafka %@ %6.1fs] ", topic, Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18) + text)
    }

    /// The tail of each daemon's log, for failure messages.
    func diagnostics() -> String {
        daemons.enumerated().map { i, d in
            "--- daemon \(i + 1) (\(d.process.isRunning ? "running" : "exited")) stderr tail:\n" + String(d.process.standardError.suffix(3000))
        }.joined(separator: "\n")
    }

    /// Stops every daemon (SIGTERM, then SIGKILL), the cluster, and removes the files.
    func tearDown() async {
        for d in daemons { await d.process.stop(grace: .seconds(20)) }
        await cluster.stop()
        try? await clickhouse.execute("DROP DATABASE IF EXISTS \(database)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` and always tears down.
    static func with(name: String, partitions: Int = 6, brokers: Int = 3, total: Int = 200_000,
                     _ body: (KafkaStreamFixture) async throws -> Void) async throws {
        let f = try await KafkaStreamFixture(name: name, partitions: partitions, brokers: brokers, total: total)
        do {
            try await body(f)
        } catch {
            let logs = f.diagnostics()
            await f.tearDown()
            Issue.record("daemon logs:\n\(logs)")
            throw error
        }
        await f.tearDown()
    }
}
