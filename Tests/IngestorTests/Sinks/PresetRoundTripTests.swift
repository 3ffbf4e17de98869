import Foundation
import Ingestor
import Logging
import Pipeline
import Sinks
import Testing
import TestSupport

/// Every preset dataset through the whole write path (decode, validate, sort, encode,
/// compress, insert) into the real ClickHouse 18.16, read back and compared value by
/// value with what the pipeline produced.
@Suite(.serialized) struct PresetRoundTripTests {
    static let catalog: [DatasetDefinition] = {
        (try? DatasetCatalogLoader.load(paths: [RepositoryRoot.file("config/datasets")])) ?? []
    }()

    /// Events that probe the edges: NULLs, non-ASCII and empty strings, extreme numbers,
    /// millisecond timestamps and the ends of DateTime's range.
    static func edgeEvents(_ dataset: SyntheticEvents.Dataset) -> [String] {
        func ce(_ id: String, _ data: String, tenant: String = "t-edge") -> String {
            let t = dataset == .metrics ? #","tenantid":"\#(tenant)""# : ""
            return #"{"specversion":"1.0","id":"\#(id)","source":"/edge","type":"\#(dataset.eventType)"\#(t),"data":\#(data)}"#
        }
        switch dataset {
        case .metrics:
            return [
                ce("m1", #"{"metric_name":"温度/℃ 🚀 \"quoted\"\ttab","value":1.7976931348623157e308,"timestamp":"1970-01-01T00:00:00.000Z","dimensions":{},"metadata":{"":""}}"#),
                ce("m2", #"{"metric_name":"","value":-1.7976931348623157e308,"timestamp":"2106-02-07T06:28:15.999Z","dimensions":{"région":"Zürich","empty":""}}"#, tenant: ""),
                ce("m3", #"{"metric_name":"tiny","value":5e-324,"timestamp":"2024-02-29T23:59:59.001Z","dimensions":{"a":"b\nc\\d"}}"#),
                ce("m4", #"{"metric_name":"zero","value":-0.0,"timestamp":1700000000123,"metadata":{"k":"v"}}"#),
            ]
        case .inference:
            let u = "00000000-0000-0000-0000-000000000000"
            return [
                ce("i1", #"{"inference_id":"ffffffff-ffff-ffff-ffff-ffffffffffff","project_id":"\#(u)","endpoint_id":"\#(u)","model_id":"\#(u)","is_success":false,"request_arrival_time":"1970-01-01T00:00:00","request_forward_time":"1970-01-01T00:00:00.001","cost":null,"input_tokens":4294967295,"output_tokens":0,"response_time_ms":null,"ttft_ms":0.001,"error_code":"ÉRROR ☃","response_analysis":{"nested":{"deep":[1,2,{"x":null}]},"s":"ü"}}"#),
                ce("i2", #"{"inference_id":"12345678-9abc-def0-1234-56789abcdef0","project_id":"\#(u)","endpoint_id":"\#(u)","model_id":"\#(u)","is_success":true,"request_arrival_time":"2106-02-07T06:28:15","request_forward_time":"2106-02-07T06:28:15.999Z","cost":-0.5,"response_analysis":""}"#),
            ]
        case .gateway:
            return [
                ce("g1", #"{"request_id":"ffffffff-0000-ffff-0000-ffffffffffff","timestamp":"2001-09-09T01:46:40.500Z","project_id":"00000000-0000-0000-0000-000000000001","path":"/路径?q=\"x\"","status_code":65535,"response_time_ms":1e-300,"total_tokens":4294967295,"cost":0,"client_id":"","country_code":"","city":"São Paulo","is_blocked":true,"block_reason":"rate\tlimit"}"#),
            ]
        }
    }

    /// Decodes events into the dataset's rows exactly as the pipeline does.
    static func decode(_ events: [String], dataset: Int) throws -> TableRows {
        var decoder = try ChunkDecoder(catalog: catalog)
        let chunk = MessageChunk()
        for e in events {
            let range = chunk.appendPayload(Array(e.utf8))
            chunk.messages.append(InboundMessage(payload: range, origin: MessageOrigin(kind: .http, stream: "test"), receivedAtNanos: 1_760_000_000_000_000_000))
        }
        let decoded = decoder.decode(chunk)
        #expect(decoded.rejections.isEmpty, "\(decoded.rejections.prefix(3).map { "\($0.field): \($0.reason)" })")
        return try #require(decoded.tables[dataset])
    }

    /// A SELECT expression per logical column that reads the stored value back in a form
    /// both sides can render, whatever the physical lowering on this server.
    static func readBack(_ name: String, _ type: ColumnType) -> String {
        let q = "`\(name)`"
        switch type.base {
        case .dateTime64:
            return "toUInt64(toUInt32(\(q))) * 1000 + `\(name)_ms`"
        case .map:
            return "arrayMap((k, v) -> concat(k, '=', v), `\(name).key`, `\(name).value`)"
        case .uuid:
            return type.isNullable ? "ifNull(toString(\(q)), '\\\\N')" : "toString(\(q))"
        case .fixedString:
            return "hex(\(q))"
        default:
            return q
        }
    }

    /// The same value rendered from the column buffer, as ClickHouse prints it in TSV.
    static func expected(_ column: ColumnBuffer, row: Int) -> String {
        if column.layout == .nullable, column.isNull(at: row) { return "\\N" }
        let c = column.layout == .nullable ? column.inner! : column
        switch c.type.base {
        case .dateTime64:
            return String(c.fixedValue(at: row, as: Int64.self))
        case .map:
            let r = c.range(of: row)
            let pairs = r.map { "'" + tsvArrayEscape(c.inner!.string(at: $0) + "=" + c.inner2!.string(at: $0)) + "'" }
            return "[" + pairs.joined(separator: ",") + "]"
        case .uuid:
            let b = c.stringBytes(at: row)
            let canonical = Array(b[0..<8].reversed()) + Array(b[8..<16].reversed())
            let hex = upperHex(canonical).lowercased()
            let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
            return parts.map(String.init).joined(separator: "-")
        case .fixedString:
            return upperHex(c.stringBytes(at: row))
        case .string:
            return tsvEscape(c.string(at: row))
        case .bool, .uint8:
            return String(c.fixedValue(at: row, as: UInt8.self))
        case .uint16: return String(c.fixedValue(at: row, as: UInt16.self))
        case .dateTime: return dateTimeText(c.fixedValue(at: row, as: UInt32.self))
        case .uint32: return String(c.fixedValue(at: row, as: UInt32.self))
        case .float64: return "f:" + String(c.float64(at: row).bitPattern)
        default: return c.describe(row: row)
        }
    }

    static func upperHex<C: Collection<UInt8>>(_ bytes: C) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Civil date from days since the epoch (Howard Hinnant's algorithm), so that
    /// 300,000 rows need no DateFormatter.
    static func dateTimeText(_ seconds: UInt32) -> String {
        let days = Int(seconds / 86_400), secs = Int(seconds % 86_400)
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(y)-\(two(m))-\(two(d)) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))"
    }

    static func tsvEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func tsvArrayEscape(_ s: String) -> String {
        // Inside an array, strings are quoted and escaped once (backslash, quote, tab,
        // newline); the TSV layer does not escape the array's text again.
        tsvEscape(s).replacingOccurrences(of: "'", with: "\\'")
    }

    /// Floats come back as text; compare them as the same Double.
    static func same(_ expected: String, _ actual: String) -> Bool {
        if expected.hasPrefix("f:"), let bits = UInt64(expected.dropFirst(2)) {
            let e = Double(bitPattern: bits)
            guard let a = Double(actual) else { return actual == "inf" && e == .infinity || actual == "-inf" && e == -.infinity }
            return a == e || (a.isNaN && e.isNaN)
        }
        return expected == actual
    }

    @Test(arguments: [CompressionMethod.lz4, .zstd])
    func everyPresetRoundTripsValueByValue(compression: CompressionMethod) async throws {
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "roundtrip")
        let transport = try ClickHouseHTTPTransport(configuration: ch.configuration(database: db))
        defer { transport.shutdown() }
        _ = try await Migrator(transport: transport, logger: Logger(label: "test")).migrate(datasets: Self.catalog)
        let sink = ClickHouseSink(transport: transport, catalog: Self.catalog, compression: compression, logger: Logger(label: "test"))
        for (index, dataset) in Self.catalog.enumerated() {
            guard let kind = SyntheticEvents.Dataset(rawValue: dataset.name) else { continue }
            let gen = SyntheticEvents(dataset: kind, total: 100_000, tenants: 13, startMillis: 1_700_000_000_000, spanMillis: 30 * 86_400_000, seed: 2024)
            let events = (0..<100_000).map { gen.cloudEvent($0) } + Self.edgeEvents(kind)
            let rows = try Self.decode(events, dataset: index)
            #expect(rows.rowCount == events.count)
            try await sink.insert(into: .dataset(index), batch: rows.batch)

            let schema = dataset.tableSchema.filter { $0.name != DatasetDefinition.ingestedAtColumn }
            let keyColumn = try #require(rows.batch[DatasetDefinition.eventKeyColumn])
            let select = schema.map { Self.readBack($0.name, $0.type) }.joined(separator: ", ")
            let tsv = try await ch.query("SELECT \(select) FROM \(db).\(dataset.name) ORDER BY hex(_event_key) FORMAT TabSeparated")
            let lines = tsv.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
            #expect(lines.count == rows.rowCount, "\(dataset.name): \(lines.count) rows back of \(rows.rowCount)")
            // Order our rows the same way: by the hex of their key.
            let keys = (0..<rows.rowCount).map { Self.expected(keyColumn, row: $0) }
            let order = (0..<rows.rowCount).sorted { keys[$0] < keys[$1] }
            let columns = try schema.map { try #require(rows.batch[$0.name]) }
            var mismatches: [String] = []
            for (line, row) in zip(lines, order) {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                for (i, (name, _)) in schema.enumerated() {
                    let column = columns[i]
                    let want = Self.expected(column, row: row)
                    let got = i < fields.count ? fields[i] : "<missing>"
                    if !Self.same(want, got), mismatches.count < 10 { mismatches.append("\(dataset.name).\(name) row \(row): expected \(want), got \(got)") }
                }
            }
            #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        }
    }

    /// The rows of each batch reach ClickHouse already in ORDER BY order, so the server
    /// does not sort them. A `Log` table keeps rows in the order they arrive, so reading
    /// it back shows the order Sluice sent.
    @Test func batchesReachClickHouseSortedByTheTableKey() async throws {
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "sorted")
        let transport = try ClickHouseHTTPTransport(configuration: ch.configuration(database: db))
        defer { transport.shutdown() }
        _ = try await Migrator(transport: transport, logger: Logger(label: "test")).migrate(datasets: Self.catalog)
        let index = try #require(Self.catalog.firstIndex { $0.name == "metrics" })
        let dataset = Self.catalog[index]
        // Same columns, but an engine that stores rows in arrival order.
        try await ch.execute("DROP TABLE \(db).metrics_hourly_mv")
        try await ch.execute("CREATE TABLE \(db).metrics_arrival AS \(db).metrics ENGINE = Log")
        try await ch.execute("DROP TABLE \(db).metrics")
        try await ch.execute("RENAME TABLE \(db).metrics_arrival TO \(db).metrics")

        let gen = SyntheticEvents(dataset: .metrics, total: 20_000, tenants: 7, startMillis: 1_700_000_000_000, spanMillis: 86_400_000, seed: 7)
        let rows = try Self.decode((0..<20_000).map { gen.cloudEvent($0) }, dataset: index)
        let sink = ClickHouseSink(transport: transport, catalog: Self.catalog, compression: .lz4, logger: Logger(label: "test"))
        try await sink.insert(into: .dataset(index), batch: rows.batch)

        var key: [String] = []
        for name in dataset.orderBy {
            let column = try #require(dataset.tableSchema.first { $0.name == name })
            key.append(Self.readBack(name, column.type))
        }
        // One thread, so the Log table is read back in the order it was written.
        let sent = try await ch.query("SELECT \(key.joined(separator: ", ")) FROM \(db).metrics FORMAT TabSeparated", settings: [("max_threads", "1")])
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(sent.count == 20_000)
        /// Byte order for strings, numeric order for numbers: how ClickHouse orders keys.
        func precedes(_ a: [String], _ b: [String]) -> Bool {
            for (x, y) in zip(a, b) where x != y {
                if let u = UInt64(x), let v = UInt64(y) { return u < v }
                return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
            }
            return false
        }
        var outOfOrder = 0
        for i in sent.indices.dropFirst() where precedes(sent[i], sent[i - 1]) { outOfOrder += 1 }
        #expect(outOfOrder == 0, "\(outOfOrder) adjacent rows out of ORDER BY order")
        // And the events were generated out of that order, so the check could fail.
        let generated = rows.batch[dataset.orderBy[0]].map { c in (0..<rows.rowCount).map { c.describe(row: $0) } } ?? []
        #expect(generated != generated.sorted(), "the generated events must arrive unsorted for this test to mean anything")
    }
}
