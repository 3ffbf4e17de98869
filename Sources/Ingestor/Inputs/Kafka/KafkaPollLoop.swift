import Foundation
import Logging
import Metrics
import Pipeline
import Synchronization

/// The body of the Kafka poll thread: polls librdkafka, builds chunks, hands them to the
/// submitting task, handles rebalances, pauses and resumes partitions for back-pressure,
/// and commits durable offsets.
///
/// Thread confinement: everything but ``tracker``, ``handoff`` and the control state is
/// touched only by the poll thread, which is the only caller of ``run()``. That is also
/// where librdkafka runs the rebalance, commit, statistics and error callbacks (inside
/// `rd_kafka_consumer_poll` and `rd_kafka_consumer_close`), so those need no lock.
///
/// Why these rules:
/// - Only the highest *contiguous* durable offset per partition is committed
///   (``PartitionOffsetTracker``), every `commit_interval` and once more on shutdown.
/// - On revoke, records of the revoked partitions still being collected are dropped
///   (never handed over, so nothing of them was written), the records already handed
///   over get `drain_timeout` to become durable, what is durable is committed
///   synchronously, and only then are the partitions given up. A lost assignment is
///   given up at once without a commit. Late resolutions of a revoked partition are
///   ignored by the tracker.
/// - Back-pressure: when the memory budget is full, or the chunk under construction has
///   grown to four chunks because the pipeline does not take them, every assigned
///   partition is paused; polling continues (callbacks, heartbeat-free liveness for
///   `max.poll.interval.ms`). Partitions are resumed once the budget has drained to 75 %
///   and the hand-off is free; the gap between the two marks keeps pause/resume from
///   flapping (each resume makes librdkafka fetch again what it dropped on pause).
///   A rebalance re-applies the pause to newly assigned partitions.
final class KafkaPollLoop: @unchecked Sendable {
    // @unchecked: see "Thread confinement" above; the shared members are Sendable.
    let tracker: SharedOffsetTracker
    let handoff: KafkaChunkHandoff

    private struct Control {
        var stopRequested = false
        /// Stop waiting for in-flight records: the pipeline has been abandoned.
        var abandonInFlight = false
        var failure: KafkaError?
        var assigned = 0
        var paused = false
        var lastError: KafkaError?
    }

    private let control = Mutex(Control())
    private let configuration: KafkaInputConfiguration
    private let consumer: KafkaConsumer
    private let budget: MemoryBudget
    private let logger: Logger
    private let clock = ContinuousClock()

    // Poll-thread state.
    private var builder: KafkaChunkBuilder
    private var paused = false
    private var stopping = false
    private let chunkBytes: Int
    private var lastLogged: [String: ContinuousClock.Instant] = [:]

    // Metric handles, created once.
    private let receivedCounter = Counter(label: "sluice_kafka_records_received_total")
    private let chunksCounter = Counter(label: "sluice_kafka_chunks_total")
    private let commitsCounter = Counter(label: "sluice_kafka_commits_total")
    private let commitFailures = Counter(label: "sluice_kafka_commit_failures_total")
    private let pausesCounter = Counter(label: "sluice_kafka_pauses_total")
    private let pausedGauge = Gauge(label: "sluice_kafka_paused")
    private let assignedGauge = Gauge(label: "sluice_kafka_assigned_partitions")
    private let droppedOnRevoke = Counter(label: "sluice_kafka_records_dropped_on_revoke_total")
    private let rebalanceCounters: [String: Counter] = [
        "assign": Counter(label: "sluice_kafka_rebalances_total", dimensions: [("event", "assign")]),
        "revoke": Counter(label: "sluice_kafka_rebalances_total", dimensions: [("event", "revoke")]),
        "lost": Counter(label: "sluice_kafka_rebalances_total", dimensions: [("event", "lost")]),
        "error": Counter(label: "sluice_kafka_rebalances_total", dimensions: [("event", "error")]),
    ]
    private var errorCounters: [String: Counter] = [:]
    private var lagGauges: [KafkaPartition: Gauge] = [:]

    init(configuration: KafkaInputConfiguration, budget: MemoryBudget, logger: Logger) throws(KafkaError) {
        self.configuration = configuration
        self.budget = budget
        self.logger = logger
        tracker = SharedOffsetTracker()
        handoff = KafkaChunkHandoff()
        builder = KafkaChunkBuilder(expectedMessages: configuration.chunkMessages)
        // A chunk also closes at 8 MiB, so a topic of large records still moves in
        // pieces the budget can admit.
        chunkBytes = 8 << 20
        consumer = try KafkaConsumer(properties: configuration.consumerProperties(memoryBudget: budget.limit), logger: logger)
    }

    // MARK: Control (any thread)

    /// Asks the loop to stop; ``run()`` then drains, commits and closes the consumer.
    ///
    /// - Parameter abandoningInFlight: the daemon is being cancelled, and the pipeline
    ///   will not resolve what it holds: commit only what is already durable and close
    ///   without waiting `drain_timeout` (the group allows a few seconds, no more). Also
    ///   ends a wait that an earlier graceful request started.
    func requestStop(abandoningInFlight: Bool = false) {
        control.withLock {
            $0.stopRequested = true
            if abandoningInFlight { $0.abandonInFlight = true }
        }
    }

    /// The fatal error that ended the loop, if any.
    var failure: KafkaError? { control.withLock { $0.failure } }

    /// One line for `/health/ready`.
    var status: (healthy: Bool, detail: String) {
        control.withLock { c in
            if let f = c.failure { return (false, "\(f)") }
            var detail = "\(c.assigned) partitions assigned" + (c.paused ? ", paused (back-pressure)" : "")
            if let e = c.lastError { detail += "; last error: \(e.message)" }
            return (true, detail)
        }
    }

    // MARK: The loop (poll thread)

    func run() {
        consumer.delegate = self
        do {
            try consumer.subscribe(configuration.topics)
            logger.info("kafka consumer subscribed", metadata: [
                "topics": "\(configuration.topics)", "group": "\(configuration.group)", "brokers": "\(configuration.brokers)",
            ])
        } catch {
            fail(error)
        }
        var nextCommit = clock.now + configuration.commitInterval
        var nextHousekeeping = clock.now + .milliseconds(500)
        let chunkMessages = configuration.chunkMessages
        let idleWaitMs: Int32 = 100
        while !control.withLock({ $0.stopRequested || $0.failure != nil }) {
            var timeout = idleWaitMs
            if let started = builder.startedAt {
                let left = configuration.chunkMaxWait - (clock.now - started)
                timeout = left <= .zero ? 0 : Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            }
            // Take what librdkafka has queued, up to a chunk's worth, before anything else.
            var polled = 0
            var receivedAt: Int64 = 0
            while polled < chunkMessages, let record = consumer.poll(timeoutMs: polled == 0 ? timeout : 0) {
                // One clock read per 256 records: a burst drains librdkafka's local queue
                // in well under a millisecond, and a read per record cost ~2% of the CPU.
                if polled & 255 == 0 { receivedAt = WallClock.nowNanos() }
                polled += 1
                take(record, receivedAtNanos: receivedAt)
            }
            if polled > 0 { receivedCounter.increment(by: polled) }
            let now = clock.now
            handOffIfReady(now: now)
            applyBackPressure()
            if now >= nextCommit {
                commitDurable()
                nextCommit = now + configuration.commitInterval
            }
            if now >= nextHousekeeping {
                learnHorizons()
                if let fatal = consumer.fatalError { fail(fatal) }
                nextHousekeeping = now + .milliseconds(500)
            }
        }
        shutdown()
    }

    private func take(_ record: KafkaRecord, receivedAtNanos: Int64) {
        defer { record.destroy() }
        if let error = record.error {
            if record.isPartitionEOF { return }
            count(error)
            logRateLimited(key: "consume-\(error.code ?? 0)", "kafka consumer error", error: error)
            return
        }
        let partition = KafkaPartition(topic: consumer.topicName(of: record), partition: record.partition)
        var classifier = KafkaCloudEventsBinding.Classifier()
        let format: MessageFormat = record.forEachHeader { classifier.add(name: $0, value: $1) } ? classifier.format : .structured
        builder.append(
            value: record.value, format: format, partition: partition, offset: record.offset,
            receivedAtNanos: receivedAtNanos, now: clock.now)
    }

    private func handOffIfReady(now: ContinuousClock.Instant) {
        guard let started = builder.startedAt else { return }
        let ready = builder.count >= configuration.chunkMessages || builder.byteCount >= chunkBytes
            || now - started >= configuration.chunkMaxWait
        // The poll thread is the only producer of the slot, so a free slot stays free
        // until the offer below.
        guard ready, !handoff.isOccupied else { return }
        let taken = builder.take()
        let chunk = tracker.deliver(taken.chunk, partitions: taken.partitions, slots: taken.slots, offsets: taken.offsets)
        chunksCounter.increment()
        if !handoff.offer(chunk) {
            tracker.abandon(chunk.positions)
        }
    }

    private func applyBackPressure() {
        let overfull = builder.count >= 4 * configuration.chunkMessages || builder.byteCount >= 4 * chunkBytes
        if !paused {
            let budgetFull = budget.isFull(adding: Swift.max(builder.byteCount * 2, 4096))
            guard budgetFull || overfull else { return }
            setPaused(true, reason: budgetFull ? "memory budget full" : "pipeline not taking chunks")
        } else {
            guard !overfull, budget.used <= budget.limit / 4 * 3, builder.count < configuration.chunkMessages,
                  !handoff.isOccupied else { return }
            setPaused(false, reason: "memory budget drained")
        }
    }

    private func setPaused(_ pause: Bool, reason: String) {
        let partitions = consumer.assignment()
        if let error = pause ? consumer.pause(partitions) : consumer.resume(partitions) {
            logRateLimited(key: "pause", "kafka pause/resume failed", error: error)
        }
        paused = pause
        control.withLock { $0.paused = pause }
        pausedGauge.record(pause ? 1 : 0)
        if pause { pausesCounter.increment() }
        logger.debug(pause ? "kafka partitions paused" : "kafka partitions resumed", metadata: [
            "reason": "\(reason)", "partitions": "\(partitions.count)", "budget_used": "\(budget.used)",
        ])
    }

    /// Commits, asynchronously, what is durable and not yet committed.
    private func commitDurable() {
        let offsets = tracker.withLock { $0.commitCandidates() }
        guard !offsets.isEmpty else { return }
        for r in consumer.commit(offsets, async: true) where r.error != nil {
            commitFailures.increment()
            logRateLimited(key: "commit", "kafka commit failed; retrying at the next interval", error: r.error!)
        }
    }

    /// Fills in redelivery horizons that the assignment could not learn, from the high
    /// watermark librdkafka has cached since (no I/O). A later watermark only makes more
    /// records suspect, never fewer.
    private func learnHorizons() {
        let missing = tracker.withLock { $0.leasesWithoutHorizon }
        for lease in missing {
            if let hi = consumer.cachedHighWatermark(lease.partition) {
                tracker.withLock { $0.setHorizon(lease, hi) }
            }
        }
    }

    private func waitForInFlight(_ partitions: [KafkaPartition]?, timeout: Duration) -> Int {
        let deadline = clock.now + timeout
        while true {
            let left = tracker.withLock { $0.inFlight(partitions) }
            if left == 0 || clock.now >= deadline || control.withLock({ $0.abandonInFlight }) { return left }
            // The poll thread has nothing else to do meanwhile: librdkafka heartbeats on
            // its own threads, and the records resolve on the pipeline's tasks.
            usleep(2_000)
        }
    }

    private func shutdown() {
        stopping = true
        if !paused { setPaused(true, reason: "shutting down") }
        let dropped = builder.count
        builder.removeAll()
        let left = waitForInFlight(nil, timeout: configuration.drainTimeout)
        if let chunk = handoff.close() { tracker.abandon(chunk.positions) }
        let offsets = tracker.withLock { $0.commitCandidates() }
        let results = consumer.commit(offsets, async: false)
        confirm(results)
        logger.info("kafka input stopping", metadata: [
            "committed": "\(offsets.map { "\($0.0)=\($0.1)" })", "unsettled": "\(left)", "dropped_unsent": "\(dropped)",
        ])
        // Leaves the group; the final revoke arrives through the delegate.
        consumer.close()
        logger.info("kafka consumer closed")
    }

    private func fail(_ error: KafkaError) {
        logger.error("kafka input failed", metadata: ["error": "\(error)"])
        control.withLock { $0.failure = error }
    }

    private func confirm(_ results: [KafkaConsumer.OffsetResult]) {
        var failed: [KafkaConsumer.OffsetResult] = []
        tracker.withLock { t in
            for r in results {
                if r.error == nil { t.confirmCommit(r.partition, offset: r.offset) } else { failed.append(r) }
            }
        }
        if !results.isEmpty { commitsCounter.increment() }
        for r in failed {
            commitFailures.increment()
            logRateLimited(key: "commit", "kafka commit failed", error: r.error!)
        }
    }

    private func count(_ error: KafkaError) {
        let key = String(error.code ?? 0)
        let counter = errorCounters[key] ?? {
            let c = Counter(label: "sluice_kafka_errors_total", dimensions: [("code", key)])
            errorCounters[key] = c
            return c
        }()
        counter.increment()
        control.withLock { $0.lastError = error }
    }

    /// Broker outages make librdkafka report the same error many times a second.
    private func logRateLimited(key: String, _ message: Logger.Message, error: KafkaError) {
        let now = clock.now
        if let last = lastLogged[key], now - last < .seconds(5) { return }
        lastLogged[key] = now
        logger.warning(message, metadata: ["error": "\(error)"])
    }
}

extension KafkaPollLoop: KafkaConsumerDelegate {
    func consumer(_ consumer: KafkaConsumer, rebalance: KafkaConsumer.Rebalance) {
        let incremental = consumer.isCooperative
        switch rebalance {
        case .assign(let partitions):
            rebalanceCounters["assign"]?.increment()
            // The high watermark now bounds what a previous owner can have written.
            let horizons = consumer.queryHighWatermarks(partitions, timeoutMs: 1000, budgetMs: 5000)
            tracker.withLock { _ = $0.assign(partitions, horizons: horizons) }
            do {
                try consumer.assign(partitions, incremental: incremental)
            } catch {
                logger.error("kafka assign failed", metadata: ["error": "\(error)"])
                if error.kind == .fatal { fail(error) }
            }
            if paused, let error = consumer.pause(partitions) {
                logRateLimited(key: "pause", "kafka pause of newly assigned partitions failed", error: error)
            }
            noteAssignment(consumer)
            logger.info("kafka partitions assigned", metadata: [
                "partitions": "\(partitions.map(\.description))", "protocol": "\(consumer.rebalanceProtocol)",
                "horizons_known": "\(horizons.count)/\(partitions.count)", "paused": "\(paused)",
            ])
        case .revoke(let partitions):
            let lost = consumer.assignmentLost
            rebalanceCounters[lost ? "lost" : "revoke"]?.increment()
            let dropped = builder.remove(Set(partitions))
            if dropped > 0 { droppedOnRevoke.increment(by: dropped) }
            var unsettled = 0
            if !lost && !stopping {
                unsettled = waitForInFlight(partitions, timeout: configuration.drainTimeout)
            }
            let final = tracker.withLock { $0.revoke(partitions, lost: lost) }
            // Synchronous: the next owner starts from what is committed now.
            let results = consumer.commit(final, async: false)
            confirm(results)
            do {
                try consumer.unassign(partitions, incremental: incremental)
            } catch {
                logger.error("kafka unassign failed", metadata: ["error": "\(error)"])
            }
            for p in partitions { lagGauges.removeValue(forKey: p)?.record(0) }
            noteAssignment(consumer)
            logger.info("kafka partitions revoked", metadata: [
                "partitions": "\(partitions.map(\.description))", "lost": "\(lost)", "committed": "\(final.map { "\($0.0)=\($0.1)" })",
                "unsettled_abandoned": "\(unsettled)", "dropped_unsent": "\(dropped)",
            ])
        case .failed(let error, _):
            rebalanceCounters["error"]?.increment()
            logger.error("kafka rebalance failed; dropping the assignment", metadata: ["error": "\(error)"])
            builder.removeAll()
            _ = tracker.withLock { $0.revokeAll(lost: true) }
            try? consumer.unassign([], incremental: false)
            noteAssignment(consumer)
        }
    }

    private func noteAssignment(_ consumer: KafkaConsumer) {
        let n = tracker.withLock { $0.assignedPartitions.count }
        control.withLock { $0.assigned = n }
        assignedGauge.record(n)
    }

    func consumer(_ consumer: KafkaConsumer, statistics json: UnsafeRawBufferPointer) {
        for (partition, lag) in KafkaStatistics.consumerLag(json: json) {
            let gauge = lagGauges[partition] ?? {
                let g = Gauge(label: "sluice_kafka_consumer_lag", dimensions: [("topic", partition.topic), ("partition", String(partition.partition))])
                lagGauges[partition] = g
                return g
            }()
            gauge.record(lag)
        }
    }

    func consumer(_ consumer: KafkaConsumer, committed offsets: [KafkaConsumer.OffsetResult], error: KafkaError?) {
        confirm(offsets)
    }

    func consumer(_ consumer: KafkaConsumer, error: KafkaError) {
        if error.kind == .fatal {
            fail(consumer.fatalError ?? error)
            return
        }
        count(error)
        logRateLimited(key: "client-\(error.code ?? 0)", "kafka client error", error: error)
    }
}
