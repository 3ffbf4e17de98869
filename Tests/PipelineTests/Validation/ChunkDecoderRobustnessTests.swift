import Pipeline
import Testing

@Suite struct ChunkDecoderRobustnessTests {
    /// Every byte of valid events of each mode replaced by troublesome bytes: the decoder
    /// must never crash, must account for every message, and must leave batches consistent.
    @Test func mutatedMessagesNeverCrashAndAreAllAccountedFor() throws {
        let structured = cloudEvent(
            extra: #""tenantid":"t","time":"2025-01-15T10:00:00Z","data_base64":null"#,
            data: #"{"metric_name":"a\u00e9","value":"1.5","timestamp":1736937000123,"dimensions":{"k":[1,{"x":null}]}}"#)
        let items = #"{"metrics":[{"metric_name":"a","value":1},{"metric_name":"b","value":2,"dimensions":{"r":"eu"}}]}"#
        let attributes = ["specversion": "1.0", "source": "/s", "type": "metric", "tenantid": "t"]
        let cases: [(String, MessageFormat)] = [
            (structured, .structured), ("[\(structured),\(structured)]", .structured),
            (items, .binaryItems(attributes: attributes, itemsKey: "metrics")),
            (#"{"metric_name":"a","value":1}"#, .binary(attributes: attributes.merging(["id": "1"]) { a, _ in a })),
        ]
        let replacements: [UInt8] = [0x00, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0xC3, 0xFF, 0x30, 0x6E]
        var decoder = try ChunkDecoder(catalog: Presets.catalog)
        for (body, format) in cases {
            let bytes = Array(body.utf8)
            let chunk = MessageChunk(expectedBytes: bytes.count * bytes.count * replacements.count)
            for i in bytes.indices {
                for r in replacements {
                    var mutated = bytes
                    mutated[i] = r
                    let range = chunk.appendPayload(mutated)
                    chunk.messages.append(InboundMessage(
                        payload: range, format: format, origin: MessageOrigin(kind: .kafka, stream: "t"),
                        tenant: TenantScope(defaultTenant: "d"), receivedAtNanos: 1))
                }
            }
            let out = decoder.decode(chunk)
            var rows = 0
            for case let table? in out.tables {
                #expect(table.batch.isConsistent)
                #expect(table.batch.rowCount == table.rowCount)
                #expect(table.messageIndex.count == table.rowCount)
                rows += table.rowCount
            }
            let events = out.eventsPerMessage.reduce(0) { $0 + Int($1) }
            #expect(rows + out.rejections.count == events, "every event is a row or a rejection")
            #expect(out.eventsPerMessage.allSatisfy { $0 >= 1 })
            #expect(out.rejections.allSatisfy { !$0.reason.isEmpty })
        }
    }
}
