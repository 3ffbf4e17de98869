import CRdkafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// sluice-kafka-mock: librdkafka's in-process mock cluster as a stand-alone process, for
// tests and benchmarks. It speaks the real Kafka protocol over TCP on loopback, runs
// consumer groups and offset commits, and lets a test take brokers down.
//
//   sluice-kafka-mock --brokers 3 --topic events:6 [--topic other:4]
//
// Prints `bootstrap <host:port,...>` as its first stdout line, then reads commands on
// stdin, one per line, answering each with `ok` or `error <reason>`:
//
//   down <broker-id>      disconnect the broker and refuse connections (-1: all)
//   up <broker-id>        accept connections again
//   rtt <broker-id> <ms>  add round-trip latency
//   leader <topic> <partition> <broker-id>
//   topic <name> <partitions>
//   quit                  (or end of stdin) destroy the cluster and exit
//
// It exits on end of stdin, so a test process that dies takes its cluster with it.

/// Writes straight to a descriptor: unbuffered, so a test reading the output file sees
/// each answer as soon as it is written.
func writeLine(_ fd: Int32, _ line: String) {
    let bytes = Array((line + "\n").utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        done += n
    }
}

func fail(_ message: String) -> Never {
    writeLine(2, "sluice-kafka-mock: \(message)")
    exit(2)
}

func reply(_ line: String) {
    writeLine(1, line)
}

var brokerCount: Int32 = 3
var topics: [(String, Int32)] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--brokers":
        guard let v = arguments.popFirst().flatMap({ Int32($0) }), v >= 1 else { fail("--brokers needs a positive number") }
        brokerCount = v
    case "--topic":
        guard let spec = arguments.popFirst(), let colon = spec.lastIndex(of: ":"),
              let n = Int32(spec[spec.index(after: colon)...]), n >= 1 else { fail("--topic needs NAME:PARTITIONS") }
        topics.append((String(spec[..<colon]), n))
    case "--help", "-h":
        reply("usage: sluice-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...")
        exit(0)
    default:
        fail("unknown argument \(argument)")
    }
}

// The mock cluster needs a client instance for its bookkeeping; a producer that never
// produces is the lightest one.
var errstr = [CChar](repeating: 0, count: 512)
guard let conf = rd_kafka_conf_new() else { fail("rd_kafka_conf_new failed") }
_ = rd_kafka_conf_set(conf, "log_level", "3", &errstr, errstr.count)
guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
    fail("rd_kafka_new: \(String(cString: errstr))")
}
guard let cluster = rd_kafka_mock_cluster_new(rk, brokerCount) else { fail("rd_kafka_mock_cluster_new failed") }
let replication = min(3, brokerCount)
for (name, partitions) in topics {
    let err = rd_kafka_mock_topic_create(cluster, name, partitions, replication)
    if err != RD_KAFKA_RESP_ERR_NO_ERROR { fail("topic \(name): \(String(cString: rd_kafka_err2str(err)))") }
}
reply("bootstrap \(String(cString: rd_kafka_mock_cluster_bootstraps(cluster)))")

func check(_ err: rd_kafka_resp_err_t) {
    reply(err == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : "error \(String(cString: rd_kafka_err2str(err)))")
}

while let line = readLine() {
    let words = line.split(separator: " ").map(String.init)
    guard let command = words.first else { continue }
    switch (command, words.count) {
    case ("down", 2):
        guard let id = Int32(words[1]) else { reply("error bad broker id"); continue }
        check(rd_kafka_mock_broker_set_down(cluster, id))
    case ("up", 2):
        guard let id = Int32(words[1]) else { reply("error bad broker id"); continue }
        check(rd_kafka_mock_broker_set_up(cluster, id))
    case ("rtt", 3):
        guard let id = Int32(words[1]), let ms = Int32(words[2]) else { reply("error bad arguments"); continue }
        check(rd_kafka_mock_broker_set_rtt(cluster, id, ms))
    case ("leader", 4):
        guard let p = Int32(words[2]), let id = Int32(words[3]) else { reply("error bad arguments"); continue }
        check(rd_kafka_mock_partition_set_leader(cluster, words[1], p, id))
    case ("topic", 3):
        guard let n = Int32(words[2]) else { reply("error bad partition count"); continue }
        check(rd_kafka_mock_topic_create(cluster, words[1], n, replication))
    case ("quit", _):
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(rk)
        reply("ok")
        exit(0)
    default:
        reply("error unknown command \(line)")
    }
}
rd_kafka_mock_cluster_destroy(cluster)
rd_kafka_destroy(rk)
