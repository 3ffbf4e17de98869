import Testing
import Pipeline
import Sinks

/// Pre-sorting by the table's ORDER BY: ClickHouse's order (bytewise strings, signed and
/// unsigned numbers, NULLs last), stable, with every other column kept aligned.
@Suite struct BatchSorterTests {
    /// A small deterministic generator so failures reproduce.
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 17
        }
        mutating func shuffle<T>(_ a: inout [T]) {
            guard a.count > 1 else { return }
            for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(next() % UInt64(i + 1))) }
        }
    }

    static func bytewiseLess(_ a: String, _ b: String) -> Bool {
        Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    func sortedBlock(_ columns: [TestColumn], orderBy: [String], compression: CompressionMethod = .lz4) throws -> NativeBlockReader.Block {
        let encoder = try NativeEncoder(compression: compression)
        let body = try encoder.encodeInsertBody(makeBatch(columns), plan: makePlan(columns, orderBy: orderBy))
        return try NativeBlockReader.readOne(CompressedFrame.decode(body.body.bytes))
    }

    @Test func shuffledRowsComeOutByStringBytesThenNumbersWithOtherColumnsAligned() throws {
        let names = ["", "a", "ab", "aa", "b", "B", "é", "z", "\u{7f}", "😀", "a\u{0}", "Zürich", "zz"]
        var rows: [(String, Int32)] = []
        for name in names { for n: Int32 in [-5, 3, Int32.min, Int32.max, 0] { rows.append((name, n)) } }
        var rng = LCG(state: 42)
        rng.shuffle(&rows)
        let shuffled = rows
        let block = try sortedBlock([
            TestColumn("name", .string) { c in for r in shuffled { c.append(string: r.0) } },
            TestColumn("n", .int32) { c in for r in shuffled { c.append(r.1) } },
            TestColumn("payload", .string) { c in for r in shuffled { c.append(string: "\(r.0)#\(r.1)") } },
            TestColumn("tags", .array(.uint32)) { c in for r in shuffled { c.appendArrayRow { $0.append(UInt32(bitPattern: r.1)) } } },
            TestColumn("m", .map(key: .string, value: .string)) { c in for r in shuffled { c.appendMapRow([(r.0, "\(r.1)")]) } },
        ], orderBy: ["name", "n"])

        let expected = shuffled.sorted { a, b in a.0 == b.0 ? a.1 < b.1 : Self.bytewiseLess(a.0, b.0) }
        #expect(block["name"] == expected.map(\.0))
        #expect(block["n"] == expected.map { "\($0.1)" })
        #expect(block["payload"] == expected.map { "\($0.0)#\($0.1)" })
        #expect(block["tags"] == expected.map { "[\(UInt32(bitPattern: $0.1))]" })
        #expect(block["m"] == expected.map { "{\($0.0):\($0.1)}" })
    }

    @Test func nullsSortLastAndLowCardinalityKeysSortByValue() throws {
        let values: [String?] = ["m", nil, "b", "", nil, "a", "b"]
        let block = try sortedBlock([
            TestColumn("k", .lowCardinality(.nullable(.string))) { c in
                for v in values {
                    if let v { c.appendNullable { $0.append(string: v) } } else { c.appendNull() }
                }
            },
            TestColumn("i", .uint8) { c in for i in values.indices { c.append(UInt8(i)) } },
        ], orderBy: ["k"])
        #expect(block["k"] == ["", "a", "b", "b", "m", "NULL", "NULL"])
        // Stable: equal keys keep their arrival order.
        #expect(block["i"] == ["3", "5", "2", "6", "0", "1", "4"])
    }

    @Test func floatsSortNumericallyWithNaNLast() throws {
        let values: [Float64] = [1, .nan, -1, .infinity, 0.5, -.infinity, -1e300, 2.5]
        let block = try sortedBlock([TestColumn("f", .float64) { c in for v in values { c.append(v) } }], orderBy: ["f"])
        #expect(block["f"] == ["-inf", "-1e+300", "-1.0", "0.5", "1.0", "2.5", "inf", "nan"])
    }

    @Test func signedAndUnsignedIntegersSortByValue() throws {
        let block = try sortedBlock([
            TestColumn("u", .uint64) { c in for v: UInt64 in [UInt64.max, 0, 1 << 63, 5] { c.append(v) } },
            TestColumn("i", .int64) { c in for v: Int64 in [Int64.min, -1, Int64.max, 0] { c.append(v) } },
        ], orderBy: ["u"])
        #expect(block["u"] == ["0", "5", "9223372036854775808", "18446744073709551615"])
        #expect(block["i"] == ["-1", "0", "9223372036854775807", "-9223372036854775808"])
        let byI = try sortedBlock([
            TestColumn("i", .int8) { c in for v: Int8 in [127, -128, 0, -1] { c.append(v) } },
        ], orderBy: ["i"])
        #expect(byI["i"] == ["-128", "-1", "0", "127"])
    }

    @Test func uuidsSortLikeClickHouseByTheirSecondHalfFirst() throws {
        // ClickHouse (checked with chdb 26.9) orders UUIDs by canonical bytes 8-15 first.
        let block = try sortedBlock([
            TestColumn("u", .uuid) { c in
                c.append(uuid: "00000000-0000-0001-0000-000000000000")
                c.append(uuid: "00000000-0000-0000-0000-000000000001")
                c.append(uuid: "ffffffff-ffff-ffff-0000-000000000000")
            }
        ], orderBy: ["u"])
        #expect(block["u"] == [
            "00000000-0000-0001-0000-000000000000", "ffffffff-ffff-ffff-0000-000000000000",
            "00000000-0000-0000-0000-000000000001",
        ])
    }

    @Test func alreadySortedBatchKeepsItsOrderWithoutAPermutation() throws {
        let columns = [TestColumn("k", .uint32) { c in for v: UInt32 in 0..<100 { c.append(v) } }]
        #expect(try NativeEncoder.sortedRowOrder(of: makeBatch(columns), plan: makePlan(columns, orderBy: ["k"])) == Array(0..<100))
    }

    @Test func metricsShapedBatchSortsByTenantMetricAndTime() throws {
        var rng = LCG(state: 7)
        let n = 20_000
        var rows: [(tenant: String, metric: String, ts: Int64, value: Float64)] = []
        for i in 0..<n {
            rows.append(("tenant-\(rng.next() % 20)", "metric.\(rng.next() % 300)", 1_704_067_200_000 + Int64(rng.next() % 60_000),
                         Float64(i)))
        }
        let block = try sortedBlock([
            TestColumn("tenant_id", .lowCardinality(.string)) { c in for r in rows { c.append(string: r.tenant) } },
            TestColumn("metric_name", .lowCardinality(.string)) { c in for r in rows { c.append(string: r.metric) } },
            TestColumn("timestamp", .dateTime64(precision: 3, timezone: "UTC")) { c in for r in rows { c.append(r.ts) } },
            TestColumn("value", .float64) { c in for r in rows { c.append(r.value) } },
        ], orderBy: ["tenant_id", "metric_name", "timestamp"], compression: .zstd)
        let expected = rows.enumerated().sorted { a, b in
            if a.element.tenant != b.element.tenant { return Self.bytewiseLess(a.element.tenant, b.element.tenant) }
            if a.element.metric != b.element.metric { return Self.bytewiseLess(a.element.metric, b.element.metric) }
            if a.element.ts != b.element.ts { return a.element.ts < b.element.ts }
            return a.offset < b.offset
        }.map(\.element)
        #expect(block["tenant_id"] == expected.map(\.tenant))
        #expect(block["metric_name"] == expected.map(\.metric))
        #expect(block["timestamp"] == expected.map { "\($0.ts)" })
        #expect(block["value"] == expected.map { "\($0.value)" })
    }

    @Test func keysWiderThanOneWordAndManyDistinctStringsSortCorrectly() throws {
        var rng = LCG(state: 99)
        let n = 30_000
        var rows: [(String, UInt64, Int64)] = []
        for _ in 0..<n { rows.append(("s\(rng.next() % 5000)", rng.next() << 20 | rng.next(), Int64(bitPattern: rng.next() << 30))) }
        let block = try sortedBlock([
            TestColumn("s", .string) { c in for r in rows { c.append(string: r.0) } },
            TestColumn("u", .uint64) { c in for r in rows { c.append(r.1) } },
            TestColumn("i", .int64) { c in for r in rows { c.append(r.2) } },
        ], orderBy: ["s", "u", "i"])
        let expected = rows.enumerated().sorted { a, b in
            let x = a.element, y = b.element
            if x.0 != y.0 { return Self.bytewiseLess(x.0, y.0) }
            if x.1 != y.1 { return x.1 < y.1 }
            if x.2 != y.2 { return x.2 < y.2 }
            return a.offset < b.offset
        }.map(\.element)
        #expect(block["s"] == expected.map(\.0))
        #expect(block["u"] == expected.map { "\($0.1)" })
        #expect(block["i"] == expected.map { "\($0.2)" })
    }

    @Test func nonKeyNullableAndLowCardinalityColumnsFollowTheirRows() throws {
        let keys: [UInt16] = [3, 1, 2, 0]
        let block = try sortedBlock([
            TestColumn("k", .uint16) { c in for k in keys { c.append(k) } },
            TestColumn("n", .nullable(.int64)) { c in
                for k in keys { if k % 2 == 0 { c.appendNull() } else { c.appendNullable { $0.append(Int64(k) * 10) } } }
            },
            TestColumn("lc", .lowCardinality(.string)) { c in for k in keys { c.append(string: "v\(k % 2)") } },
            TestColumn("fs", .fixedString(3)) { c in for k in keys { c.append(fixed: "k\(k)", width: 3) } },
            TestColumn("u", .uuid) { c in for k in keys { c.append(uuid: "00000000-0000-0000-0000-00000000000\(k)") } },
        ], orderBy: ["k"])
        #expect(block["k"] == ["0", "1", "2", "3"])
        #expect(block["n"] == ["NULL", "10", "NULL", "30"])
        #expect(block["lc"] == ["v0", "v1", "v0", "v1"])
        #expect(block["fs"] == ["k0\0", "k1\0", "k2\0", "k3\0"])
        #expect(block["u"] == (0..<4).map { "00000000-0000-0000-0000-00000000000\($0)" })
    }
}
