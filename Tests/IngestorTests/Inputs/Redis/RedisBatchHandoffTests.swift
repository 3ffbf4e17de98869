import Dispatch
import Foundation
import Pipeline
import Synchronization
import Testing

@testable import Ingestor

@Suite struct RedisBatchHandoffTests {
    private static func batch(_ id: UInt64) -> RedisReadBatch {
        var b = RedisReadBatch(streamCount: 1, expectedBytes: 8, expectedMessages: 1)
        b.ids.append(RedisEntryID(ms: id, seq: 0))
        return b
    }

    @Test func batchesArriveInOrderAndNilFollowsFinish() async {
        let handoff = RedisBatchHandoff(capacity: 2)
        let producer = Thread {
            for i in 1...50 { handoff.put(Self.batch(UInt64(i))) }
            handoff.finish()
        }
        producer.start()
        var seen: [UInt64] = []
        while let b = await handoff.next() { seen.append(b.ids[0].ms) }
        #expect(seen == Array(1...50))
        #expect(await handoff.next() == nil)
    }

    @Test func theProducerWaitsWhileTheQueueIsFull() async throws {
        let handoff = RedisBatchHandoff(capacity: 2)
        let put = Atomic<Int>(0)
        let producer = Thread {
            for i in 1...3 {
                handoff.put(Self.batch(UInt64(i)))
                put.add(1, ordering: .relaxed)
            }
            handoff.finish()
        }
        producer.start()
        // Two fit; the third put must wait for the consumer. Each wait has its own
        // generous deadline: under a loaded CI box the producer thread and this task's
        // wake-ups can each be late by seconds, and a shared deadline let the first wait
        // use up the second's time.
        func waitFor(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while put.load(ordering: .relaxed) < count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        try await waitFor(2)
        try await Task.sleep(for: .milliseconds(200))
        #expect(put.load(ordering: .relaxed) == 2)
        #expect(await handoff.next()?.ids[0].ms == 1)
        try await waitFor(3)
        #expect(put.load(ordering: .relaxed) == 3)
        #expect(await handoff.next()?.ids[0].ms == 2)
        #expect(await handoff.next()?.ids[0].ms == 3)
        #expect(await handoff.next() == nil)
    }

    @Test func aConsumerWaitingBeforeTheFirstBatchGetsIt() async {
        let handoff = RedisBatchHandoff(capacity: 1)
        async let first = handoff.next()
        try? await Task.sleep(for: .milliseconds(50))
        let producer = Thread {
            handoff.put(Self.batch(7))
            handoff.put(Self.batch(8))
            handoff.finish()
        }
        producer.start()
        #expect(await first?.ids[0].ms == 7)
        #expect(await handoff.next()?.ids[0].ms == 8)
        #expect(await handoff.next() == nil)
    }
}
