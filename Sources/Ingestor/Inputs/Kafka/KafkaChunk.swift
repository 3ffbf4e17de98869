import Pipeline

/// A chunk of Kafka records on its way to the pipeline, with what is needed to settle
/// each record's offset once the pipeline resolves it.
struct KafkaChunk: Sendable {
    let chunk: MessageChunk
    let positions: KafkaChunkPositions
}

/// Where each record of a chunk came from: its partition's lease and its offset.
///
/// Kept apart from the chunk's bytes so the resolution callback, which lives as long as
/// the slowest record of the chunk, does not keep the payloads alive.
struct KafkaChunkPositions: Sendable {
    /// The lease of each partition present in the chunk (nil: the partition was not
    /// assigned when the chunk was handed off, so its records can move no commit).
    let leases: [PartitionOffsetTracker.Lease?]
    /// Per message: index into `leases`.
    let slots: [Int32]
    /// Per message: its Kafka offset.
    let offsets: [Int64]

    /// Offsets of `indexes` grouped by lease, in message order.
    func offsetsByLease(_ indexes: some Sequence<Int>) -> [(PartitionOffsetTracker.Lease, [Int64])] {
        var grouped = Array(repeating: [Int64](), count: leases.count)
        for i in indexes { grouped[Int(slots[i])].append(offsets[i]) }
        var out: [(PartitionOffsetTracker.Lease, [Int64])] = []
        for (slot, list) in grouped.enumerated() where !list.isEmpty {
            if let lease = leases[slot] { out.append((lease, list)) }
        }
        return out
    }
}
