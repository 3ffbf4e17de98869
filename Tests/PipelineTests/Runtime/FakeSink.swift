import Pipeline
import Synchronization

/// An in-process sink whose failures a test scripts. The real ClickHouse sink is covered
/// by the integration tests; this one lets unit tests reach every retry branch quickly.
final class FakeSink: TableSink {
    enum Step: Sendable {
        case fail(SinkError)
        /// Writes the rows, then reports an unknown outcome (a timeout after sending).
        case writeThenLoseResponse
        /// Refuses the batch if it holds a row whose first column equals this value.
        case refuseRowsWithValue(UInt64)
    }

    struct State {
        var stored: [SinkTarget: [EventKey]] = [:]
        var values: [SinkTarget: [UInt64]] = [:]
        var script: [Step] = []
        var insertCalls = 0
        var lookups = 0
        var poison: UInt64?
    }

    let state = Mutex(State())

    func push(_ steps: Step...) { state.withLock { $0.script += steps } }

    func setPoison(_ v: UInt64?) { state.withLock { $0.poison = v } }

    var storedKeys: [EventKey] { state.withLock { $0.stored[.dataset(0)] ?? [] } }
    var storedValues: [UInt64] { state.withLock { $0.values[.dataset(0)] ?? [] } }
    var deadLetterCount: Int { state.withLock { $0.stored[.deadLetter]?.count ?? 0 } }
    var insertCalls: Int { state.withLock { $0.insertCalls } }
    var lookups: Int { state.withLock { $0.lookups } }

    func insert(into target: SinkTarget, batch: ColumnBatch) async throws(SinkError) {
        let keysColumn = batch[DatasetDefinition.eventKeyColumn]!
        var keys: [EventKey] = []
        var values: [UInt64] = []
        for row in 0..<batch.rowCount {
            keys.append(EventKey(low: keysColumn.fixedValue(at: row * 2, as: UInt64.self), high: keysColumn.fixedValue(at: row * 2 + 1, as: UInt64.self)))
            if target != .deadLetter { values.append(batch.columns[0].buffer.fixedValue(at: row, as: UInt64.self)) }
        }
        let result: SinkError? = state.withLock { s in
            s.insertCalls += 1
            if let poison = s.poison, target != .deadLetter, values.contains(poison) {
                return SinkError(kind: .rejectedData, code: 53, message: "Type mismatch")
            }
            let step = s.script.isEmpty ? nil : s.script.removeFirst()
            switch step {
            case .fail(let e)?:
                return e
            case .writeThenLoseResponse?:
                s.stored[target, default: []] += keys
                s.values[target, default: []] += values
                return SinkError(kind: .unknownOutcome, message: "timeout after send")
            case .refuseRowsWithValue(let v)?:
                if values.contains(v) { return SinkError(kind: .rejectedData, code: 53, message: "Type mismatch") }
                fallthrough
            case nil:
                s.stored[target, default: []] += keys
                s.values[target, default: []] += values
                return nil
            }
        }
        if let result { throw result }
    }

    func existingKeys(in target: SinkTarget, keys: [EventKey]) async throws(SinkError) -> Set<EventKey> {
        state.withLock { s in
            s.lookups += 1
            return Set(keys).intersection(s.stored[target] ?? [])
        }
    }

    func recentKeys(in target: SinkTarget, sinceSeconds: UInt32, limit: Int) async throws(SinkError) -> [(key: EventKey, ingestedAtSeconds: UInt32)] {
        state.withLock { s in (s.stored[target] ?? []).suffix(limit).reversed().map { ($0, WallClock.nowSeconds()) } }
    }
}

/// Records what an input is told about its messages.
final class AckRecorder: Sendable {
    let resolved = Mutex<[Int: MessageResolution]>([:])

    func callback() -> @Sendable ([ResolvedMessage]) -> Void {
        { messages in
            self.resolved.withLock { r in
                for m in messages {
                    precondition(r[m.index] == nil, "message \(m.index) resolved twice")
                    r[m.index] = m.resolution
                }
            }
        }
    }

    var count: Int { resolved.withLock { $0.count } }
    func resolution(_ i: Int) -> MessageResolution? { resolved.withLock { $0[i] } }
}

/// Builds chunks of one-row messages with a value column and a key.
enum Rows {
    static let schema: [(name: String, type: ColumnType)] = [("v", .uint64), (DatasetDefinition.eventKeyColumn, .fixedString(16))]

    static func key(_ v: UInt64) -> EventKey { EventKey(low: v &* 0x9E37_79B9_7F4A_7C15, high: v) }

    /// One message per value; `redelivered` marks every message as a possible redelivery.
    static func make(_ values: [UInt64], keys: [UInt64]? = nil, redelivered: Bool = false, recorder: AckRecorder) -> (TableRows, ChunkAcknowledgement) {
        let rows = TableRows(datasetIndex: 0, batch: ColumnBatch(schema: schema))
        var messages: [InboundMessage] = []
        for (i, v) in values.enumerated() {
            rows.batch.columns[0].buffer.append(v)
            let k = key(keys?[i] ?? v)
            k.write(to: rows.batch.columns[1].buffer)
            rows.keys.append(k)
            rows.messageIndex.append(Int32(i))
            messages.append(InboundMessage(payload: 0..<0, origin: MessageOrigin(kind: .redis, stream: "s", offset: "\(i)-0"), mayBeRedelivered: redelivered, receivedAtNanos: 0))
        }
        let ack = ChunkAcknowledgement(messages: messages, eventsPerMessage: Array(repeating: 1, count: values.count), onResolved: recorder.callback())
        return (rows, ack)
    }
}
