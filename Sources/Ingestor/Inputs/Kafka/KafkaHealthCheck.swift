/// `/health/ready` for the Kafka input: a real metadata round trip to the brokers (are
/// they reachable, do the configured topics exist), plus the consumer's own state (a
/// fatal error makes it unhealthy; the assignment and any pause are reported).
struct KafkaHealthCheck: HealthCheck {
    let name = "kafka"
    let client: KafkaMetadataClient
    let topics: [String]
    let input: KafkaInput

    init(configuration: KafkaInputConfiguration, input: KafkaInput) throws(KafkaError) {
        // The consumer's connection settings (TLS, SASL) apply to the metadata client too.
        let connection = configuration.properties.filter { $0.key.hasPrefix("security.") || $0.key.hasPrefix("ssl.") || $0.key.hasPrefix("sasl.") }
        client = try KafkaMetadataClient(brokers: configuration.brokers, properties: connection)
        topics = configuration.topics
        self.input = input
    }

    func check() async -> ComponentHealth {
        let consumer = input.status
        do {
            let md = try await client.metadata(topics: topics, timeout: .milliseconds(1500))
            let found = Dictionary(md.topics.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            var problems: [String] = []
            for t in topics {
                if let info = found[t] {
                    if let e = info.error { problems.append("topic \(t): \(e)") }
                } else {
                    problems.append("topic \(t) does not exist")
                }
            }
            let topicsText = topics.map { "\($0)(\(found[$0]?.partitions ?? 0))" }.joined(separator: ", ")
            let detail = "\(md.brokers) brokers, topics \(topicsText); consumer: \(consumer.detail)"
                + (problems.isEmpty ? "" : "; " + problems.joined(separator: "; "))
            return ComponentHealth(name: name, healthy: consumer.healthy && problems.isEmpty, detail: detail)
        } catch {
            return ComponentHealth(name: name, healthy: false, detail: "metadata request failed: \(error); consumer: \(consumer.detail)")
        }
    }
}
