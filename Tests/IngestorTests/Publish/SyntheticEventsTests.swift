import Ingestor
import Testing

@Suite struct SyntheticEventsTests {
    @Test(arguments: SyntheticEvents.Dataset.allCases)
    func dedupKeysAreUniqueAcrossSeedsAndStableAcrossRuns(dataset: SyntheticEvents.Dataset) {
        var keys = Set<String>()
        for seed in UInt64(100)...103 {
            let g = SyntheticEvents(dataset: dataset, total: 5000, startMillis: 0, spanMillis: 1000, seed: seed)
            for i in 0..<5000 {
                let key = dataset == .metrics ? g.eventID(i) : String(g.data(i).split(separator: "\"")[3])
                #expect(keys.insert(key).inserted, "\(dataset) seed \(seed) event \(i) repeats key \(key)")
            }
        }
        let a = SyntheticEvents(dataset: dataset, total: 10, startMillis: 0, spanMillis: 1000, seed: 1)
        let b = SyntheticEvents(dataset: dataset, total: 10, startMillis: 0, spanMillis: 1000, seed: 1)
        #expect(a.cloudEvent(3) == b.cloudEvent(3))
    }

    @Test func timestampsAreRFC3339WithMilliseconds() {
        #expect(SyntheticEvents(dataset: .metrics, total: 1, startMillis: 1_710_513_000_123, spanMillis: 0).cloudEvent(0).contains("2024-03-15T14:30:00.123Z"))
    }
}
