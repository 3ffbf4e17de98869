import Ingestor
import Testing

@Suite struct RedisAckBatcherTests {
    func id(_ n: UInt64) -> RedisEntryID { RedisEntryID(ms: n, seq: 0) }

    @Test func acksAreBatchedPerStreamOldestFirst() throws {
        var b = RedisAckBatcher(streamCount: 3)
        _ = b.track((1...5).map { (0, id($0)) } + [(2, id(9))])
        for n in [3, 1, 2] as [UInt64] { b.enqueue(stream: 0, id: id(n)) }
        b.enqueue(stream: 2, id: id(9))
        let batchTaken = b.takeBatch(maxIDs: 100)
        let batch = try #require(batchTaken)
        #expect(batch.ids == [[id(3), id(1), id(2)], [], [id(9)]], "one XACK per stream, in settle order")
        #expect(batch.count == 4)
        #expect(b.takeBatch(maxIDs: 100) == nil, "nothing queued")
        #expect(!b.isDrained, "sent but not confirmed")
        b.acknowledged(batch)
        #expect(b.inFlight[0] == [id(4), id(5)], "only acknowledged ids leave the in-flight set")
        #expect(b.inFlight[2].isEmpty)
        #expect(!b.isDrained)
        b.enqueue(stream: 0, id: id(4))
        b.enqueue(stream: 0, id: id(5))
        let last = b.takeBatch(maxIDs: 10)
        b.acknowledged(try #require(last))
        #expect(b.isDrained)
    }

    @Test func batchesRespectTheSizeCap() throws {
        var b = RedisAckBatcher(streamCount: 2)
        for n in 0..<10 as Range<UInt64> { b.enqueue(stream: Int(n % 2), id: id(n)) }
        let firstTaken = b.takeBatch(maxIDs: 7)
        let first = try #require(firstTaken)
        #expect(first.count == 7)
        #expect(first.ids[0].count == 5 && first.ids[1].count == 2)
        let secondTaken = b.takeBatch(maxIDs: 7)
        let second = try #require(secondTaken)
        #expect(second.ids == [[], [id(5), id(7), id(9)]])
        #expect(b.queuedIDs == 0)
    }

    @Test func aFailedBatchIsRetriedFirstAndNothingIsForgotten() throws {
        var b = RedisAckBatcher(streamCount: 1)
        _ = b.track([(0, id(1)), (0, id(2)), (0, id(3))])
        b.enqueue(stream: 0, id: id(1))
        b.enqueue(stream: 0, id: id(2))
        let batchTaken = b.takeBatch(maxIDs: 10)
        let batch = try #require(batchTaken)
        b.enqueue(stream: 0, id: id(3))
        b.failed(batch)
        #expect(b.inFlightCount == 3, "a failed XACK keeps its ids in flight")
        let retryTaken = b.takeBatch(maxIDs: 10)
        let retry = try #require(retryTaken)
        #expect(retry.ids == [[id(1), id(2), id(3)]])
        b.acknowledged(retry)
        #expect(b.isDrained)
    }

    @Test func trackingReportsEntriesAlreadyInFlight() {
        var b = RedisAckBatcher(streamCount: 2)
        #expect(b.track([(0, id(1)), (1, id(1))]) == [false, false])
        #expect(b.track([(0, id(1)), (0, id(2)), (1, id(1))]) == [true, false, true], "same id on another stream is another entry")
        b.untrack(stream: 0, ids: [id(1), id(2)])
        #expect(b.track([(0, id(1))]) == [false])
    }

    @Test func abandonedBatchesStopBeingWaitedFor() throws {
        var b = RedisAckBatcher(streamCount: 1)
        _ = b.track([(0, id(1))])
        b.enqueue(stream: 0, id: id(1))
        let taken = b.takeBatch(maxIDs: 1)
        b.abandoned(try #require(taken))
        #expect(b.isDrained)
    }
}
