import Foundation
public import Logging
public import Pipeline
public import ServiceLifecycle

/// Reads CloudEvents from Kafka topics as a member of a consumer group and commits each
/// partition's offset only once every record before it is durable in ClickHouse (or in
/// the dead-letter table, or known to be a duplicate).
///
/// Two halves:
/// - the **poll thread** (``KafkaPollLoop``), a dedicated OS thread that owns the
///   librdkafka consumer: polling, rebalances, pause/resume, commits, close;
/// - the **submitting task** (this service's `run`), which takes one chunk at a time
///   from the poll thread, charges the memory budget (waiting while it is full), and
///   submits the chunk to the pipeline. Resolutions flow back from the pipeline straight
///   into the shared offset tracker.
///
/// The service waits for the readiness gate (dedup windows rebuilt) before it joins the
/// group, so no record is read before a redelivery can be recognised. On graceful
/// shutdown it stops polling, gives in-flight records `drain_timeout` to become durable,
/// commits, and leaves the group, before the pipeline drains.
public final class KafkaInput: Service, Sendable {
    public let configuration: KafkaInputConfiguration
    private let pipeline: IngestPipeline
    private let gate: ReadinessGate
    private let loop: KafkaPollLoop
    private let logger: Logger

    /// Creates the consumer (no network I/O yet), so a bad librdkafka property fails at
    /// start-up with the property's name.
    public init(configuration: KafkaInputConfiguration, pipeline: IngestPipeline, gate: ReadinessGate, logger: Logger) throws(KafkaError) {
        self.configuration = configuration
        self.pipeline = pipeline
        self.gate = gate
        var logger = logger
        logger[metadataKey: "input"] = "kafka"
        self.logger = logger
        loop = try KafkaPollLoop(configuration: configuration, budget: pipeline.budget, logger: logger)
    }

    /// A health line: the consumer's own view (assignment, pause, fatal error).
    public var status: (healthy: Bool, detail: String) { loop.status }

    public func run() async throws {
        // Wait for the dedup windows; leave at once if the daemon stops first.
        while !gate.isOpen {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let loop = self.loop
        let feeder = Task { await self.feed() }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        loop.run()
                        done.resume()
                    }
                    thread.name = "sluice-kafka-poll"
                    thread.start()
                }
            } onGracefulShutdown: {
                loop.requestStop()
            }
        } onCancel: {
            loop.requestStop(abandoningInFlight: true)
        }
        // The hand-off is closed by now, so the feeder ends unless it waits for budget;
        // that wait cannot be cancelled, and the feeder abandons its chunk after it.
        feeder.cancel()
        if let failure = loop.failure { throw failure }
    }

    /// Moves chunks from the hand-off into the pipeline, one at a time.
    private func feed() async {
        let tracker = loop.tracker
        let handoff = loop.handoff
        let budget = pipeline.budget
        while let k = await handoff.next() {
            // Decoded rows take about as much memory as the JSON they came from.
            let charge = Swift.max(k.chunk.byteCount * 2, 4096)
            await budget.acquire(charge)
            if handoff.isClosed {
                budget.release(charge)
                tracker.abandon(k.positions)
                continue
            }
            let positions = k.positions
            let accepted = await pipeline.submit(k.chunk, charge: charge, onResolved: { resolved in
                tracker.resolve(resolved, of: positions)
            })
            if !accepted { tracker.abandon(positions) }
        }
    }
}
