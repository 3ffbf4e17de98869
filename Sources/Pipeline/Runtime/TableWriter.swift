public import Logging
import Metrics

/// Rows accepted into a batch, with what is needed to settle them once durable.
struct PendingRows: Sendable {
    let id: DedupWindow.BatchID
    let batch: ColumnBatch
    var keys: [EventKey] = []
    /// Per row: index into `acks`, and the message index within that chunk.
    var ackIndex: [Int32] = []
    var message: [Int32] = []
    var acks: [ChunkAcknowledgement] = []
    var ackSlots: [ObjectIdentifier: Int32] = [:]
    let openedAt: ContinuousClock.Instant

    var rowCount: Int { keys.count }

    mutating func slot(for ack: ChunkAcknowledgement) -> Int32 {
        let id = ObjectIdentifier(ack)
        if let s = ackSlots[id] { return s }
        let s = Int32(acks.count)
        acks.append(ack)
        ackSlots[id] = s
        return s
    }

    /// The subset of rows at `indexes`, keeping the batch id so attached duplicates
    /// still settle with their original.
    func subset(_ indexes: some Collection<Int>) -> PendingRows {
        var out = PendingRows(id: id, batch: batch.makeEmpty(expectedRows: indexes.count), openedAt: openedAt)
        out.batch.append(rows: indexes, of: batch)
        out.acks = acks
        out.ackSlots = ackSlots
        for i in indexes {
            out.keys.append(keys[i])
            out.ackIndex.append(ackIndex[i])
            out.message.append(message[i])
        }
        return out
    }

    /// Settles every row with one outcome, one lock per chunk.
    func settleAll(as outcome: ChunkAcknowledgement.Outcome) {
        var perAck = Array(repeating: [Int32](), count: acks.count)
        for (a, m) in zip(ackIndex, message) { perAck[Int(a)].append(m) }
        for (i, messages) in perAck.enumerated() where !messages.isEmpty {
            acks[i].settle(messages: messages, as: outcome)
        }
    }
}

/// Receives rows that ClickHouse rejected one by one, for the dead-letter table.
public protocol DeadLetterSubmitter: Sendable {
    func submit(_ rows: [DeadLetterRow], settling: [(ChunkAcknowledgement, Int32)]) async
}

/// Dedups, batches and flushes the rows of one table.
///
/// Rows arrive as chunks from the decode workers. Each row is looked up in the dedup
/// window; rows whose source says they may be redeliveries, and that the window does not
/// know, are first looked up in ClickHouse by key. Accepted rows join the open batch,
/// which is sealed at `maxRows`, `maxBytes` or `maxAge` and inserted with retries:
/// - unavailable sink: capped exponential backoff, forever; nothing is acknowledged;
/// - unknown outcome (timeout after sending): the rows already in ClickHouse are found
///   by key and only the rest are retried, so a retry never writes a row twice;
/// - rejected data: the batch is split in halves until the rows ClickHouse refuses are
///   isolated; those go to the dead-letter table and the rest are inserted.
/// A row's message is settled only once the row is durable, and a duplicate of a row
/// that is still pending settles only when its original does.
public actor TableWriter {
    public nonisolated let target: SinkTarget
    public nonisolated let tableName: String
    private let sink: any TableSink
    private var policy: BatchPolicy
    private var window: DedupWindow
    private let retry: RetryPolicy
    private let maxConcurrentFlushes: Int
    private let deadLetters: (any DeadLetterSubmitter)?
    private let emptyBatch: ColumnBatch
    private let logger: Logger
    private let clock = ContinuousClock()

    private var open: PendingRows?
    private var openBytes = 0
    private var queued: [PendingRows] = []
    private var flushing: [DedupWindow.BatchID: Task<Void, Never>] = [:]
    private var attached: [DedupWindow.BatchID: [(ChunkAcknowledgement, Int32)]] = [:]
    private var nextBatchID: DedupWindow.BatchID = 1
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var lastSinkError: SinkError?
    /// Rows written (or found written) and not yet settled; `flush` settles them.
    private var settling: [(PendingRows, ChunkAcknowledgement.Outcome)] = []

    // Metric handles are created once per table, never per event.
    private let rowsInserted: Counter
    private let duplicatesCounter: Counter
    private let deadLetteredCounter: Counter
    private let batchRows: Recorder
    private let batchBytes: Recorder
    private let flushLatency: Timer
    private let insertErrors: @Sendable (SinkError) -> Void
    private let dedupStage: StageCounters
    private let sinkStage: StageCounters

    /// - Parameters:
    ///   - schema: the table's logical schema; batches are built with it.
    ///   - deadLetters: where rows that ClickHouse refuses go (nil for the dead-letter
    ///     table itself).
    public init(
        target: SinkTarget, tableName: String, schema: [(name: String, type: ColumnType)], sink: any TableSink,
        policy: BatchPolicy, dedup: DedupPolicy, retry: RetryPolicy = RetryPolicy(), maxConcurrentFlushes: Int = 2,
        deadLetters: (any DeadLetterSubmitter)?, logger: Logger
    ) {
        self.target = target
        self.tableName = tableName
        self.sink = sink
        self.policy = policy
        self.window = DedupWindow(window: dedup.window, maxKeys: dedup.maxKeys)
        self.retry = retry
        self.maxConcurrentFlushes = maxConcurrentFlushes
        self.deadLetters = deadLetters
        self.emptyBatch = ColumnBatch(schema: schema)
        var logger = logger
        logger[metadataKey: "table"] = "\(tableName)"
        self.logger = logger
        let dims = [("table", tableName)]
        rowsInserted = Counter(label: "sluice_rows_inserted_total", dimensions: dims)
        duplicatesCounter = Counter(label: "sluice_dedup_hits_total", dimensions: dims)
        deadLetteredCounter = Counter(label: "sluice_rows_dead_lettered_total", dimensions: dims)
        batchRows = Recorder(label: "sluice_batch_rows", dimensions: dims, aggregate: true)
        batchBytes = Recorder(label: "sluice_batch_bytes", dimensions: dims, aggregate: true)
        flushLatency = Timer(label: "sluice_flush_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        let sinkStage = StageCounters(stage: "sink", table: tableName)
        insertErrors = { error in
            let code = error.code.map(String.init) ?? "\(error.kind)"
            Counter(label: "sluice_insert_errors_total", dimensions: dims + [("code", code)]).increment()
            sinkStage.errors(code)
        }
        self.sinkStage = sinkStage
        dedupStage = StageCounters(stage: "dedup", table: tableName)
    }

    // MARK: Input

    /// Adds a chunk's rows for this table. Returns once they are accepted into a batch
    /// (or settled as duplicates); the batch flushes later.
    public func append(_ rows: TableRows, ack: ChunkAcknowledgement) async {
        let n = rows.rowCount
        guard n > 0 else { return }
        dedupStage.received.increment(by: n)
        // Look suspected redeliveries up in ClickHouse first, before touching state, so
        // that everything after the await happens in one step.
        var suspects: [EventKey] = []
        for i in 0..<n where ack.messages[Int(rows.messageIndex[i])].mayBeRedelivered && window.lookup(rows.keys[i]) == .fresh {
            suspects.append(rows.keys[i])
        }
        var existing: Set<EventKey> = []
        if !suspects.isEmpty {
            existing = await lookUpExisting(suspects)
        }
        let now = Self.nowNanos()
        var accepted: [Int] = []
        accepted.reserveCapacity(n)
        var duplicates: [Int32] = []
        // Taken out of `open` while it grows: a second reference to its arrays would
        // make every append below copy them whole (copy-on-write), which cost a copy of
        // the open batch's keys per chunk, quadratic in the batch size.
        var current = open.take() ?? makeOpen()
        var sealed = false
        defer { if !sealed, current.rowCount > 0 { open = current } }
        let ahead = DedupWindow.prefetchDistance
        for i in 0..<n {
            if i + ahead < n { window.prefetch(rows.keys[i + ahead]) }
            let key = rows.keys[i]
            let message = rows.messageIndex[i]
            // Without suspects, one probe both looks the key up and, if it is fresh,
            // makes it pending in the open batch.
            switch existing.isEmpty ? window.claim(key, batch: current.id) : window.lookup(key) {
            case .durable:
                duplicates.append(message)
            case .pending(let batch):
                attached[batch, default: []].append((ack, message))
                duplicatesCounter.increment()
            case .fresh:
                if existing.isEmpty {
                    accepted.append(i)
                } else if existing.contains(key) {
                    window.markDurable(CollectionOfOne(key), now: now)
                    duplicates.append(message)
                } else {
                    window.addPending(key, batch: current.id)
                    accepted.append(i)
                }
            }
        }
        dedupStage.emitted.increment(by: accepted.count)
        dedupStage.dropped("duplicate", count: n - accepted.count)
        if !accepted.isEmpty {
            if accepted.count == n {
                current.batch.append(contentsOf: rows.batch)
            } else {
                current.batch.append(rows: accepted, of: rows.batch)
            }
            let slot = current.slot(for: ack)
            for i in accepted {
                current.keys.append(rows.keys[i])
                current.ackIndex.append(slot)
                current.message.append(rows.messageIndex[i])
            }
            openBytes = current.batch.byteCount
            if current.rowCount >= policy.maxRows || openBytes >= policy.maxBytes {
                open = current
                sealed = true
                seal()
            }
        }
        if !duplicates.isEmpty {
            duplicatesCounter.increment(by: duplicates.count)
            ack.settle(messages: duplicates, as: duplicateOutcome)
        }
    }

    /// Adds dead-letter rows (only on the dead-letter table's writer).
    public func appendDeadLetters(_ rows: [DeadLetterRow], settling: [(ChunkAcknowledgement, Int32)]) async {
        precondition(rows.count == settling.count, "one settlement per dead-letter row")
        guard !rows.isEmpty else { return }
        // Dead letters carry their own acks per row; group consecutive rows by chunk.
        var start = 0
        while start < rows.count {
            let ack = settling[start].0
            var end = start + 1
            while end < rows.count, settling[end].0 === ack { end += 1 }
            let part = TableRows(datasetIndex: -1, batch: DeadLetterSchema.makeBatch(expectedRows: end - start))
            for i in start..<end {
                DeadLetterSchema.append(rows[i], to: part.batch)
                part.keys.append(rows[i].key)
                part.messageIndex.append(settling[i].1)
            }
            await append(part, ack: ack)
            start = end
        }
    }

    private func makeOpen() -> PendingRows {
        let id = nextBatchID
        nextBatchID += 1
        return PendingRows(id: id, batch: emptyBatch.makeEmpty(expectedRows: Swift.min(policy.maxRows, 65536)), openedAt: clock.now)
    }

    // MARK: Timers and settings

    /// Seals a batch that has waited `maxAge`, and expires old dedup keys. The pipeline
    /// calls this a few times per `maxAge`.
    public func tick() {
        if let open, clock.now - open.openedAt >= policy.maxAge { seal() }
        window.expire(now: Self.nowNanos())
    }

    public func reconfigure(batch: BatchPolicy, dedup: DedupPolicy) {
        policy = batch
        window.reconfigure(window: dedup.window, maxKeys: dedup.maxKeys, now: Self.nowNanos())
        if let open, open.rowCount >= policy.maxRows || openBytes >= policy.maxBytes { seal() }
    }

    public var currentPolicy: BatchPolicy { policy }

    /// Seeds the dedup window with keys already in ClickHouse (start-up).
    public func rebuildWindow(limit: Int, window duration: Duration) async throws(SinkError) {
        let nowSeconds = UInt32(clamping: Self.nowNanos() / 1_000_000_000)
        let since = nowSeconds &- UInt32(clamping: duration.nanoseconds / 1_000_000_000)
        let keys = try await sink.recentKeys(in: target, sinceSeconds: since, limit: limit)
        for (key, t) in keys.reversed() {
            window.insertDurable(key, at: Int64(t) * 1_000_000_000)
        }
        logger.info("dedup window rebuilt", metadata: ["keys": "\(keys.count)"])
    }

    /// Keys held in memory, and rows waiting in batches.
    public var stats: (windowKeys: Int, pendingRows: Int, batchesInFlight: Int) {
        (window.count, (open?.rowCount ?? 0) + queued.reduce(0) { $0 + $1.rowCount }, flushing.count)
    }

    /// The last insert error, cleared by the next success; used by health checks.
    public var lastError: SinkError? { lastSinkError }

    // MARK: Flushing

    /// A row written to the dead-letter table settles its message as dead-lettered.
    private var successOutcome: ChunkAcknowledgement.Outcome { target == .deadLetter ? .deadLettered : .inserted }
    /// A poison message delivered again is already in the dead-letter table: for its
    /// source that is the same outcome as the first time (Dapr gets DROP both times).
    private var duplicateOutcome: ChunkAcknowledgement.Outcome { target == .deadLetter ? .deadLettered : .duplicate }

    private func seal() {
        guard let batch = open else { return }
        open = nil
        openBytes = 0
        sinkStage.received.increment(by: batch.rowCount)
        queued.append(batch)
        startFlushes()
    }

    private func startFlushes() {
        while flushing.count < maxConcurrentFlushes, !queued.isEmpty {
            let batch = queued.removeFirst()
            flushing[batch.id] = Task { await self.flush(batch) }
        }
        if flushing.isEmpty, queued.isEmpty, open == nil {
            let waiters = drainWaiters
            drainWaiters = []
            for w in waiters { w.resume() }
        }
    }

    private func flush(_ batch: PendingRows) async {
        await write(batch)
        let done = settling
        settling = []
        await Self.settle(done)
        if let dups = attached.removeValue(forKey: batch.id) {
            for (ack, message) in dups { ack.settle(message: Int(message), as: duplicateOutcome) }
        }
        flushing.removeValue(forKey: batch.id)
        startFlushes()
    }

    /// Writes rows until every one is durable in the table or in the dead-letter table.
    private func write(_ batch: PendingRows) async {
        var batch = batch
        var attempt = 0
        let started = clock.now
        while batch.rowCount > 0 {
            do {
                try await sink.insert(into: target, batch: batch.batch)
                lastSinkError = nil
                complete(batch, outcome: successOutcome)
                flushLatency.recordNanoseconds((clock.now - started).nanoseconds)
                return
            } catch {
                insertErrors(error)
                lastSinkError = error
                switch error.kind {
                case .unavailable, .configuration:
                    logger.warning("insert failed, will retry", metadata: ["error": "\(error)", "attempt": "\(attempt)", "rows": "\(batch.rowCount)"])
                    try? await Task.sleep(for: retry.delay(attempt: attempt))
                    attempt += 1
                case .unknownOutcome:
                    // Some or all rows may have been written. Keep only the ones that are
                    // not in ClickHouse, and settle the others as inserted.
                    logger.warning("insert outcome unknown, checking which rows arrived", metadata: ["error": "\(error)", "rows": "\(batch.rowCount)"])
                    let arrived = await lookUpExisting(batch.keys)
                    if !arrived.isEmpty {
                        let landed = batch.keys.indices.filter { arrived.contains(batch.keys[$0]) }
                        complete(batch.subset(landed), outcome: successOutcome)
                        batch = batch.subset(batch.keys.indices.filter { !arrived.contains(batch.keys[$0]) })
                    }
                    try? await Task.sleep(for: retry.delay(attempt: attempt))
                    attempt += 1
                case .rejectedData:
                    if batch.rowCount == 1 || deadLetters == nil {
                        if let deadLetters {
                            await deadLetter(batch, reason: error, via: deadLetters)
                            return
                        }
                        // The dead-letter table itself refused a row: nowhere safer to put
                        // it, so keep retrying and keep reporting it.
                        logger.error("dead-letter insert rejected, retrying", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: retry.delay(attempt: attempt))
                        attempt += 1
                    } else {
                        let mid = batch.rowCount / 2
                        await write(batch.subset(0..<mid))
                        await write(batch.subset(mid..<batch.rowCount))
                        return
                    }
                }
            }
        }
    }

    private func complete(_ batch: PendingRows, outcome: ChunkAcknowledgement.Outcome) {
        guard batch.rowCount > 0 else { return }
        window.markDurable(batch.keys, now: Self.nowNanos())
        batchRows.record(batch.rowCount)
        batchBytes.record(batch.batch.byteCount)
        switch outcome {
        case .inserted:
            rowsInserted.increment(by: batch.rowCount)
            sinkStage.emitted.increment(by: batch.rowCount)
        case .deadLettered:
            deadLetteredCounter.increment(by: batch.rowCount)
            sinkStage.dropped("dead_letter", count: batch.rowCount)
        case .duplicate:
            duplicatesCounter.increment(by: batch.rowCount)
            sinkStage.dropped("duplicate", count: batch.rowCount)
        }
        // Settled after leaving the actor (see `flush`): the keys are durable in the
        // window now, and settling runs every chunk's callbacks (offset tracking, XACK
        // queues, accounting), which need no part of this actor's state. On the actor
        // they held up every append of the table for a few ms per batch.
        settling.append((batch, outcome))
    }

    /// Settles written rows with their sources. Nonisolated, so it runs off the actor.
    private nonisolated static func settle(_ done: [(PendingRows, ChunkAcknowledgement.Outcome)]) async {
        for (batch, outcome) in done { batch.settleAll(as: outcome) }
    }

    private func deadLetter(_ batch: PendingRows, reason: SinkError, via submitter: any DeadLetterSubmitter) async {
        let now = UInt32(clamping: Self.nowNanos() / 1_000_000_000)
        var rows: [DeadLetterRow] = []
        var settling: [(ChunkAcknowledgement, Int32)] = []
        for i in 0..<batch.rowCount {
            let ack = batch.acks[Int(batch.ackIndex[i])]
            let origin = ack.messages[Int(batch.message[i])].origin
            rows.append(DeadLetterRow(
                receivedAtSeconds: now, dataset: tableName, origin: origin, eventID: "", eventSource: "", eventType: "",
                field: "", reason: "ClickHouse refused the row: \(reason.message)",
                rawEvent: Array(batch.batch.describeRow(i).utf8), key: batch.keys[i]))
            settling.append((ack, batch.message[i]))
        }
        // The keys stay known: a redelivery of this event is a duplicate of the dead letter.
        window.markDurable(batch.keys, now: Self.nowNanos())
        deadLetteredCounter.increment(by: rows.count)
        sinkStage.dropped("dead_letter", count: rows.count)
        logger.error("rows refused by ClickHouse sent to the dead-letter table", metadata: ["rows": "\(rows.count)", "error": "\(reason)"])
        await submitter.submit(rows, settling: settling)
    }

    /// Looks keys up in ClickHouse, retrying until the lookup succeeds: a row must not be
    /// inserted while it is unknown whether it is already there.
    private func lookUpExisting(_ keys: [EventKey]) async -> Set<EventKey> {
        var attempt = 0
        while true {
            do {
                return try await sink.existingKeys(in: target, keys: keys)
            } catch {
                lastSinkError = error
                logger.warning("dedup lookup failed, will retry", metadata: ["error": "\(error)", "keys": "\(keys.count)"])
                try? await Task.sleep(for: retry.delay(attempt: attempt))
                attempt += 1
            }
        }
    }

    // MARK: Shutdown

    /// Flushes the open batch and waits until every batch is written.
    public func drain() async {
        seal()
        if flushing.isEmpty, queued.isEmpty { return }
        await withCheckedContinuation { drainWaiters.append($0) }
    }

    static func nowNanos() -> Int64 { WallClock.nowNanos() }
}
