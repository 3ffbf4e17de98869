public import Logging
import Metrics
import Synchronization

/// Settings of the pipeline core (`pipeline.*`).
public struct PipelineConfiguration: Sendable, Hashable {
    /// `pipeline.batch.*`: reloadable.
    public var batch: BatchPolicy
    /// `pipeline.dedup.*`: reloadable.
    public var dedup: DedupPolicy
    /// `pipeline.memory_budget`: bytes of events in flight, from read to acknowledgement.
    public var memoryBudget: Int
    /// `pipeline.decode_workers`: parallel decode tasks.
    public var decodeWorkers: Int
    /// `pipeline.queue_chunks`: chunks waiting for a decode worker.
    public var queueCapacity: Int
    /// `pipeline.flush_concurrency`: inserts in flight per table.
    public var flushConcurrency: Int
    /// Limits on what one message may contain.
    public var limits: DecodeLimits
    /// Retry backoff of inserts and dedup lookups.
    public var retry: RetryPolicy

    public init(
        batch: BatchPolicy = BatchPolicy(), dedup: DedupPolicy = DedupPolicy(), memoryBudget: Int = 256 << 20,
        decodeWorkers: Int = 2, queueCapacity: Int = 16, flushConcurrency: Int = 2, limits: DecodeLimits = DecodeLimits(),
        retry: RetryPolicy = RetryPolicy()
    ) {
        self.batch = batch
        self.dedup = dedup
        self.memoryBudget = memoryBudget
        self.decodeWorkers = decodeWorkers
        self.queueCapacity = queueCapacity
        self.flushConcurrency = flushConcurrency
        self.limits = limits
        self.retry = retry
    }
}

/// The stage graph: decode workers fed by a bounded queue of chunks, one table writer
/// per dataset, and the dead-letter writer.
///
/// ```
/// inputs ─submit→ [queue] → decode/route/validate (N workers) ─rows→ TableWriter per dataset ─→ sink
///                                                              └rejections→ dead-letter writer ─→ sink
/// ```
/// Inputs charge the memory budget before submitting; the charge comes back when the
/// chunk's last message settles.
public final class IngestPipeline: Sendable {
    public let catalog: [DatasetDefinition]
    public let budget: MemoryBudget
    public let accounting = PipelineAccounting()
    public let writers: [TableWriter]
    public let deadLetterWriter: TableWriter
    private let queue: BoundedChannel<Submission>
    private let configuration: Mutex<PipelineConfiguration>
    private let stopTicker = Mutex(false)
    private let abandoned = Mutex(false)
    private let logger: Logger
    private let decodeErrors = Counter(label: "sluice_events_rejected_total")
    private let decodeStage = StageCounters(stage: "decode")

    struct Submission: Sendable {
        let chunk: MessageChunk
        let charge: Int
        let onDecoded: (@Sendable ([Rejection]) -> Void)?
        let onResolved: @Sendable ([ResolvedMessage]) -> Void
    }

    /// Throws when the catalog cannot be compiled into decode plans (a default that does
    /// not fit its column, a type routed twice), naming the dataset and field.
    public init(catalog: [DatasetDefinition], sink: any TableSink, configuration: PipelineConfiguration, logger: Logger) throws(CatalogError) {
        _ = try ChunkDecoder(catalog: catalog, limits: configuration.limits)
        self.catalog = catalog
        self.budget = MemoryBudget(limit: configuration.memoryBudget)
        self.queue = BoundedChannel(capacity: configuration.queueCapacity)
        self.configuration = Mutex(configuration)
        self.logger = logger
        let dl = TableWriter(
            target: .deadLetter, tableName: "dead_letter", schema: DeadLetterSchema.schema, sink: sink,
            policy: configuration.batch, dedup: configuration.dedup, retry: configuration.retry,
            maxConcurrentFlushes: 1, deadLetters: nil, logger: logger)
        self.deadLetterWriter = dl
        let forward = DeadLetterForwarder(writer: dl)
        self.writers = catalog.enumerated().map { i, dataset in
            TableWriter(
                target: .dataset(i), tableName: dataset.name, schema: dataset.tableSchema, sink: sink,
                policy: configuration.batch, dedup: configuration.dedup, retry: configuration.retry,
                maxConcurrentFlushes: configuration.flushConcurrency, deadLetters: forward, logger: logger)
        }
    }

    public var currentConfiguration: PipelineConfiguration { configuration.withLock { $0 } }

    /// Hands a chunk to the pipeline, waiting while the queue is full. `charge` bytes of
    /// the memory budget must already be held; they are released when the chunk settles.
    /// Returns false (and releases the charge) if the pipeline is shutting down.
    ///
    /// `onDecoded` receives the chunk's rejections right after decoding, before they are
    /// durable, so an HTTP response can name them; `onResolved` reports settled messages.
    @discardableResult
    public func submit(
        _ chunk: MessageChunk, charge: Int, onDecoded: (@Sendable ([Rejection]) -> Void)? = nil,
        onResolved: @escaping @Sendable ([ResolvedMessage]) -> Void
    ) async -> Bool {
        let ok = await queue.send(Submission(chunk: chunk, charge: charge, onDecoded: onDecoded, onResolved: onResolved))
        if !ok { budget.release(charge) }
        return ok
    }

    /// Loads recent keys from ClickHouse into every dedup window, so a restart does not
    /// forget what the previous process wrote. Call before the inputs start.
    public func rebuildDedupWindows() async throws(SinkError) {
        let dedup = currentConfiguration.dedup
        for w in writers + [deadLetterWriter] {
            try await w.rebuildWindow(limit: dedup.maxKeys, window: dedup.window)
        }
    }

    /// Applies reloaded batch and dedup settings to every writer.
    public func reconfigure(batch: BatchPolicy, dedup: DedupPolicy) async {
        configuration.withLock {
            $0.batch = batch
            $0.dedup = dedup
        }
        for w in writers + [deadLetterWriter] { await w.reconfigure(batch: batch, dedup: dedup) }
    }

    /// Runs the decode workers and the flush timer until ``shutdown()``, then drains:
    /// every queued chunk is decoded and every batch written before it returns.
    public func run() async {
        let config = currentConfiguration
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.tickLoop() }
            await withTaskGroup(of: Void.self) { workers in
                for _ in 0..<config.decodeWorkers {
                    workers.addTask { await self.decodeLoop() }
                }
            }
            stopTicker.withLock { $0 = true }
            for w in writers { await w.drain() }
            await deadLetterWriter.drain()
            await group.waitForAll()
        }
        logger.info("pipeline drained")
    }

    /// Stops accepting chunks; ``run()`` returns once everything accepted is written.
    public func shutdown() {
        queue.close()
    }

    /// Stops accepting chunks and records that the caller will not wait for the drain:
    /// what is still in flight was never acknowledged, and the sources deliver it again.
    public func abandon() {
        abandoned.withLock { $0 = true }
        queue.close()
    }

    /// True once ``abandon()`` was called: the process should not report a clean stop.
    public var wasAbandoned: Bool { abandoned.withLock { $0 } }

    private func tickLoop() async {
        while !stopTicker.withLock({ $0 }) {
            let age = currentConfiguration.batch.maxAge
            let period = Swift.min(Swift.max(age / 5, .milliseconds(5)), .milliseconds(200))
            try? await Task.sleep(for: period)
            for w in writers { await w.tick() }
            await deadLetterWriter.tick()
        }
    }

    private func decodeLoop() async {
        // The catalog was checked when the pipeline was built (see `init`), so this
        // cannot fail here.
        guard var decoder = try? ChunkDecoder(catalog: catalog, limits: currentConfiguration.limits) else {
            preconditionFailure("catalog was validated at start-up")
        }
        while let submission = await queue.receive() {
            await process(submission, decoder: &decoder)
        }
    }

    private func process(_ submission: Submission, decoder: inout ChunkDecoder) async {
        let decoded = decoder.decode(submission.chunk)
        let messages = submission.chunk.messages
        let accounting = self.accounting
        let onResolved = submission.onResolved
        accounting.received(messages: messages, events: decoded.eventsPerMessage)
        decodeStage.received.increment(by: decoded.eventsPerMessage.reduce(0) { $0 + Int($1) })
        decodeStage.emitted.increment(by: decoded.tables.reduce(0) { $0 + ($1?.rowCount ?? 0) })
        submission.onDecoded?(decoded.rejections)
        let ack = ChunkAcknowledgement(
            messages: messages, eventsPerMessage: decoded.eventsPerMessage, budget: budget, charge: submission.charge,
            onResolved: { resolved in
                accounting.settled(resolved)
                onResolved(resolved)
            })
        for (i, rows) in decoded.tables.enumerated() {
            guard let rows, rows.rowCount > 0 else { continue }
            await writers[i].append(rows, ack: ack)
        }
        if !decoded.rejections.isEmpty {
            decodeErrors.increment(by: decoded.rejections.count)
            Self.countRejections(decoded.rejections, into: decodeStage)
            let now = WallClock.nowSeconds()
            var rows: [DeadLetterRow] = []
            var settling: [(ChunkAcknowledgement, Int32)] = []
            for r in decoded.rejections {
                let origin = messages[r.message].origin
                rows.append(DeadLetterRow(
                    receivedAtSeconds: now, dataset: r.dataset, origin: origin, eventID: r.eventID, eventSource: r.eventSource,
                    eventType: r.eventType, field: r.field, reason: r.reason, rawEvent: r.rawEvent,
                    key: Self.deadLetterKey(origin: origin, rejection: r)))
                settling.append((ack, Int32(r.message)))
            }
            await deadLetterWriter.appendDeadLetters(rows, settling: settling)
        }
        ack.start()
    }

    /// Rejections by class, so a dashboard tells a publisher sending the wrong envelope
    /// from one sending the wrong field types or an unknown event type.
    static func countRejections(_ rejections: [Rejection], into stage: StageCounters) {
        var byType: [String: Int] = [:]
        for r in rejections {
            let type: String
            if !r.dataset.isEmpty {
                type = "invalid_field"  // routed, but a data field is missing or mistyped
            } else if r.field.isEmpty {
                type = "malformed"  // not JSON, not UTF-8, too deep or too large
            } else if r.field == "type" {
                type = "unroutable"  // no dataset takes this CloudEvent type
            } else {
                type = "invalid_envelope"
            }
            byType[type, default: 0] += 1
        }
        for (type, count) in byType { stage.errors(type, count: count) }
    }

    /// A redelivered poison message must produce one dead-letter row, not one per
    /// delivery: its key is its position in the source plus its bytes.
    static func deadLetterKey(origin: MessageOrigin, rejection: Rejection) -> EventKey {
        var material: [UInt8] = []
        material.reserveCapacity(64 + rejection.rawEvent.count)
        material += Array(origin.kind.rawValue.utf8) + [0]
        material += Array(origin.stream.utf8) + [0]
        material += Array(String(origin.partition).utf8) + [0]
        material += Array(origin.offset.utf8) + [0]
        material += Array(rejection.field.utf8) + [0]
        material += rejection.rawEvent
        return material.withUnsafeBytes { EventKeyHasher.key($0) }
    }
}

/// Hands rows that ClickHouse refused from a dataset writer to the dead-letter writer.
struct DeadLetterForwarder: DeadLetterSubmitter {
    let writer: TableWriter
    func submit(_ rows: [DeadLetterRow], settling: [(ChunkAcknowledgement, Int32)]) async {
        await writer.appendDeadLetters(rows, settling: settling)
    }
}
