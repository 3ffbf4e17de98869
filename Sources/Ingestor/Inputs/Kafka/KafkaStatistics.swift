import Pipeline

/// What Sluice reads from librdkafka's statistics JSON (`statistics.interval.ms`):
/// per-partition consumer lag, nothing else.
///
/// The document is large (every broker, every partition, window statistics) and arrives
/// every interval on the poll thread, so it is scanned with the pipeline's JSON scanner
/// and only `topics.*.partitions.*.consumer_lag_stored` is read.
public enum KafkaStatistics {
    /// `consumer_lag_stored` per partition: high watermark (or last stable offset) minus
    /// the offset Sluice last stored, i.e. records not yet durable in ClickHouse.
    /// Partition `-1` (librdkafka's internal unassigned partition) and unknown lags
    /// (`-1`, before the first fetch or store) are left out.
    public static func consumerLag(json: UnsafeRawBufferPointer) -> [(KafkaPartition, Int64)] {
        var scanner = JSONScanner(maxDepth: 16)
        guard let root = try? scanner.parse(json), root.kind == .object, let topics = root.member("topics"), topics.kind == .object else {
            return []
        }
        var out: [(KafkaPartition, Int64)] = []
        for (topicKey, topic) in topics.members {
            guard topic.kind == .object, let partitions = topic.member("partitions"), partitions.kind == .object else { continue }
            let topicName = topicKey.string
            for (partitionKey, partition) in partitions.members {
                guard let id = Int32(partitionKey.string), id >= 0, partition.kind == .object,
                      let lag = partition.member("consumer_lag_stored")?.int64, lag >= 0 else { continue }
                out.append((KafkaPartition(topic: topicName, partition: id), lag))
            }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    public static func consumerLag(json: String) -> [(KafkaPartition, Int64)] {
        var text = json
        return text.withUTF8 { consumerLag(json: UnsafeRawBufferPointer($0)) }
    }
}
