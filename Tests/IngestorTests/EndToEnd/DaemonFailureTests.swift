import Foundation
import Ingestor
import Testing
import TestSupport

/// How the real binary ends when it cannot go on: with an exit status and a message that
/// names the cause, never a crash, and with nothing lost that a client was not told to
/// send again.
@Suite(.serialized) struct DaemonFailureTests {
    /// Rewrites one line of the daemon's generated config.
    static func edit(_ daemon: SluiceDaemonProcess, replacing old: String, with new: String) throws {
        let text = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        #expect(text.contains(old), "the generated config has no '\(old)'")
        try text.replacingOccurrences(of: old, with: new).write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
    }

    /// A port held by another process must stop the daemon with exit status 1 and a line
    /// that names the config key and the address. CI once had the side-port taken: the
    /// daemon then died on a trap ("Cancellation took longer than allowed"), because the
    /// pipeline ignored the group's cancellation.
    @Test(arguments: ["http.listen", "query.listen"])
    func aTakenPortEndsTheDaemonWithAnErrorNamingIt(key: String) async throws {
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "taken port")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db)
        try await daemon.migrate()
        let holder = try SilentTCPServer()
        defer { holder.close() }
        let port = key == "http.listen" ? daemon.httpPort : daemon.queryPort
        try Self.edit(daemon, replacing: "listen: 127.0.0.1:\(port)\n", with: "listen: 127.0.0.1:\(holder.port)\n")
        try await daemon.start(waitReady: false)
        let process = try #require(daemon.process)
        let exited = await process.waitForExit(timeout: .seconds(30))
        #expect(exited, "the daemon kept running without its \(key) port:\n\(daemon.log)")
        guard exited else {
            await process.kill9()
            return
        }
        #expect(await process.waitForExit() == 1, "\(daemon.log)")
        let stderr = process.standardError
        #expect(stderr.contains("sluice: \(key) 127.0.0.1:\(holder.port)"), "stderr: \(stderr)")
        #expect(!daemon.log.contains("Fatal error"), "\(daemon.log)")
    }

    /// SIGTERM while ClickHouse is down: the pipeline cannot drain, so after
    /// `shutdown.timeout` the daemon gives up, exits 1, and keeps nothing it had
    /// acknowledged. The client was never told its events were durable; it sends them
    /// again after the restart and each event ends up exactly once.
    @Test func aShutdownThatCannotDrainEndsWithAnErrorAndLosesNothing() async throws {
        let ch = try await ClickHouseServer.startPrivate()
        defer { Task { await ch.destroy() } }
        let db = try await ch.makeDatabase(prefix: "undrained")
        let daemon = try SluiceDaemonProcess(clickhouseURL: ch.url, database: db, pipelineYAML: """
            pipeline:
              batch: {max_rows: 10000, max_bytes: 32MiB, max_age: 50ms}
              memory_budget: 64MiB
              retry_max_delay: 500ms
            """)
        try Self.edit(daemon, replacing: "timeout: 30s", with: "timeout: 2s")
        try await daemon.migrate()
        try await daemon.start()
        let events = SyntheticEvents(dataset: .metrics, total: 2000, startMillis: 1_760_000_000_000, spanMillis: 60_000, seed: 17)
        let body = "[" + (0..<events.total).map { events.cloudEvent($0) }.joined(separator: ",") + "]"
        try await ch.stop()

        // The request waits for durability (ack_timeout 10 s) while the shutdown starts.
        let answer = Task { () -> Int? in
            try? await HTTPTestClient.post(daemon.ingestURL + "/v1/events", json: body, contentType: "application/cloudevents-batch+json").0
        }
        try await Task.sleep(for: .seconds(1))
        let process = try #require(daemon.process)
        let started = ContinuousClock.now
        process.signal(SIGTERM)
        let exited = await process.waitForExit(timeout: .seconds(30))
        #expect(exited, "\(daemon.log)")
        guard exited else {
            await process.kill9()
            return
        }
        let took = ContinuousClock.now - started
        #expect(await process.waitForExit() == 1, "\(daemon.log)")
        #expect(took < .seconds(15), "took \(took)")
        #expect(daemon.log.contains("pipeline abandoned without draining"), "\(daemon.log)")
        #expect(process.standardError.contains("sluice: shutdown.timeout ran out with"), "\(process.standardError)")
        #expect(!daemon.log.contains("Fatal error"), "\(daemon.log)")
        let status = await answer.value
        #expect(status != 200, "the client was told events were durable while ClickHouse was down")

        // ClickHouse and the daemon come back; the client sends the batch again.
        try await ch.start()
        try await daemon.start()
        let (again, text) = try await HTTPTestClient.post(daemon.ingestURL + "/v1/events", json: body, contentType: "application/cloudevents-batch+json")
        #expect(again == 200, "\(text)")
        let rows = try await ch.query("SELECT count(), uniqExact(_event_key) FROM \(db).metrics").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(rows == "\(events.total)\t\(events.total)")
        #expect(await daemon.terminate() == 0)
    }
}
