import CRdkafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One message returned by `rd_kafka_consumer_poll`: a record, or a consumer error that
/// librdkafka delivers in a message's place.
///
/// A view over librdkafka's memory: valid until ``destroy()``, which the poll thread
/// calls right after copying what it needs into the chunk.
struct KafkaRecord {
    private let message: UnsafeMutablePointer<rd_kafka_message_t>

    init(message: UnsafeMutablePointer<rd_kafka_message_t>) {
        self.message = message
    }

    /// nil for a record; the error for an error event.
    var error: KafkaError? {
        let err = message.pointee.err
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var detail: String?
        if let payload = message.pointee.payload, message.pointee.len > 0 {
            detail = String(decoding: UnsafeRawBufferPointer(start: payload, count: message.pointee.len), as: UTF8.self)
        }
        return KafkaError(err, operation: "consume", detail: detail)
    }

    /// The partition-EOF event, if `enable.partition.eof` was turned on by a property.
    var isPartitionEOF: Bool { message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF }

    var topicHandle: OpaquePointer? { message.pointee.rkt }
    var partition: Int32 { message.pointee.partition }
    var offset: Int64 { message.pointee.offset }

    /// The value; empty for a null value (a tombstone).
    var value: UnsafeRawBufferPointer {
        guard let p = message.pointee.payload else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: message.pointee.len)
    }

    /// Calls `body` with each header's name and value (nil for a null value), in order.
    /// Returns false when the record has no headers, without allocating.
    @discardableResult
    func forEachHeader(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Void) -> Bool {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return false }
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            index += 1
            guard let name else { continue }
            let nameBytes = UnsafeRawBufferPointer(start: name, count: strlen(name))
            body(nameBytes, value.map { UnsafeRawBufferPointer(start: $0, count: size) })
        }
        return index > 0
    }

    func destroy() {
        rd_kafka_message_destroy(message)
    }
}
