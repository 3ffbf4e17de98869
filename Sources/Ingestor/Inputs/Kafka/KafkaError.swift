/// A failure reported by librdkafka, with what it means for the caller.
///
/// Every librdkafka return code that Sluice looks at is wrapped in one of these, so a log
/// line or a health detail always carries the librdkafka error name, the operation that
/// failed, and whether trying again can help.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Brokers unreachable, timeouts, coordinator moves, rebalances in progress:
        /// librdkafka recovers on its own and a retry is expected to succeed.
        case transient
        /// A bad property, a missing topic, an unknown group: an operator must act.
        case configuration
        /// librdkafka raised a fatal error; the client instance is unusable.
        case fatal
    }

    public let kind: Kind
    /// The operation that failed (`rd_kafka_new`, `commit`, `metadata` ...).
    public let operation: String
    /// librdkafka's numeric `rd_kafka_resp_err_t`, when there is one.
    public let code: Int32?
    /// librdkafka's error name and message.
    public let message: String

    public init(kind: Kind, operation: String, code: Int32? = nil, message: String) {
        self.kind = kind
        self.operation = operation
        self.code = code
        self.message = message
    }

    /// Whether retrying the same operation later can succeed without an operator.
    public var isRetryable: Bool { kind == .transient }

    public var description: String {
        "kafka \(operation) failed (\(kind.rawValue)\(code.map { ", code \($0)" } ?? "")): \(message)"
    }
}
