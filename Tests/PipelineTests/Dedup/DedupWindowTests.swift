import Pipeline
import Testing

@Suite struct DedupWindowTests {
    let second: Int64 = 1_000_000_000

    @Test func pendingThenDurable() {
        var w = DedupWindow(window: .seconds(60), maxKeys: 100)
        let k = EventKey(low: 1, high: 2)
        #expect(w.lookup(k) == .fresh)
        w.addPending(k, batch: 9)
        #expect(w.lookup(k) == .pending(9))
        w.markDurable([k], now: 1000 * second)
        #expect(w.lookup(k) == .durable)
        #expect(w.pendingCount == 0)
    }

    @Test func keysExpireAfterTheWindow() {
        var w = DedupWindow(window: .seconds(60), maxKeys: 100)
        let k = EventKey(low: 1, high: 2)
        w.markDurable([k], now: 1000 * second)
        w.expire(now: 1030 * second)
        #expect(w.lookup(k) == .durable)
        w.expire(now: 1200 * second)
        #expect(w.lookup(k) == .fresh)
        #expect(w.count == 0)
    }

    @Test func memoryBoundShortensTheWindowInsteadOfGrowing() {
        var w = DedupWindow(window: .seconds(600), maxKeys: 1000, slices: 6)
        for i in 0..<5000 {
            w.markDurable([EventKey(low: UInt64(i), high: 0)], now: (1000 + Int64(i / 10)) * second)
        }
        #expect(w.count <= 1000 + 200, "at most one slice above the bound")
        #expect(w.lookup(EventKey(low: 4999, high: 0)) == .durable, "the newest keys are kept")
        #expect(w.lookup(EventKey(low: 0, high: 0)) == .fresh)
    }

    @Test func rebuildAcceptsKeysOutOfOrder() {
        var w = DedupWindow(window: .seconds(600), maxKeys: 100)
        w.insertDurable(EventKey(low: 1, high: 0), at: 2000 * second)
        w.insertDurable(EventKey(low: 2, high: 0), at: 1700 * second)
        #expect(w.lookup(EventKey(low: 1, high: 0)) == .durable)
        #expect(w.lookup(EventKey(low: 2, high: 0)) == .durable)
        #expect(w.count == 2)
    }

    @Test func claimMakesAFreshKeyPendingAndReportsKnownOnes() {
        var w = DedupWindow(window: .seconds(60), maxKeys: 100)
        let k = EventKey(low: 7, high: 8)
        #expect(w.claim(k, batch: 3) == .fresh)
        #expect(w.lookup(k) == .pending(3))
        #expect(w.claim(k, batch: 4) == .pending(3), "a second claim does not move the key")
        w.markDurable([k], now: 1000 * second)
        #expect(w.claim(k, batch: 5) == .durable)
        #expect(w.count == 1)
        #expect(w.pendingCount == 0)
    }

    @Test func droppedPendingKeysCanBeClaimedAgain() {
        var w = DedupWindow(window: .seconds(60), maxKeys: 100)
        let k = EventKey(low: 1, high: 1)
        #expect(w.claim(k, batch: 1) == .fresh)
        w.dropPending([k])
        #expect(w.lookup(k) == .fresh)
        #expect(w.count == 0)
        #expect(w.claim(k, batch: 2) == .fresh)
        #expect(w.lookup(k) == .pending(2))
        #expect(w.count == 1)
    }

    /// Random claims, drops and durability over a small key space, against a plain
    /// dictionary: collisions, reuse of dropped slots and rehashes must never lose or
    /// invent a key.
    @Test func agreesWithAPlainModelThroughRehashes() {
        var w = DedupWindow(window: .seconds(3600), maxKeys: 10_000_000)
        enum State: Equatable { case pending(UInt64), durable }
        var model: [EventKey: State] = [:]
        var rng = SystemRandomNumberGenerator()
        // Keys sharing their low half, so probe sequences collide.
        let keys = (0..<6000).map { EventKey(low: UInt64($0 % 7), high: UInt64($0)) }
        var batch: UInt64 = 1
        for step in 0..<60_000 {
            let k = keys[Int.random(in: 0..<keys.count, using: &rng)]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let expected: DedupWindow.Lookup
                switch model[k] {
                case nil: expected = .fresh; model[k] = .pending(batch)
                case .pending(let b): expected = .pending(b)
                case .durable: expected = .durable
                }
                #expect(w.claim(k, batch: batch) == expected)
            case 5..<8:
                w.markDurable([k], now: 1000 * second)
                model[k] = .durable
            default:
                w.dropPending([k])
                if case .pending = model[k] { model[k] = nil }
            }
            if step % 1000 == 0 { batch += 1 }
        }
        for k in keys {
            let expected: DedupWindow.Lookup
            switch model[k] {
            case nil: expected = .fresh
            case .pending(let b): expected = .pending(b)
            case .durable: expected = .durable
            }
            #expect(w.lookup(k) == expected)
        }
        #expect(w.count == model.count)
        #expect(w.pendingCount == model.values.filter { $0 != .durable }.count)
    }

    @Test func expiredKeysAreFreshAgainAndCountedOnce() {
        var w = DedupWindow(window: .seconds(60), maxKeys: 1_000_000)
        let old = (0..<3000).map { EventKey(low: UInt64($0), high: 1) }
        let new = (0..<3000).map { EventKey(low: UInt64($0), high: 2) }
        w.markDurable(old, now: 1000 * second)
        w.markDurable(new, now: 1100 * second)
        w.expire(now: 1150 * second)
        #expect(w.count == 3000)
        #expect(old.allSatisfy { w.lookup($0) == .fresh })
        #expect(new.allSatisfy { w.lookup($0) == .durable })
        // Expired slots are reused, and the keys count once more.
        for k in old { #expect(w.claim(k, batch: 9) == .fresh) }
        w.markDurable(old, now: 1160 * second)
        #expect(w.count == 6000)
        #expect(w.pendingCount == 0)
        // Marking a durable key again moves it to the later slice, still counted once.
        w.markDurable(new, now: 1200 * second)
        #expect(w.count == 6000)
        w.expire(now: 1230 * second)
        #expect(new.allSatisfy { w.lookup($0) == .durable }, "kept with its later slice")
    }

    @Test func aKeyFiledBeforeTheOldestSliceStaysAfterTheSliceExpired() {
        var w = DedupWindow(window: .seconds(60), maxKeys: 1_000_000)
        w.markDurable([EventKey(low: 1, high: 0)], now: 1000 * second)
        w.expire(now: 1100 * second)
        // A rebuild can read a row older than what has expired; it must not revive
        // the expired slice, and must itself be found.
        w.insertDurable(EventKey(low: 2, high: 0), at: 990 * second)
        #expect(w.lookup(EventKey(low: 1, high: 0)) == .fresh)
        #expect(w.lookup(EventKey(low: 2, high: 0)) == .durable)
        #expect(w.count == 1)
    }
}
