/// The 128-bit identity of an event for deduplication: a hash of its dedup key
/// (`source`+`id`, or a dataset's own key such as `inference_id`).
public struct EventKey: Hashable, Sendable, Comparable {
    public var low: UInt64
    public var high: UInt64

    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    public static func < (a: EventKey, b: EventKey) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(low)
        hasher.combine(high)
    }

    /// The key is already a CityHash128, so Set and Dictionary (the dedup window does
    /// several lookups per event) need no SipHash over it: a seeded multiply-xorshift
    /// of both halves spreads it as well, at a fraction of the cost (SipHash was ~15%
    /// of a Kafka→ClickHouse run's CPU). The per-process seed still varies the layout.
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: TwoWordMixer.mix(low, high, seed: UInt64(UInt(bitPattern: seed))))
    }

    /// The 16 bytes stored in the `_event_key FixedString(16)` column.
    @inlinable
    public func write(to column: ColumnBuffer) {
        column.values.append(low)
        column.values.append(high)
    }
}

/// An event that cannot become a row, and why. It goes to the dead-letter table.
public struct Rejection: Sendable {
    /// Index of the message in its chunk.
    public var message: Int
    /// The dataset the event was routed to, or empty when routing failed.
    public var dataset: String
    public var eventID: String
    public var eventSource: String
    public var eventType: String
    /// The field or attribute at fault (`data.value`, `specversion`), or empty.
    public var field: String
    /// What was expected and what arrived, for people reading the dead-letter table.
    public var reason: String
    /// The offending event's bytes (just that event, not its whole batch).
    public var rawEvent: [UInt8]

    public init(
        message: Int, dataset: String = "", eventID: String = "", eventSource: String = "", eventType: String = "",
        field: String, reason: String, rawEvent: [UInt8]
    ) {
        self.message = message
        self.dataset = dataset
        self.eventID = eventID
        self.eventSource = eventSource
        self.eventType = eventType
        self.field = field
        self.reason = reason
        self.rawEvent = rawEvent
    }
}

/// The rows one chunk produced for one dataset.
public final class TableRows: @unchecked Sendable {
    /// Index of the dataset in the catalog.
    public let datasetIndex: Int
    /// Rows in the dataset's logical schema (``DatasetDefinition/tableSchema``). Every
    /// column is filled, so the batch is always consistent: `_event_key` holds the dedup
    /// key, and `_ingested_at` the second the source received the message
    /// (``InboundMessage/receivedAtNanos``). A table writer that wants the flush time
    /// instead overwrites `_ingested_at` in place (`values.store(_:at:)`, 4 bytes per row).
    public let batch: ColumnBatch
    /// The dedup key of each row.
    @exclusivity(unchecked) public var keys: [EventKey]
    /// The message (index into the chunk) each row came from.
    @exclusivity(unchecked) public var messageIndex: [Int32]

    public init(datasetIndex: Int, batch: ColumnBatch) {
        self.datasetIndex = datasetIndex
        self.batch = batch
        self.keys = []
        self.messageIndex = []
    }

    public var rowCount: Int { keys.count }
}

/// Everything a chunk turned into: rows per dataset, rejections, and how many events
/// each message held (so every message's acknowledgement knows what to wait for).
public final class DecodedChunk: @unchecked Sendable {
    public let chunk: MessageChunk
    /// Indexed like the catalog's datasets; nil where the chunk had no rows for it.
    public var tables: [TableRows?]
    public var rejections: [Rejection]
    /// Events decoded from each message, accepted or rejected.
    public var eventsPerMessage: [Int32]

    public init(chunk: MessageChunk, datasetCount: Int) {
        self.chunk = chunk
        self.tables = Array(repeating: nil, count: datasetCount)
        self.rejections = []
        self.eventsPerMessage = Array(repeating: 0, count: chunk.messages.count)
    }
}
