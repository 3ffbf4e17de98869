public import Pipeline

/// `http.*`: the ingest and Dapr app port.
public struct HTTPIngestConfiguration: Sendable, Hashable {
    /// `http.listen`: address of the ingest and Dapr app port.
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// `http.max_body_bytes`: largest request body; larger ones get 413.
    public var maxBodyBytes: Int = 16 << 20
    /// `http.ack_timeout`: how long a request waits for its rows to be durable before
    /// it is answered 503 (or Dapr RETRY); the rows stay queued and a retry deduplicates.
    public var ackTimeout: Duration = .seconds(30)
    /// `http.retry_after`: seconds suggested in `Retry-After` under back-pressure.
    public var retryAfterSeconds: Int = 1

    public init() {}

    init(source: ConfigSource) throws(ConfigurationError) {
        if let listen = source.string("http.listen") {
            guard let (h, p) = ConfigParsers.listenAddress(listen) else {
                throw ConfigurationError(key: "http.listen", reason: "'\(listen)' is not host:port")
            }
            host = h
            port = p
        }
        maxBodyBytes = try source.byteSize("http.max_body_bytes", default: maxBodyBytes, minimum: 1024)
        ackTimeout = try source.duration("http.ack_timeout", default: ackTimeout, minimum: .milliseconds(100))
        retryAfterSeconds = try source.int("http.retry_after", default: retryAfterSeconds, in: 1...3600)
    }
}

/// `query.*`: the side-port (queries, health, metrics).
public struct QueryPortConfiguration: Sendable, Hashable {
    /// `query.listen`: address of the side-port.
    public var host: String = "127.0.0.1"
    public var port: Int = 8081
    /// `query.max_range`: longest time range one query may cover.
    public var maxRange: Duration = .seconds(90 * 86400)
    /// `query.max_rows`: most result rows one query may return.
    public var maxRows: Int = 10_000
    /// `query.timeout`: longest a query may run in ClickHouse.
    public var timeout: Duration = .seconds(30)
    /// `query.cache_ttl`: how long identical queries are answered from memory.
    public var cacheTTL: Duration = .seconds(5)
    /// `query.cache_entries`: most results kept in the cache.
    public var cacheEntries: Int = 1000
    /// `query.max_body_bytes`: largest query request body (bodies are a few hundred
    /// bytes; the bound keeps one request from making the side-port buffer much).
    public var maxBodyBytes: Int = 1 << 20

    public init() {}

    init(source: ConfigSource) throws(ConfigurationError) {
        if let listen = source.string("query.listen") {
            guard let (h, p) = ConfigParsers.listenAddress(listen) else {
                throw ConfigurationError(key: "query.listen", reason: "'\(listen)' is not host:port")
            }
            host = h
            port = p
        }
        maxRange = try source.duration("query.max_range", default: maxRange, minimum: .seconds(60))
        maxRows = try source.int("query.max_rows", default: maxRows, in: 1...10_000_000)
        timeout = try source.duration("query.timeout", default: timeout, minimum: .milliseconds(100))
        cacheTTL = try source.duration("query.cache_ttl", default: cacheTTL)
        cacheEntries = try source.int("query.cache_entries", default: cacheEntries, in: 0...1_000_000)
        maxBodyBytes = try source.byteSize("query.max_body_bytes", default: maxBodyBytes, minimum: 1024)
    }
}

/// `dapr.*`: what `GET /dapr/subscribe` announces.
public struct DaprConfiguration: Sendable, Hashable {
    /// `dapr.pubsub`: the pub/sub component name.
    public var pubsubName: String = "pubsub"
    /// `dapr.topics`: topics Sluice subscribes to; each is delivered to `/dapr/events/<topic>`.
    public var topics: [String] = []
    /// `dapr.max_bulk_messages` and `dapr.max_bulk_await`: bulk subscribe settings.
    public var maxBulkMessages: Int = 500
    public var maxBulkAwait: Duration = .milliseconds(200)

    public init() {}

    init(source: ConfigSource) throws(ConfigurationError) {
        pubsubName = source.string("dapr.pubsub", default: pubsubName)
        guard !pubsubName.isEmpty else { throw ConfigurationError(key: "dapr.pubsub", reason: "must not be empty") }
        topics = source.stringList("dapr.topics") ?? []
        for (i, t) in topics.enumerated() where t.contains("/") || t.isEmpty {
            throw ConfigurationError(key: "dapr.topics[\(i)]", reason: "'\(t)' is not a valid topic name")
        }
        maxBulkMessages = try source.int("dapr.max_bulk_messages", default: maxBulkMessages, in: 1...10_000)
        maxBulkAwait = try source.duration("dapr.max_bulk_await", default: maxBulkAwait)
    }
}

/// `inputs.redis.*`: reading Redis Streams with a consumer group. Present = enabled.
public struct RedisInputConfiguration: Sendable, Hashable {
    /// `inputs.redis.url`: `redis://[:password@]host:port[/db]`.
    public var url: String
    /// `inputs.redis.streams`: stream keys to read.
    public var streams: [String]
    /// `inputs.redis.group`: consumer group name.
    public var group: String
    /// `inputs.redis.consumer`: this instance's consumer name; defaults to host name + pid.
    public var consumer: String
    /// `inputs.redis.claim_idle`: entries pending this long on any consumer are claimed.
    public var claimIdle: Duration
    /// `inputs.redis.batch_size`: XREADGROUP COUNT.
    public var batchSize: Int
    /// `inputs.redis.block`: XREADGROUP BLOCK.
    public var block: Duration
    /// `inputs.redis.claim_interval`: how often pending entries of dead consumers are looked for.
    public var claimInterval: Duration
    /// `inputs.redis.connect_timeout`: how long a TCP connect to Redis may take.
    public var connectTimeout: Duration
    /// `inputs.redis.lag_interval`: how often `XINFO GROUPS` is sampled into the lag and
    /// pending gauges.
    public var lagInterval: Duration

    public init(
        url: String, streams: [String], group: String = "sluice", consumer: String, claimIdle: Duration = .seconds(30),
        batchSize: Int = 1000, block: Duration = .seconds(1), claimInterval: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(5), lagInterval: Duration = .seconds(5)
    ) {
        self.url = url
        self.streams = streams
        self.group = group
        self.consumer = consumer
        self.claimIdle = claimIdle
        self.batchSize = batchSize
        self.block = block
        self.claimInterval = claimInterval
        self.connectTimeout = connectTimeout
        self.lagInterval = lagInterval
    }

    init(source: ConfigSource, defaultConsumer: String) throws(ConfigurationError) {
        url = try source.requiredString("inputs.redis.url")
        guard url.hasPrefix("redis://") else {
            throw ConfigurationError(key: "inputs.redis.url", reason: "'\(url)' must start with redis://")
        }
        streams = source.stringList("inputs.redis.streams") ?? []
        guard !streams.isEmpty else { throw ConfigurationError(key: "inputs.redis.streams", reason: "at least one stream is required") }
        group = source.string("inputs.redis.group", default: "sluice")
        guard !group.isEmpty else { throw ConfigurationError(key: "inputs.redis.group", reason: "must not be empty") }
        consumer = source.string("inputs.redis.consumer", default: defaultConsumer)
        guard !consumer.isEmpty else { throw ConfigurationError(key: "inputs.redis.consumer", reason: "must not be empty") }
        claimIdle = try source.duration("inputs.redis.claim_idle", default: .seconds(30), minimum: .milliseconds(100))
        batchSize = try source.int("inputs.redis.batch_size", default: 1000, in: 1...100_000)
        block = try source.duration("inputs.redis.block", default: .seconds(1), minimum: .milliseconds(1))
        claimInterval = try source.duration("inputs.redis.claim_interval", default: .seconds(5), minimum: .milliseconds(50))
        connectTimeout = try source.duration("inputs.redis.connect_timeout", default: .seconds(5), minimum: .milliseconds(10))
        lagInterval = try source.duration("inputs.redis.lag_interval", default: .seconds(5), minimum: .milliseconds(100))
        for (i, s) in streams.enumerated() where s.isEmpty {
            throw ConfigurationError(key: "inputs.redis.streams[\(i)]", reason: "must not be empty")
        }
        if Set(streams).count != streams.count {
            throw ConfigurationError(key: "inputs.redis.streams", reason: "lists a stream twice")
        }
        do {
            _ = try RedisEndpoint(url: url)
        } catch {
            throw ConfigurationError(key: "inputs.redis.url", reason: error.message)
        }
    }
}

/// `inputs.kafka.*`: a librdkafka consumer group. Present = enabled.
public struct KafkaInputConfiguration: Sendable, Hashable {
    /// `inputs.kafka.brokers`: bootstrap servers, `host:port[,host:port]`.
    public var brokers: String
    /// `inputs.kafka.topics`: topics to subscribe to.
    public var topics: [String]
    /// `inputs.kafka.group`: consumer group id.
    public var group: String
    /// `inputs.kafka.commit_interval`: how often durable offsets are committed.
    public var commitInterval: Duration
    /// `inputs.kafka.chunk_messages`: records per chunk handed to the pipeline.
    public var chunkMessages: Int
    /// `inputs.kafka.chunk_max_wait`: how long a partly filled chunk may wait for more
    /// records before it is handed over anyway (latency at low rates).
    public var chunkMaxWait: Duration
    /// `inputs.kafka.drain_timeout`: how long a revoke or a shutdown waits for records
    /// already handed to the pipeline to become durable before giving the partitions up
    /// without committing them (the next owner then reads them again).
    public var drainTimeout: Duration
    /// `inputs.kafka.statistics_interval`: how often librdkafka reports statistics, the
    /// source of `sluice_kafka_consumer_lag`; 0 turns them off.
    public var statisticsInterval: Duration
    /// `inputs.kafka.properties.*`: extra librdkafka properties, passed through (for
    /// example `partition.assignment.strategy`, `session.timeout.ms`, `security.protocol`).
    public var properties: [String: String]

    /// librdkafka properties that Sluice's delivery guarantee depends on, or that other
    /// keys already set; `properties.*` may not override them.
    public static let reservedProperties: [String: String] = [
        "enable.auto.commit": "offsets are committed by Sluice, after the rows are durable",
        "enable.auto.offset.store": "offsets are stored by Sluice, after the rows are durable",
        "bootstrap.servers": "use inputs.kafka.brokers",
        "group.id": "use inputs.kafka.group",
        "statistics.interval.ms": "use inputs.kafka.statistics_interval",
    ]

    public init(
        brokers: String, topics: [String], group: String = "sluice", commitInterval: Duration = .seconds(1),
        chunkMessages: Int = 1000, chunkMaxWait: Duration = .milliseconds(50), drainTimeout: Duration = .seconds(10),
        statisticsInterval: Duration = .seconds(10), properties: [String: String] = [:]
    ) {
        self.brokers = brokers
        self.topics = topics
        self.group = group
        self.commitInterval = commitInterval
        self.chunkMessages = chunkMessages
        self.chunkMaxWait = chunkMaxWait
        self.drainTimeout = drainTimeout
        self.statisticsInterval = statisticsInterval
        self.properties = properties
    }

    init(source: ConfigSource) throws(ConfigurationError) {
        brokers = try source.requiredString("inputs.kafka.brokers")
        topics = source.stringList("inputs.kafka.topics") ?? []
        guard !topics.isEmpty else { throw ConfigurationError(key: "inputs.kafka.topics", reason: "at least one topic is required") }
        for (i, t) in topics.enumerated() where t.isEmpty || t.contains(",") || t.contains(" ") {
            throw ConfigurationError(key: "inputs.kafka.topics[\(i)]", reason: "'\(t)' is not a valid topic name")
        }
        group = source.string("inputs.kafka.group", default: "sluice")
        guard !group.isEmpty else { throw ConfigurationError(key: "inputs.kafka.group", reason: "must not be empty") }
        commitInterval = try source.duration("inputs.kafka.commit_interval", default: .seconds(1), minimum: .milliseconds(10))
        chunkMessages = try source.int("inputs.kafka.chunk_messages", default: 1000, in: 1...100_000)
        chunkMaxWait = try source.duration("inputs.kafka.chunk_max_wait", default: .milliseconds(50), minimum: .milliseconds(1))
        drainTimeout = try source.duration("inputs.kafka.drain_timeout", default: .seconds(10))
        statisticsInterval = try source.duration("inputs.kafka.statistics_interval", default: .seconds(10))
        if statisticsInterval != .zero, statisticsInterval < .milliseconds(10) {
            throw ConfigurationError(key: "inputs.kafka.statistics_interval", reason: "must be 0 (off) or at least 10ms")
        }
        var props: [String: String] = [:]
        for key in source.file.keys where key.hasPrefix("inputs.kafka.properties.") {
            source.noteListItemKey(key)
            let name = String(key.dropFirst("inputs.kafka.properties.".count))
            if let reason = Self.reservedProperties[name] {
                throw ConfigurationError(key: key, reason: "may not be set: \(reason)")
            }
            props[name] = source.string(key)
        }
        properties = props
    }

    /// The consumer's librdkafka properties, in the order they are applied: Sluice's
    /// defaults, then `properties.*`, then the settings at-least-once delivery needs.
    ///
    /// The prefetch queue lives outside the memory budget, so its byte bound
    /// (`queued.max.messages.kbytes`) is sized from the budget: an eighth of it, at most
    /// librdkafka's default of 64 MiB. A fixed 16 MiB starved the poll thread (it waited
    /// for fetches ~half the time and one daemon drained 63k records/s; 64 MiB gave 103k
    /// on the same box).
    ///
    /// That byte bound is the only one: `queued.min.messages` is raised to librdkafka's
    /// maximum. In librdkafka 2.0 the count threshold applies to the whole consumer
    /// queue (the partitions' queues forward into it), so its default of 100,000
    /// records stopped every fetch once 100,000 small records were queued, and a broker
    /// thread only looked again when its own next wake-up came, not when the
    /// application drained the queue. The poll thread then waited for records ~half of
    /// the time: 118k records/s against 187k without the count bound, same machine and
    /// topic (benchmarks/RESULTS.md).
    public func consumerProperties(memoryBudget: Int) -> [(String, String)] {
        let prefetchKiB = Swift.min(Swift.max(memoryBudget / 8 / 1024, 1024), 65536)
        var p: [(String, String)] = [
            ("client.id", "sluice"),
            // Incremental rebalances: a member joining or leaving moves only the
            // partitions that change owner instead of stopping the whole group.
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "false"),
            ("queued.max.messages.kbytes", String(prefetchKiB)),
            ("queued.min.messages", "10000000"),
        ]
        p += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        p += [
            ("bootstrap.servers", brokers),
            ("group.id", group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("statistics.interval.ms", String(statisticsInterval.components.seconds * 1000 + statisticsInterval.components.attoseconds / 1_000_000_000_000_000)),
        ]
        return p
    }
}

/// `logging.*`.
public struct LoggingConfiguration: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable { case logfmt, json }
    /// `logging.level`: trace, debug, info, notice, warning, error, critical.
    public var level: String = "info"
    /// `logging.format`: logfmt or json.
    public var format: Format = .logfmt

    public init() {}

    init(source: ConfigSource) throws(ConfigurationError) {
        level = source.string("logging.level", default: level).lowercased()
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(level) else {
            throw ConfigurationError(key: "logging.level", reason: "'\(level)' is not one of \(levels.joined(separator: ", "))")
        }
        let f = source.string("logging.format", default: format.rawValue)
        guard let parsed = Format(rawValue: f) else { throw ConfigurationError(key: "logging.format", reason: "'\(f)' is not logfmt or json") }
        format = parsed
    }
}

extension PipelineConfiguration {
    init(source: ConfigSource) throws(ConfigurationError) {
        self.init()
        batch = try BatchPolicy(source: source)
        dedup = try DedupPolicy(source: source)
        memoryBudget = try source.byteSize("pipeline.memory_budget", default: memoryBudget, minimum: 1 << 20)
        decodeWorkers = try source.int("pipeline.decode_workers", default: decodeWorkers, in: 1...64)
        queueCapacity = try source.int("pipeline.queue_chunks", default: queueCapacity, in: 1...10_000)
        flushConcurrency = try source.int("pipeline.flush_concurrency", default: flushConcurrency, in: 1...16)
        limits.maxDepth = try source.int("limits.max_json_depth", default: limits.maxDepth, in: 2...1024)
        limits.maxStringBytes = try source.byteSize("limits.max_string_bytes", default: limits.maxStringBytes, minimum: 16)
        limits.maxEventsPerMessage = try source.int("limits.max_events_per_batch", default: limits.maxEventsPerMessage, in: 1...1_000_000)
        limits.maxEventBytes = try source.byteSize("limits.max_event_bytes", default: limits.maxEventBytes, minimum: 256)
        retry.maxDelay = try source.duration("pipeline.retry_max_delay", default: retry.maxDelay, minimum: .milliseconds(10))
    }
}

extension BatchPolicy {
    /// Reads `pipeline.batch.*`; used at start and on every reload.
    init(source: ConfigSource) throws(ConfigurationError) {
        let d = BatchPolicy()
        self.init(
            maxRows: try source.int("pipeline.batch.max_rows", default: d.maxRows, in: 1...10_000_000),
            maxBytes: try source.byteSize("pipeline.batch.max_bytes", default: d.maxBytes, minimum: 1024),
            maxAge: try source.duration("pipeline.batch.max_age", default: d.maxAge, minimum: .milliseconds(1)))
    }
}

extension DedupPolicy {
    /// Reads `pipeline.dedup.*`; used at start and on every reload.
    init(source: ConfigSource) throws(ConfigurationError) {
        let d = DedupPolicy()
        self.init(
            window: try source.duration("pipeline.dedup.window", default: d.window, minimum: .seconds(1)),
            maxKeys: try source.int("pipeline.dedup.max_keys", default: d.maxKeys, in: 1000...1_000_000_000))
    }
}
