/// Why a write to the sink failed, and what to do about it.
public struct SinkError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The sink is unreachable or overloaded; nothing was written. Retry later.
        case unavailable
        /// The request may or may not have been applied (a timeout or a connection lost
        /// after sending). Check which rows arrived before retrying the rest.
        case unknownOutcome
        /// The sink rejected the data itself (type mismatch, cannot parse). Retrying the
        /// same rows fails again: split the batch and dead-letter the rows that fail.
        case rejectedData
        /// A setting is wrong (credentials, missing table). An operator must act; the
        /// pipeline keeps retrying slowly and reports unready.
        case configuration
    }

    public var kind: Kind
    /// The server's error code, when it gave one.
    public var code: Int?
    public var message: String

    public init(kind: Kind, code: Int? = nil, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String {
        "\(kind)\(code.map { " (code \($0))" } ?? ""): \(message)"
    }
}

/// A row rejected before or during insert, bound for the dead-letter table.
public struct DeadLetterRow: Sendable {
    public var receivedAtSeconds: UInt32
    public var dataset: String
    public var origin: MessageOrigin
    public var eventID: String
    public var eventSource: String
    public var eventType: String
    public var field: String
    public var reason: String
    public var rawEvent: [UInt8]
    public var key: EventKey

    public init(
        receivedAtSeconds: UInt32, dataset: String, origin: MessageOrigin, eventID: String, eventSource: String,
        eventType: String, field: String, reason: String, rawEvent: [UInt8], key: EventKey
    ) {
        self.receivedAtSeconds = receivedAtSeconds
        self.dataset = dataset
        self.origin = origin
        self.eventID = eventID
        self.eventSource = eventSource
        self.eventType = eventType
        self.field = field
        self.reason = reason
        self.rawEvent = rawEvent
        self.key = key
    }
}

/// A table the pipeline writes to.
public enum SinkTarget: Sendable, Hashable {
    /// The raw table of the dataset at this catalog index.
    case dataset(Int)
    /// The `dead_letter` table.
    case deadLetter
}

/// Where the pipeline writes. The ClickHouse sink implements it; keeping it a protocol
/// keeps the pipeline free of I/O and lets unit tests drive every failure path.
public protocol TableSink: Sendable {
    /// Inserts a batch in the target's logical schema (``DatasetDefinition/tableSchema``
    /// or ``DeadLetterSchema/schema``). Throws without having written anything unless the
    /// error kind is `.unknownOutcome`.
    func insert(into target: SinkTarget, batch: ColumnBatch) async throws(SinkError)

    /// Which of `keys` already have a row in the target table.
    func existingKeys(in target: SinkTarget, keys: [EventKey]) async throws(SinkError) -> Set<EventKey>

    /// Keys of rows ingested since `sinceSeconds` (Unix time), newest first, at most
    /// `limit`, with their ingest time: used to rebuild the dedup window at start.
    func recentKeys(in target: SinkTarget, sinceSeconds: UInt32, limit: Int) async throws(SinkError) -> [(key: EventKey, ingestedAtSeconds: UInt32)]
}
