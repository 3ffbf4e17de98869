import Ingestor
import Pipeline
import Testing

@Suite struct KafkaCloudEventsBindingTests {
    @Test func cloudEventsContentTypeMeansStructured() {
        #expect(KafkaCloudEventsBinding.format(headers: [("content-type", "application/cloudevents+json; charset=UTF-8")]) == .structured)
        #expect(KafkaCloudEventsBinding.format(headers: [("Content-Type", "Application/CloudEvents-Batch+JSON")]) == .structured)
        // ce_ headers may accompany a structured record; the content type decides.
        #expect(KafkaCloudEventsBinding.format(headers: [("ce_id", "1"), ("content-type", "application/cloudevents+json")]) == .structured)
    }

    @Test func noHeadersMeansStructuredAsDaprWritesIt() {
        #expect(KafkaCloudEventsBinding.format(headers: []) == .structured)
        #expect(KafkaCloudEventsBinding.format(headers: [("traceparent", "00-abc"), ("content-type", "application/json")]) == .structured)
    }

    @Test func ceHeadersMeanBinaryWithContentTypeAsDataContentType() {
        let format = KafkaCloudEventsBinding.format(headers: [
            ("ce_specversion", "1.0"), ("ce_id", "1234"), ("ce_source", "/sensors"), ("ce_type", "metric"),
            ("ce_tenantid", "t1"), ("content-type", "application/json"), ("other", "x"),
        ])
        #expect(format == .binary(attributes: [
            "specversion": "1.0", "id": "1234", "source": "/sensors", "type": "metric", "tenantid": "t1",
            "datacontenttype": "application/json",
        ]))
    }

    @Test func nullHeaderValuesAreNotAttributes() {
        #expect(KafkaCloudEventsBinding.format(headers: [("ce_id", "1"), ("ce_subject", nil)]) == .binary(attributes: ["id": "1"]))
        #expect(KafkaCloudEventsBinding.format(headers: [("ce_subject", nil)]) == .structured)
    }

    @Test func headerNamesThatOnlyLookAlikeDoNotMatch() {
        #expect(KafkaCloudEventsBinding.format(headers: [("content\rtype", "application/cloudevents+json"), ("ce_id", "1")])
            == .binary(attributes: ["id": "1"]))
        #expect(KafkaCloudEventsBinding.format(headers: [("ce_", "x")]) == .structured)
    }
}

@Suite struct KafkaStatisticsTests {
    @Test func readsConsumerLagStoredPerPartitionAndSkipsTheInternalPartition() {
        let json = """
            {"name":"sluice#consumer-1","type":"consumer","brokers":{"b1":{"name":"b1","toppars":{}}},
             "topics":{"events":{"topic":"events","partitions":{
                "0":{"partition":0,"hi_offset":1000,"stored_offset":900,"consumer_lag":150,"consumer_lag_stored":100},
                "1":{"partition":1,"hi_offset":500,"stored_offset":-1001,"consumer_lag":-1,"consumer_lag_stored":-1},
                "-1":{"partition":-1,"consumer_lag_stored":-1}}},
              "other":{"topic":"other","partitions":{"3":{"partition":3,"consumer_lag_stored":7}}}},
             "cgrp":{"state":"up","rebalance_cnt":2}}
            """
        let lag = KafkaStatistics.consumerLag(json: json)
        #expect(lag.map(\.0) == [KafkaPartition(topic: "events", partition: 0), KafkaPartition(topic: "other", partition: 3)])
        #expect(lag.map(\.1) == [100, 7])
    }

    @Test func garbageGivesNothing() {
        #expect(KafkaStatistics.consumerLag(json: "not json").isEmpty)
        #expect(KafkaStatistics.consumerLag(json: "{\"topics\":[]}").isEmpty)
    }
}
