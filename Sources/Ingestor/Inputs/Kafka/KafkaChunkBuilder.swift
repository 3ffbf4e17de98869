import Pipeline

/// Collects polled records into the next chunk. Poll-thread only.
///
/// Payloads are copied into the chunk's single buffer as they arrive, so the librdkafka
/// message can be destroyed at once. The builder remembers each record's partition and
/// offset for the offset tracker; records stay here, unknown to the tracker, until the
/// chunk is handed off, so a revoke can drop them without any effect on commits.
struct KafkaChunkBuilder {
    private(set) var chunk: MessageChunk
    private var partitions: [KafkaPartition] = []
    private var slots: [Int32] = []
    private var offsets: [Int64] = []
    private var lastSlot: Int32 = -1
    private let expectedMessages: Int
    /// When the first record of the current chunk arrived.
    private(set) var startedAt: ContinuousClock.Instant?

    init(expectedMessages: Int) {
        self.expectedMessages = expectedMessages
        chunk = MessageChunk(expectedBytes: expectedMessages * 512, expectedMessages: expectedMessages)
    }

    var count: Int { chunk.messages.count }
    var isEmpty: Bool { chunk.messages.isEmpty }
    var byteCount: Int { chunk.byteCount }

    mutating func append(
        value: UnsafeRawBufferPointer, format: MessageFormat, partition: KafkaPartition, offset: Int64, receivedAtNanos: Int64,
        now: @autoclosure () -> ContinuousClock.Instant
    ) {
        if startedAt == nil { startedAt = now() }
        let payload = chunk.appendPayload(value)
        chunk.messages.append(InboundMessage(
            payload: payload, format: format,
            origin: MessageOrigin(kind: .kafka, stream: partition.topic, partition: partition.partition, offset: String(offset)),
            receivedAtNanos: receivedAtNanos))
        slots.append(slot(for: partition))
        offsets.append(offset)
    }

    /// Records arrive in runs from one partition, so the last slot is checked first.
    private mutating func slot(for partition: KafkaPartition) -> Int32 {
        if lastSlot >= 0, partitions[Int(lastSlot)] == partition { return lastSlot }
        if let i = partitions.firstIndex(of: partition) {
            lastSlot = Int32(i)
        } else {
            partitions.append(partition)
            lastSlot = Int32(partitions.count - 1)
        }
        return lastSlot
    }

    /// Hands the chunk over and starts an empty one.
    mutating func take() -> (chunk: MessageChunk, partitions: [KafkaPartition], slots: [Int32], offsets: [Int64]) {
        let out = (chunk, partitions, slots, offsets)
        reset()
        return out
    }

    /// Drops every record of `revoked`. Those records were never handed to the pipeline,
    /// so the partition's next owner reads them again from the committed offset.
    /// Returns how many were dropped.
    @discardableResult
    mutating func remove(_ revoked: Set<KafkaPartition>) -> Int {
        guard partitions.contains(where: revoked.contains) else { return 0 }
        let old = take()
        var dropped = 0
        old.chunk.bytes.withUnsafeBytes { bytes in
            for (i, message) in old.chunk.messages.enumerated() {
                let partition = old.partitions[Int(old.slots[i])]
                if revoked.contains(partition) {
                    dropped += 1
                    continue
                }
                var copy = message
                copy.payload = chunk.appendPayload(UnsafeRawBufferPointer(rebasing: bytes[message.payload]))
                chunk.messages.append(copy)
                slots.append(slot(for: partition))
                offsets.append(old.offsets[i])
            }
        }
        if !isEmpty { startedAt = .now }
        return dropped
    }

    mutating func removeAll() {
        reset()
    }

    private mutating func reset() {
        chunk = MessageChunk(expectedBytes: Swift.max(chunk.bytes.count, expectedMessages * 512), expectedMessages: expectedMessages)
        partitions = []
        slots = []
        offsets = []
        lastSlot = -1
        startedAt = nil
    }
}
