import Foundation
import Ingestor
import Pipeline
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The Kafka input end to end: the real `sluice run` binary against librdkafka's mock
/// cluster over TCP and the real ClickHouse 18.16. Each test produces while the daemon
/// consumes (the mock keeps only ~10,000 records per partition) and ends by checking
/// that the table holds every event exactly once and that the group's committed offsets
/// reached the log end.
///
/// Serialized: each test pushes hundreds of thousands of events through two cores.
@Suite(.serialized) struct KafkaInputStreamTests {
    static let total = 200_000

    /// Every event exactly once, and nothing left uncommitted.
    func expectExactlyOnce(_ f: KafkaStreamFixture, total: Int = total) async throws {
        try await f.waitUntil("\(total) rows", timeout: .seconds(90)) { try await f.rowCount() >= total }
        f.note("\(total) rows")
        try await f.waitForCommitsAtLogEnd()
        f.note("commits at the log end")
        // A moment for any late duplicate insert to show up.
        try await Task.sleep(for: .milliseconds(500))
        let (rows, distinct) = try await f.rowsAndDistinctKeys()
        #expect(rows == total, "rows")
        #expect(distinct == total, "distinct events")
        let hw = try await f.highWatermarks()
        #expect(hw.values.reduce(0, +) >= Int64(total), "every event went through Kafka")
    }

    @Test func twoHundredThousandEventsOverSixPartitionsGiveExactlyThatManyRows() async throws {
        try await KafkaStreamFixture.with(name: "plain") { f in
            let daemon = try await f.startDaemon()
            let started = ContinuousClock.now
            try await f.produce(upTo: Self.total)
            try await expectExactlyOnce(f)
            let seconds = Double((ContinuousClock.now - started).components.seconds)
            print("kafka: \(Self.total) events in ~\(Int(seconds)) s through one daemon")
            // Lag comes from librdkafka's statistics, per partition.
            let metrics = try await f.httpGet(port: daemon.queryPort, path: "/metrics")
            #expect(metrics.contains("sluice_kafka_consumer_lag{"), "lag gauge exported")
            #expect(metrics.contains("partition=\"5\""), "per-partition lag")
            let health = try await f.httpGet(port: daemon.queryPort, path: "/health/ready")
            #expect(health.contains("kafka"), "the Kafka input reports readiness: \(health)")
            // A graceful stop exits 0.
            await daemon.process.stop()
            #expect(await daemon.process.waitForExit() == 0)
        }
    }

    @Test func sigkilledThreeTimesMidStreamStillGivesExactlyOnce() async throws {
        try await KafkaStreamFixture.with(name: "kill") { f in
            var daemon = try await f.startDaemon()
            var kills = 0
            try await f.produce(upTo: Self.total) { rows in
                guard kills < 3, rows >= (kills + 1) * Self.total / 4 else { return }
                await f.kill(daemon)
                kills += 1
                daemon = try await f.startDaemon()
            }
            #expect(kills == 3)
            try await expectExactlyOnce(f)
        }
    }

    @Test func aSecondDaemonJoinsAndOneOfTwoIsKilled() async throws {
        try await KafkaStreamFixture.with(name: "join") { f in
            let first = try await f.startDaemon()
            var second: KafkaStreamFixture.Daemon?
            var killed = false
            try await f.produce(upTo: Self.total) { rows in
                if second == nil, rows >= Self.total / 2 {
                    second = try await f.startDaemon()
                } else if let _ = second, !killed, rows >= Self.total * 3 / 4 {
                    await f.kill(first)
                    killed = true
                }
            }
            #expect(second != nil && killed)
            try await expectExactlyOnce(f)
            let (hw, committed) = (try await f.highWatermarks(), try await f.committedOffsets())
            for p in f.allPartitions {
                #expect(committed[p] == hw[p], "partition \(p): committed \(committed[p] ?? -1), log end \(hw[p] ?? -1)")
            }
        }
    }

    @Test func aBrokerDownForTenSecondsLosesAndDuplicatesNothing() async throws {
        try await KafkaStreamFixture.with(name: "broker") { f in
            let daemon = try await f.startDaemon()
            var outage: Task<Void, any Error>?
            try await f.produce(upTo: Self.total) { rows in
                guard outage == nil, rows >= Self.total / 3 else { return }
                try await f.cluster.setBrokerDown(2)
                outage = Task {
                    try await Task.sleep(for: .seconds(10))
                    try await f.cluster.setBrokerUp(2)
                }
            }
            try await outage?.value
            #expect(outage != nil)
            try await expectExactlyOnce(f)
            #expect(daemon.process.isRunning, "the daemon rode out the outage")
        }
    }

    @Test func poisonRecordsAreDeadLetteredAndCommittedOnlyAfterTheirWrite() async throws {
        try await KafkaStreamFixture.with(name: "poison", total: 20_500) { f in
            try await f.startDaemon()
            try await f.produce(upTo: 10_000)
            try await f.waitUntil("the first 10,000 rows") { try await f.rowCount() == 10_000 }
            try await f.waitForCommitsAtLogEnd()

            // Hold dead-letter writes back: ClickHouse answers "unknown table" and the
            // writer retries, so the poison records cannot be settled yet.
            try await f.clickhouse.execute("RENAME TABLE \(f.database).dead_letter TO \(f.database).dead_letter_parked")
            let poisonOffset = try await f.highWatermarks()[0]!
            let poison = (0..<5).map { i in KafkaProducerRecord(key: Array("poison-\(i)".utf8), value: Array("not json at all \(i) {".utf8)) }
            try await f.produce(poison, partition: 0)
            // Good records behind the poison, in the same partition and elsewhere.
            try await f.produce((10_000..<10_500).map(f.record), partition: 0)
            f.markProduced(upTo: 10_500)
            try await f.produce(upTo: 20_500)

            // The partition keeps flowing: everything valid arrives...
            try await f.waitUntil("every valid row despite the poison") { try await f.rowCount() == 20_500 }
            // ...and the other partitions commit to their end, but partition 0 stays at
            // the first poison record while its dead-letter row is not durable.
            try await Task.sleep(for: .seconds(1))
            let hw = try await f.highWatermarks()
            var committed = try await f.committedOffsets()
            for p in f.allPartitions where p != 0 {
                #expect(committed[p] == hw[p], "partition \(p) is not held back by partition 0's poison")
            }
            #expect(committed[0] == poisonOffset, "committed \(committed[0] ?? -1) with the poison at \(poisonOffset)")

            try await f.clickhouse.execute("RENAME TABLE \(f.database).dead_letter_parked TO \(f.database).dead_letter")
            try await f.waitUntil("5 dead letters") { try await f.deadLetterCount() == 5 }
            try await f.waitForCommitsAtLogEnd()
            committed = try await f.committedOffsets()
            #expect(committed[0] == hw[0])
            let (rows, distinct) = try await f.rowsAndDistinctKeys()
            #expect(rows == 20_500 && distinct == 20_500)
            let reasons = try await f.clickhouse.query(
                "SELECT source, stream, partition, offset FROM \(f.database).dead_letter ORDER BY toUInt64(offset)")
            let lines = reasons.split(separator: "\n")
            #expect(lines.count == 5)
            #expect(lines.first == "kafka\t\(f.topic)\t0\t\(poisonOffset)")
        }
    }

    @Test func aFullMemoryBudgetPausesPartitionsAndLosesNothing() async throws {
        try await KafkaStreamFixture.with(name: "pause", total: 30_000) { f in
            let daemon = try await f.startDaemon(memoryBudget: "2MiB", chunkMessages: 500)
            try await f.waitUntilRunning(daemon)
            // Keep ClickHouse from taking rows for a while, so the budget fills up.
            try await f.clickhouse.execute("RENAME TABLE \(f.database).metrics TO \(f.database).metrics_parked")
            try await f.produceAtOnce(upTo: 20_000)
            try await f.waitUntil("partitions paused", timeout: .seconds(30)) {
                let m = try await f.httpGet(port: daemon.queryPort, path: "/metrics")
                return Self.gauge("sluice_kafka_paused", in: m) == 1
            }
            f.note("paused; letting ClickHouse take rows again")
            try await f.clickhouse.execute("RENAME TABLE \(f.database).metrics_parked TO \(f.database).metrics")
            try await f.produce(upTo: 30_000)
            f.note("all produced")
            try await expectExactlyOnce(f, total: 30_000)
            let m = try await f.httpGet(port: daemon.queryPort, path: "/metrics")
            f.note("pauses: \(Self.gauge("sluice_kafka_pauses_total", in: m) ?? -1)")
            #expect(Self.gauge("sluice_kafka_paused", in: m) == 0, "resumed once the budget drained")
        }
    }

    /// SIGTERM while ClickHouse refuses every insert, with `shutdown.timeout` shorter than
    /// `drain_timeout`: the group cancels the Kafka input in the middle of its drain. It
    /// must stop waiting at once (the pipeline will not resolve anything any more), commit
    /// nothing that was not written, and the daemon must exit 1, not trap on the group's
    /// cancellation limit. A new daemon then writes every event exactly once.
    @Test func aShutdownThatCannotDrainCommitsNothingUnwrittenAndExitsOne() async throws {
        try await KafkaStreamFixture.with(name: "undrained", total: 20_000) { f in
            let daemon = try await f.startDaemon(drainTimeout: "15s", shutdownTimeout: "2s")
            try await f.waitUntilRunning(daemon)
            try await f.clickhouse.execute("RENAME TABLE \(f.database).metrics TO \(f.database).metrics_parked")
            try await f.produceAtOnce(upTo: 10_000)
            try await f.waitUntil("records consumed", timeout: .seconds(30)) {
                let m = try await f.httpGet(port: daemon.queryPort, path: "/metrics")
                return (Self.gauge("sluice_kafka_records_received_total", in: m) ?? 0) > 0
            }
            let started = ContinuousClock.now
            daemon.process.signal(SIGTERM)
            let exited = await daemon.process.waitForExit(timeout: .seconds(30))
            #expect(exited, "still running 30 s after SIGTERM")
            if !exited { await daemon.process.kill9() }
            let took = ContinuousClock.now - started
            let log = daemon.process.standardError
            #expect(await daemon.process.waitForExit() == 1, "\(log.suffix(3000))")
            #expect(took < .seconds(12), "took \(took); the drain should have been abandoned")
            #expect(!log.contains("Fatal error"), "\(log.suffix(3000))")
            f.note("stopped in \(took)")

            try await f.clickhouse.execute("RENAME TABLE \(f.database).metrics_parked TO \(f.database).metrics")
            try await f.startDaemon()
            try await f.produce(upTo: 20_000)
            try await expectExactlyOnce(f, total: 20_000)
        }
    }

    @Test func sluicePublishToKafkaInBothBindingsReachesClickHouse() async throws {
        try await KafkaStreamFixture.with(name: "publish", total: 12_000) { f in
            let url = "kafka://\(f.cluster.bootstrap)/\(f.topic)"
            for (mode, seed) in [("binary", "7"), ("structured", "8")] {
                // Exits non-zero (and so throws) unless every record was delivered.
                try await ProcessRunner.run(
                    KafkaStreamFixture.sluice,
                    ["publish", "--dataset", "metrics", "--count", "6000", "--to", url, "--mode", mode, "--seed", seed, "--quiet"],
                    timeout: .seconds(60))
            }
            let hw = try await f.highWatermarks()
            #expect(hw.values.reduce(0, +) == 12_000, "every published record is in the topic")
            #expect(hw.values.allSatisfy { $0 > 1000 }, "keyed records spread over all partitions: \(hw)")
            try await f.startDaemon()
            try await f.waitUntil("12,000 rows") { try await f.rowCount() >= 12_000 }
            try await f.waitForCommitsAtLogEnd()
            let (rows, distinct) = try await f.rowsAndDistinctKeys()
            #expect(rows == 12_000 && distinct == 12_000)
        }
    }

    static func gauge(_ name: String, in metrics: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
