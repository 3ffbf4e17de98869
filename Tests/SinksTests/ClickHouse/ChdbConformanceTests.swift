import Foundation
import Testing
import Pipeline
import Sinks

/// The modern engine reads what Sluice writes: Native blocks of every supported type are
/// written to temp files and read back by chdb-core (ClickHouse 26.x, in-process, from
/// the project's `.venv`), which checks each column's type and every value, and that
/// pre-sorted blocks are in ClickHouse's own ORDER BY order.
///
/// The venv is part of the test environment (`bash deploy/local/install.sh` creates it);
/// when it is missing the test fails and says so rather than skipping.
@Suite struct ChdbConformanceTests {
    /// Just enough JSON for the expected values.
    indirect enum JSON {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case array([JSON])
        case object([(String, JSON)])

        static func int<T: BinaryInteger>(_ v: T) -> JSON { .number("\(v)") }
        static func double(_ v: Double) -> JSON {
            v.isNaN ? .string("nan") : v.isInfinite ? .string(v < 0 ? "-inf" : "inf") : .number("\(v)")
        }

        var text: String {
            switch self {
            case .null: return "null"
            case .bool(let b): return b ? "true" : "false"
            case .number(let n): return n
            case .string(let s): return Self.quote(s)
            case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
            case .object(let o): return "{" + o.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
            }
        }

        static func quote(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where u.value < 0x20:
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        }
    }

    struct Case {
        var name: String
        var columns: [TestColumn]
        /// Table columns; nil means the logical columns as they are.
        var table: [PhysicalColumn]? = nil
        var orderBy: [String] = []
        /// Expected columns as chdb reads them: name, type, one value per row. Empty for
        /// sorted cases, which check order and row count only.
        var expected: [(String, String, [JSON])] = []
        var rowCount: Int
    }

    static func repoRoot() -> URL {
        if let root = ProcessInfo.processInfo.environment["SLUICE_REPO_ROOT"], !root.isEmpty {
            return URL(fileURLWithPath: root)
        }
        // Tests/SinksTests/ClickHouse/ChdbConformanceTests.swift -> repository root
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func chdbReadsEveryTypeAndValueSluiceWrites() throws {
        let root = Self.repoRoot()
        let python = root.appendingPathComponent(".venv/bin/python").path
        let script = root.appendingPathComponent("Tests/Conformance/chdb_native_check.py").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("chdb-core venv missing at \(python): run `bash deploy/local/install.sh` in \(root.path)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-chdb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var manifest: [String] = []
        for c in Self.cases() {
            let batch = makeBatch(c.columns)
            let table = c.table ?? c.columns.map { PhysicalColumn(name: $0.name, typeName: $0.tableType) }
            let plan = try NativeInsertPlan(logicalSchema: batch.schema, table: table, orderBy: c.orderBy)
            let file = dir.appendingPathComponent("\(c.name).native")
            let blob = try NativeEncoder.encodeBlock(batch, plan: plan)
            try Data(blob.bytes).write(to: file)

            let columns: String
            let rows: String
            if c.expected.isEmpty {
                columns = plan.columns.map { JSON.object([("name", .string($0.name)), ("type", .string($0.typeName))]).text }
                    .joined(separator: ",")
                rows = "null"
            } else {
                columns = c.expected.map { JSON.object([("name", .string($0.0)), ("type", .string($0.1))]).text }.joined(separator: ",")
                rows = "[" + (0..<c.rowCount).map { r in JSON.array(c.expected.map { $0.2[r] }).text }.joined(separator: ",") + "]"
            }
            let sorted = c.orderBy.isEmpty ? "null" : JSON.array(c.orderBy.map { .string($0) }).text
            manifest.append(
                "{\"name\":\(JSON.quote(c.name)),\"file\":\(JSON.quote(file.path)),\"columns\":[\(columns)],"
                    + "\"rows\":\(rows),\"row_count\":\(c.rowCount),\"sorted_by\":\(sorted)}")
        }
        let manifestURL = dir.appendingPathComponent("manifest.json")
        try Data(("[" + manifest.joined(separator: ",\n") + "]").utf8).write(to: manifestURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, manifestURL.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "chdb conformance failed:\n\(text)")
    }

    // MARK: Cases

    static func cases() -> [Case] {
        [numbers(), stringsAndTime(), nullablesAndArrays(), lowCardinalityAndMaps(), conversions()] + sortedCases()
    }

    static func numbers() -> Case {
        // Declared in value order, the way ClickHouse prints enum types.
        let e8 = ColumnType.enum8([.init(name: "neg", value: -5), .init(name: "a", value: 1), .init(name: "b", value: 2)])
        let e16 = ColumnType.enum16([.init(name: "y", value: -1000), .init(name: "x", value: 1000)])
        let columns = [
            TestColumn("u8", .uint8) { c in for v: UInt8 in [0, 255, 1] { c.append(v) } },
            TestColumn("u16", .uint16) { c in for v: UInt16 in [0, 65535, 2] { c.append(v) } },
            TestColumn("u32", .uint32) { c in for v: UInt32 in [0, .max, 3] { c.append(v) } },
            TestColumn("u64", .uint64) { c in for v: UInt64 in [0, .max, 4] { c.append(v) } },
            TestColumn("i8", .int8) { c in for v: Int8 in [-128, 127, 0] { c.append(v) } },
            TestColumn("i16", .int16) { c in for v: Int16 in [.min, .max, -1] { c.append(v) } },
            TestColumn("i32", .int32) { c in for v: Int32 in [.min, .max, -1] { c.append(v) } },
            TestColumn("i64", .int64) { c in for v: Int64 in [.min, .max, -1] { c.append(v) } },
            TestColumn("f32", .float32) { c in for v: Float32 in [0.5, -2.25, .infinity] { c.append(v) } },
            TestColumn("f64", .float64) { c in for v: Float64 in [1.5e300, .nan, -.infinity] { c.append(v) } },
            TestColumn("b", .bool) { c in for v: UInt8 in [1, 0, 1] { c.append(v) } },
            TestColumn("e8", e8) { c in for v: Int8 in [1, -5, 2] { c.append(v) } },
            TestColumn("e16", e16) { c in for v: Int16 in [1000, -1000, 1000] { c.append(v) } },
        ]
        return Case(name: "numbers", columns: columns, expected: [
            ("u8", "UInt8", [.int(0), .int(255), .int(1)]),
            ("u16", "UInt16", [.int(0), .int(65535), .int(2)]),
            ("u32", "UInt32", [.int(0), .int(UInt32.max), .int(3)]),
            ("u64", "UInt64", [.int(0), .int(UInt64.max), .int(4)]),
            ("i8", "Int8", [.int(-128), .int(127), .int(0)]),
            ("i16", "Int16", [.int(Int16.min), .int(Int16.max), .int(-1)]),
            ("i32", "Int32", [.int(Int32.min), .int(Int32.max), .int(-1)]),
            ("i64", "Int64", [.int(Int64.min), .int(Int64.max), .int(-1)]),
            ("f32", "Float32", [.double(0.5), .double(-2.25), .double(.infinity)]),
            ("f64", "Float64", [.double(1.5e300), .double(.nan), .double(-.infinity)]),
            ("b", "Bool", [.bool(true), .bool(false), .bool(true)]),
            ("e8", e8.name, [.string("a"), .string("neg"), .string("b")]),
            ("e16", e16.name, [.string("x"), .string("y"), .string("x")]),
        ], rowCount: 3)
    }

    static func stringsAndTime() -> Case {
        let strings = ["", "héllo wörld ✓ 😀", "quote\"back\\slash\ttab\n"]
        let uuids = ["61f0c404-5cb3-11e7-907b-a6006ad3dba0", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-fffffffffffe"]
        let columns = [
            TestColumn("s", .string) { $0.append(strings: strings) },
            TestColumn("fs", .fixedString(4)) { c in for s in ["ab", "abcd", "é"] { c.append(fixed: s, width: 4) } },
            TestColumn("d", .date) { c in for v: UInt16 in [0, 19723, 65535] { c.append(v) } },
            TestColumn("dt", .dateTime(timezone: "UTC")) { c in for v: UInt32 in [0, 1_704_067_200, .max] { c.append(v) } },
            TestColumn("dt64", .dateTime64(precision: 3, timezone: "UTC")) { c in
                for v: Int64 in [1_704_067_200_123, -1, 0] { c.append(v) }
            },
            TestColumn("dt64n", .dateTime64(precision: 9, timezone: "UTC")) { c in
                for v: Int64 in [1_704_067_200_123_456_789, 1, 0] { c.append(v) }
            },
            TestColumn("u", .uuid) { c in for u in uuids { c.append(uuid: u) } },
        ]
        return Case(name: "strings_and_time", columns: columns, expected: [
            ("s", "String", strings.map { .string($0) }),
            ("fs", "FixedString(4)", [.string("ab\0\0"), .string("abcd"), .string("é\0\0")]),
            ("d", "Date", [.string("1970-01-01"), .string("2024-01-01"), .string("2149-06-06")]),
            ("dt", "DateTime('UTC')", [.string("1970-01-01 00:00:00"), .string("2024-01-01 00:00:00"), .string("2106-02-07 06:28:15")]),
            ("dt64", "DateTime64(3, 'UTC')",
             [.string("2024-01-01 00:00:00.123"), .string("1969-12-31 23:59:59.999"), .string("1970-01-01 00:00:00.000")]),
            ("dt64n", "DateTime64(9, 'UTC')",
             [.string("2024-01-01 00:00:00.123456789"), .string("1970-01-01 00:00:00.000000001"),
              .string("1970-01-01 00:00:00.000000000")]),
            ("u", "UUID", uuids.map { .string($0) }),
        ], rowCount: 3)
    }

    static func nullablesAndArrays() -> Case {
        let columns = [
            TestColumn("ns", .nullable(.string)) { c in
                c.appendNull()
                c.appendNullable { $0.append(string: "") }
                c.appendNullable { $0.append(string: "x") }
            },
            TestColumn("ni", .nullable(.int32)) { c in
                c.appendNullable { $0.append(Int32(1)) }
                c.appendNull()
                c.appendNullable { $0.append(Int32(-7)) }
            },
            TestColumn("nf", .nullable(.float64)) { c in
                c.appendNull()
                c.appendNullable { $0.append(2.5) }
                c.appendNull()
            },
            TestColumn("nu", .nullable(.uuid)) { c in
                c.appendNullable { $0.append(uuid: "61f0c404-5cb3-11e7-907b-a6006ad3dba0") }
                c.appendNull()
                c.appendNull()
            },
            TestColumn("arr", .array(.uint32)) { c in
                c.appendArrayRow { for v: UInt32 in [1, 2, 3] { $0.append(v) } }
                c.appendArrayRow { _ in }
                c.appendArrayRow { $0.append(UInt32.max) }
            },
            TestColumn("arrs", .array(.string)) { c in
                c.appendArrayRow { $0.append(strings: ["a", "bb"]) }
                c.appendArrayRow { _ in }
                c.appendArrayRow { $0.append(strings: [""]) }
            },
            TestColumn("arrn", .array(.nullable(.int64))) { c in
                c.appendArrayRow { e in
                    e.appendNullable { $0.append(Int64(1)) }
                    e.appendNull()
                }
                c.appendArrayRow { $0.appendNull() }
                c.appendArrayRow { _ in }
            },
            TestColumn("arr2", .array(.array(.uint8))) { c in
                c.appendArrayRow { e in
                    e.appendArrayRow { $0.append(UInt8(1)); $0.append(UInt8(2)) }
                    e.appendArrayRow { _ in }
                }
                c.appendArrayRow { _ in }
                c.appendArrayRow { $0.appendArrayRow { $0.append(UInt8(3)) } }
            },
            TestColumn("arrlc", .array(.lowCardinality(.string))) { c in
                c.appendArrayRow { $0.append(strings: ["x", "y", "x"]) }
                c.appendArrayRow { _ in }
                c.appendArrayRow { $0.append(strings: ["z"]) }
            },
        ]
        return Case(name: "nullables_and_arrays", columns: columns, expected: [
            ("ns", "Nullable(String)", [.null, .string(""), .string("x")]),
            ("ni", "Nullable(Int32)", [.int(1), .null, .int(-7)]),
            ("nf", "Nullable(Float64)", [.null, .double(2.5), .null]),
            ("nu", "Nullable(UUID)", [.string("61f0c404-5cb3-11e7-907b-a6006ad3dba0"), .null, .null]),
            ("arr", "Array(UInt32)", [.array([.int(1), .int(2), .int(3)]), .array([]), .array([.int(UInt32.max)])]),
            ("arrs", "Array(String)", [.array([.string("a"), .string("bb")]), .array([]), .array([.string("")])]),
            ("arrn", "Array(Nullable(Int64))", [.array([.int(1), .null]), .array([.null]), .array([])]),
            ("arr2", "Array(Array(UInt8))",
             [.array([.array([.int(1), .int(2)]), .array([])]), .array([]), .array([.array([.int(3)])])]),
            ("arrlc", "Array(LowCardinality(String))",
             [.array([.string("x"), .string("y"), .string("x")]), .array([]), .array([.string("z")])]),
        ], rowCount: 3)
    }

    static func lowCardinalityAndMaps() -> Case {
        let columns = [
            TestColumn("lc", .lowCardinality(.string)) { $0.append(strings: ["us", "eu", "us"]) },
            TestColumn("lcn", .lowCardinality(.nullable(.string))) { c in
                c.appendNull()
                c.appendNullable { $0.append(string: "") }
                c.appendNullable { $0.append(string: "ä") }
            },
            TestColumn("lcfs", .lowCardinality(.fixedString(2))) { c in
                for s in ["us", "eu", "us"] { c.append(fixed: s, width: 2) }
            },
            TestColumn("m", .map(key: .string, value: .string)) { c in
                c.appendMapRow([("region", "us"), ("plan", "pro")])
                c.appendMapRow([])
                c.appendMapRow([("k", "")])
            },
            TestColumn("m2", .map(key: .string, value: .uint64)) { c in
                c.inner?.append(string: "a"); c.inner2?.append(UInt64(1)); c.finishCollectionRow()
                c.inner?.append(string: "b"); c.inner2?.append(UInt64.max); c.finishCollectionRow()
                c.finishCollectionRow()
            },
            TestColumn("m3", .map(key: .lowCardinality(.string), value: .nullable(.float64))) { c in
                c.inner?.append(strings: ["x", "y"])
                c.inner2?.appendNullable { $0.append(1.5) }
                c.inner2?.appendNull()
                c.finishCollectionRow()
                c.finishCollectionRow()
                c.inner?.append(string: "x")
                c.inner2?.appendNull()
                c.finishCollectionRow()
            },
            TestColumn("m4", .map(key: .int32, value: .array(.string))) { c in
                c.inner?.append(Int32(1)); c.inner2?.appendArrayRow { $0.append(string: "a") }; c.finishCollectionRow()
                c.finishCollectionRow()
                c.inner?.append(Int32(-2)); c.inner2?.appendArrayRow { _ in }; c.finishCollectionRow()
            },
        ]
        return Case(name: "low_cardinality_and_maps", columns: columns, expected: [
            ("lc", "LowCardinality(String)", [.string("us"), .string("eu"), .string("us")]),
            ("lcn", "LowCardinality(Nullable(String))", [.null, .string(""), .string("ä")]),
            ("lcfs", "LowCardinality(FixedString(2))", [.string("us"), .string("eu"), .string("us")]),
            ("m", "Map(String, String)",
             [.object([("region", .string("us")), ("plan", .string("pro"))]), .object([]), .object([("k", .string(""))])]),
            ("m2", "Map(String, UInt64)", [.object([("a", .int(1))]), .object([("b", .int(UInt64.max))]), .object([])]),
            ("m3", "Map(LowCardinality(String), Nullable(Float64))",
             [.object([("x", .double(1.5)), ("y", .null)]), .object([]), .object([("x", .null)])]),
            ("m4", "Map(Int32, Array(String))",
             [.object([("1", .array([.string("a")]))]), .object([]), .object([("-2", .array([]))])]),
        ], rowCount: 3)
    }

    static func conversions() -> Case {
        let columns = [
            TestColumn("tenant", .lowCardinality(.string)) { $0.append(strings: ["t1", "t2"]) },
            TestColumn("name", .string) { $0.append(strings: ["cpu", "cpu"]) },
            TestColumn("ok", .bool) { c in c.append(UInt8(1)); c.append(UInt8(0)) },
            TestColumn("ts", .dateTime64(precision: 3, timezone: "UTC")) { c in
                c.append(Int64(1_704_067_200_123)); c.append(Int64(1_704_067_201_999))
            },
            TestColumn("ts6", .dateTime64(precision: 6, timezone: "UTC")) { c in
                c.append(Int64(1_704_067_200_123_456)); c.append(Int64(0))
            },
            TestColumn("t3", .dateTime64(precision: 3, timezone: "UTC")) { c in c.append(Int64(1_500)); c.append(Int64(0)) },
            TestColumn("dims", .map(key: .string, value: .string)) { c in
                c.appendMapRow([("region", "us")])
                c.appendMapRow([])
            },
            TestColumn("w", .uint8) { c in c.append(UInt8(255)); c.append(UInt8(0)) },
            TestColumn("i", .int32) { c in c.append(Int32(-1)); c.append(Int32.max) },
            TestColumn("f", .float32) { c in c.append(Float32(0.25)); c.append(Float32(-8)) },
        ]
        let table = [
            PhysicalColumn(name: "tenant", typeName: "String"),
            PhysicalColumn(name: "name", typeName: "LowCardinality(String)"),
            PhysicalColumn(name: "ok", typeName: "UInt8"),
            PhysicalColumn(name: "ts", typeName: "DateTime('UTC')"),
            PhysicalColumn(name: "ts_ms", typeName: "UInt16"),
            PhysicalColumn(name: "ts6", typeName: "DateTime('UTC')"),
            PhysicalColumn(name: "ts6_us", typeName: "UInt32"),
            PhysicalColumn(name: "t3", typeName: "DateTime64(6, 'UTC')"),
            PhysicalColumn(name: "dims.key", typeName: "Array(String)"),
            PhysicalColumn(name: "dims.value", typeName: "Array(String)"),
            PhysicalColumn(name: "w", typeName: "UInt64"),
            PhysicalColumn(name: "i", typeName: "Nullable(Int64)"),
            PhysicalColumn(name: "f", typeName: "Float64"),
            PhysicalColumn(name: "inserted", typeName: "DateTime", defaultKind: .default),
        ]
        return Case(name: "conversions", columns: columns, table: table, expected: [
            ("tenant", "String", [.string("t1"), .string("t2")]),
            ("name", "LowCardinality(String)", [.string("cpu"), .string("cpu")]),
            ("ok", "UInt8", [.int(1), .int(0)]),
            ("ts", "DateTime('UTC')", [.string("2024-01-01 00:00:00"), .string("2024-01-01 00:00:01")]),
            ("ts_ms", "UInt16", [.int(123), .int(999)]),
            ("ts6", "DateTime('UTC')", [.string("2024-01-01 00:00:00"), .string("1970-01-01 00:00:00")]),
            ("ts6_us", "UInt32", [.int(123_456), .int(0)]),
            ("t3", "DateTime64(6, 'UTC')", [.string("1970-01-01 00:00:01.500000"), .string("1970-01-01 00:00:00.000000")]),
            ("dims.key", "Array(String)", [.array([.string("region")]), .array([])]),
            ("dims.value", "Array(String)", [.array([.string("us")]), .array([])]),
            ("w", "UInt64", [.int(255), .int(0)]),
            ("i", "Nullable(Int64)", [.int(-1), .int(Int32.max)]),
            ("f", "Float64", [.double(0.25), .double(-8)]),
        ], rowCount: 2)
    }

    /// Blocks pre-sorted by Sluice must already be in ClickHouse's ORDER BY order.
    static func sortedCases() -> [Case] {
        var rng = BatchSorterTests.LCG(state: 2024)
        let n = 3000
        let tenants = (0..<n).map { _ in "tenant-\(rng.next() % 20)" }
        let metrics = (0..<n).map { _ in ["cpu", "mem", "Disk", "é.latency", "", "net.in", "net"][Int(rng.next() % 7)] }
        let times = (0..<n).map { _ in 1_704_067_200_000 + Int64(rng.next() % 100_000) - 50_000 }
        let metricsCase = Case(name: "sorted_metrics", columns: [
            TestColumn("tenant_id", .lowCardinality(.string)) { $0.append(strings: tenants) },
            TestColumn("metric_name", .lowCardinality(.string)) { $0.append(strings: metrics) },
            TestColumn("timestamp", .dateTime64(precision: 3, timezone: "UTC")) { c in for t in times { c.append(t) } },
            TestColumn("value", .float64) { c in for i in 0..<n { c.append(Float64(i)) } },
        ], orderBy: ["tenant_id", "metric_name", "timestamp"], rowCount: n)

        let words = ["", "a", "ab", "b", "B", "é", "z", "😀", "a\u{1}", "Zürich", "zz", "aa"]
        let strs = (0..<n).map { _ in words[Int(rng.next() % UInt64(words.count))] }
        let ints = (0..<n).map { _ in Int64(bitPattern: rng.next() << 24) / 3 }
        let stringsCase = Case(name: "sorted_strings_ints", columns: [
            TestColumn("s", .string) { $0.append(strings: strs) },
            TestColumn("i", .int64) { c in for v in ints { c.append(v) } },
        ], orderBy: ["s", "i"], rowCount: n)

        let nullableCase = Case(name: "sorted_nullable", columns: [
            TestColumn("k", .nullable(.string)) { c in
                for i in 0..<n {
                    if i % 7 == 0 { c.appendNull() } else { c.appendNullable { $0.append(string: strs[i]) } }
                }
            },
            TestColumn("f", .nullable(.float64)) { c in
                for i in 0..<n {
                    if i % 5 == 0 { c.appendNull() } else { c.appendNullable { $0.append(Float64(ints[i] % 1000) / 7) } }
                }
            },
        ], orderBy: ["k", "f"], rowCount: n)

        let uuidCase = Case(name: "sorted_uuid", columns: [
            TestColumn("u", .uuid) { c in
                for _ in 0..<n {
                    var bytes = [UInt8](repeating: 0, count: 16)
                    let a = rng.next() % 4, b = rng.next() % 4
                    bytes[0] = UInt8(a)
                    bytes[8] = UInt8(b)
                    bytes[15] = UInt8(rng.next() % 256)
                    c.append(bytes: Array(bytes[0..<8].reversed()) + Array(bytes[8..<16].reversed()))
                }
            }
        ], orderBy: ["u"], rowCount: n)

        let specials: [Float64] = [.nan, .infinity, -.infinity, 1, -1, 0.5, 1e-300, -1e300]
        let e8 = ColumnType.enum8([.init(name: "neg", value: -3), .init(name: "zero", value: 0), .init(name: "pos", value: 9)])
        let mixedCase = Case(name: "sorted_mixed", columns: [
            TestColumn("e", e8) { c in for _ in 0..<n { c.append(Int8([-3, 0, 9][Int(rng.next() % 3)])) } },
            TestColumn("b", .bool) { c in for _ in 0..<n { c.append(UInt8(rng.next() % 2)) } },
            TestColumn("d", .date) { c in for _ in 0..<n { c.append(UInt16(19_000 + rng.next() % 5)) } },
            TestColumn("fs", .fixedString(3)) { c in for _ in 0..<n { c.append(fixed: ["ab", "a", "abc", "", "b"][Int(rng.next() % 5)], width: 3) } },
            TestColumn("f", .float64) { c in for _ in 0..<n { c.append(specials[Int(rng.next() % UInt64(specials.count))]) } },
            TestColumn("u16", .uint16) { c in for _ in 0..<n { c.append(UInt16(truncatingIfNeeded: rng.next())) } },
        ], orderBy: ["e", "b", "d", "fs", "f", "u16"], rowCount: n)

        return [metricsCase, stringsCase, nullableCase, uuidCase, mixedCase]
    }
}
