import Logging
import Pipeline
import Testing

/// Forwards dead letters of a dataset writer to the dead-letter writer.
struct ForwardDeadLetters: DeadLetterSubmitter {
    let writer: TableWriter
    func submit(_ rows: [DeadLetterRow], settling: [(ChunkAcknowledgement, Int32)]) async {
        await writer.appendDeadLetters(rows, settling: settling)
    }
}

@Suite struct TableWriterTests {
    let sink = FakeSink()
    let fastRetry = RetryPolicy(initialDelay: .milliseconds(1), maxDelay: .milliseconds(5))

    func makeWriters(maxRows: Int = 1000, maxAge: Duration = .seconds(3600)) -> (TableWriter, TableWriter) {
        let dl = TableWriter(
            target: .deadLetter, tableName: "dead_letter", schema: DeadLetterSchema.schema, sink: sink,
            policy: BatchPolicy(maxRows: 1, maxBytes: 1 << 20, maxAge: .milliseconds(1)), dedup: DedupPolicy(),
            retry: fastRetry, deadLetters: nil, logger: Logger(label: "test"))
        let w = TableWriter(
            target: .dataset(0), tableName: "t", schema: Rows.schema, sink: sink,
            policy: BatchPolicy(maxRows: maxRows, maxBytes: 1 << 30, maxAge: maxAge), dedup: DedupPolicy(),
            retry: fastRetry, deadLetters: ForwardDeadLetters(writer: dl), logger: Logger(label: "test"))
        return (w, dl)
    }

    @Test func messagesSettleOnlyAfterTheInsertSucceeds() async {
        let (w, _) = makeWriters()
        let rec = AckRecorder()
        sink.push(.fail(SinkError(kind: .unavailable, message: "down")), .fail(SinkError(kind: .unavailable, message: "down")))
        let (rows, ack) = Rows.make([1, 2, 3], recorder: rec)
        await w.append(rows, ack: ack)
        #expect(rec.count == 0, "nothing may be acknowledged while the batch is open")
        await w.drain()
        #expect(sink.insertCalls == 3)
        #expect(rec.count == 3)
        #expect(rec.resolution(0) == MessageResolution(inserted: 1))
        #expect(sink.storedValues == [1, 2, 3])
    }

    @Test func failingSinkNeverAcknowledges() async throws {
        let (w, _) = makeWriters(maxRows: 2)
        let rec = AckRecorder()
        for _ in 0..<50 { sink.push(.fail(SinkError(kind: .unavailable, message: "down"))) }
        let (rows, ack) = Rows.make([1, 2], recorder: rec)
        await w.append(rows, ack: ack)
        try await Task.sleep(for: .milliseconds(50))
        #expect(rec.count == 0)
        #expect(sink.storedValues.isEmpty)
    }

    @Test func duplicateInTheSameBatchWaitsForItsOriginal() async {
        let (w, _) = makeWriters()
        let rec = AckRecorder()
        let (rows, ack) = Rows.make([7, 7, 8], recorder: rec)
        await w.append(rows, ack: ack)
        #expect(rec.count == 0, "the duplicate must not settle before the original is durable")
        await w.drain()
        #expect(sink.storedValues == [7, 8])
        #expect(rec.resolution(1) == MessageResolution(duplicates: 1))
        #expect(rec.count == 3)
    }

    @Test func duplicateOfADurableRowSettlesAtOnceAndIsNotWritten() async {
        let (w, _) = makeWriters()
        let rec1 = AckRecorder()
        let (rows1, ack1) = Rows.make([5], recorder: rec1)
        await w.append(rows1, ack: ack1)
        await w.drain()
        let rec2 = AckRecorder()
        let (rows2, ack2) = Rows.make([5], recorder: rec2)
        await w.append(rows2, ack: ack2)
        #expect(rec2.resolution(0) == MessageResolution(duplicates: 1))
        await w.drain()
        #expect(sink.storedValues == [5])
    }

    @Test func redeliveredEventsAreCheckedAgainstTheSink() async {
        let (w, _) = makeWriters()
        // Rows written by a previous process: the in-memory window does not know them.
        sink.state.withLock { $0.stored[.dataset(0)] = [Rows.key(1), Rows.key(2)]; $0.values[.dataset(0)] = [1, 2] }
        let rec = AckRecorder()
        let (rows, ack) = Rows.make([1, 2, 3], redelivered: true, recorder: rec)
        await w.append(rows, ack: ack)
        #expect(sink.lookups == 1)
        #expect(rec.resolution(0) == MessageResolution(duplicates: 1))
        #expect(rec.resolution(1) == MessageResolution(duplicates: 1))
        await w.drain()
        #expect(sink.storedValues == [1, 2, 3])
        #expect(rec.resolution(2) == MessageResolution(inserted: 1))
    }

    @Test func firstDeliveriesAreNotLookedUp() async {
        let (w, _) = makeWriters()
        let rec = AckRecorder()
        let (rows, ack) = Rows.make([1, 2, 3], recorder: rec)
        await w.append(rows, ack: ack)
        await w.drain()
        #expect(sink.lookups == 0)
    }

    @Test func unknownOutcomeRetriesOnlyRowsThatDidNotArrive() async {
        let (w, _) = makeWriters()
        sink.push(.writeThenLoseResponse)
        let rec = AckRecorder()
        let (rows, ack) = Rows.make([1, 2, 3], recorder: rec)
        await w.append(rows, ack: ack)
        await w.drain()
        #expect(sink.storedValues == [1, 2, 3], "a retry after a lost response must not write rows twice")
        #expect(rec.count == 3)
    }

    @Test func refusedRowsAreIsolatedAndDeadLettered() async {
        let (w, dl) = makeWriters()
        sink.setPoison(13)
        let rec = AckRecorder()
        let (rows, ack) = Rows.make([10, 11, 12, 13, 14, 15, 16], recorder: rec)
        await w.append(rows, ack: ack)
        await w.drain()
        await dl.drain()
        #expect(sink.storedValues.sorted() == [10, 11, 12, 14, 15, 16])
        #expect(sink.deadLetterCount == 1)
        #expect(rec.resolution(3) == MessageResolution(deadLettered: 1))
        #expect(rec.count == 7)
    }

    @Test func batchesFlushAtMaxRows() async throws {
        let (w, _) = makeWriters(maxRows: 2)
        let rec = AckRecorder()
        let (rows, ack) = Rows.make([1, 2, 3], recorder: rec)
        await w.append(rows, ack: ack)
        try await Task.sleep(for: .milliseconds(50))
        #expect(sink.storedValues == [1, 2, 3] || sink.storedValues.count == 3, "two rows flush by count")
        #expect(sink.insertCalls == 1)
        #expect(rec.count == 3)
    }

    @Test func batchesFlushAtMaxAge() async throws {
        let (w, _) = makeWriters(maxRows: 1000, maxAge: .milliseconds(20))
        let rec = AckRecorder()
        let (rows, ack) = Rows.make([1], recorder: rec)
        await w.append(rows, ack: ack)
        await w.tick()
        #expect(sink.insertCalls == 0)
        try await Task.sleep(for: .milliseconds(30))
        await w.tick()
        try await Task.sleep(for: .milliseconds(30))
        #expect(sink.insertCalls == 1)
        #expect(rec.count == 1)
    }
}
