import Foundation
import Ingestor

// SluiceKafkaBench: the small tool behind benchmarks/kafka/run.sh.
//
//   SluiceKafkaBench prefill --brokers B --topic T --count N [--seed S] [--compression lz4]
//       produces N synthetic `metrics` CloudEvents (structured mode, keyed by event id),
//       generating every payload before the clock starts, and prints the rate
//   SluiceKafkaBench watermarks --brokers B --topic T --partitions P
//       prints `low high` per partition, then `total <sum of high - low>`
//   SluiceKafkaBench committed --brokers B --group G --topic T --partitions P
//       prints the group's committed offset per partition, then `total <sum>`

func option(_ name: String, _ args: [String]) -> String? {
    guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func require(_ name: String, _ args: [String]) -> String {
    guard let v = option(name, args) else {
        FileHandle.standardError.write(Data("missing --\(name)\n".utf8))
        exit(2)
    }
    return v
}

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else {
    print("usage: SluiceKafkaBench prefill|watermarks|committed ...")
    exit(2)
}

switch command {
case "prefill":
    let brokers = require("brokers", args)
    let topic = require("topic", args)
    let count = Int(require("count", args)) ?? 0
    let seed = UInt64(option("seed", args) ?? "42") ?? 42
    var properties: [String: String] = ["linger.ms": "20", "batch.num.messages": "10000", "queue.buffering.max.kbytes": "1048576"]
    if let c = option("compression", args) { properties["compression.codec"] = c }
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    let events = SyntheticEvents(dataset: .metrics, total: count, startMillis: now - 3_600_000, spanMillis: 3_600_000, seed: seed)
    let headers: [(String, [UInt8])] = [("content-type", Array("application/cloudevents+json; charset=UTF-8".utf8))]
    let records = (0..<count).map { i in
        KafkaProducerRecord(key: Array(events.eventID(i).utf8), value: Array(events.cloudEvent(i).utf8), headers: headers)
    }
    let bytes = records.reduce(0) { $0 + ($1.value?.count ?? 0) }
    let producer = try KafkaProducer(brokers: brokers, properties: properties)
    let start = ContinuousClock.now
    var sent = 0
    while sent < count {
        let next = min(sent + 20_000, count)
        try await producer.produce(topic: topic, Array(records[sent..<next]))
        sent = next
    }
    try await producer.flush(timeout: .seconds(120))
    let t = ContinuousClock.now - start
    let seconds = Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
    print("prefill: \(producer.delivered) delivered, \(producer.failed) failed, \(bytes / max(count, 1)) bytes/event, \(String(format: "%.2f", seconds)) s, \(Int(Double(count) / seconds)) events/s")
    if producer.failed > 0 { exit(1) }

case "watermarks":
    let client = try KafkaMetadataClient(brokers: require("brokers", args))
    let partitions = Int32(require("partitions", args)) ?? 1
    let marks = try await client.watermarks(topic: require("topic", args), partitions: Array(0..<partitions))
    var total: Int64 = 0
    for p in 0..<partitions {
        let m = marks[p]!
        print("\(p) \(m.low) \(m.high)")
        total += m.high - m.low
    }
    print("total \(total)")

case "committed":
    let partitions = Int32(require("partitions", args)) ?? 1
    let offsets = try await KafkaMetadataClient.committedOffsets(
        brokers: require("brokers", args), group: require("group", args), topic: require("topic", args), partitions: Array(0..<partitions))
    var total: Int64 = 0
    for p in 0..<partitions {
        print("\(p) \(offsets[p] ?? -1)")
        total += max(offsets[p] ?? 0, 0)
    }
    print("total \(total)")

default:
    print("unknown command \(command)")
    exit(2)
}
