/// `sluice publish --to kafka://BOOTSTRAP/TOPIC`: synthetic events as Kafka records, keyed
/// by event id so they spread evenly over the topic's partitions (without a key,
/// librdkafka's sticky partitioner sends long runs to one partition).
///
/// Modes (`--mode`) pick the CloudEvents Kafka binding:
/// - `structured` (and `batch`): the value is the event's JSON, with
///   `content-type: application/cloudevents+json; charset=UTF-8`;
/// - `binary`: the value is `data`, the attributes are `ce_*` headers and
///   `content-type` is `application/json`;
/// - `dapr`: the value is the event's JSON and there are no headers, as Dapr's Kafka
///   pub/sub component writes it.
public struct KafkaPublishTarget: PublishTarget {
    public let brokers: String
    public let topic: String
    public let mode: HTTPPublishTarget.Mode
    let producer: KafkaProducer

    /// Parses `kafka://host:port[,host:port]/topic`.
    public static func parse(url: String) -> (brokers: String, topic: String)? {
        guard url.hasPrefix("kafka://") else { return nil }
        let rest = url.dropFirst("kafka://".count)
        guard let slash = rest.lastIndex(of: "/") else { return nil }
        let brokers = String(rest[..<slash])
        let topic = String(rest[rest.index(after: slash)...])
        guard !brokers.isEmpty, !topic.isEmpty else { return nil }
        return (brokers, topic)
    }

    public init(url: String, mode: HTTPPublishTarget.Mode, properties: [String: String] = [:]) throws {
        guard let (brokers, topic) = Self.parse(url: url) else {
            throw PublishTargets.UnsupportedTarget(description: "--to \(url): expected kafka://HOST:PORT[,HOST:PORT]/TOPIC")
        }
        self.brokers = brokers
        self.topic = topic
        self.mode = mode
        producer = try KafkaProducer(brokers: brokers, properties: properties)
    }

    static let structuredHeaders: [(String, [UInt8])] = [("content-type", Array("application/cloudevents+json; charset=UTF-8".utf8))]

    public func send(_ events: SyntheticEvents, range: Range<Int>) async throws -> Int {
        let records = range.map { i -> KafkaProducerRecord in
            let key = Array(events.eventID(i).utf8)
            switch mode {
            case .structured, .batch:
                return KafkaProducerRecord(key: key, value: Array(events.cloudEvent(i).utf8), headers: Self.structuredHeaders)
            case .dapr:
                return KafkaProducerRecord(key: key, value: Array(events.cloudEvent(i).utf8))
            case .binary:
                var headers = events.attributes(i).map { ("ce_\($0.0)", Array($0.1.utf8)) }
                headers.append(("content-type", Array("application/json".utf8)))
                return KafkaProducerRecord(key: key, value: Array(events.data(i).utf8), headers: headers)
            }
        }
        try await producer.produce(topic: topic, records)
        return records.count
    }

    /// Waits for every record to be delivered; fails if any was refused.
    public func finish() async throws {
        try await producer.flush(timeout: .seconds(60))
        if producer.failed > 0 {
            throw PublishTargets.UnsupportedTarget(description: "\(producer.failed) records were not delivered: \(producer.lastError ?? "unknown error")")
        }
    }
}
