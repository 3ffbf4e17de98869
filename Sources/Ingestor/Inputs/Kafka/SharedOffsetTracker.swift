import Pipeline
import Synchronization

/// The offset tracker shared by the poll thread (deliveries, rebalances, commits) and
/// the pipeline (resolutions, from whichever task settles a batch).
///
/// Each call takes the lock once per chunk or per resolution batch, never per record,
/// and never calls out while holding it.
final class SharedOffsetTracker: Sendable {
    private let state = Mutex(PartitionOffsetTracker())

    func withLock<R>(_ body: (inout PartitionOffsetTracker) -> R) -> R {
        state.withLock { body(&$0) }
    }

    /// Registers a chunk's records as handed to the pipeline, and marks each record
    /// that a previous owner of its partition may already have written.
    func deliver(_ chunk: MessageChunk, partitions: [KafkaPartition], slots: [Int32], offsets: [Int64]) -> KafkaChunk {
        var perSlot = Array(repeating: [Int64](), count: partitions.count)
        for (slot, offset) in zip(slots, offsets) { perSlot[Int(slot)].append(offset) }
        let verdicts = state.withLock { t in
            partitions.indices.map { i in t.deliver(partitions[i], offsets: perSlot[i]) }
        }
        for i in chunk.messages.indices {
            let v = verdicts[Int(slots[i])]
            chunk.messages[i].mayBeRedelivered = v.lease == nil || v.horizon.map { offsets[i] < $0 } ?? true
        }
        return KafkaChunk(chunk: chunk, positions: KafkaChunkPositions(leases: verdicts.map(\.lease), slots: slots, offsets: offsets))
    }

    /// Settles resolved messages of a chunk; late ones of ended leases are ignored.
    func resolve(_ resolved: [ResolvedMessage], of positions: KafkaChunkPositions) {
        let groups = positions.offsetsByLease(resolved.lazy.map(\.index))
        state.withLock { t in
            for (lease, offsets) in groups { t.resolve(lease, offsets: offsets) }
        }
    }

    /// Marks a whole chunk as never going to resolve (the pipeline refused it).
    func abandon(_ positions: KafkaChunkPositions) {
        let groups = positions.offsetsByLease(positions.offsets.indices)
        state.withLock { t in
            for (lease, offsets) in groups { t.abandon(lease, offsets: offsets) }
        }
    }
}
