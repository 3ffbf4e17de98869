import Pipeline
import Synchronization
import Testing

@Suite struct BoundedChannelTests {
    @Test func trySendRefusesBeyondCapacity() {
        let c = BoundedChannel<Int>(capacity: 2)
        #expect(c.trySend(1))
        #expect(c.trySend(2))
        #expect(!c.trySend(3), "a full channel must push back, not grow")
        #expect(c.count == 2)
    }

    @Test func sendWaitsUntilAReceiverMakesRoom() async throws {
        let c = BoundedChannel<Int>(capacity: 1)
        #expect(await c.send(1))
        let done = Mutex(false)
        let sender = Task {
            let ok = await c.send(2)
            done.withLock { $0 = true }
            return ok
        }
        try await Task.sleep(for: .milliseconds(20))
        #expect(done.withLock { $0 } == false)
        #expect(await c.receive() == 1)
        #expect(await sender.value)
        #expect(await c.receive() == 2)
    }

    @Test func elementsArriveInOrderAcrossManyProducers() async {
        let c = BoundedChannel<Int>(capacity: 4)
        await withTaskGroup(of: Void.self) { group in
            for p in 0..<4 {
                group.addTask { for i in 0..<250 { await c.send(p * 1000 + i) } }
            }
            group.addTask {
                var last = [Int](repeating: -1, count: 4)
                for _ in 0..<1000 {
                    let v = await c.receive()!
                    let p = v / 1000
                    #expect(v % 1000 > last[p])
                    last[p] = v % 1000
                }
            }
        }
    }

    @Test func closeDrainsThenEnds() async {
        let c = BoundedChannel<Int>(capacity: 4)
        await c.send(1)
        c.close()
        #expect(await c.send(2) == false)
        #expect(await c.receive() == 1)
        #expect(await c.receive() == nil)
    }
}
