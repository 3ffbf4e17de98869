import Pipeline
import Synchronization
import Testing

/// Accounting sums per run of one source; interleaved sources must still land on the
/// right source, each event counted once.
@Suite struct PipelineAccountingTests {
    private static func message(_ kind: MessageOrigin.Kind, _ stream: String, partition: Int32 = -1, offset: Int) -> InboundMessage {
        InboundMessage(
            payload: 0..<0, origin: MessageOrigin(kind: kind, stream: stream, partition: partition, offset: String(offset)),
            receivedAtNanos: 0)
    }

    @Test func interleavedSourcesAreCountedPerSourceOnce() {
        let accounting = PipelineAccounting()
        // Runs of one source, then back and forth, partitions of one topic kept apart.
        let messages = [
            Self.message(.redis, "a", offset: 1), Self.message(.redis, "a", offset: 2),
            Self.message(.kafka, "t", partition: 0, offset: 1), Self.message(.kafka, "t", partition: 1, offset: 1),
            Self.message(.redis, "a", offset: 3), Self.message(.redis, "b", offset: 1),
            Self.message(.kafka, "t", partition: 0, offset: 2),
        ]
        let events: [Int32] = [2, 1, 3, 1, 0, 4, 1]
        accounting.received(messages: messages, events: events)
        var snapshot = accounting.snapshot
        #expect(snapshot["redis:a"]?.received == 3)
        #expect(snapshot["redis:b"]?.received == 4)
        #expect(snapshot["kafka:t:0"]?.received == 4)
        #expect(snapshot["kafka:t:1"]?.received == 1)
        #expect(accounting.inFlight == 12)

        let ack = ChunkAcknowledgement(messages: messages, eventsPerMessage: events, onResolved: { accounting.settled($0) })
        ack.settle(messages: [0, 0, 1, 2, 2, 3, 5, 5, 6], as: .inserted)
        ack.settle(messages: [2, 5], as: .duplicate)
        ack.settle(messages: [5], as: .deadLettered)
        ack.start()
        snapshot = accounting.snapshot
        #expect(snapshot["redis:a"].map { [$0.inserted, $0.duplicates, $0.deadLettered] } == [3, 0, 0])
        #expect(snapshot["redis:b"].map { [$0.inserted, $0.duplicates, $0.deadLettered] } == [2, 1, 1])
        #expect(snapshot["kafka:t:0"].map { [$0.inserted, $0.duplicates, $0.deadLettered] } == [3, 1, 0])
        #expect(snapshot["kafka:t:1"].map { [$0.inserted, $0.duplicates, $0.deadLettered] } == [1, 0, 0])
        #expect(accounting.inFlight == 0)
    }
}
