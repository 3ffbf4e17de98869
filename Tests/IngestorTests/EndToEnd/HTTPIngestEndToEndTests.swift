import Foundation
import Ingestor
import Testing
import TestSupport

/// The daemon as users run it (the real binary, real ClickHouse 18.16), fed through
/// every HTTP input shape. Counts come from ClickHouse; expectations from the generator.
@Suite(.serialized) struct HTTPIngestEndToEndTests {
    static func startDaemon(pipeline: String? = nil, clickhouse: ClickHouseServer? = nil) async throws -> (SluiceDaemonProcess, ClickHouseServer, String) {
        let ch: ClickHouseServer
        if let clickhouse { ch = clickhouse } else { ch = try await ClickHouseServer.shared() }
        let db = try await ch.makeDatabase(prefix: "e2e")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, pipelineYAML: pipeline)
        try await daemon.migrate()
        try await daemon.start()
        return (daemon, ch, db)
    }

    static func count(_ ch: ClickHouseServer, _ sql: String) async throws -> Int {
        Int(try await ch.query(sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    static func publish(_ dataset: SyntheticEvents.Dataset, count: Int, seed: UInt64, mode: HTTPPublishTarget.Mode, to url: String, batch: Int = 500, concurrency: Int = 32) async throws -> PublishSummary {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let events = SyntheticEvents(dataset: dataset, total: count, tenants: 7, startMillis: now - 3 * 86_400_000, spanMillis: 3 * 86_400_000, seed: seed)
        let publisher = Publisher(events: events, target: HTTPPublishTarget(baseURL: url, mode: mode), batchSize: batch, rate: 0, concurrency: concurrency, progress: nil)
        return try await publisher.run()
    }

    @Test(arguments: SyntheticEvents.Dataset.allCases)
    func everyInputShapeGivesExactlyOneRowPerEvent(dataset: SyntheticEvents.Dataset) async throws {
        let (daemon, ch, db) = try await Self.startDaemon(pipeline: """
            pipeline:
              batch: {max_rows: 50000, max_bytes: 32MiB, max_age: 50ms}
              memory_budget: 256MiB
            """)
        defer { Task { _ = await daemon.terminate() } }
        // 100,000 events per dataset, split over the four shapes (each its own events).
        let plan: [(HTTPPublishTarget.Mode, Int, Int)] = [(.structured, 5_000, 1), (.binary, 5_000, 1), (.batch, 45_000, 1000), (.dapr, 45_000, 500)]
        for (i, (mode, n, batch)) in plan.enumerated() {
            let summary = try await Self.publish(dataset, count: n, seed: UInt64(100 + i), mode: mode, to: daemon.ingestURL, batch: batch, concurrency: 48)
            #expect(summary.errors == 0, "\(mode): \(summary)")
            #expect(summary.sent == n)
        }
        let table = "\(db).\(dataset.rawValue)"
        #expect(try await Self.count(ch, "SELECT count() FROM \(table)") == 100_000)
        #expect(try await Self.count(ch, "SELECT uniqExact(_event_key) FROM \(table)") == 100_000)
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).dead_letter") == 0)
        // The hourly rollup saw every row exactly once.
        let measure = dataset == .metrics ? "count" : "requests"
        #expect(try await Self.count(ch, "SELECT sum(c) FROM (SELECT countMerge(\(measure)) AS c FROM \(db).\(dataset.rawValue)_hourly)") == 100_000)
        #expect(await daemon.terminate() == 0)
    }

    @Test func duplicatesInABatchLaterAndAfterACrashGiveOneRow() async throws {
        let (daemon, ch, db) = try await Self.startDaemon()
        let events = SyntheticEvents(dataset: .metrics, total: 300, startMillis: 1_760_000_000_000, spanMillis: 3_600_000, seed: 9)
        func batch(_ indexes: [Int]) -> String { "[" + indexes.map { events.cloudEvent($0) }.joined(separator: ",") + "]" }
        let url = daemon.ingestURL + "/v1/events"
        let ct = "application/cloudevents-batch+json"
        // 1. Each event twice in the same batch.
        let (s1, b1) = try await HTTPTestClient.post(url, json: batch(Array(0..<300) + Array(0..<300)), contentType: ct)
        #expect(s1 == 200)
        #expect(b1.contains(#""accepted":300"#) && b1.contains(#""duplicates":300"#), "\(b1)")
        // 2. Again in a later batch.
        let (s2, b2) = try await HTTPTestClient.post(url, json: batch(Array(0..<300)), contentType: ct)
        #expect(s2 == 200 && b2.contains(#""duplicates":300"#), "\(b2)")
        // 3. After SIGKILL and a restart (the window is rebuilt from ClickHouse).
        await daemon.kill9()
        try await daemon.start()
        let (s3, b3) = try await HTTPTestClient.post(url, json: batch(Array(0..<300)), contentType: ct)
        #expect(s3 == 200 && b3.contains(#""duplicates":300"#), "\(b3)")
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).metrics") == 300)
        #expect(await daemon.terminate() == 0)
    }

    @Test func badInputIsRefusedWithAReasonAndNothingElseIsLost() async throws {
        let (daemon, ch, db) = try await Self.startDaemon()
        let url = daemon.ingestURL + "/v1/events"
        let ce = "application/cloudevents+json"
        let good = #"{"specversion":"1.0","id":"ok-1","source":"/t","type":"metric","tenantid":"a","data":{"metric_name":"m","value":1}}"#
        let cases: [(String, [UInt8], String, Int, String)] = [
            ("not JSON", Array("{nope".utf8), ce, 400, "not valid JSON"),
            ("missing specversion", Array(#"{"id":"x","source":"/t","type":"metric","data":{}}"#.utf8), ce, 400, "specversion"),
            ("missing id", Array(#"{"specversion":"1.0","source":"/t","type":"metric","data":{}}"#.utf8), ce, 400, "id"),
            ("missing source", Array(#"{"specversion":"1.0","id":"x","type":"metric","data":{}}"#.utf8), ce, 400, "source"),
            ("missing type", Array(#"{"specversion":"1.0","id":"x","source":"/t","data":{}}"#.utf8), ce, 400, "type"),
            ("wrong field type", Array(#"{"specversion":"1.0","id":"x2","source":"/t","type":"metric","tenantid":"a","data":{"metric_name":"m","value":"high"}}"#.utf8), ce, 400, "data.value"),
            ("invalid UTF-8", Array(#"{"specversion":"1.0","id":"x3","source":"/t","type":"metric","tenantid":"a","data":{"metric_name":""#.utf8) + [0xC3, 0x28] + Array(#"","value":1}}"#.utf8), ce, 400, "UTF-8"),
            ("10,000 levels deep", Array(String(repeating: "[", count: 10_000).utf8) + Array(String(repeating: "]", count: 10_000).utf8), ce, 400, "deep"),
            ("unknown type", Array(#"{"specversion":"1.0","id":"x4","source":"/t","type":"nope","data":{}}"#.utf8), ce, 400, "nope"),
        ]
        for (name, body, contentType, status, reason) in cases {
            let (s, b) = try await HTTPTestClient.post(url, body: body, headers: [("Content-Type", contentType)])
            let text = String(decoding: b, as: UTF8.self)
            #expect(s == status, "\(name): \(s) \(text)")
            #expect(text.lowercased().contains(reason.lowercased()), "\(name): reason should mention \(reason): \(text)")
        }
        // Over the size limit: 413 naming the limit.
        let big = [UInt8](repeating: 0x20, count: 17 << 20)
        let (sBig, bBig) = try await HTTPTestClient.post(url, body: big, headers: [("Content-Type", ce)])
        #expect(sBig == 413)
        #expect(String(decoding: bBig, as: UTF8.self).contains("http.max_body_bytes"))
        // The daemon still serves, and a good event is stored.
        let (sGood, _) = try await HTTPTestClient.post(url, json: good, contentType: ce)
        #expect(sGood == 200)
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).metrics") == 1)
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).dead_letter") == cases.count)
        #expect(daemon.process?.isRunning == true)
        #expect(await daemon.terminate() == 0)
    }

    @Test func sigtermMidStreamThenRestartGivesEveryEventOnce() async throws {
        let (daemon, ch, db) = try await Self.startDaemon()
        let sender = Task { try await Self.publish(.metrics, count: 100_000, seed: 77, mode: .batch, to: daemon.ingestURL, batch: 1000, concurrency: 16) }
        try await Task.sleep(for: .seconds(2))
        let status = await daemon.terminate()
        #expect(status == 0, "graceful stop must exit 0:\n\(daemon.log.suffix(2000))")
        _ = try? await sender.value
        try await daemon.start()
        // Resend everything: what was written before the stop is deduplicated.
        let summary = try await Self.publish(.metrics, count: 100_000, seed: 77, mode: .batch, to: daemon.ingestURL, batch: 1000, concurrency: 16)
        #expect(summary.errors == 0)
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).metrics") == 100_000)
        #expect(await daemon.terminate() == 0)
    }

    /// A client that asks `Expect: 100-continue` (curl does for bodies over 1 MiB) gets the
    /// interim `100 Continue` and uploads at once, instead of stalling for its timeout.
    @Test func expectContinueGetsAnInterimResponseAndTheBatchIsWritten() async throws {
        let (daemon, ch, db) = try await Self.startDaemon()
        let events = SyntheticEvents(dataset: .metrics, total: 3_000, tenants: 3, startMillis: 1_760_000_000_000, spanMillis: 60_000, seed: 31)
        let bodyPath = daemon.directory + "/batch.json"
        try ("[" + (0..<3_000).map { events.cloudEvent($0) }.joined(separator: ",") + "]").write(toFile: bodyPath, atomically: true, encoding: .utf8)
        // --expect100-timeout 30: without the interim response curl would wait 30 s and
        // then send anyway, and the verbose log would show no 100.
        let result = try await ProcessRunner.run("/usr/bin/curl", [
            "-sS", "-v", "--expect100-timeout", "30", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}",
            "-H", "Expect: 100-continue", "-H", "Content-Type: application/cloudevents-batch+json",
            "--data-binary", "@" + bodyPath, daemon.ingestURL + "/v1/events",
        ], checked: false, timeout: .seconds(30))
        #expect(result.stdout == "200", "\(result.combinedOutput.suffix(2000))")
        #expect(result.stderr.contains("< HTTP/1.1 100 Continue"), "\(result.stderr.suffix(2000))")
        #expect(try await Self.count(ch, "SELECT count() FROM \(db).metrics") == 3_000)
        #expect(await daemon.terminate() == 0)
    }
}
