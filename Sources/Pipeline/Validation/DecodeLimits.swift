/// Bounds on what one message may make the decoder do. Each violation rejects the event
/// (or the message, when the message itself is at fault) with a reason naming the limit.
public struct DecodeLimits: Sendable, Hashable {
    /// Deepest nesting of JSON objects and arrays (the event object itself is level 1 of
    /// a single event, level 2 inside a batch array).
    public var maxDepth: Int
    /// Longest JSON string, in bytes of its JSON text.
    public var maxStringBytes: Int
    /// Most events in one batch message (structured batch or items body).
    public var maxEventsPerMessage: Int
    /// Largest single event, in bytes of its JSON text (CloudEvents asks consumers to
    /// accept at least 64 KiB).
    public var maxEventBytes: Int
    /// Bytes of an event kept in its dead-letter row; longer events are truncated there.
    public var maxRawEventBytes: Int

    public init(
        maxDepth: Int = 64, maxStringBytes: Int = 1 << 20, maxEventsPerMessage: Int = 10_000,
        maxEventBytes: Int = 1 << 20, maxRawEventBytes: Int = 64 << 10
    ) {
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxEventsPerMessage = maxEventsPerMessage
        self.maxEventBytes = maxEventBytes
        self.maxRawEventBytes = maxRawEventBytes
    }

    public static let `default` = DecodeLimits()
}
