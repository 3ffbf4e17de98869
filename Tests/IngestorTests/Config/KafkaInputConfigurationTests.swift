import Foundation
import Ingestor
import Testing
import TestSupport

/// `inputs.kafka.*` as `sluice check-config` and `sluice run` read it.
@Suite struct KafkaInputConfigurationTests {
    /// Loads a full config whose `inputs.kafka` section is `kafka` (indented 4 spaces).
    static func load(kafka: String, extra: String = "") throws -> SluiceConfiguration {
        let yaml = """
            clickhouse:
              url: http://127.0.0.1:8123
            datasets:
              paths: [\(RepositoryRoot.file("config/datasets"))]
            \(extra)
            inputs:
              kafka:
            \(kafka)
            """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-kafka-config-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SluiceConfiguration.load(path: path, environment: [:])
    }

    @Test func librdkafkaPropertyNamesWithDotsPassThrough() throws {
        let config = try Self.load(kafka: """
                brokers: "b1:9092,b2:9092"
                topics: [events]
                group: g
                properties:
                  session.timeout.ms: 6000
                  partition.assignment.strategy: range
            """)
        let kafka = try #require(config.kafka)
        #expect(kafka.properties == ["session.timeout.ms": "6000", "partition.assignment.strategy": "range"])
        let applied = Dictionary(kafka.consumerProperties(memoryBudget: 512 << 20), uniquingKeysWith: { _, last in last })
        #expect(applied["session.timeout.ms"] == "6000")
        #expect(applied["partition.assignment.strategy"] == "range", "a property overrides Sluice's default")
        #expect(applied["bootstrap.servers"] == "b1:9092,b2:9092")
        #expect(applied["group.id"] == "g")
    }

    @Test func deliveryCriticalPropertiesCannotBeOverridden() throws {
        for name in ["enable.auto.commit", "enable.auto.offset.store", "group.id"] {
            do {
                _ = try Self.load(kafka: """
                        brokers: b:9092
                        topics: [events]
                        properties:
                          \(name): true
                    """)
                Issue.record("\(name) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.key == "inputs.kafka.properties.\(name)")
            }
        }
        // Whatever else is configured, offsets are stored and committed by Sluice only.
        let kafka = try #require(try Self.load(kafka: "    brokers: b:9092\n    topics: [events]").kafka)
        let applied = Dictionary(kafka.consumerProperties(memoryBudget: 512 << 20), uniquingKeysWith: { _, last in last })
        #expect(applied["enable.auto.commit"] == "false")
        #expect(applied["enable.auto.offset.store"] == "false")
    }

    @Test func thePrefetchQueueIsSizedFromTheMemoryBudget() throws {
        let kafka = try #require(try Self.load(kafka: "    brokers: b:9092\n    topics: [events]").kafka)
        func prefetch(_ budget: Int) -> String? {
            Dictionary(kafka.consumerProperties(memoryBudget: budget), uniquingKeysWith: { _, last in last })["queued.max.messages.kbytes"]
        }
        #expect(prefetch(512 << 20) == "65536")
        #expect(prefetch(32 << 20) == "4096")
        #expect(prefetch(4 << 30) == "65536", "never above librdkafka's own default")
        #expect(prefetch(1 << 20) == "1024")
        // An operator's explicit setting still wins.
        let tuned = try #require(try Self.load(kafka: "    brokers: b:9092\n    topics: [events]\n    properties:\n      queued.max.messages.kbytes: 2048").kafka)
        #expect(Dictionary(tuned.consumerProperties(memoryBudget: 512 << 20), uniquingKeysWith: { _, last in last })["queued.max.messages.kbytes"] == "2048")
    }

    @Test func onlyTheByteBoundLimitsThePrefetchQueue() throws {
        func minMessages(_ yaml: String) throws -> String? {
            let kafka = try #require(try Self.load(kafka: yaml).kafka)
            return Dictionary(kafka.consumerProperties(memoryBudget: 512 << 20), uniquingKeysWith: { _, last in last })["queued.min.messages"]
        }
        // librdkafka's maximum: the count bound must not stop fetches before the bytes do.
        #expect(try minMessages("    brokers: b:9092\n    topics: [events]") == "10000000")
        #expect(try minMessages("    brokers: b:9092\n    topics: [events]\n    properties:\n      queued.min.messages: 5000") == "5000")
    }

    @Test func dottedKeysOutsideKafkaPropertiesAreStillRefused() {
        #expect(throws: ConfigurationError.self) {
            _ = try Self.load(kafka: "    brokers: b:9092\n    topics: [events]", extra: "pipeline:\n  batch.max_rows: 5")
        }
    }
}
