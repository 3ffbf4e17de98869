import Foundation
public import Pipeline
public import Sinks

/// Everything `sluice run` needs, read from the YAML file with `SLUICE_*` overrides and
/// validated before anything starts. `sluice check-config` runs exactly this code.
public struct SluiceConfiguration: Sendable {
    public var clickhouse: ClickHouseConfiguration
    public var http: HTTPIngestConfiguration
    public var query: QueryPortConfiguration
    public var dapr: DaprConfiguration
    public var pipeline: PipelineConfiguration
    /// `datasets.paths`: files or directories of dataset definitions.
    public var datasetPaths: [String]
    public var datasets: [DatasetDefinition]
    public var redis: RedisInputConfiguration?
    public var kafka: KafkaInputConfiguration?
    public var logging: LoggingConfiguration
    /// `auth.*`: API keys; nil (access control off) when the section is absent.
    public var auth: AuthConfiguration?
    /// `rate_limits.*`: per-tenant request limits for ingest and query.
    public var rateLimits: TenantRateLimits
    /// `shutdown.timeout`: the longest a graceful stop may take before Sluice exits with
    /// whatever is still unacknowledged left for redelivery.
    public var shutdownTimeout: Duration
    /// Path of the file this came from; reloads read it again.
    public var path: String

    /// Loads and validates a configuration file.
    public static func load(path: String, environment: [String: String]) throws(ConfigurationError) -> SluiceConfiguration {
        let source = try ConfigSource.load(path: path, environment: environment)
        return try SluiceConfiguration(source: source, path: path)
    }

    public static func load(path: String) throws(ConfigurationError) -> SluiceConfiguration {
        try load(path: path, environment: ProcessInfo.processInfo.environment)
    }

    public init(source: ConfigSource, path: String) throws(ConfigurationError) {
        self.path = path
        clickhouse = try Self.readClickHouse(source)
        http = try HTTPIngestConfiguration(source: source)
        query = try QueryPortConfiguration(source: source)
        dapr = try DaprConfiguration(source: source)
        pipeline = try PipelineConfiguration(source: source)
        datasetPaths = (source.stringList("datasets.paths") ?? ["datasets"]).map { p in
            p.hasPrefix("/") ? p : URL(fileURLWithPath: source.baseDirectory).appendingPathComponent(p).path
        }
        datasets = try DatasetCatalogLoader.load(paths: datasetPaths)
        guard !datasets.isEmpty else { throw ConfigurationError(key: "datasets.paths", reason: "no dataset definitions found") }
        let host = ProcessInfo.processInfo.hostName
        let defaultConsumer = "\(host)-\(ProcessInfo.processInfo.processIdentifier)"
        redis = source.hasSection("inputs.redis") ? try RedisInputConfiguration(source: source, defaultConsumer: defaultConsumer) : nil
        kafka = source.hasSection("inputs.kafka") ? try KafkaInputConfiguration(source: source) : nil
        logging = try LoggingConfiguration(source: source)
        auth = source.hasSection("auth") ? try AuthConfiguration(source: source) : nil
        rateLimits = try TenantRateLimits(source: source)
        shutdownTimeout = try source.duration("shutdown.timeout", default: .seconds(30), minimum: .seconds(1))
        if http.port == query.port, http.port != 0, http.host == query.host {
            throw ConfigurationError(key: "query.listen", reason: "must differ from http.listen")
        }
        let unknown = source.unknownKeys()
        if let first = unknown.first {
            throw ConfigurationError(key: first, reason: "unknown key" + (unknown.count > 1 ? " (and \(unknown.count - 1) more: \(unknown.dropFirst().joined(separator: ", ")))" : ""))
        }
    }

    static func readClickHouse(_ source: ConfigSource) throws(ConfigurationError) -> ClickHouseConfiguration {
        var c = ClickHouseConfiguration()
        c.url = source.string("clickhouse.url", default: c.url)
        c.database = source.string("clickhouse.database", default: c.database)
        c.user = source.string("clickhouse.user", default: c.user)
        c.password = source.string("clickhouse.password", default: c.password)
        if let text = source.string("clickhouse.compression") {
            do {
                c.compression = try .init(parsing: text)
            } catch {
                throw ConfigurationError(key: error.key, reason: error.reason)
            }
        }
        c.connectTimeout = try source.duration("clickhouse.connect_timeout", default: c.connectTimeout)
        c.requestTimeout = try source.duration("clickhouse.request_timeout", default: c.requestTimeout)
        c.maxConnections = try source.int("clickhouse.max_connections", default: c.maxConnections)
        c.maxQueuedRequests = try source.int("clickhouse.max_queued_requests", default: c.maxQueuedRequests)
        do {
            try c.validate()
        } catch {
            throw ConfigurationError(key: error.key, reason: error.reason)
        }
        return c
    }

    /// The effective configuration as YAML, secrets redacted; printed by `check-config`.
    public var effectiveYAML: String {
        func d(_ x: Duration) -> String {
            let ms = x.nanoseconds / 1_000_000
            return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
        }
        var lines: [String] = []
        lines += [
            "clickhouse:",
            "  url: \(clickhouse.url)",
            "  database: \(clickhouse.database)",
            "  user: \(clickhouse.user)",
            "  password: \(clickhouse.password.isEmpty ? "\"\"" : "<redacted>")",
            "  compression: \(clickhouse.compression.rawValue)",
            "  connect_timeout: \(d(clickhouse.connectTimeout))",
            "  request_timeout: \(d(clickhouse.requestTimeout))",
            "  max_connections: \(clickhouse.maxConnections)",
            "http:",
            "  listen: \(http.host):\(http.port)",
            "  max_body_bytes: \(http.maxBodyBytes)",
            "  ack_timeout: \(d(http.ackTimeout))",
            "query:",
            "  listen: \(query.host):\(query.port)",
            "  max_range: \(d(query.maxRange))",
            "  max_rows: \(query.maxRows)",
            "  timeout: \(d(query.timeout))",
            "  cache_ttl: \(d(query.cacheTTL))",
            "dapr:",
            "  pubsub: \(dapr.pubsubName)",
            "  topics: [\(dapr.topics.joined(separator: ", "))]",
            "datasets:",
            "  paths: [\(datasetPaths.joined(separator: ", "))]",
            "  loaded: [\(datasets.map(\.name).joined(separator: ", "))]",
            "pipeline:",
            "  batch: {max_rows: \(pipeline.batch.maxRows), max_bytes: \(pipeline.batch.maxBytes), max_age: \(d(pipeline.batch.maxAge))}",
            "  dedup: {window: \(d(pipeline.dedup.window)), max_keys: \(pipeline.dedup.maxKeys)}",
            "  memory_budget: \(pipeline.memoryBudget)",
            "  decode_workers: \(pipeline.decodeWorkers)",
        ]
        if let redis {
            lines += [
                "inputs:", "  redis:",
                "    url: \(RedisEndpoint.redacting(redis.url))", "    streams: [\(redis.streams.joined(separator: ", "))]",
                "    group: \(redis.group)", "    consumer: \(redis.consumer)", "    claim_idle: \(d(redis.claimIdle))",
                "    batch_size: \(redis.batchSize)", "    block: \(d(redis.block))", "    claim_interval: \(d(redis.claimInterval))",
                "    connect_timeout: \(d(redis.connectTimeout))", "    lag_interval: \(d(redis.lagInterval))",
            ]
        }
        if let kafka {
            if redis == nil { lines.append("inputs:") }
            lines += [
                "  kafka:", "    brokers: \(kafka.brokers)", "    topics: [\(kafka.topics.joined(separator: ", "))]", "    group: \(kafka.group)",
                "    commit_interval: \(d(kafka.commitInterval))", "    chunk_messages: \(kafka.chunkMessages)",
                "    chunk_max_wait: \(d(kafka.chunkMaxWait))", "    drain_timeout: \(d(kafka.drainTimeout))",
                "    statistics_interval: \(d(kafka.statisticsInterval))",
            ]
            if !kafka.properties.isEmpty {
                lines.append("    properties:")
                for (k, v) in kafka.properties.sorted(by: { $0.key < $1.key }) {
                    let secret = k.contains("password") || k.contains("secret") || k.contains("key")
                    lines.append("      \(k): \(secret ? "<redacted>" : v)")
                }
            }
        }
        if let auth {
            lines += ["auth:", "  public_metrics: \(auth.publicMetrics)"]
            if auth.daprAPIToken != nil { lines.append("  dapr_api_token: <redacted>") }
            lines.append("  keys:")
            for key in auth.keys {
                // The hash is not a secret, but only its start is needed to tell keys apart.
                var entry = "    - {name: \(key.name), hash: \"\(key.hashText.prefix(19))…\", role: \(key.role.rawValue)"
                if let t = key.tenant { entry += ", tenant: \"\(t)\"" }
                if let e = key.expiresAtMs { entry += ", expires: \(QueryTime.format(e))" }
                if let r = key.rateLimit { entry += ", rate_limit: \(r)" }
                lines.append(entry + "}")
            }
        }
        if !rateLimits.isEmpty {
            lines.append("rate_limits:")
            if let r = rateLimits.ingestion { lines.append("  ingestion: \(r)") }
            if let r = rateLimits.query { lines.append("  query: \(r)") }
        }
        lines += ["logging:", "  level: \(logging.level)", "  format: \(logging.format.rawValue)", "shutdown:", "  timeout: \(d(shutdownTimeout))"]
        return lines.joined(separator: "\n") + "\n"
    }
}
