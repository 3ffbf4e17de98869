import Foundation
public import Logging
import Metrics
public import Pipeline
public import ServiceLifecycle
public import Sinks
import Synchronization
import UnixSignals

/// Owns the ClickHouse transport; stops last, after the pipeline has flushed.
public struct SinkService: Service {
    public let transport: ClickHouseHTTPTransport

    public init(transport: ClickHouseHTTPTransport) {
        self.transport = transport
    }

    public func run() async throws {
        // Nothing to do but wait: the transport's threads serve requests on their own.
        try? await gracefulShutdown()
        if Task.isCancelled {
            // The group is being cancelled (a service failed, or the graceful shutdown
            // ran out of time). A request in flight may take up to the request timeout,
            // longer than the group allows for cancellation, so refuse new requests and
            // leave without joining the threads; the process is about to exit.
            transport.stopAccepting()
            return
        }
        await transport.shutdown()
    }
}

/// Rebuilds the dedup windows, opens the gate for inputs, and runs the stage graph until
/// a graceful shutdown, when it drains: every accepted event is written before it returns.
public struct PipelineService: Service {
    public let pipeline: IngestPipeline
    public let gate: ReadinessGate
    public let logger: Logger

    public init(pipeline: IngestPipeline, gate: ReadinessGate, logger: Logger) {
        self.pipeline = pipeline
        self.gate = gate
        self.logger = logger
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            var attempt = 0
            // Inputs must not read before the window is rebuilt: a redelivery right after
            // a restart would otherwise escape dedup.
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    try await pipeline.rebuildDedupWindows()
                    break
                } catch {
                    logger.warning("cannot rebuild the dedup window yet; ClickHouse unreachable?", metadata: ["error": "\(error)"])
                    attempt += 1
                    try? await Task.sleep(for: RetryPolicy().delay(attempt: attempt))
                }
            }
            if !Task.isShuttingDownGracefully && !Task.isCancelled {
                gate.open()
                logger.info("pipeline running")
            }
            await runUntilDrainedOrCancelled()
        } onGracefulShutdown: {
            pipeline.shutdown()
        }
    }

    /// Runs the stage graph until it has drained, or until this task is cancelled.
    ///
    /// Cancellation means the group gives up: a service failed, or a graceful shutdown
    /// outlasted `shutdown.timeout`. Draining can take as long as ClickHouse stays away,
    /// and the group allows only a few seconds before it aborts the process, so the
    /// pipeline is abandoned instead: it stops taking chunks, and whatever it still
    /// holds was never acknowledged, so the sources deliver it again after the restart
    /// and the rebuilt dedup window drops what did reach ClickHouse.
    private func runUntilDrainedOrCancelled() async {
        let pipeline = self.pipeline
        // A gate that opens once: when the pipeline has drained, or when it is abandoned.
        let finished = ReadinessGate()
        // Unstructured on purpose: it must be able to outlive this call when abandoned.
        let runner = Task {
            await pipeline.run()
            finished.open()
        }
        await withTaskCancellationHandler {
            await finished.wait()
        } onCancel: {
            pipeline.abandon()
            finished.open()
        }
        // Asked of the pipeline, not of the task: a cancellation that arrives after the
        // drain finished abandons nothing.
        if pipeline.wasAbandoned {
            logger.warning("pipeline abandoned without draining; unacknowledged events will be delivered again")
        } else {
            await runner.value
        }
    }
}

/// Samples gauges that nothing updates on its own: budget use, windows, batches.
public struct MetricsSampler: Service {
    let pipeline: IngestPipeline
    let interval: Duration

    public init(pipeline: IngestPipeline, interval: Duration = .seconds(1)) {
        self.pipeline = pipeline
        self.interval = interval
    }

    public func run() async throws {
        let inFlight = Gauge(label: "sluice_inflight_bytes")
        let budget = Gauge(label: "sluice_memory_budget_bytes")
        let inFlightEvents = Gauge(label: "sluice_events_in_flight")
        let windows = pipeline.writers.map { Gauge(label: "sluice_dedup_window_keys", dimensions: [("table", $0.tableName)]) }
        let pending = pipeline.writers.map { Gauge(label: "sluice_batch_pending_rows", dimensions: [("table", $0.tableName)]) }
        let resident = Gauge(label: "sluice_process_resident_memory_bytes")
        budget.record(pipeline.budget.limit)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            inFlight.record(pipeline.budget.used)
            if let rss = Self.residentBytes() { resident.record(rss) }
            inFlightEvents.record(pipeline.accounting.inFlight)
            for (i, w) in pipeline.writers.enumerated() {
                let s = await w.stats
                windows[i].record(s.windowKeys)
                pending[i].record(s.pendingRows)
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// RSS from `/proc/self/statm`, next to the budget: the budget bounds what Sluice
    /// holds for events, and RSS shows whether everything else stays small too.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Reloads `pipeline.batch.*`, `pipeline.dedup.*`, `auth.*` and `rate_limits.*` on SIGHUP
/// and when the file changes (so a revoked API key stops working without a restart).
///
/// The whole file is parsed and validated again; a bad edit is refused with a logged
/// reason and the values in force stay. Other keys need a restart, which is logged
/// when they differ.
public struct ConfigReloader: Service {
    let path: String
    let pipeline: IngestPipeline
    let pollInterval: Duration
    let logger: Logger
    let access: AccessControl?

    public init(path: String, pipeline: IngestPipeline, access: AccessControl? = nil, pollInterval: Duration = .seconds(1), logger: Logger) {
        self.path = path
        self.pipeline = pipeline
        self.access = access
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        let reloads = Counter(label: "sluice_config_reloads_total")
        let failures = Counter(label: "sluice_config_reload_failures_total")
        let inForce = ConfigGauges()
        inForce.record(pipeline.currentConfiguration)
        var lastStamp = Self.stamp(path)
        let signals = await UnixSignalsSequence(trapping: .sighup)
        let signalTask = Task { for await _ in signals { Self.sighupCount.withLock { $0 += 1 } } }
        defer { signalTask.cancel() }
        var seenSignals = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: pollInterval)
            let signalled = Self.sighupCount.withLock { $0 } != seenSignals
            seenSignals = Self.sighupCount.withLock { $0 }
            let stamp = Self.stamp(path)
            guard signalled || stamp != lastStamp else { continue }
            lastStamp = stamp
            do {
                let fresh = try SluiceConfiguration.load(path: path)
                if let access, fresh.auth != access.auth || fresh.rateLimits != access.tenantLimits {
                    if access.reload(auth: fresh.auth, tenantLimits: fresh.rateLimits) {
                        reloads.increment()
                        logger.notice("access control reloaded", metadata: ["keys": "\(fresh.auth?.keys.count ?? 0)"])
                    } else {
                        logger.warning("auth or rate_limits were added; turning access control on needs a restart")
                    }
                }
                let current = pipeline.currentConfiguration
                if fresh.pipeline.batch == current.batch && fresh.pipeline.dedup == current.dedup {
                    logger.info("configuration checked; no reloadable change", metadata: ["trigger": "\(signalled ? "SIGHUP" : "file change")"])
                    continue
                }
                await pipeline.reconfigure(batch: fresh.pipeline.batch, dedup: fresh.pipeline.dedup)
                reloads.increment()
                inForce.record(pipeline.currentConfiguration)
                logger.notice("configuration reloaded", metadata: [
                    "batch.max_rows": "\(fresh.pipeline.batch.maxRows)", "batch.max_bytes": "\(fresh.pipeline.batch.maxBytes)",
                    "batch.max_age": "\(fresh.pipeline.batch.maxAge)", "dedup.window": "\(fresh.pipeline.dedup.window)",
                    "dedup.max_keys": "\(fresh.pipeline.dedup.maxKeys)",
                ])
            } catch {
                failures.increment()
                logger.error("configuration reload refused; keeping the values in force", metadata: ["key": "\(error.key)", "reason": "\(error.reason)"])
            }
        }
    }

    private static let sighupCount = Mutex(0)

    /// Modification time and size: a cheap change detector that also catches editors
    /// that replace the file.
    static func stamp(_ path: String) -> String {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path) else { return "" }
        let date = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let size = (attrs[.size] as? NSNumber)?.intValue ?? 0
        return "\(date)/\(size)"
    }
}

/// The reloadable values in force, as gauges.
struct ConfigGauges {
    let maxRows = Gauge(label: "sluice_config_batch_max_rows")
    let maxBytes = Gauge(label: "sluice_config_batch_max_bytes")
    let maxAge = Gauge(label: "sluice_config_batch_max_age_seconds")
    let window = Gauge(label: "sluice_config_dedup_window_seconds")
    let maxKeys = Gauge(label: "sluice_config_dedup_max_keys")

    func record(_ c: PipelineConfiguration) {
        maxRows.record(c.batch.maxRows)
        maxBytes.record(c.batch.maxBytes)
        maxAge.record(Double(c.batch.maxAge.nanoseconds) / 1e9)
        window.record(Double(c.dedup.window.nanoseconds) / 1e9)
        maxKeys.record(c.dedup.maxKeys)
    }
}
