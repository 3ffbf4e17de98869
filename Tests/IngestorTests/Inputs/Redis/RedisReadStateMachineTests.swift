import Ingestor
import Testing

@Suite struct RedisReadStateMachineTests {
    let t0 = ContinuousClock.now

    func id(_ ms: UInt64, _ seq: UInt64 = 0) -> RedisEntryID { RedisEntryID(ms: ms, seq: seq) }

    func machine(streams: Int = 2) -> RedisReadStateMachine {
        RedisReadStateMachine(streamCount: streams, claimInterval: .seconds(5), now: t0)
    }

    @Test func groupsFirstThenOwnPendingThenNewEntries() {
        var m = machine()
        #expect(m.nextAction(now: t0) == .createGroups)
        #expect(m.nextAction(now: t0) == .createGroups, "until they exist")
        m.groupsCreated()
        #expect(m.nextAction(now: t0) == .read(ids: ["0-0", "0-0"], block: true))
        // Stream 0 has pending entries, stream 1 none.
        m.readCompleted(perStream: [(count: 2, last: id(7, 1)), (count: 0, last: nil)])
        #expect(m.phases == [.pending(after: id(7, 1)), .live])
        #expect(m.nextAction(now: t0) == .read(ids: ["7-1", ">"], block: true), "the cursor advances; the other stream reads new entries")
        m.readCompleted(perStream: [(count: 1, last: id(9)), (count: 3, last: id(12))])
        #expect(m.nextAction(now: t0) == .read(ids: ["9-0", ">"], block: true))
        m.readCompleted(perStream: [(count: 0, last: nil), (count: 0, last: nil)])
        #expect(m.isLive)
        #expect(m.nextAction(now: t0) == .read(ids: [">", ">"], block: true))
        m.readCompleted(perStream: [nil, nil])
        #expect(m.isLive, "a timed-out BLOCK changes nothing")
    }

    @Test func aStreamMissingFromAPendingReplyCountsAsDone() {
        var m = machine(streams: 1)
        m.groupsCreated()
        _ = m.nextAction(now: t0)
        m.readCompleted(perStream: [nil])
        #expect(m.isLive)
    }

    @Test func reconnectReadsOwnPendingAgainFromZero() {
        var m = machine()
        m.groupsCreated()
        m.readCompleted(perStream: [(count: 0, last: nil), (count: 0, last: nil)])
        #expect(m.isLive)
        let delay = m.connectionLost()
        #expect(delay == .milliseconds(100))
        #expect(m.phases == [.pending(after: .zero), .pending(after: .zero)])
        #expect(m.nextAction(now: t0) == .createGroups)
        m.groupsCreated()
        #expect(m.nextAction(now: t0) == .read(ids: ["0-0", "0-0"], block: true))
    }

    @Test func backoffGrowsAndIsCappedAndResetsOnSuccess() {
        var m = machine()
        let delays = (0..<10).map { _ in m.connectionLost() }
        #expect(delays.prefix(4) == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)])
        #expect(delays.last == .seconds(5))
        m.groupsCreated()
        #expect(m.failed() == .milliseconds(100))
        #expect(m.groupMissing() == .milliseconds(200))
        #expect(m.needsGroups, "NOGROUP recreates the groups")
    }

    @Test func claimsComeEveryIntervalAndAlternateWithReads() {
        var m = machine()
        m.groupsCreated()
        m.readCompleted(perStream: [(count: 0, last: nil), (count: 0, last: nil)])
        #expect(m.nextAction(now: t0 + .seconds(4)) == .read(ids: [">", ">"], block: true), "not yet due")
        let due = t0 + .seconds(5)
        #expect(m.nextAction(now: due) == .claim(stream: 0, cursor: .zero))
        m.claimCompleted(stream: 0, next: id(50))
        #expect(m.nextAction(now: due) == .read(ids: [">", ">"], block: false), "reads keep flowing, without BLOCK while claims wait")
        #expect(m.nextAction(now: due) == .claim(stream: 0, cursor: id(50)), "the scan of stream 0 has not wrapped")
        m.claimCompleted(stream: 0, next: .zero)
        _ = m.nextAction(now: due)
        #expect(m.nextAction(now: due) == .claim(stream: 1, cursor: .zero))
        m.claimCompleted(stream: 1, next: .zero)
        #expect(m.nextAction(now: due) == .read(ids: [">", ">"], block: true))
        #expect(m.nextAction(now: due + .seconds(1)) == .read(ids: [">", ">"], block: true), "next round one interval later")
        #expect(m.nextAction(now: due + .seconds(5)) == .claim(stream: 0, cursor: .zero), "a wrapped scan starts again at 0-0")
    }

    @Test func aClaimThatCannotWorkIsSkippedForTheRound() {
        var m = machine(streams: 1)
        m.groupsCreated()
        #expect(m.nextAction(now: t0 + .seconds(5)) == .claim(stream: 0, cursor: .zero))
        _ = m.claimFailed(stream: 0)
        #expect(m.claimQueue.isEmpty)
        #expect(m.nextAction(now: t0 + .seconds(5)) == .read(ids: ["0-0"], block: true))
    }

    @Test func stopWins() {
        var m = machine()
        m.stop()
        #expect(m.nextAction(now: t0 + .seconds(60)) == .stop)
    }
}
