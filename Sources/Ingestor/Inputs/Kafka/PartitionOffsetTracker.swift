/// Which Kafka offsets may be committed: per assigned partition, the highest offset below
/// which every record handed to the pipeline has resolved (inserted, dead-lettered, or a
/// known duplicate), plus one.
///
/// A pure state machine, no I/O: the Kafka input calls it under a lock and performs the
/// returned commits itself. What it guarantees:
/// - **Contiguity.** Records resolve out of order (two flushes in flight, two decode
///   workers, a dead-letter write that takes longer than an insert). The commit point
///   only moves over a run of resolved records, in delivery order, so a commit never
///   skips a record that is still in flight. Offsets need not be consecutive numbers:
///   compaction and transaction markers leave gaps, and "contiguous" means "every record
///   delivered before it", not "offset − 1".
/// - **Monotonicity.** The commit point never moves backwards, even if librdkafka
///   re-delivers an offset it already delivered.
/// - **Ownership.** Each assignment of a partition is a *lease* with its own epoch.
///   Revoking a partition ends the lease: its late resolutions are ignored and nothing is
///   ever committed for it again, even if the same partition is assigned back later
///   (that is a new lease, starting from what the group has committed).
/// - **Abandonment.** A record that will never resolve (the pipeline refused it while
///   shutting down) blocks the commit point for the rest of its lease, and stops counting
///   as in flight so a drain does not wait for it.
/// - **Redelivery horizon.** A record of a new lease below the partition's high watermark
///   at assignment time may already have been written by the previous owner; the
///   pipeline then checks ClickHouse by key before inserting it.
public struct PartitionOffsetTracker: Sendable {
    /// One assignment of one partition to this consumer.
    public struct Lease: Hashable, Sendable, CustomStringConvertible {
        public let partition: KafkaPartition
        public let epoch: UInt64
        public var description: String { "\(partition)#\(epoch)" }
    }

    /// The tracker's verdict on a record handed to the pipeline.
    public struct Delivery: Sendable, Equatable {
        /// The lease the record belongs to; nil when its partition is not assigned (then
        /// the record is processed but can never move a commit).
        public let lease: Lease?
        /// The previous owner may have written it already.
        public let mayBeRedelivered: Bool
    }

    /// What the tracker knows about one assigned partition (for metrics and tests).
    public struct PartitionState: Sendable, Equatable {
        public let epoch: UInt64
        /// The next offset to commit (last contiguous resolved + 1); nil before the first
        /// record resolves.
        public let committable: Int64?
        /// The last offset the broker confirmed as committed by this lease.
        public let committed: Int64?
        /// Records delivered and neither resolved nor abandoned.
        public let inFlight: Int
        /// High watermark at assignment; nil while unknown.
        public let redeliveryHorizon: Int64?
    }

    private struct Assignment {
        let epoch: UInt64
        var horizon: Int64?
        /// Delivered offsets in delivery order; entries before `head` have resolved.
        var pending: [Int64] = []
        var head = 0
        /// Resolved offsets still waiting for an earlier record.
        var resolvedAhead: Set<Int64> = []
        var abandoned: Set<Int64> = []
        var inFlight = 0
        var committable: Int64?
        var committed: Int64?

        mutating func advance() {
            while head < pending.count, resolvedAhead.remove(pending[head]) != nil {
                moveCommit(past: pending[head])
                head += 1
            }
            // Compact now and then so the array does not grow with the partition's life.
            if head >= 4096, head * 2 >= pending.count {
                pending.removeFirst(head)
                head = 0
            }
        }

        mutating func moveCommit(past offset: Int64) {
            committable = Swift.max(committable ?? Int64.min, offset + 1)
        }
    }

    private var assignments: [KafkaPartition: Assignment] = [:]
    private var lastEpoch: UInt64 = 0

    public init() {}

    // MARK: Assignment

    /// Starts a lease for each partition. `horizons` holds the high watermarks known at
    /// assignment; a partition without one treats every record as a possible redelivery
    /// until ``setHorizon(_:_:)`` is called.
    ///
    /// Assigning a partition that is already assigned (librdkafka never does, but an
    /// error path might) ends the old lease first, as a lost one: its in-flight work can
    /// no longer move a commit.
    @discardableResult
    public mutating func assign(_ partitions: [KafkaPartition], horizons: [KafkaPartition: Int64] = [:]) -> [Lease] {
        partitions.map { p in
            lastEpoch += 1
            assignments[p] = Assignment(epoch: lastEpoch, horizon: horizons[p])
            return Lease(partition: p, epoch: lastEpoch)
        }
    }

    /// Records the high watermark at assignment time once it is known. A horizon learned
    /// late is higher than the true one, which only makes more records suspect.
    public mutating func setHorizon(_ lease: Lease, _ horizon: Int64) {
        guard assignments[lease.partition]?.epoch == lease.epoch else { return }
        assignments[lease.partition]?.horizon = horizon
    }

    /// Ends the leases of `partitions` and returns the offsets to commit for them before
    /// they are unassigned: nothing when the assignment was `lost` (another member may
    /// own them already). Later resolutions for these leases are ignored.
    public mutating func revoke(_ partitions: [KafkaPartition], lost: Bool) -> [(KafkaPartition, Int64)] {
        var out: [(KafkaPartition, Int64)] = []
        for p in partitions {
            guard let a = assignments.removeValue(forKey: p) else { continue }
            if !lost, let c = a.committable, c > (a.committed ?? Int64.min) { out.append((p, c)) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Ends every lease (EAGER revoke, shutdown, an error from the group).
    public mutating func revokeAll(lost: Bool) -> [(KafkaPartition, Int64)] {
        revoke(Array(assignments.keys), lost: lost)
    }

    // MARK: Records

    /// Registers a record handed to the pipeline, in the order librdkafka delivered it.
    public mutating func deliver(_ partition: KafkaPartition, offset: Int64) -> Delivery {
        guard var a = assignments[partition] else { return Delivery(lease: nil, mayBeRedelivered: true) }
        assignments[partition] = nil  // keep the entry uniquely referenced while mutating
        a.pending.append(offset)
        a.inFlight += 1
        let suspect = a.horizon.map { offset < $0 } ?? true
        let lease = Lease(partition: partition, epoch: a.epoch)
        assignments[partition] = a
        return Delivery(lease: lease, mayBeRedelivered: suspect)
    }

    /// Registers a run of records of one partition (in delivery order) and returns the
    /// partition's lease and redelivery horizon: a record below the horizon, or any
    /// record while the horizon is unknown, may be a redelivery.
    public mutating func deliver(_ partition: KafkaPartition, offsets: [Int64]) -> (lease: Lease?, horizon: Int64?) {
        guard var a = assignments[partition] else { return (nil, nil) }
        assignments[partition] = nil
        a.pending.append(contentsOf: offsets)
        a.inFlight += offsets.count
        let result = (Lease(partition: partition, epoch: a.epoch), a.horizon)
        assignments[partition] = a
        return result
    }

    /// Marks records of a lease as resolved. Returns false (and changes nothing) when the
    /// lease has ended: a revoked partition's late resolutions never move a commit.
    @discardableResult
    public mutating func resolve(_ lease: Lease, offsets: some Sequence<Int64>) -> Bool {
        guard var a = assignments[lease.partition], a.epoch == lease.epoch else { return false }
        assignments[lease.partition] = nil
        for offset in offsets {
            a.inFlight -= 1
            if a.head < a.pending.count, a.pending[a.head] == offset {
                a.moveCommit(past: offset)
                a.head += 1
            } else {
                a.resolvedAhead.insert(offset)
            }
        }
        a.advance()
        assignments[lease.partition] = a
        return true
    }

    @discardableResult
    public mutating func resolve(_ lease: Lease, offset: Int64) -> Bool {
        resolve(lease, offsets: CollectionOfOne(offset))
    }

    /// Marks records that will never resolve. They stop counting as in flight, and the
    /// commit point of their lease can never pass them.
    public mutating func abandon(_ lease: Lease, offsets: some Sequence<Int64>) {
        guard var a = assignments[lease.partition], a.epoch == lease.epoch else { return }
        assignments[lease.partition] = nil
        for offset in offsets {
            a.abandoned.insert(offset)
            a.inFlight -= 1
        }
        assignments[lease.partition] = a
    }

    // MARK: Commits

    /// Offsets worth committing now: every assigned partition whose commit point is past
    /// what the broker last confirmed.
    public func commitCandidates() -> [(KafkaPartition, Int64)] {
        var out: [(KafkaPartition, Int64)] = []
        for (p, a) in assignments {
            if let c = a.committable, c > (a.committed ?? Int64.min) { out.append((p, c)) }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// The broker confirmed a commit. Ignored for a partition no longer assigned.
    public mutating func confirmCommit(_ partition: KafkaPartition, offset: Int64) {
        guard var a = assignments[partition] else { return }
        a.committed = Swift.max(a.committed ?? Int64.min, offset)
        assignments[partition] = a
    }

    // MARK: Queries

    public var assignedPartitions: [KafkaPartition] { assignments.keys.sorted() }

    public func lease(for partition: KafkaPartition) -> Lease? {
        assignments[partition].map { Lease(partition: partition, epoch: $0.epoch) }
    }

    public func state(of partition: KafkaPartition) -> PartitionState? {
        assignments[partition].map {
            PartitionState(epoch: $0.epoch, committable: $0.committable, committed: $0.committed, inFlight: $0.inFlight, redeliveryHorizon: $0.horizon)
        }
    }

    /// Records in flight in `partitions` (all assigned partitions when nil).
    public func inFlight(_ partitions: [KafkaPartition]? = nil) -> Int {
        if let partitions { return partitions.reduce(0) { $0 + (assignments[$1]?.inFlight ?? 0) } }
        return assignments.values.reduce(0) { $0 + $1.inFlight }
    }

    /// Leases whose horizon is still unknown.
    public var leasesWithoutHorizon: [Lease] {
        assignments.filter { $0.value.horizon == nil }.map { Lease(partition: $0.key, epoch: $0.value.epoch) }.sorted { $0.partition < $1.partition }
    }
}
