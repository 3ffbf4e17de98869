import Pipeline
import Synchronization
import Testing

@Suite struct ChunkAcknowledgementTests {
    func messages(_ n: Int) -> [InboundMessage] {
        (0..<n).map { InboundMessage(payload: 0..<0, origin: MessageOrigin(kind: .kafka, stream: "t", partition: 0, offset: "\($0)"), receivedAtNanos: 0) }
    }

    @Test func aMessageSettlesOnlyWhenAllItsEventsDo() {
        let rec = AckRecorder()
        let ack = ChunkAcknowledgement(messages: messages(2), eventsPerMessage: [3, 1], onResolved: rec.callback())
        ack.start()
        ack.settle(message: 0, as: .inserted)
        ack.settle(message: 0, as: .duplicate)
        #expect(rec.resolution(0) == nil, "two of three events settled is not enough")
        ack.settle(message: 1, as: .deadLettered)
        #expect(rec.resolution(1) == MessageResolution(deadLettered: 1))
        ack.settle(message: 0, as: .inserted)
        #expect(rec.resolution(0) == MessageResolution(inserted: 2, duplicates: 1))
        #expect(ack.unsettledMessages == 0)
    }

    @Test func emptyMessagesSettleAtStart() {
        let rec = AckRecorder()
        let ack = ChunkAcknowledgement(messages: messages(2), eventsPerMessage: [0, 1], onResolved: rec.callback())
        #expect(rec.count == 0)
        ack.start()
        #expect(rec.resolution(0) == MessageResolution())
        #expect(rec.resolution(1) == nil)
    }

    /// Duplicates are settled while the chunk is still being wired in, before `start()`.
    /// Such a message must be reported once, not again by `start()`: a second report
    /// counts its events twice in the accounting and acknowledges the source twice.
    @Test func aMessageSettledBeforeStartIsReportedOnce() {
        let reports = Mutex<[Int]>([])
        let ack = ChunkAcknowledgement(messages: messages(3), eventsPerMessage: [2, 0, 1]) { resolved in
            reports.withLock { $0.append(contentsOf: resolved.map(\.index)) }
        }
        ack.settle(message: 0, as: .duplicate)
        ack.settle(message: 0, as: .duplicate)
        ack.start()
        ack.settle(message: 2, as: .inserted)
        ack.start()
        #expect(reports.withLock { $0.sorted() } == [0, 1, 2], "each message reported exactly once")
    }

    @Test func budgetIsReturnedWhenTheLastMessageSettles() {
        let budget = MemoryBudget(limit: 1000)
        #expect(budget.tryAcquire(600))
        let ack = ChunkAcknowledgement(messages: messages(2), eventsPerMessage: [1, 1], budget: budget, charge: 600, onResolved: { _ in })
        ack.start()
        ack.settle(message: 0, as: .inserted)
        #expect(budget.used == 600)
        ack.settle(message: 1, as: .inserted)
        #expect(budget.used == 0)
    }
}

@Suite struct MemoryBudgetTests {
    @Test func tryAcquireRefusesWhenFull() {
        let b = MemoryBudget(limit: 100)
        #expect(b.tryAcquire(60))
        #expect(!b.tryAcquire(50))
        b.release(60)
        #expect(b.tryAcquire(50))
    }

    @Test func acquireWaitsForRelease() async throws {
        let b = MemoryBudget(limit: 100)
        #expect(b.tryAcquire(100))
        let waiter = Task { await b.acquire(40); return true }
        try await Task.sleep(for: .milliseconds(20))
        #expect(b.used == 100)
        b.release(100)
        #expect(await waiter.value)
        #expect(b.used == 40)
    }

    @Test func oversizedRequestIsAdmittedAlone() {
        let b = MemoryBudget(limit: 100)
        #expect(b.tryAcquire(500))
        #expect(!b.tryAcquire(1))
    }
}

@Suite struct ChunkAcknowledgementBudgetTests {
    @Test func budgetIsReleasedOnceWhenEverythingSettlesBeforeStart() {
        let budget = MemoryBudget(limit: 1000)
        #expect(budget.tryAcquire(400))
        let messages = [InboundMessage(payload: 0..<0, origin: MessageOrigin(kind: .http, stream: "x"), receivedAtNanos: 0)]
        let ack = ChunkAcknowledgement(messages: messages, eventsPerMessage: [1], budget: budget, charge: 400, onResolved: { _ in })
        ack.settle(message: 0, as: .deadLettered)
        ack.start()
        #expect(budget.used == 0)
    }
}
