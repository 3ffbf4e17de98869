import Foundation
import Hummingbird
public import Logging
import Metrics
public import Pipeline
public import Prometheus
public import ServiceLifecycle
public import Sinks

/// Wiring of `sluice run`: builds every component from a validated configuration and
/// returns them as one `ServiceGroup`, ordered by dependency. On SIGTERM or SIGINT the
/// group stops them in reverse: the HTTP port and inputs stop reading, the pipeline
/// drains (flush, acknowledge), the side-port and the sink stop last.
public struct SluiceDaemon: Sendable {
    public let configuration: SluiceConfiguration
    public let transport: ClickHouseHTTPTransport
    public let sink: ClickHouseSink
    public let pipeline: IngestPipeline
    public let gate: ReadinessGate
    public let health: HealthRegistry
    public let handler: IngestHandler
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger
    /// The query side-port's API (`query.*`); it reads the server version lazily.
    public let query: QueryAPI
    /// API keys and rate limits for both ports (inactive when neither is configured).
    public let access: AccessControl

    /// Sets up logging and the Prometheus metrics backend; call once per process.
    public static func bootstrapObservability(_ logging: LoggingConfiguration, registry: PrometheusCollectorRegistry) {
        let level = Logger.Level(rawValue: logging.level) ?? .info
        let format: StructuredLogHandler.Format = logging.format == .json ? .json : .logfmt
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, format: format, level: level) }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets["sluice_batch_rows"] = [10, 100, 1000, 5000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000]
        let kib: Double = 1024
        factory.valueHistogramBuckets["sluice_batch_bytes"] = [kib, 16 * kib, 128 * kib, kib * kib, 4 * kib * kib, 16 * kib * kib, 64 * kib * kib, 256 * kib * kib]
        MetricsSystem.bootstrap(DocumentedMetricsFactory(prometheus: factory, help: MetricHelp.text))
    }

    public init(configuration: SluiceConfiguration, registry: PrometheusCollectorRegistry, logger: Logger) throws {
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
        MallocTuning.apply(memoryBudget: configuration.pipeline.memoryBudget)
        transport = try ClickHouseHTTPTransport(configuration: configuration.clickhouse, logger: logger)
        let compression: CompressionMethod = switch configuration.clickhouse.compression {
        case .lz4: .lz4
        case .zstd: .zstd
        case .none: .none
        }
        sink = ClickHouseSink(transport: transport, catalog: configuration.datasets, compression: compression, logger: logger)
        pipeline = try IngestPipeline(catalog: configuration.datasets, sink: sink, configuration: configuration.pipeline, logger: logger)
        gate = ReadinessGate()
        health = HealthRegistry()
        handler = IngestHandler(pipeline: pipeline, configuration: configuration.http, dapr: configuration.dapr, gate: gate)
        query = QueryAPI(service: QueryService(
            catalog: QueryCatalog(datasets: configuration.datasets), configuration: configuration.query, transport: transport, logger: logger))
        access = AccessControl(auth: configuration.auth, tenantLimits: configuration.rateLimits, audit: Logger(label: "sluice.audit"))
        let transport = self.transport
        health.register(ClosureHealthCheck(name: "clickhouse") {
            do {
                _ = try await transport.query("SELECT 1")
                return ComponentHealth(name: "clickhouse", healthy: true, detail: "SELECT 1 ok")
            } catch {
                return ComponentHealth(name: "clickhouse", healthy: false, detail: "\(error)")
            }
        })
    }

    /// Every long-running part, in start order. Inputs are added by their own factories.
    public func services(inputs: [any Service]) -> [any Service] {
        let side = Application(
            router: SidePortServer.makeRouter(health: health, gate: gate, registry: registry, query: query, access: access),
            configuration: .init(address: .hostname(configuration.query.host, port: configuration.query.port), serverName: "sluice-side"),
            logger: logger)
        let app = AppServer.makeApplication(handler: handler, configuration: configuration.http, access: access, logger: logger)
        let http = configuration.http
        let query = configuration.query
        return [SinkService(transport: transport),
                ListenerService(key: "query.listen", address: "\(query.host):\(query.port)", server: side),
                PipelineService(pipeline: pipeline, gate: gate, logger: logger),
                MetricsSampler(pipeline: pipeline), ConfigReloader(path: configuration.path, pipeline: pipeline, access: access, logger: logger)]
            + inputs + [ListenerService(key: "http.listen", address: "\(http.host):\(http.port)", server: app)]
    }

    public func serviceGroup(inputs: [any Service]) -> ServiceGroup {
        var config = ServiceGroupConfiguration(
            services: services(inputs: inputs).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        config.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        config.maximumCancellationDuration = .seconds(5)
        return ServiceGroup(configuration: config)
    }
}
