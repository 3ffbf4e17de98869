import CRdkafka

/// What a metadata request reports about the cluster.
public struct KafkaClusterMetadata: Sendable {
    public struct Topic: Sendable {
        public let name: String
        public let partitions: Int
        /// The broker's error for the topic (for example unknown topic), if any.
        public let error: String?
    }

    public let brokers: Int
    public let topics: [Topic]
}

/// A small librdkafka client for questions about the cluster rather than records:
/// metadata (the health check), watermarks and a group's committed offsets (tests,
/// benchmarks, operators).
///
/// Owns its own `rd_kafka_t` (a producer that never produces: the lightest client), so
/// it shares no lifetime with the consumer. Every call blocks on the network, so each
/// runs on the client's dedicated thread.
public final class KafkaMetadataClient: Sendable {
    private let handle: KafkaHandle
    private let thread: BlockingCallThread

    /// An `rd_kafka_t` pointer, only used on the client's thread.
    private final class KafkaHandle: @unchecked Sendable {
        // @unchecked: librdkafka's metadata and watermark calls are thread-safe, and
        // they are only made from the client's one thread anyway.
        let rk: OpaquePointer
        init(_ rk: OpaquePointer) { self.rk = rk }
        deinit { rd_kafka_destroy(rk) }
    }

    public init(brokers: String, properties: [String: String] = [:]) throws(KafkaError) {
        var props: [(String, String)] = [("client.id", "sluice-metadata"), ("log_level", "3")]
        props += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        props.append(("bootstrap.servers", brokers))
        let conf = try KafkaClientConfig(props)
        handle = KafkaHandle(try conf.makeClient(RD_KAFKA_PRODUCER, operation: "rd_kafka_new (metadata)"))
        thread = BlockingCallThread(name: "sluice-kafka-metadata", capacity: 4)
    }

    deinit {
        thread.shutdown()
    }

    /// Brokers and topics (only those named in `topics`, when given).
    public func metadata(topics: [String] = [], timeout: Duration = .seconds(2)) async throws(KafkaError) -> KafkaClusterMetadata {
        let handle = self.handle
        let ms = Self.milliseconds(timeout)
        let result = await thread.run { () -> Result<KafkaClusterMetadata, KafkaError> in
            Self.fetchMetadata(handle.rk, topics: topics, timeoutMs: ms)
        }
        return try result.get()
    }

    /// Low and high watermark of each partition of `topic`.
    public func watermarks(topic: String, partitions: [Int32], timeout: Duration = .seconds(5)) async throws(KafkaError) -> [Int32: (low: Int64, high: Int64)] {
        let handle = self.handle
        let ms = Self.milliseconds(timeout)
        let result = await thread.run { () -> Result<[Int32: Watermark], KafkaError> in
            var out: [Int32: Watermark] = [:]
            for p in partitions {
                var lo: Int64 = -1
                var hi: Int64 = -1
                let err = rd_kafka_query_watermark_offsets(handle.rk, topic, p, &lo, &hi, ms)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { return .failure(KafkaError(err, operation: "query_watermark_offsets")) }
                out[p] = Watermark(low: lo, high: hi)
            }
            return .success(out)
        }
        return try result.get().mapValues { ($0.low, $0.high) }
    }

    private struct Watermark: Sendable {
        let low: Int64
        let high: Int64
    }

    /// The offsets `group` has committed for `partitions` of `topic` (-1001, librdkafka's
    /// `OFFSET_INVALID`, where it has none). Asks the group coordinator through a
    /// temporary consumer that never joins the group.
    public static func committedOffsets(
        brokers: String, group: String, topic: String, partitions: [Int32], timeout: Duration = .seconds(5)
    ) async throws(KafkaError) -> [Int32: Int64] {
        let thread = BlockingCallThread(name: "sluice-kafka-committed", capacity: 1)
        defer { thread.shutdown() }
        let ms = milliseconds(timeout)
        let result = await thread.run { () -> Result<[Int32: Int64], KafkaError> in
            do throws(KafkaError) {
                let conf = try KafkaClientConfig([
                    ("bootstrap.servers", brokers), ("group.id", group), ("enable.auto.commit", "false"), ("log_level", "3"),
                ])
                let rk = try conf.makeClient(RD_KAFKA_CONSUMER, operation: "rd_kafka_new (committed)")
                defer { rd_kafka_destroy(rk) }
                let list = KafkaConsumer.makeList(partitions.map { (KafkaPartition(topic: topic, partition: $0), Int64(RD_KAFKA_OFFSET_INVALID)) })
                defer { rd_kafka_topic_partition_list_destroy(list) }
                let err = rd_kafka_committed(rk, list, ms)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { return .failure(KafkaError(err, operation: "committed")) }
                var out: [Int32: Int64] = [:]
                for r in KafkaConsumer.read(list) { out[r.partition.partition] = r.offset }
                return .success(out)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func fetchMetadata(_ rk: OpaquePointer, topics: [String], timeoutMs: Int32) -> Result<KafkaClusterMetadata, KafkaError> {
        var topicInfos: [KafkaClusterMetadata.Topic] = []
        var brokers = 0
        func read(_ md: UnsafePointer<rd_kafka_metadata_t>) {
            brokers = Int(md.pointee.broker_cnt)
            for i in 0..<Int(md.pointee.topic_cnt) {
                let t = md.pointee.topics[i]
                topicInfos.append(.init(
                    name: String(cString: t.topic), partitions: Int(t.partition_cnt),
                    error: t.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : String(cString: rd_kafka_err2str(t.err))))
            }
        }
        // All topics: naming topics in a metadata request can make a broker (and the
        // mock cluster) auto-create them, which a health check must never do.
        var md: UnsafePointer<rd_kafka_metadata_t>?
        let err = rd_kafka_metadata(rk, 1, nil, &md, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { return .failure(KafkaError(err, operation: "metadata")) }
        defer { rd_kafka_metadata_destroy(md) }
        read(md)
        if !topics.isEmpty {
            let wanted = Set(topics)
            topicInfos = topicInfos.filter { wanted.contains($0.name) }
        }
        return .success(KafkaClusterMetadata(brokers: brokers, topics: topicInfos))
    }

    static func milliseconds(_ d: Duration) -> Int32 {
        Int32(clamping: d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }
}
