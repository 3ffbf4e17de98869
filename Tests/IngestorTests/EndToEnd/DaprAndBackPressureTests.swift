import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Ingestor
import Testing
import TestSupport

/// Dapr's delivery semantics and back-pressure, with a ClickHouse the test can stop.
@Suite(.serialized) struct DaprAndBackPressureTests {
    static func bulk(_ events: SyntheticEvents, _ range: Range<Int>, invalidEntries: [String] = []) -> String {
        var entries = range.map { i in
            #"{"entryId":"e-\#(i)","event":\#(events.cloudEvent(i)),"contentType":"application/cloudevents+json","metadata":{}}"#
        }
        for (n, body) in invalidEntries.enumerated() {
            entries.append(#"{"entryId":"bad-\#(n)","event":\#(body),"contentType":"application/cloudevents+json","metadata":{}}"#)
        }
        return #"{"id":"b","type":"com.dapr.event.sent.bulk","topic":"metrics","pubsubname":"pubsub","metadata":{},"entries":[\#(entries.joined(separator: ","))]}"#
    }

    static func statuses(_ body: String) -> [String: String] {
        guard let data = body.data(using: .utf8),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = json["statuses"] as? [[String: String]] else { return [:] }
        var out: [String: String] = [:]
        for s in list { out[s["entryId"] ?? ""] = s["status"] }
        return out
    }

    @Test func daprGetsDropForInvalidRetryWhileDownAndOneRowAfterRedelivery() async throws {
        let ch = try await ClickHouseServer.startPrivate()
        defer { Task { await ch.destroy() } }
        let db = try await ch.makeDatabase(prefix: "dapr")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, extraYAML: "", pipelineYAML: """
            pipeline:
              batch: {max_rows: 10000, max_bytes: 32MiB, max_age: 50ms}
              memory_budget: 256MiB
              retry_max_delay: 500ms
            """)
        try await daemon.migrate()
        try await daemon.start()
        let url = daemon.ingestURL + "/dapr/events/metrics"
        let events = SyntheticEvents(dataset: .metrics, total: 100, startMillis: 1_760_000_000_000, spanMillis: 60_000, seed: 5)

        // Invalid entries: DROP, each with one dead-letter row; valid ones SUCCESS.
        let invalid = [#"{"specversion":"1.0","id":"x","source":"/s","type":"metric","tenantid":"a","data":{"metric_name":"m","value":"NaN?"}}"#,
                       #"{"specversion":"0.3","id":"y","source":"/s","type":"metric"}"#]
        let (s1, b1) = try await HTTPTestClient.post(url, json: Self.bulk(events, 0..<10, invalidEntries: invalid))
        #expect(s1 == 200)
        let st1 = Self.statuses(b1)
        #expect((0..<10).allSatisfy { st1["e-\($0)"] == "SUCCESS" }, "\(b1)")
        #expect(st1["bad-0"] == "DROP" && st1["bad-1"] == "DROP", "\(b1)")
        #expect(try await ch.query("SELECT count() FROM \(db).dead_letter").trimmingCharacters(in: .whitespacesAndNewlines) == "2")

        // ClickHouse stopped: every entry RETRY, nothing written.
        try await ch.stop()
        let (s2, b2) = try await HTTPTestClient.post(url, json: Self.bulk(events, 10..<60))
        #expect(s2 == 200)
        let st2 = Self.statuses(b2)
        #expect((10..<60).allSatisfy { st2["e-\($0)"] == "RETRY" }, "\(b2)")
        let (_, single) = try await HTTPTestClient.post(url, json: events.cloudEvent(60), contentType: "application/cloudevents+json")
        #expect(single.contains("RETRY"))

        // ClickHouse back: Dapr redelivers; each event ends up exactly once.
        try await ch.start()
        let (s3, b3) = try await HTTPTestClient.post(url, json: Self.bulk(events, 10..<61))
        #expect(s3 == 200)
        let st3 = Self.statuses(b3)
        #expect((10..<61).allSatisfy { st3["e-\($0)"] == "SUCCESS" }, "\(b3)")
        #expect(try await ch.query("SELECT count(), uniqExact(_event_key) FROM \(db).metrics").trimmingCharacters(in: .whitespacesAndNewlines) == "61\t61")
        #expect(await daemon.terminate() == 0)
    }

    @Test func floodWithClickHouseDownIsRefusedAndMemoryStaysBounded() async throws {
        let ch = try await ClickHouseServer.startPrivate()
        defer { Task { await ch.destroy() } }
        let db = try await ch.makeDatabase(prefix: "bp")
        let budget = 32 << 20
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, pipelineYAML: """
            pipeline:
              batch: {max_rows: 100000, max_bytes: 32MiB, max_age: 100ms}
              memory_budget: 32MiB
              retry_max_delay: 500ms
            """)
        try await daemon.migrate()
        try await daemon.start()
        let pid = try #require(daemon.process?.pid)
        try await ch.stop()
        // ~1 MB batches from 32 concurrent senders, for a few seconds.
        let events = SyntheticEvents(dataset: .metrics, total: 1_000_000, startMillis: 1_760_000_000_000, spanMillis: 86_400_000, seed: 11)
        let statuses = Locked([Int: Int]())
        let retryAfterSeen = Locked(false)
        let maxRSS = Locked(0)
        let deadline = ContinuousClock.now + .seconds(8)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    var i = worker * 30_000
                    while ContinuousClock.now < deadline {
                        let body = "[" + (i..<(i + 3000)).map { events.cloudEvent($0) }.joined(separator: ",") + "]"
                        i += 3000
                        guard let url = URL(string: daemon.ingestURL + "/v1/events") else { return }
                        var r = URLRequest(url: url)
                        r.httpMethod = "POST"
                        r.httpBody = Data(body.utf8)
                        r.setValue("application/cloudevents-batch+json", forHTTPHeaderField: "Content-Type")
                        guard let (_, response) = try? await URLSession.shared.data(for: r), let http = response as? HTTPURLResponse else { continue }
                        statuses.withLock { $0[http.statusCode, default: 0] += 1 }
                        if http.statusCode == 429 || http.statusCode == 503, http.value(forHTTPHeaderField: "Retry-After") != nil {
                            retryAfterSeen.withLock { $0 = true }
                        }
                    }
                }
            }
            group.addTask {
                while ContinuousClock.now < deadline + .seconds(2) {
                    let rss = Self.rssBytes(pid)
                    maxRSS.withLock { $0 = Swift.max($0, rss) }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        let seen = statuses.withLock { $0 }
        #expect((seen[429] ?? 0) + (seen[503] ?? 0) > 0, "a flood with the sink down must be pushed back: \(seen)")
        #expect(seen[200] == nil, "nothing can be durable while ClickHouse is down: \(seen)")
        #expect(retryAfterSeen.withLock { $0 })
        let peak = maxRSS.withLock { $0 }
        #expect(peak > 0 && peak < 3 * budget, "RSS peaked at \(peak / 1_048_576) MiB with a \(budget / 1_048_576) MiB budget")
        try await ch.start()
        #expect(await daemon.terminate() == 0)
    }

    /// Resident set size of a process, from /proc.
    static func rssBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}
