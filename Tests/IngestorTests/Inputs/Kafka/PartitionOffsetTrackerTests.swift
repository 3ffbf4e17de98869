import Ingestor
import Testing

@Suite struct PartitionOffsetTrackerTests {
    let p0 = KafkaPartition(topic: "events", partition: 0)
    let p1 = KafkaPartition(topic: "events", partition: 1)

    func deliver(_ t: inout PartitionOffsetTracker, _ p: KafkaPartition, _ offsets: [Int64]) -> PartitionOffsetTracker.Lease {
        let (lease, _) = t.deliver(p, offsets: offsets)
        return lease!
    }

    @Test func nothingIsCommittableBeforeTheFirstResolution() {
        var t = PartitionOffsetTracker()
        t.assign([p0], horizons: [p0: 0])
        _ = deliver(&t, p0, [0, 1, 2])
        #expect(t.commitCandidates().isEmpty)
        #expect(t.inFlight() == 3)
    }

    @Test func inOrderResolutionCommitsLastPlusOne() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let lease = deliver(&t, p0, [10, 11, 12])
        t.resolve(lease, offsets: [10, 11])
        #expect(t.commitCandidates().map(\.1) == [12])
        t.resolve(lease, offset: 12)
        #expect(t.commitCandidates().map(\.1) == [13])
        #expect(t.inFlight() == 0)
    }

    @Test func outOfOrderResolutionWaitsForTheEarliestRecord() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let lease = deliver(&t, p0, [0, 1, 2, 3, 4])
        t.resolve(lease, offsets: [3, 1, 4])
        #expect(t.commitCandidates().isEmpty, "offset 0 is still in flight")
        t.resolve(lease, offset: 0)
        #expect(t.commitCandidates().map(\.1) == [2], "1 resolved, 2 not yet")
        t.resolve(lease, offset: 2)
        #expect(t.commitCandidates().map(\.1) == [5])
    }

    @Test func gapsInOffsetsAreNotHoles() {
        // Compaction and transaction markers leave offsets that are never delivered.
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let lease = deliver(&t, p0, [5, 9, 20])
        t.resolve(lease, offsets: [9, 20])
        #expect(t.commitCandidates().isEmpty)
        t.resolve(lease, offset: 5)
        #expect(t.commitCandidates().map(\.1) == [21])
    }

    @Test func partitionsAreIndependent() {
        var t = PartitionOffsetTracker()
        t.assign([p0, p1])
        let a = deliver(&t, p0, [0, 1])
        let b = deliver(&t, p1, [100, 101])
        t.resolve(b, offsets: [100, 101])
        t.resolve(a, offset: 1)
        let candidates = t.commitCandidates()
        #expect(candidates.map(\.0) == [p1])
        #expect(candidates.map(\.1) == [102])
    }

    @Test func confirmedCommitsAreNotRepeatedAndNeverGoBack() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let lease = deliver(&t, p0, [0, 1, 2])
        t.resolve(lease, offsets: [0, 1, 2])
        t.confirmCommit(p0, offset: 3)
        #expect(t.commitCandidates().isEmpty)
        t.confirmCommit(p0, offset: 1)  // a late answer to an older commit
        #expect(t.commitCandidates().isEmpty)
        #expect(t.state(of: p0)?.committed == 3)
    }

    @Test func aRedeliveredOffsetNeverMovesTheCommitBack() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let lease = deliver(&t, p0, [10, 11])
        _ = deliver(&t, p0, [10])
        t.resolve(lease, offsets: [10, 11])
        #expect(t.commitCandidates().map(\.1) == [12])
        t.resolve(lease, offset: 10)
        #expect(t.commitCandidates().map(\.1) == [12])
    }

    @Test func revokeReturnsTheFinalCommitAndEndsTheLease() {
        var t = PartitionOffsetTracker()
        t.assign([p0, p1])
        let a = deliver(&t, p0, [0, 1, 2])
        t.resolve(a, offsets: [0, 1])
        let final = t.revoke([p0], lost: false)
        #expect(final.map(\.0) == [p0])
        #expect(final.map(\.1) == [2])
        #expect(t.assignedPartitions == [p1])
        #expect(t.inFlight([p0]) == 0)
        // The late resolution of offset 2 is ignored, and nothing is committable for p0.
        #expect(t.resolve(a, offset: 2) == false)
        #expect(t.commitCandidates().isEmpty)
    }

    @Test func aLostAssignmentCommitsNothing() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let a = deliver(&t, p0, [0, 1])
        t.resolve(a, offsets: [0, 1])
        #expect(t.revoke([p0], lost: true).isEmpty)
        #expect(t.commitCandidates().isEmpty)
    }

    @Test func reassignmentStartsANewLeaseThatIgnoresTheOldOne() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let old = deliver(&t, p0, [0, 1, 2])
        _ = t.revoke([p0], lost: false)
        t.assign([p0], horizons: [p0: 50])
        let new = deliver(&t, p0, [40, 41])
        #expect(new.epoch > old.epoch)
        #expect(t.resolve(old, offsets: [0, 1, 2]) == false)
        #expect(t.commitCandidates().isEmpty, "the old lease's resolutions must not count for the new one")
        t.resolve(new, offsets: [40, 41])
        #expect(t.commitCandidates().map(\.1) == [42])
    }

    @Test func revokeAllEndsEveryLease() {
        var t = PartitionOffsetTracker()
        t.assign([p0, p1])
        let a = deliver(&t, p0, [0])
        let b = deliver(&t, p1, [0])
        t.resolve(a, offset: 0)
        t.resolve(b, offset: 0)
        let final = t.revokeAll(lost: false)
        #expect(final.map(\.0) == [p0, p1])
        #expect(t.assignedPartitions.isEmpty)
    }

    @Test func abandonedRecordsBlockTheCommitButNotTheDrain() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        let lease = deliver(&t, p0, [0, 1, 2, 3])
        t.resolve(lease, offset: 0)
        t.abandon(lease, offsets: [1])
        t.resolve(lease, offsets: [2, 3])
        #expect(t.inFlight() == 0, "nothing left to wait for")
        #expect(t.commitCandidates().map(\.1) == [1], "never past the abandoned record")
    }

    @Test func recordsForAnUnassignedPartitionAreNotTracked() {
        var t = PartitionOffsetTracker()
        let (lease, _) = t.deliver(p0, offsets: [7])
        #expect(lease == nil)
        let single = t.deliver(p0, offset: 7)
        #expect(single.lease == nil && single.mayBeRedelivered)
        #expect(t.commitCandidates().isEmpty)
    }

    @Test func recordsBelowTheHorizonMayBeRedeliveries() {
        var t = PartitionOffsetTracker()
        t.assign([p0, p1], horizons: [p0: 100])
        #expect(t.deliver(p0, offset: 99).mayBeRedelivered)
        #expect(!t.deliver(p0, offset: 100).mayBeRedelivered)
        // Unknown horizon: everything is suspect until it is learnt.
        #expect(t.deliver(p1, offset: 1_000_000).mayBeRedelivered)
        let lease = t.leasesWithoutHorizon
        #expect(lease.map(\.partition) == [p1])
        t.setHorizon(lease[0], 10)
        #expect(!t.deliver(p1, offset: 1_000_001).mayBeRedelivered)
        #expect(t.leasesWithoutHorizon.isEmpty)
    }

    @Test func longRunsStayCorrectAcrossCompaction() {
        var t = PartitionOffsetTracker()
        t.assign([p0])
        var next: Int64 = 0
        for _ in 0..<20 {
            let offsets = (0..<1000).map { next + Int64($0) }
            next += 1000
            let lease = deliver(&t, p0, offsets)
            // Resolve in reverse order: every record but the first waits in the set.
            t.resolve(lease, offsets: offsets.reversed())
            #expect(t.commitCandidates().map(\.1) == [next])
        }
        #expect(t.inFlight() == 0)
    }
}
