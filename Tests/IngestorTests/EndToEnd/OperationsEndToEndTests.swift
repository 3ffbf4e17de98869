import Foundation
import Ingestor
import Testing
import TestSupport

/// What operators rely on, against the real binary, ClickHouse 18.16 and Prometheus:
/// the exported counters add up and match ClickHouse, Prometheus can scrape them, batch
/// knobs reload from the file while events flow, and readiness follows ClickHouse.
@Suite(.serialized) struct OperationsEndToEndTests {
    /// Series name (with labels) → value, from a Prometheus text exposition.
    static func samples(_ exposition: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space]), default: 0] += v
        }
        return out
    }

    /// The sum of every series of a metric, whatever its labels.
    static func total(_ name: String, in samples: [String: Double]) -> Double {
        samples.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.reduce(0, +)
    }

    static func scrape(_ daemon: SluiceDaemonProcess) async throws -> (String, [String: Double]) {
        let (status, body) = try await HTTPTestClient.get(daemon.sideURL + "/metrics")
        #expect(status == 200)
        let text = String(decoding: body, as: UTF8.self)
        return (text, samples(text))
    }

    static func count(_ ch: ClickHouseServer, _ sql: String) async throws -> Int {
        Int(try await ch.query(sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    static func publish(_ events: SyntheticEvents, to url: String, batch: Int = 500, concurrency: Int = 16, rate: Double = 0) async throws -> PublishSummary {
        try await Publisher(events: events, target: HTTPPublishTarget(baseURL: url, mode: .batch), batchSize: batch, rate: rate, concurrency: concurrency, progress: nil).run()
    }

    static func waitUntil(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out after \(timeout) waiting for \(what)")
        throw CancellationError()
    }

    /// received = inserted + duplicates + dead-lettered once the load drains, checked against
    /// ClickHouse's own counts; Prometheus scrapes the same series and promtool accepts the
    /// exposition.
    @Test func countersAddUpMatchClickHouseAndPrometheusScrapesThem() async throws {
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "ops")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db)
        try await daemon.migrate()
        try await daemon.start()
        defer { Task { _ = await daemon.terminate() } }

        // A real Prometheus scraping the side-port every second.
        let promPort = try FreePort.next()
        let promDir = daemon.directory + "/prometheus"
        try FileManager.default.createDirectory(atPath: promDir + "/data", withIntermediateDirectories: true)
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: sluice
                static_configs: [{targets: ["127.0.0.1:\(daemon.queryPort)"]}]
            """.write(toFile: promDir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try BackgroundProcess("/usr/bin/prometheus", [
            "--config.file=\(promDir)/prometheus.yml", "--storage.tsdb.path=\(promDir)/data",
            "--web.listen-address=127.0.0.1:\(promPort)", "--log.level=warn",
        ])
        defer { Task { await prometheus.kill9() } }

        // Load: 30,000 events, the first 5,000 sent twice (duplicates), and 200 invalid
        // ones (dead letters) mixed into batches with valid events.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let events = SyntheticEvents(dataset: .metrics, total: 30_000, tenants: 5, startMillis: now - 3_600_000, spanMillis: 3_600_000, seed: 4242)
        async let bulk = Self.publish(events, to: daemon.ingestURL)
        let again = SyntheticEvents(dataset: .metrics, total: 5_000, tenants: 5, startMillis: now - 3_600_000, spanMillis: 3_600_000 * 5_000 / 30_000, seed: 4242)
        async let repeated = Self.publish(again, to: daemon.ingestURL, concurrency: 4)
        var invalidSent = 0
        for b in 0..<20 {
            let valid = (0..<5).map { events.cloudEvent(29_000 + b * 5 + $0) }
            let invalid = (0..<10).map { #"{"specversion":"1.0","id":"bad-\#(b)-\#($0)","source":"/ops","type":"metric","tenantid":"t","data":{"metric_name":"m","value":"not a number"}}"# }
            let (status, _) = try await HTTPTestClient.post(daemon.ingestURL + "/v1/events", json: "[" + (valid + invalid).joined(separator: ",") + "]", contentType: "application/cloudevents-batch+json")
            #expect(status == 200)
            invalidSent += invalid.count
        }
        let (s1, s2) = try await (bulk, repeated)
        #expect(s1.errors == 0 && s2.errors == 0)

        // Drained: nothing in flight, and the accounting identity holds exactly.
        var m: [String: Double] = [:]
        var exposition = ""
        let drainDeadline = ContinuousClock.now + .seconds(30)
        repeat {
            try await Task.sleep(for: .milliseconds(500))
            (exposition, m) = try await Self.scrape(daemon)
        } while Self.total("sluice_events_in_flight", in: m) != 0 && ContinuousClock.now < drainDeadline
        #expect(Self.total("sluice_events_in_flight", in: m) == 0, "drained: \(m.filter { $0.key.hasPrefix("sluice_events") })")
        let received = Self.total("sluice_events_received_total", in: m)
        let inserted = Self.total("sluice_events_inserted_total", in: m)
        let duplicates = Self.total("sluice_events_duplicate_total", in: m)
        let deadLettered = Self.total("sluice_events_dead_lettered_total", in: m)
        #expect(received == 30_000 + 5_000 + 100 + Double(invalidSent), "every event sent is counted once on arrival")
        #expect(received == inserted + duplicates + deadLettered, "received \(received) = inserted \(inserted) + duplicates \(duplicates) + dead-lettered \(deadLettered)")
        // The 100 valid events of the mixed batches were already sent by the bulk publisher.
        #expect(duplicates == 5_000 + 100)
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).metrics") == Int(inserted))
        #expect(Int(inserted) == 30_000)
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).dead_letter") == Int(deadLettered))
        #expect(Int(deadLettered) == invalidSent)
        // Per stage: decode rejected exactly the invalid events; the sink emitted every row.
        #expect(Self.total("sluice_stage_errors_total{stage=\"decode\",type=\"invalid_field\"}", in: m) == Double(invalidSent), "\(m.filter { $0.key.hasPrefix("sluice_stage_errors") })")
        #expect(Self.total("sluice_stage_emitted_total{stage=\"sink\",table=\"metrics\"}", in: m) == 30_000)

        // promtool accepts the exposition.
        let expositionPath = daemon.directory + "/metrics.txt"
        try exposition.write(toFile: expositionPath, atomically: true, encoding: .utf8)
        let lint = try await ProcessRunner.run("/bin/sh", ["-c", "/usr/bin/promtool check metrics < \(expositionPath)"], checked: false)
        #expect(lint.status == 0, "promtool check metrics:\n\(lint.combinedOutput)")

        // Prometheus scraped the same values: read them back through its HTTP API.
        try await Self.waitUntil("Prometheus to hold the drained counters", timeout: .seconds(30)) {
            guard let (status, body) = try? await HTTPTestClient.get(
                "http://127.0.0.1:\(promPort)/api/v1/query?query=sum(sluice_events_inserted_total)"), status == 200,
                let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
                let value = result.first?["value"] as? [Any], let text = value.last as? String else { return false }
            return Double(text) == inserted
        }
        let (_, targets) = try await HTTPTestClient.get("http://127.0.0.1:\(promPort)/api/v1/targets")
        #expect(String(decoding: targets, as: UTF8.self).contains(#""health":"up""#))
        #expect(await daemon.terminate() == 0)
    }

    /// `pipeline.batch.max_rows` edited in the file while events flow: batch sizes follow
    /// within seconds, nothing is lost or doubled, and a malformed edit is refused.
    @Test func batchSizeReloadsFromTheFileWhileEventsFlow() async throws {
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "reload")
        func pipeline(_ maxRows: String) -> String {
            """
            pipeline:
              batch: {max_rows: \(maxRows), max_bytes: 64MiB, max_age: 3s}
              dedup: {window: 10m, max_keys: 1000000}
              memory_budget: 256MiB
            """
        }
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, pipelineYAML: pipeline("1000"))
        try await daemon.migrate()
        try await daemon.start()
        defer { Task { _ = await daemon.terminate() } }
        let original = try String(contentsOfFile: daemon.configPath, encoding: .utf8)

        /// Mean rows per metrics batch flushed since the previous call.
        var last = (sum: 0.0, count: 0.0)
        func meanBatchSinceLast() async throws -> Double {
            let (_, m) = try await Self.scrape(daemon)
            let sum = Self.total("sluice_batch_rows_sum{table=\"metrics\"}", in: m)
            let count = Self.total("sluice_batch_rows_count{table=\"metrics\"}", in: m)
            defer { last = (sum, count) }
            return count > last.count ? (sum - last.sum) / (count - last.count) : 0
        }

        // At 15,000/s this keeps events flowing for ~13 s, past the measurement after the
        // edit even when the reload is slow to be seen.
        let total = 200_000
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let events = SyntheticEvents(dataset: .metrics, total: total, tenants: 5, startMillis: now - 3_600_000, spanMillis: 3_600_000, seed: 99)
        // 48 requests of 500 in flight: enough rows waiting to fill 5,000-row batches
        // long before the 3 s max_age.
        let sender = Task { try await Self.publish(events, to: daemon.ingestURL, batch: 500, concurrency: 48, rate: 15_000) }

        try await Task.sleep(for: .seconds(3))
        _ = try await meanBatchSinceLast()
        try await Task.sleep(for: .seconds(2))
        let before = try await meanBatchSinceLast()
        #expect(before > 0 && before <= 1000, "batches of at most max_rows=1000 before the edit (mean \(before))")

        try original.replacingOccurrences(of: "max_rows: 1000,", with: "max_rows: 5000,").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        try await Self.waitUntil("max_rows 5000 in force", timeout: .seconds(5)) {
            Self.total("sluice_config_batch_max_rows", in: try await Self.scrape(daemon).1) == 5000
        }
        _ = try await meanBatchSinceLast()
        // Batches flushed after the edit; on a loaded machine the first may take longer
        // than a fixed pause, so wait (bounded) until there is at least one.
        var after = 0.0
        let deadline = ContinuousClock.now + .seconds(20)
        try await Task.sleep(for: .seconds(2))
        while after == 0, ContinuousClock.now < deadline {
            after = try await meanBatchSinceLast()
            if after == 0 { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(after > 2000, "batches grow toward max_rows=5000 after the edit (mean \(after), before \(before))")

        // A malformed edit: refused, counted, and the values in force stay.
        let failuresBefore = Self.total("sluice_config_reload_failures_total", in: try await Self.scrape(daemon).1)
        try original.replacingOccurrences(of: "max_rows: 1000,", with: "max_rows: lots,").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        try await Self.waitUntil("the malformed edit to be refused", timeout: .seconds(5)) {
            Self.total("sluice_config_reload_failures_total", in: try await Self.scrape(daemon).1) > failuresBefore
        }
        #expect(Self.total("sluice_config_batch_max_rows", in: try await Self.scrape(daemon).1) == 5000)
        #expect(daemon.log.contains("pipeline.batch.max_rows"), "the refusal names the key")

        let summary = try await sender.value
        #expect(summary.errors == 0)
        #expect(try await ch.query("SELECT count(), uniqExact(_event_key) FROM \(db).metrics").trimmingCharacters(in: .whitespacesAndNewlines) == "\(total)\t\(total)")
        #expect(await daemon.terminate() == 0)
    }

    /// Readiness follows ClickHouse: false within 5 s of it stopping, true once it is back.
    @Test func readinessFollowsClickHouse() async throws {
        let ch = try await ClickHouseServer.startPrivate()
        defer { Task { await ch.destroy() } }
        let db = try await ch.makeDatabase(prefix: "ready")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db)
        try await daemon.migrate()
        try await daemon.start()
        defer { Task { _ = await daemon.terminate() } }
        func ready() async -> (Int, String) {
            guard let (status, body) = try? await HTTPTestClient.get(daemon.sideURL + "/health/ready") else { return (0, "") }
            return (status, String(decoding: body, as: UTF8.self))
        }
        #expect(await ready().0 == 200)
        try await ch.stop()
        let stopped = ContinuousClock.now
        try await Self.waitUntil("/health/ready to turn false", timeout: .seconds(5)) { await ready().0 == 503 }
        let (_, body) = await ready()
        #expect(body.contains("clickhouse"), "the body names the failing component: \(body)")
        #expect(ContinuousClock.now - stopped < .seconds(5))
        // Liveness is not readiness: the process is fine.
        #expect(try await HTTPTestClient.get(daemon.sideURL + "/health/live").0 == 200)
        try await ch.start()
        try await Self.waitUntil("/health/ready to turn true again", timeout: .seconds(30)) { await ready().0 == 200 }
        #expect(await daemon.terminate() == 0)
    }
}
