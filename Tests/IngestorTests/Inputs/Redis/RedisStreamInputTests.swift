import Foundation
import Ingestor
import TestSupport
import Testing

/// The Redis Streams input end to end: the real `sluice run` binary against a real
/// redis-server 7 and ClickHouse 18.16, SIGKILLs and restarts included.
///
/// Serialized: each test runs daemons flat out on a two-core machine, and the claim test
/// measures time. Every test tears its daemons and database down, also on failure.
@Suite(.serialized) struct RedisStreamInputTests {
    /// Runs `body` with a fixture and always tears it down; on failure the daemon logs
    /// are attached to the issue.
    func withFixture(_ name: String, redis: RedisServer? = nil, _ body: (RedisIngestFixture) async throws -> Void) async throws {
        let server = if let redis { redis } else { try await RedisServer.shared() }
        let fixture = try await RedisIngestFixture.make(redis: server, name: name)
        do {
            try await body(fixture)
        } catch {
            Issue.record("daemon logs:\n\(fixture.logs)")
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    @Test func threeStreamsOf200kEventsGiveExactly200kRows() async throws {
        try await withFixture("three") { f in
            let streams = ["three-a", "three-b", "three-c"]
            let config = try f.writeConfig(name: "daemon", streams: streams, consumer: "c1")
            let daemon = try f.startDaemon(config: config, name: "daemon")
            let counts = [70_000, 70_000, 60_000]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, s) in streams.enumerated() {
                    group.addTask { try await f.publish(RedisIngestFixture.events(count: counts[i], seed: UInt64(100 + i)), stream: s) }
                }
                try await group.waitForAll()
            }
            let (rows, distinct) = try await f.waitForRows(200_000, timeout: .seconds(60))
            #expect(rows == 200_000)
            #expect(distinct == 200_000)
            #expect(try await f.waitForPending(streams, toBe: 0, timeout: .seconds(10)) == 0)
            #expect(try await f.metric("sluice_redis_entries_read_total", config: config) == 200_000)
            // Lag is sampled from XINFO GROUPS (Redis 7), per stream and group.
            #expect(try await f.metric("sluice_redis_stream_lag", config: config, matching: "group=\"\(f.group)\"") == 0)
            #expect(await daemon.terminate() == 0, "SIGTERM stops gracefully with exit code 0")
            #expect(daemon.log.contains("stopped reading"))
        }
    }

    @Test func sigkilledThreeTimesWhileEventsFlowStillGivesExactly200kRows() async throws {
        try await withFixture("kill") { f in
            let stream = "kill-s"
            let config = try f.writeConfig(name: "daemon", streams: [stream], consumer: "stable-consumer")
            let publisher = Task { try await f.publish(RedisIngestFixture.events(count: 200_000, seed: 7), stream: stream, rate: 40_000) }
            var daemon = try f.startDaemon(config: config, name: "daemon")
            var delays: [Int] = []
            for round in 1...3 {
                let ms = Int.random(in: 700...2200)
                delays.append(ms)
                try await Task.sleep(for: .milliseconds(ms))
                let before = try await f.metricsRows().rows
                await daemon.kill9()
                let pendingAtKill = try await f.pending([stream])
                print("kill \(round) after \(ms) ms: \(before) rows, \(pendingAtKill) entries pending")
                daemon = try f.startDaemon(config: config, name: "daemon")
            }
            try await publisher.value
            let (rows, distinct) = try await f.waitForRows(200_000, timeout: .seconds(90))
            #expect(rows == 200_000, "kill delays \(delays)")
            #expect(distinct == rows, "no event written twice (kill delays \(delays))")
            #expect(try await f.waitForPending([stream], toBe: 0, timeout: .seconds(10)) == 0, "the pending list ends empty")
            #expect(await daemon.terminate() == 0)
        }
    }

    @Test func twoDaemonsShareTheGroupAndTheSurvivorClaimsTheDeadOnesEntries() async throws {
        try await withFixture("pair") { f in
            let stream = "pair-s"
            let claimIdle: Duration = .seconds(3)
            let configA = try f.writeConfig(name: "a", streams: [stream], consumer: "consumer-a", claimIdle: "3s", claimInterval: "500ms")
            let configB = try f.writeConfig(name: "b", streams: [stream], consumer: "consumer-b", claimIdle: "3s", claimInterval: "500ms")
            let a = try f.startDaemon(config: configA, name: "a")
            let b = try f.startDaemon(config: configB, name: "b")
            let publisher = Task { try await f.publish(RedisIngestFixture.events(count: 200_000, seed: 11), stream: stream, rate: 40_000) }

            // Both do work: wait until each has read entries and A holds some pending.
            var readA = 0.0, readB = 0.0, pendingA = 0
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                readA = (try? await f.metric("sluice_redis_entries_read_total", config: configA)) ?? 0
                readB = (try? await f.metric("sluice_redis_entries_read_total", config: configB)) ?? 0
                pendingA = try await f.pendingByConsumer(stream)["consumer-a"] ?? 0
                if readA > 1000, readB > 1000, pendingA > 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(readA > 1000 && readB > 1000, "both daemons read entries (a \(readA), b \(readB))")
            await a.kill9()
            let killedAt = ContinuousClock.now
            let stranded = try await f.pendingByConsumer(stream)["consumer-a"] ?? 0
            #expect(stranded > 0, "A died with entries pending")

            // The survivor takes them over once they are idle for claim_idle.
            var claimedAfter: Duration?
            while ContinuousClock.now - killedAt < claimIdle + .seconds(15) {
                if (try await f.pendingByConsumer(stream)["consumer-a"] ?? 0) == 0 {
                    claimedAfter = ContinuousClock.now - killedAt
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let claimTime = try #require(claimedAfter, "A's \(stranded) pending entries were never claimed")
            print("A killed with \(stranded) entries pending (A read \(Int(readA)), B read \(Int(readB))); B claimed them after \(claimTime)")
            #expect(claimTime <= claimIdle + .seconds(5), "claimed after \(claimTime)")
            #expect(try await f.metric("sluice_redis_entries_claimed_total", config: configB) >= Double(stranded))

            try await publisher.value
            let (rows, distinct) = try await f.waitForRows(200_000, timeout: .seconds(90))
            #expect(rows == 200_000)
            #expect(distinct == rows, "each event written once")
            #expect(try await f.waitForPending([stream], toBe: 0, timeout: .seconds(10)) == 0)
            #expect(await b.terminate() == 0)
        }
    }

    @Test func redisRestartMidStreamLosesAndDuplicatesNothing() async throws {
        let redis = try await RedisServer.startPrivate(appendOnly: true)
        do {
            try await restartScenario(redis)
        } catch {
            await redis.destroy()
            throw error
        }
        await redis.destroy()
    }

    func restartScenario(_ redis: RedisServer) async throws {
        try await withFixture("restart", redis: redis) { f in
            let stream = "restart-s"
            let config = try f.writeConfig(name: "daemon", streams: [stream], consumer: "c1")
            let daemon = try f.startDaemon(config: config, name: "daemon")
            let total = 100_000
            let publisher = Task { try await f.publish(RedisIngestFixture.events(count: total, seed: 23), stream: stream, rate: 25_000) }
            let deadline = ContinuousClock.now + .seconds(30)
            while try await f.metricsRows().rows < 10_000, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let before = try await f.metricsRows().rows
            #expect(before < total, "the restart happens mid-stream")
            // SIGTERM: Redis fsyncs its append-only file and exits; the data survives.
            try await redis.stop()
            try await Task.sleep(for: .seconds(1))
            try await redis.start()
            print("redis restarted at \(before) rows")
            try await publisher.value
            let (rows, distinct) = try await f.waitForRows(total, timeout: .seconds(90))
            #expect(rows == total, "restarted at \(before) rows")
            #expect(distinct == rows)
            var reconnects = 0.0
            let metricDeadline = ContinuousClock.now + .seconds(15)
            while reconnects < 1, ContinuousClock.now < metricDeadline {
                reconnects = try await f.metric("sluice_redis_reconnects_total", config: config)
                if reconnects < 1 { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(reconnects >= 1, "the reader reconnected")
            #expect(try await f.waitForPending([stream], toBe: 0, timeout: .seconds(15)) == 0)
            #expect(await daemon.terminate() == 0)
        }
    }

    /// A live read session keeps two XREADGROUPs on the wire. Deleting the stream makes
    /// Redis fail both (the blocked one with UNBLOCKED, the next with NOGROUP): the
    /// session must read the second reply before giving up, or the connection would be
    /// out of step, and the input must recreate the group and go on.
    @Test func aStreamDeletedDuringALiveSessionIsRecreatedAndReadingGoesOn() async throws {
        try await withFixture("gone") { f in
            let stream = "gone-s"
            let config = try f.writeConfig(name: "daemon", streams: [stream], consumer: "c1")
            let daemon = try f.startDaemon(config: config, name: "daemon")
            try await f.publish(RedisIngestFixture.events(count: 2000, seed: 31), stream: stream)
            _ = try await f.waitForRows(2000, timeout: .seconds(30))
            #expect(try await f.waitForPending([stream], toBe: 0, timeout: .seconds(10)) == 0)
            // Idle now, so the session's reads are blocked in Redis when the key goes.
            try await Task.sleep(for: .milliseconds(300))
            _ = try await f.redis.cli(["DEL", stream])
            try await Task.sleep(for: .milliseconds(500))
            try await f.publish(RedisIngestFixture.events(count: 1500, seed: 32), stream: stream)
            let (rows, distinct) = try await f.waitForRows(3500, timeout: .seconds(30))
            #expect(rows == 3500 && distinct == 3500, "every event after the re-creation arrives, once")
            #expect(try await f.waitForPending([stream], toBe: 0, timeout: .seconds(10)) == 0)
            #expect(daemon.log.contains("consumer group missing"), "the session's failure was seen and the group recreated")
            #expect(!daemon.log.contains("protocol"), "the connection never fell out of step with its replies")
            #expect(await daemon.terminate() == 0)
        }
    }

    @Test func poisonEntriesAreDeadLetteredAndAcknowledgedAndTheStreamKeepsFlowing() async throws {
        try await withFixture("poison") { f in
            let stream = "poison-s"
            let config = try f.writeConfig(name: "daemon", streams: [stream], consumer: "c1")
            let daemon = try f.startDaemon(config: config, name: "daemon")
            let events = RedisIngestFixture.events(count: 3, seed: 99)
            func add(_ fields: [String]) async throws -> String {
                try await f.redis.cli(["XADD", stream, "*"] + fields)
            }
            _ = try await add(["data", events.cloudEvent(0)])
            let notJSON = try await add(["data", "this is not json"])
            let noData = try await add(["foo", "bar", "baz", "qux"])
            var binary = ["content-type", "application/json", "data", events.data(1)]
            for (k, v) in events.attributes(1) { binary += ["ce_\(k)", v] }
            _ = try await add(binary)
            let notCloudEvent = try await add(["data", #"{"hello":"world"}"#])
            _ = try await add(["data", events.cloudEvent(2), "metadata", #"{"ttlInSeconds":"60"}"#])
            // And the stream keeps flowing after the poison.
            try await f.publish(RedisIngestFixture.events(count: 1000, seed: 98), stream: stream)

            let (rows, distinct) = try await f.waitForRows(1003, timeout: .seconds(30))
            #expect(rows == 1003 && distinct == 1003, "valid structured, binary and Dapr-metadata entries are ingested")
            let offsets = try await f.clickhouse.query(
                "SELECT offset FROM \(f.database).dead_letter WHERE source = 'redis' AND stream = '\(stream)' ORDER BY offset")
            #expect(offsets.split(separator: "\n").map(String.init).sorted() == [notJSON, noData, notCloudEvent].sorted())
            let raw = try await f.clickhouse.query("SELECT raw_event FROM \(f.database).dead_letter WHERE offset = '\(noData)'")
            #expect(raw.contains("foo=bar"), "the dead-letter row shows the entry's fields")
            #expect(try await f.waitForPending([stream], toBe: 0, timeout: .seconds(10)) == 0, "poison is acknowledged once dead-lettered")
            #expect(try await f.metric("sluice_redis_entries_unreadable_total", config: config) == 1)
            #expect(await daemon.terminate() == 0)
        }
    }

    @Test func aFullMemoryBudgetStopsReadingAndRedisKeepsTheBacklog() async throws {
        try await withFixture("budget") { f in
            let stream = "budget-s"
            let total = 50_000
            // The whole backlog is in Redis before the daemon starts. A 1 MiB budget holds
            // about three reads of 1000 entries (~350 B each); each settles only when its
            // batch is flushed (max_age), so without back-pressure the reader would pull
            // most of the backlog into its pending list within a second.
            try await f.publish(RedisIngestFixture.events(count: total, seed: 31), stream: stream)
            let config = try f.writeConfig(name: "daemon", streams: [stream], consumer: "c1", maxAge: "200ms", memoryBudget: "1MiB")
            let daemon = try f.startDaemon(config: config, name: "daemon")
            var maxPending = 0
            var samples = 0
            let deadline = ContinuousClock.now + .seconds(90)
            while try await f.metricsRows().rows < total, ContinuousClock.now < deadline {
                maxPending = max(maxPending, try await f.pending([stream]))
                samples += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            print("budget 1MiB: at most \(maxPending) entries pending over \(samples) samples")
            #expect(samples > 5, "the drain was observed while it ran")
            #expect(maxPending > 0)
            #expect(maxPending <= 10_000, "reading stops while the budget is full (\(maxPending) pending at most)")
            let (rows, distinct) = try await f.waitForRows(total, timeout: .seconds(30))
            #expect(rows == total && distinct == total, "Redis kept the rest and nothing was lost")
            #expect(try await f.waitForPending([stream], toBe: 0, timeout: .seconds(10)) == 0)
            #expect(await daemon.terminate() == 0)
        }
    }
}
