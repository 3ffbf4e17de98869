import Synchronization

/// How a message's events ended up, once all of them are settled.
public struct MessageResolution: Sendable, Hashable {
    public var inserted: Int32 = 0
    public var duplicates: Int32 = 0
    public var deadLettered: Int32 = 0

    public init(inserted: Int32 = 0, duplicates: Int32 = 0, deadLettered: Int32 = 0) {
        self.inserted = inserted
        self.duplicates = duplicates
        self.deadLettered = deadLettered
    }

    public var total: Int32 { inserted + duplicates + deadLettered }
}

/// One settled message, as reported to the input that read it.
public struct ResolvedMessage: Sendable {
    public let index: Int
    public let message: InboundMessage
    public let resolution: MessageResolution
}

/// The acknowledgement token of a chunk: it tracks, per message, how many of its events
/// are still unsettled, and tells the input once a message's every event is inserted,
/// dead-lettered, or known to be a duplicate.
///
/// Nothing but a durable outcome settles an event. A failed insert leaves the count
/// untouched (the batch is retried), so a source is never acknowledged early. The memory
/// budget charge of the chunk is returned when its last message settles.
public final class ChunkAcknowledgement: Sendable {
    public enum Outcome: Sendable {
        case inserted, duplicate, deadLettered
    }

    fileprivate struct State {
        var remaining: [Int32]
        var resolutions: [MessageResolution]
        var unsettledMessages: Int
        /// Messages that produced no events, reported by `start()`. Only these: a
        /// message whose events all settled before `start()` (duplicates found while the
        /// chunk was being wired in) was already reported by `settle`, and reporting it
        /// again would count its events twice and acknowledge it twice.
        var emptyAtStart: [Int]
        /// The budget charge goes back exactly once, whichever path settles last.
        var released = false
    }

    public let messages: [InboundMessage]
    private let state: Mutex<State>
    private let onResolved: @Sendable ([ResolvedMessage]) -> Void
    private let budget: MemoryBudget?
    private let charge: Int

    /// - Parameters:
    ///   - eventsPerMessage: events each message produced (accepted and rejected).
    ///   - onResolved: called, outside any lock, with each batch of messages that settled.
    ///   - budget, charge: the memory budget charge to return when the chunk settles.
    public init(
        messages: [InboundMessage], eventsPerMessage: [Int32], budget: MemoryBudget? = nil, charge: Int = 0,
        onResolved: @escaping @Sendable ([ResolvedMessage]) -> Void
    ) {
        precondition(messages.count == eventsPerMessage.count, "one event count per message")
        self.messages = messages
        self.onResolved = onResolved
        self.budget = budget
        self.charge = charge
        let unsettled = eventsPerMessage.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        state = Mutex(State(
            remaining: eventsPerMessage,
            resolutions: Array(repeating: MessageResolution(), count: messages.count),
            unsettledMessages: unsettled,
            emptyAtStart: eventsPerMessage.indices.filter { eventsPerMessage[$0] == 0 }))
    }

    /// Reports messages that produced no events at all (an empty batch): they are
    /// settled from the start. Call once, after wiring the chunk into the pipeline.
    public func start() {
        let (empty, done) = state.withLock { s -> ([ResolvedMessage], Bool) in
            let out = s.emptyAtStart.map { ResolvedMessage(index: $0, message: messages[$0], resolution: s.resolutions[$0]) }
            s.emptyAtStart = []
            return (out, s.takeRelease())
        }
        if !empty.isEmpty { onResolved(empty) }
        if done { budget?.release(charge) }
    }

    /// Settles one event of each listed message (a message index may repeat).
    public func settle(messages indexes: some Sequence<Int32>, as outcome: Outcome) {
        let (settled, done) = state.withLock { s -> ([ResolvedMessage], Bool) in
            var out: [ResolvedMessage] = []
            for i32 in indexes {
                let i = Int(i32)
                precondition(s.remaining[i] > 0, "settled more events than message \(i) has")
                switch outcome {
                case .inserted: s.resolutions[i].inserted += 1
                case .duplicate: s.resolutions[i].duplicates += 1
                case .deadLettered: s.resolutions[i].deadLettered += 1
                }
                s.remaining[i] -= 1
                if s.remaining[i] == 0 {
                    s.unsettledMessages -= 1
                    out.append(ResolvedMessage(index: i, message: messages[i], resolution: s.resolutions[i]))
                }
            }
            return (out, s.takeRelease())
        }
        if !settled.isEmpty { onResolved(settled) }
        if done { budget?.release(charge) }
    }

    public func settle(message: Int, as outcome: Outcome) {
        settle(messages: CollectionOfOne(Int32(message)), as: outcome)
    }

    /// Messages not yet settled.
    public var unsettledMessages: Int { state.withLock { $0.unsettledMessages } }
}

extension ChunkAcknowledgement.State {
    /// True once, when every message has settled.
    fileprivate mutating func takeRelease() -> Bool {
        guard unsettledMessages == 0, !released else { return false }
        released = true
        return true
    }
}
