public import Logging
public import Pipeline
public import ServiceLifecycle
import Synchronization

/// Reads Redis Streams with a consumer group into the pipeline, at least once
/// (DESIGN §2): an entry is acknowledged (`XACK`) only after every row made from it is in
/// ClickHouse, in the dead-letter table, or known to be a duplicate.
///
/// Threads and connections:
/// - the **reader** worker thread owns a connection that blocks in
///   `XREADGROUP ... BLOCK` and also runs `XGROUP CREATE` and `XAUTOCLAIM`;
/// - the **ack** worker thread owns a second connection for batched, pipelined `XACK`s,
///   `XINFO GROUPS` sampling and the health check's `PING`, so acknowledgements never
///   wait behind a blocked read.
/// The async side (this service) only decides what to do next (``RedisReadStateMachine``)
/// and moves chunks; every blocking hiredis call runs on those two threads.
///
/// Order of reading: own pending entries first (`0`), then new ones (`>`), again after
/// every reconnect; entries idle for `claim_idle` on any consumer are taken over with
/// `XAUTOCLAIM` every `claim_interval`. Pending and claimed entries are marked
/// `mayBeRedelivered`, so the table writer checks ClickHouse by key before inserting them.
///
/// Back-pressure: each chunk takes its bytes from the pipeline's memory budget before it
/// is handed over; while the budget is full the reader waits and Redis keeps the data.
///
/// Graceful stop: reading stops (the reads already on the wire return within `block`
/// each and are handed over), then the service keeps acknowledging until everything it
/// handed to the pipeline has settled and been acknowledged, and only then returns. The
/// pipeline, which the service group stops after the inputs, is still running meanwhile
/// and flushes its batches by age.
/// If the stop takes longer than `shutdown.timeout`, whatever is unacknowledged stays
/// pending in Redis and is read again by the next start: redelivery, never loss.
public final class RedisStreamInput: Service, Sendable {
    public let configuration: RedisInputConfiguration
    let endpoint: RedisEndpoint
    let pipeline: IngestPipeline
    let gate: ReadinessGate
    let logger: Logger
    let reader: RedisWorker
    let control: RedisWorker
    let acknowledger: RedisAcknowledger
    let decoder: RedisEntryDecoder
    let metrics: RedisStreamMetrics
    private let status = Mutex("starting")

    public init(configuration: RedisInputConfiguration, pipeline: IngestPipeline, gate: ReadinessGate, logger: Logger) throws(RedisError) {
        self.configuration = configuration
        // A read may legitimately take the whole BLOCK time; only beyond that is the
        // server presumed gone.
        endpoint = try RedisEndpoint(
            url: configuration.url, connectTimeout: configuration.connectTimeout,
            readTimeout: configuration.block + .seconds(10))
        self.pipeline = pipeline
        self.gate = gate
        var logger = logger
        logger[metadataKey: "input"] = "redis"
        self.logger = logger
        reader = RedisWorker(name: "sluice-redis-rd", endpoint: endpoint)
        control = RedisWorker(name: "sluice-redis-ack", endpoint: endpoint)
        metrics = RedisStreamMetrics(streams: configuration.streams, group: configuration.group)
        decoder = RedisEntryDecoder(streams: configuration.streams)
        acknowledger = RedisAcknowledger(
            group: configuration.group, streams: configuration.streams, worker: control, metrics: metrics, logger: logger)
    }

    /// `PING` on the acknowledgement connection, plus what the reader is doing.
    public var healthCheck: any HealthCheck {
        ClosureHealthCheck(name: "redis") { [self] in await self.ping() }
    }

    public func ping() async -> ComponentHealth {
        let state = status.withLock { $0 }
        do {
            let reply = try await control.perform { session throws(RedisError) in
                try session.connection().command(RedisCommand("PING")).orThrow()
            }
            let ok = reply.text == "PONG" && !state.hasPrefix("reconnecting")
            return ComponentHealth(name: "redis", healthy: ok, detail: "PING \(reply.text ?? "?"); reader \(state)")
        } catch {
            return ComponentHealth(name: "redis", healthy: false, detail: "\(error); reader \(state)")
        }
    }

    public func run() async throws {
        defer {
            reader.shutdown()
            control.shutdown()
        }
        // Nothing may be read before the dedup windows are rebuilt from ClickHouse; the
        // gate opens when they are. Polled, so a shutdown before that is noticed.
        while !gate.isOpen {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        logger.info("reading", metadata: [
            "endpoint": "\(endpoint)", "streams": "\(configuration.streams)", "group": "\(configuration.group)",
            "consumer": "\(configuration.consumer)",
        ])
        let sampler = Task { await self.sampleGroups() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.acknowledger.run() }
            await readLoop()
            setStatus("draining")
            logger.info("stopped reading; acknowledging what is in flight", metadata: ["entries": "\(acknowledger.inFlightCount)"])
            acknowledger.finishWhenDrained()
            await group.waitForAll()
        }
        sampler.cancel()
        await sampler.value
        logger.info("stopped", metadata: ["unacknowledged": "\(acknowledger.inFlightCount)"])
    }

    // MARK: Reading

    /// `XREADGROUP ... >` calls kept on the wire during a live read session, and the
    /// batches that may wait between the reader thread and the pipeline.
    ///
    /// One read at a time, each a job for the reader thread, paid two thread wake-ups
    /// and the hand-over in series with every round trip, and Redis idled while the
    /// reply was parsed: on this 2-core box one stream stalled near 100k entries/s with
    /// the daemon mostly idle. In a live session the reader thread keeps two reads on
    /// the wire (Redis builds the next reply while this side decodes the last) and
    /// queues the decoded batches; the async side only moves them on. Memory outside
    /// the budget is bounded by these counts times `batch_size` entries: the budget is
    /// still taken before each batch reaches the pipeline, and while it is full the
    /// queue fills and the reader thread stops reading.
    static let readsInFlight = 2
    static let batchesWaiting = 2

    private func readLoop() async {
        var machine = RedisReadStateMachine(
            streamCount: configuration.streams.count, claimInterval: configuration.claimInterval, now: .now)
        let readPrefix = Self.readPrefix(configuration)
        while true {
            if Task.isShuttingDownGracefully || Task.isCancelled { machine.stop() }
            let action = machine.nextAction(now: .now)
            do throws(RedisError) {
                switch action {
                case .stop:
                    return
                case .createGroups:
                    let connectsBefore = reader.connectionCount
                    try await createGroups()
                    if reader.connectionCount > 1, reader.connectionCount != connectsBefore { metrics.reconnects.increment() }
                    machine.groupsCreated()
                    setStatus(machine.isLive ? "live" : "reading own pending entries")
                case .read(let ids, let block):
                    var command = readPrefix
                    if block { command.append("BLOCK"); command.append(Int(configuration.block.milliseconds)) }
                    command.append("STREAMS")
                    for s in configuration.streams { command.append(s) }
                    for id in ids { command.append(id) }
                    if machine.isLive, block {
                        // Until the next claim round or a shutdown, the same read repeats.
                        try await readLive(command, until: machine.claimDue)
                        machine.readCompleted(perStream: machine.phases.map { _ in nil })
                    } else {
                        let batch = try await read(command, redelivered: machine.phases.map { $0 != .live })
                        let wasLive = machine.isLive
                        machine.readCompleted(perStream: batch.perStream)
                        if !wasLive, machine.isLive { setStatus("live") }
                        await hand(batch)
                    }
                case .claim(let stream, let cursor):
                    do throws(RedisError) {
                        let (batch, next) = try await claim(stream: stream, cursor: cursor)
                        machine.claimCompleted(stream: stream, next: next)
                        if !batch.chunk.messages.isEmpty {
                            metrics.streams[stream].claimed.increment(by: batch.chunk.messages.count)
                            logger.info("claimed idle entries of other consumers", metadata: [
                                "stream": "\(configuration.streams[stream])", "entries": "\(batch.chunk.messages.count)",
                            ])
                        }
                        await hand(batch)
                    } catch where !error.isRetryable {
                        metrics.error(error)
                        logger.error("XAUTOCLAIM failed; skipping this round", metadata: ["error": "\(error)"])
                        await pause(machine.claimFailed(stream: stream))
                    }
                }
            } catch {
                metrics.error(error)
                let delay: Duration
                if error.isMissingGroup {
                    delay = machine.groupMissing()
                    logger.warning("consumer group missing; creating it again", metadata: ["error": "\(error)"])
                } else if error.dropsConnection {
                    delay = machine.connectionLost()
                    setStatus("reconnecting: \(error)")
                    logger.warning("redis connection lost; reconnecting", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                } else {
                    delay = machine.failed()
                    logger.error("redis read failed", metadata: ["error": "\(error)", "retry_in": "\(delay)", "retryable": "\(error.isRetryable)"])
                }
                await pause(delay)
            }
        }
    }

    /// Repeats the live read `command` on the reader thread with ``readsInFlight`` on
    /// the wire, handing every batch to the pipeline in read order, until `deadline`, a
    /// graceful shutdown, or an error. Every batch read before the session ends is
    /// handed over, an error's included (its entries are this consumer's in Redis and
    /// tracked in flight), and only then is the error thrown.
    private func readLive(_ command: RedisCommand, until deadline: ContinuousClock.Instant) async throws(RedisError) {
        let handoff = RedisBatchHandoff(capacity: Self.batchesWaiting)
        let stop = SessionStop()
        let decoder = self.decoder
        let acknowledger = self.acknowledger
        let redelivered = Array(repeating: false, count: configuration.streams.count)
        let session = Task { () -> RedisError? in
            do throws(RedisError) {
                try await reader.perform { session throws(RedisError) in
                    defer { handoff.finish() }
                    try session.connection().repeatPipelined(command, depth: Self.readsInFlight) { reply throws(RedisError) in
                        let batch = try decoder.decodeRead(
                            reply, redelivered: redelivered, receivedAtNanos: WallClock.nowNanos(), inFlight: acknowledger.track)
                        if !batch.isEmpty { handoff.put(batch) }
                        return !stop.requested.load(ordering: .relaxed) && ContinuousClock.now < deadline
                    }
                }
                return nil
            } catch {
                // The job never ran (the worker is shut down or full): nothing to hand over.
                if error.kind == .shutdown || error.kind == .overloaded { handoff.finish() }
                return error
            }
        }
        // A graceful stop or a cancellation ends the session after the reads on the wire;
        // their batches are still handed over.
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                while let batch = await handoff.next() { await hand(batch) }
            } onGracefulShutdown: {
                stop.requested.store(true, ordering: .relaxed)
            }
        } onCancel: {
            stop.requested.store(true, ordering: .relaxed)
        }
        if let error = await session.value { throw error }
    }

    /// Waits, but not past the start of a graceful shutdown.
    private func pause(_ delay: Duration) async {
        guard delay > .zero else { return }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
    }

    private func createGroups() async throws(RedisError) {
        let streams = configuration.streams
        let group = configuration.group
        try await reader.perform { session throws(RedisError) in
            let commands = streams.map { RedisCommand("XGROUP", "CREATE", $0, group, "0", "MKSTREAM") }
            for reply in try session.connection().pipeline(commands) {
                if case .error(let text) = reply, !text.hasPrefix("BUSYGROUP") { throw RedisError(serverReply: text) }
            }
        }
    }

    private func read(_ command: RedisCommand, redelivered: [Bool]) async throws(RedisError) -> RedisReadBatch {
        let decoder = self.decoder
        let acknowledger = self.acknowledger
        return try await reader.perform { session throws(RedisError) in
            let connection = try session.connection()
            return try connection.withReply(command) { reply throws(RedisError) in
                try decoder.decodeRead(
                    reply, redelivered: redelivered, receivedAtNanos: WallClock.nowNanos(), inFlight: acknowledger.track)
            }
        }
    }

    private func claim(stream: Int, cursor: RedisEntryID) async throws(RedisError) -> (RedisReadBatch, RedisEntryID) {
        var command = RedisCommand("XAUTOCLAIM", configuration.streams[stream], configuration.group, configuration.consumer)
        command.append(Int(configuration.claimIdle.milliseconds))
        command.append(cursor)
        command.append("COUNT")
        command.append(configuration.batchSize)
        let decoder = self.decoder
        let acknowledger = self.acknowledger
        let (batch, next, _) = try await reader.perform { [command] session throws(RedisError) in
            try session.connection().withReply(command) { reply throws(RedisError) in
                try decoder.decodeClaim(reply, stream: stream, receivedAtNanos: WallClock.nowNanos(), inFlight: acknowledger.track)
            }
        }
        return (batch, next)
    }

    /// Acknowledges trimmed entries and hands the rest to the pipeline, waiting for
    /// memory budget first.
    private func hand(_ batch: RedisReadBatch) async {
        if !batch.deleted.isEmpty {
            for (stream, _) in batch.deleted { metrics.streams[stream].trimmed.increment() }
            logger.warning("pending entries were trimmed from the stream before they were ingested; acknowledging them", metadata: [
                "entries": "\(batch.deleted.count)",
            ])
            acknowledger.acknowledgeDeleted(batch.deleted)
        }
        guard !batch.chunk.messages.isEmpty else { return }
        var perStream = Array(repeating: 0, count: configuration.streams.count)
        for s in batch.streams { perStream[Int(s)] += 1 }
        for (s, n) in perStream.enumerated() where n > 0 { metrics.streams[s].read.increment(by: n) }
        for (s, n) in batch.unreadable.enumerated() where n > 0 {
            metrics.streams[s].unreadable.increment(by: n)
            logger.warning("entries without a data field go to the dead-letter table", metadata: [
                "stream": "\(configuration.streams[s])", "entries": "\(n)",
            ])
        }
        let charge = batch.chunk.byteCount
        await pipeline.budget.acquire(charge)
        let accepted = await pipeline.submit(batch.chunk, charge: charge, onResolved: acknowledger.resolver(for: batch))
        if !accepted {
            acknowledger.untrack(batch)
        }
    }

    private func setStatus(_ s: String) {
        status.withLock { $0 = s }
    }

    static func readPrefix(_ c: RedisInputConfiguration) -> RedisCommand {
        var command = RedisCommand("XREADGROUP", "GROUP", c.group, c.consumer, "COUNT")
        command.append(c.batchSize)
        return command
    }

    // MARK: Lag and pending

    /// Samples `XINFO GROUPS` every `lag_interval` into the lag and pending gauges.
    private func sampleGroups() async {
        let streams = configuration.streams
        let group = configuration.group
        while !Task.isCancelled {
            do throws(RedisError) {
                let replies = try await control.perform { session throws(RedisError) in
                    try session.connection().pipeline(streams.map { RedisCommand("XINFO", "GROUPS", $0) })
                }
                for (i, reply) in replies.enumerated() {
                    guard let info = Self.groupInfo(reply, group: group) else { continue }
                    if let pending = info.pending { metrics.streams[i].pending.record(pending) }
                    if let lag = info.lag { metrics.streams[i].lag.record(lag) }
                }
            } catch {
                logger.debug("XINFO GROUPS failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.lagInterval)
        }
    }

    /// Finds `group` in an `XINFO GROUPS` reply (a list of flat name/value lists) and
    /// returns its `pending` count and its `lag` (7.0+; nil when Redis cannot tell, e.g.
    /// after trimming in the undelivered range).
    public static func groupInfo(_ reply: RedisReply, group: String) -> (pending: Int64?, lag: Int64?)? {
        guard let groups = reply.elements else { return nil }
        for g in groups {
            guard let fields = g.elements else { continue }
            var values: [String: RedisReply] = [:]
            var i = 0
            while i + 1 < fields.count {
                if let k = fields[i].text { values[k] = fields[i + 1] }
                i += 2
            }
            guard values["name"]?.text == group else { continue }
            return (values["pending"]?.integerValue, values["lag"]?.integerValue)
        }
        return nil
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}

/// Asks a live read session to stop; shared by the reader thread and the handlers.
private final class SessionStop: Sendable {
    let requested = Atomic<Bool>(false)
}
