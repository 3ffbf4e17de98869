/// Where a message came from, for dead-letter rows, accounting and logs.
public struct MessageOrigin: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case http, dapr, redis, kafka
    }

    public var kind: Kind
    /// Redis stream, Kafka topic, Dapr topic, or the HTTP route.
    public var stream: String
    /// Kafka partition; -1 elsewhere.
    public var partition: Int32
    /// Redis entry id, Kafka offset, Dapr entry id; empty for plain HTTP.
    public var offset: String

    public init(kind: Kind, stream: String, partition: Int32 = -1, offset: String = "") {
        self.kind = kind
        self.stream = stream
        self.partition = partition
        self.offset = offset
    }
}

/// How a message's bytes are to be read.
public enum MessageFormat: Sendable, Hashable {
    /// One CloudEvent in the JSON format, or a JSON array of them (batch mode).
    case structured
    /// The payload is one event's `data`; the context attributes travel beside it
    /// (HTTP `ce-*` headers, Kafka `ce_*` headers, Redis `ce_*` fields, Dapr metadata).
    case binary(attributes: [String: String])
    /// The payload is a JSON object whose member `itemsKey` is an array; each item is the
    /// `data` of one event with the given attributes (seed 004's batch ingest).
    /// Items without an `id` attribute get a content-derived id, so a retried request
    /// deduplicates.
    case binaryItems(attributes: [String: String], itemsKey: String)
}

/// Per-message rules about the tenant, from the request that carried it.
public struct TenantScope: Sendable, Hashable {
    /// Supplies the `tenantid` attribute when an event has none (`X-Tenant-ID`).
    public var defaultTenant: String?
    /// Rejects any event whose tenant column is not this value (a tenant-scoped API key).
    public var requiredTenant: String?

    public init(defaultTenant: String? = nil, requiredTenant: String? = nil) {
        self.defaultTenant = defaultTenant
        self.requiredTenant = requiredTenant
    }

    public static let none = TenantScope()
}

/// One unit that a source acknowledges as a whole: a Redis entry, a Kafka record, one
/// Dapr bulk entry, or one HTTP request.
///
/// Its payload is a range of its chunk's shared byte buffer, so reading 1,000 Redis
/// entries costs one buffer, not 1,000 arrays.
public struct InboundMessage: Sendable {
    public var payload: Range<Int>
    public var format: MessageFormat
    public var origin: MessageOrigin
    public var tenant: TenantScope
    /// The source may have delivered this message before (a Redis pending or claimed
    /// entry, a Kafka record below the offset a previous owner may have written, a Dapr
    /// redelivery). Such events are checked against ClickHouse before insert.
    public var mayBeRedelivered: Bool
    /// Time the source received the message, nanoseconds since the Unix epoch; feeds the
    /// `received_at` value source.
    public var receivedAtNanos: Int64

    public init(
        payload: Range<Int>, format: MessageFormat = .structured, origin: MessageOrigin,
        tenant: TenantScope = .none, mayBeRedelivered: Bool = false, receivedAtNanos: Int64
    ) {
        self.payload = payload
        self.format = format
        self.origin = origin
        self.tenant = tenant
        self.mayBeRedelivered = mayBeRedelivered
        self.receivedAtNanos = receivedAtNanos
    }
}

/// Messages read together from one source, with their bytes in one buffer.
///
/// A chunk is the unit that moves between stages: it is filled by an input, decoded by
/// one worker, and then only its decoded rows travel on.
public final class MessageChunk: @unchecked Sendable {
    public var bytes: GrowableBuffer
    public var messages: [InboundMessage]

    public init(expectedBytes: Int = 4096, expectedMessages: Int = 64) {
        bytes = GrowableBuffer(capacity: expectedBytes)
        messages = []
        messages.reserveCapacity(expectedMessages)
    }

    /// Appends a payload to the shared buffer and returns its range.
    public func appendPayload(_ payload: UnsafeRawBufferPointer) -> Range<Int> {
        let start = bytes.count
        bytes.append(bytes: payload)
        return start..<bytes.count
    }

    public func appendPayload(_ payload: [UInt8]) -> Range<Int> {
        payload.withUnsafeBytes { appendPayload($0) }
    }

    /// Bytes held, for the memory budget.
    public var byteCount: Int { bytes.count + messages.count * MemoryLayout<InboundMessage>.stride }
}
