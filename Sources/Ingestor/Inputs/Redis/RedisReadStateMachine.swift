/// What the Redis reader does next, as a pure state machine (no I/O, no clock of its own),
/// so the recovery rules can be unit-tested:
///
/// 1. Create the consumer groups (`XGROUP CREATE ... 0 MKSTREAM`; BUSYGROUP is fine) at
///    start, after every reconnect, and after a `NOGROUP` error.
/// 2. Per stream, read this consumer's own pending entries first (`XREADGROUP ... 0`),
///    moving the cursor to the last id returned until a read comes back empty; only then
///    read new entries (`>`). One XREADGROUP serves all streams, each with its own id.
///    A lost connection puts every stream back to step 2 from `0`: entries read before
///    the drop may never have been acknowledged.
/// 3. Every `claim_interval`, `XAUTOCLAIM` each stream once (entries of dead consumers
///    idle for `claim_idle`). A stream whose scan has not wrapped (cursor not `0-0`) is
///    claimed again at once, alternating with reads, so a dead consumer's backlog drains
///    at read speed; reads do not BLOCK while claims are queued.
/// 4. After a failure, wait a capped exponential backoff before the next action.
public struct RedisReadStateMachine: Sendable {
    public enum StreamPhase: Sendable, Hashable {
        /// Reading our own pending list after this id.
        case pending(after: RedisEntryID)
        /// Reading new entries (`>`).
        case live
    }

    public enum Action: Sendable, Hashable {
        case createGroups
        /// XREADGROUP with one id per stream (`>` or a pending-list cursor); `block` says
        /// whether to pass BLOCK (ignored by Redis for pending-list reads anyway).
        case read(ids: [String], block: Bool)
        case claim(stream: Int, cursor: RedisEntryID)
        case stop
    }

    public private(set) var phases: [StreamPhase]
    public private(set) var claimCursors: [RedisEntryID]
    public private(set) var needsGroups = true
    public private(set) var stopping = false
    /// Streams still to be claimed in the current round, in order.
    public private(set) var claimQueue: [Int] = []
    public private(set) var failures = 0
    private var nextClaimAt: ContinuousClock.Instant
    private var lastWasClaim = false
    public let claimInterval: Duration
    public let backoffBase: Duration
    public let backoffCap: Duration

    public init(
        streamCount: Int, claimInterval: Duration, now: ContinuousClock.Instant, backoffBase: Duration = .milliseconds(100),
        backoffCap: Duration = .seconds(5)
    ) {
        precondition(streamCount > 0, "at least one stream")
        phases = Array(repeating: .pending(after: .zero), count: streamCount)
        claimCursors = Array(repeating: .zero, count: streamCount)
        self.claimInterval = claimInterval
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        // The first claim round comes one interval after start: the own pending list is
        // read first, and entries of others need to be idle for claim_idle anyway.
        nextClaimAt = now + claimInterval
    }

    /// When the next claim round is due: a live read session (many reads in a row on
    /// the reader thread) ends by then so that the claims are not held up.
    public var claimDue: ContinuousClock.Instant { nextClaimAt }

    /// True once every stream reads new entries.
    public var isLive: Bool { phases.allSatisfy { $0 == .live } }

    public mutating func nextAction(now: ContinuousClock.Instant) -> Action {
        if stopping { return .stop }
        if needsGroups { return .createGroups }
        if claimQueue.isEmpty, now >= nextClaimAt {
            claimQueue = Array(phases.indices)
            nextClaimAt = now + claimInterval
        }
        if let stream = claimQueue.first, !lastWasClaim {
            lastWasClaim = true
            return .claim(stream: stream, cursor: claimCursors[stream])
        }
        lastWasClaim = false
        let ids = phases.map { phase -> String in
            switch phase {
            case .pending(let after): after.description
            case .live: ">"
            }
        }
        return .read(ids: ids, block: claimQueue.isEmpty)
    }

    /// Groups exist (created, or already there).
    public mutating func groupsCreated() {
        needsGroups = false
        failures = 0
    }

    /// A read returned; `perStream` holds, per stream, how many entries came back and the
    /// last id (nil when the reply did not mention the stream).
    public mutating func readCompleted(perStream: [(count: Int, last: RedisEntryID?)?]) {
        precondition(perStream.count == phases.count, "one result per stream")
        failures = 0
        for (i, result) in perStream.enumerated() {
            guard case .pending = phases[i] else { continue }
            if let result, result.count > 0, let last = result.last {
                phases[i] = .pending(after: last)
            } else {
                // An empty answer from the pending list: it has been read to its end.
                phases[i] = .live
            }
        }
    }

    /// An XAUTOCLAIM returned `next` as the cursor for the following call.
    public mutating func claimCompleted(stream: Int, next: RedisEntryID) {
        failures = 0
        claimCursors[stream] = next
        // `0-0` means the scan went round the whole pending list: this stream is done for
        // this round. Otherwise more may be claimable right now.
        if next == .zero, let i = claimQueue.firstIndex(of: stream) {
            claimQueue.remove(at: i)
        }
    }

    /// An XAUTOCLAIM of `stream` failed in a way a retry will not fix (an old server,
    /// a bug): skip the stream for the rest of this round instead of spinning on it.
    public mutating func claimFailed(stream: Int) -> Duration {
        if let i = claimQueue.firstIndex(of: stream) { claimQueue.remove(at: i) }
        return recordFailure()
    }

    /// The connection broke (or the server refused in a way that needs a new one).
    /// Returns how long to wait before the next action.
    public mutating func connectionLost() -> Duration {
        needsGroups = true
        phases = Array(repeating: .pending(after: .zero), count: phases.count)
        return recordFailure()
    }

    /// `NOGROUP`: the stream or group vanished (a Redis restarted without its data, or a
    /// deleted key). Recreate and start over from the pending list (empty for a new group).
    public mutating func groupMissing() -> Duration {
        connectionLost()
    }

    /// Any other failure: retry the same step after a backoff.
    public mutating func failed() -> Duration {
        recordFailure()
    }

    public mutating func stop() {
        stopping = true
    }

    private mutating func recordFailure() -> Duration {
        failures += 1
        let exponent = Swift.min(failures - 1, 20)
        let delay = backoffBase * (1 << exponent)
        return delay > backoffCap ? backoffCap : delay
    }
}
