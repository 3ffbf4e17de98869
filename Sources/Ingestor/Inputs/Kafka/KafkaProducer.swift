import CRdkafka
import Synchronization

/// One record to produce.
public struct KafkaProducerRecord: Sendable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [(String, [UInt8])]

    public init(key: [UInt8]?, value: [UInt8]?, headers: [(String, [UInt8])] = []) {
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A librdkafka producer for `sluice publish --to kafka://…`, tests and benchmarks.
///
/// Owns its `rd_kafka_t`. Producing blocks when librdkafka's queue is full and flushing
/// blocks until delivery, so both run on the producer's own dedicated thread; the async
/// API only suspends. Records with a key are spread over partitions by librdkafka's
/// default partitioner (murmur2 of the key, like the Java client).
public final class KafkaProducer: Sendable {
    /// Delivery outcomes, updated by the delivery-report callback.
    fileprivate final class Outcomes: Sendable {
        let delivered = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let lastError = Mutex<String?>(nil)
    }

    private final class Handle: @unchecked Sendable {
        // @unchecked: rd_kafka_produce* and rd_kafka_poll are thread-safe, and they are
        // called from the producer's one thread anyway.
        let rk: OpaquePointer
        /// Referenced by librdkafka's opaque pointer, so it lives as long as `rk`.
        let outcomes: Outcomes
        init(_ rk: OpaquePointer, outcomes: Outcomes) {
            self.rk = rk
            self.outcomes = outcomes
        }
        deinit { rd_kafka_destroy(rk) }
    }

    private let handle: Handle
    private let thread: BlockingCallThread

    /// `properties` go to librdkafka (for example `compression.codec`, `linger.ms`).
    public init(brokers: String, properties: [String: String] = [:]) throws(KafkaError) {
        var props: [(String, String)] = [
            ("client.id", "sluice-publish"), ("linger.ms", "5"), ("batch.num.messages", "10000"),
            ("queue.buffering.max.messages", "200000"), ("log_level", "3"),
        ]
        props += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        props.append(("bootstrap.servers", brokers))
        let conf = try KafkaClientConfig(props)
        guard let c = conf.handle else { throw KafkaError(kind: .fatal, operation: "rd_kafka_conf_new", message: "no conf") }
        let outcomes = Outcomes()
        rd_kafka_conf_set_opaque(c, Unmanaged.passUnretained(outcomes).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(c, kafkaDeliveryReport)
        let rk = try conf.makeClient(RD_KAFKA_PRODUCER, operation: "rd_kafka_new (producer)")
        handle = Handle(rk, outcomes: outcomes)
        thread = BlockingCallThread(name: "sluice-kafka-produce", capacity: 8)
    }

    deinit {
        thread.shutdown()
    }

    /// Records acknowledged by the brokers so far.
    public var delivered: Int { handle.outcomes.delivered.load(ordering: .relaxed) }
    /// Records the brokers refused or that timed out.
    public var failed: Int { handle.outcomes.failed.load(ordering: .relaxed) }
    public var lastError: String? { handle.outcomes.lastError.withLock { $0 } }

    /// Enqueues records for `topic` (any partition, chosen by key). Returns once
    /// librdkafka holds them, not once they are delivered; see ``flush(timeout:)``.
    public func produce(topic: String, _ records: [KafkaProducerRecord], partition: Int32? = nil) async throws(KafkaError) {
        let handle = self.handle
        let result = await thread.run { () -> KafkaError? in Self.enqueue(handle, topic: topic, records, partition: partition) }
        if let result { throw result }
    }

    /// Waits until every enqueued record is delivered or failed.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let handle = self.handle
        let ms = KafkaMetadataClient.milliseconds(timeout)
        let err = await thread.run { rd_kafka_flush(handle.rk, ms).rawValue }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR.rawValue {
            throw KafkaError(rd_kafka_resp_err_t(rawValue: err), operation: "flush")
        }
    }

    private static func enqueue(_ handle: Handle, topic: String, _ records: [KafkaProducerRecord], partition: Int32?) -> KafkaError? {
        let rk = handle.rk
        for record in records {
            while true {
                var headers: OpaquePointer?
                if !record.headers.isEmpty {
                    headers = rd_kafka_headers_new(record.headers.count)
                    for (name, value) in record.headers {
                        value.withUnsafeBytes { _ = rd_kafka_header_add(headers, name, -1, $0.baseAddress, $0.count) }
                    }
                }
                let err = withOptionalBytes(record.key) { key in
                    withOptionalBytes(record.value) { value in
                        sluice_rd_kafka_produce(
                            rk, topic, partition ?? RD_KAFKA_PARTITION_UA, key.baseAddress, key.count, value.baseAddress, value.count, headers)
                    }
                }
                if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
                // The headers are only owned by librdkafka after a successful produce.
                if let headers { rd_kafka_headers_destroy(headers) }
                guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else { return KafkaError(err, operation: "produce") }
                // Full queue: serve delivery reports, which frees room, then retry.
                rd_kafka_poll(rk, 50)
            }
        }
        rd_kafka_poll(rk, 0)
        return nil
    }

    private static func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return bytes.withUnsafeBytes(body)
    }

}

private func kafkaDeliveryReport(_ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let message, let opaque else { return }
    let outcomes = Unmanaged<KafkaProducer.Outcomes>.fromOpaque(opaque).takeUnretainedValue()
    if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        outcomes.delivered.add(1, ordering: .relaxed)
    } else {
        outcomes.failed.add(1, ordering: .relaxed)
        let text = String(cString: rd_kafka_err2str(message.pointee.err))
        outcomes.lastError.withLock { $0 = text }
    }
}
