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
}
