import Foundation
import Testing
import Pipeline
import Sinks

/// The real target: Debian's ClickHouse 18.16.1 accepts Sluice's INSERT bodies.
///
/// Starts a private server (`deploy/local/clickhouse.sh`, temp dir, loopback ports),
/// creates a table in the 18.16 layout (String for LowCardinality, DateTime + `_ms` for
/// DateTime64, Nested for Map), builds the plan from the server's own `DESCRIBE TABLE`,
/// POSTs NONE, LZ4 and ZSTD bodies with `decompress=1`, and reads the rows back. Like the
/// chdb test it fails, not skips, when the server is not installed.
@Suite(.serialized) struct ClickHouse1816AcceptanceTests {
    /// A private 18.16 server for this suite; stopped in `deinit`-like fashion by `stop()`.
    final class Server {
        let dir: URL
        let httpPort: Int
        let script: String

        init() throws {
            let root = ChdbConformanceTests.repoRoot()
            script = root.appendingPathComponent("deploy/local/clickhouse.sh").path
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-ch1816-\(UUID().uuidString)")
            var lastOutput = ""
            for attempt in 0..<5 {
                let port = 20_000 + Int.random(in: 0..<20_000) + attempt
                let (status, output) = try Self.run("/bin/bash", [script, "start", dir.path, "\(port)", "\(port + 1)"])
                if status == 0 {
                    httpPort = port
                    return
                }
                lastOutput = output
                _ = try? Self.run("/bin/bash", [script, "stop", dir.path])
            }
            throw Failure(description: "could not start clickhouse-server 18.16: \(lastOutput)")
        }

        func stop() {
            _ = try? Self.run("/bin/bash", [script, "stop", dir.path])
            try? FileManager.default.removeItem(at: dir)
        }

        struct Failure: Error, CustomStringConvertible { let description: String }

        @discardableResult
        static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = arguments
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self))
        }

        static func urlEncode(_ s: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
        }

        /// POSTs `body` (or the query alone) and returns the HTTP status and response text.
        func post(query: String, parameters: String = "", body: [UInt8] = []) throws -> (status: Int, text: String) {
            let bodyFile = dir.appendingPathComponent("body-\(UUID().uuidString)")
            try Data(body).write(to: bodyFile)
            defer { try? FileManager.default.removeItem(at: bodyFile) }
            let outFile = dir.appendingPathComponent("out-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: outFile) }
            let url = "http://127.0.0.1:\(httpPort)/?query=\(Self.urlEncode(query))\(parameters)"
            let (_, code) = try Self.run("/usr/bin/curl", [
                "-sS", "-o", outFile.path, "-w", "%{http_code}", "-H", "Content-Type: application/octet-stream",
                "--data-binary", "@\(bodyFile.path)", url,
            ])
            let text = (try? String(contentsOf: outFile, encoding: .utf8)) ?? ""
            return (Int(code.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, text)
        }

        func query(_ sql: String) throws -> String {
            let r = try post(query: sql)
            guard r.status == 200 else { throw Failure(description: "\(sql): HTTP \(r.status): \(r.text)") }
            return r.text
        }

        /// TSV escapes quotes and backslashes (`DateTime(\'UTC\')`); a DESCRIBE reader must undo it.
        static func unescapeTSV(_ s: Substring) -> String {
            var out = ""
            var escaped = false
            for ch in s {
                if escaped {
                    switch ch {
                    case "t": out.append("\t")
                    case "n": out.append("\n")
                    case "0": out.append("\0")
                    default: out.append(ch)
                    }
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else {
                    out.append(ch)
                }
            }
            return out
        }

        func describe(_ table: String) throws -> [PhysicalColumn] {
            try query("DESCRIBE TABLE \(table) FORMAT TSV").split(separator: "\n").map { line in
                let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(Self.unescapeTSV)
                return PhysicalColumn(describeName: f[0], type: f[1], defaultType: f.count > 2 ? f[2] : "")
            }
        }
    }

    static let ddl = """
        CREATE TABLE %@ (
            tenant_id String, metric_name String, value Float64,
            timestamp DateTime('UTC'), timestamp_ms UInt16,
            dimensions Nested(key String, value String), metadata Nested(key String, value String),
            _event_key FixedString(16), _ingested_at DateTime,
            ok UInt8, u UUID, n Nullable(Int64), e Enum8('a' = 1, 'b' = 2), tags Array(Nullable(String)),
            w UInt64, inserted DateTime DEFAULT now()
        ) ENGINE = MergeTree ORDER BY (tenant_id, metric_name, timestamp)
        """

    static let logical: [(name: String, type: ColumnType)] = [
        ("tenant_id", .lowCardinality(.string)), ("metric_name", .lowCardinality(.string)), ("value", .float64),
        ("timestamp", .dateTime64(precision: 3, timezone: "UTC")),
        ("dimensions", .map(key: .string, value: .string)), ("metadata", .map(key: .string, value: .string)),
        ("_event_key", .fixedString(16)), ("_ingested_at", .dateTime(timezone: nil)),
        ("ok", .bool), ("u", .uuid), ("n", .nullable(.int64)),
        ("e", .enum8([.init(name: "a", value: 1), .init(name: "b", value: 2)])), ("tags", .array(.nullable(.string))),
        ("w", .uint16),
    ]

    struct Row {
        var tenant: String, metric: String, value: Double, ms: Int64, dims: [(String, String)], meta: [(String, String)]
        var ok: Bool, n: Int64?, e: Int8, tags: [String?], w: UInt16
    }

    static func rows(_ count: Int, seed: UInt64) -> [Row] {
        var rng = BatchSorterTests.LCG(state: seed)
        let tenants = ["acme", "Zeta", "émile", ""]
        var out: [Row] = []
        for i in 0..<count {
            let tenant = tenants[Int(rng.next() % 4)]
            let metric = "m\(rng.next() % 7)"
            let dims: [(String, String)] = rng.next() % 2 == 0 ? [("region", "us"), ("host", "h\(i % 3)")] : [("region", "eu")]
            let meta: [(String, String)] = i % 3 == 0 ? [] : [("src", "agent")]
            let n: Int64? = i % 5 == 0 ? nil : Int64(i) - 10
            let tags: [String?] = i % 4 == 0 ? [] : ["t\(i)", nil]
            let ms: Int64 = 1_704_067_200_000 + Int64(i) * 1_001
            out.append(Row(tenant: tenant, metric: metric, value: Double(i) / 4, ms: ms, dims: dims, meta: meta,
                           ok: i % 2 == 0, n: n, e: Int8(1 + i % 2), tags: tags, w: UInt16(truncatingIfNeeded: i * 100)))
        }
        return out
    }

    static func batch(_ rows: [Row]) -> ColumnBatch {
        let b = ColumnBatch(schema: logical, expectedRows: rows.count)
        let c = b.columns.map(\.buffer)
        for (i, r) in rows.enumerated() {
            c[0].append(string: r.tenant)
            c[1].append(string: r.metric)
            c[2].append(r.value)
            c[3].append(r.ms)
            c[4].appendMapRow(r.dims)
            c[5].appendMapRow(r.meta)
            c[6].append(bytes: (0..<16).map { UInt8(truncatingIfNeeded: i &+ $0) })
            c[7].append(UInt32(1_704_067_200))
            c[8].append(UInt8(r.ok ? 1 : 0))
            c[9].append(uuid: "61f0c404-5cb3-11e7-907b-a6006ad3dba0")
            if let n = r.n { c[10].appendNullable { $0.append(n) } } else { c[10].appendNull() }
            c[11].append(r.e)
            c[12].appendArrayRow { t in
                for tag in r.tags {
                    if let tag { t.appendNullable { $0.append(string: tag) } } else { t.appendNull() }
                }
            }
            c[13].append(r.w)
        }
        return b
    }

    /// The TSV line 18.16 prints for a row of the SELECT below.
    static func tsv(_ r: Row) -> String {
        let seconds = r.ms / 1000
        let time = "2024-01-01 " + String(format: "%02d:%02d:%02d", seconds % 86400 / 3600, seconds % 3600 / 60, seconds % 60)
        func arr(_ a: [String]) -> String { "[" + a.map { "'\($0)'" }.joined(separator: ",") + "]" }
        let tags = "[" + r.tags.map { $0.map { "'\($0)'" } ?? "NULL" }.joined(separator: ",") + "]"
        let value = r.value == r.value.rounded() ? String(Int(r.value)) : "\(r.value)"
        return [
            r.tenant, r.metric, value, time, "\(r.ms % 1000)", arr(r.dims.map(\.0)), arr(r.dims.map(\.1)),
            arr(r.meta.map(\.0)), arr(r.meta.map(\.1)), r.ok ? "1" : "0", "61f0c404-5cb3-11e7-907b-a6006ad3dba0",
            r.n.map { "\($0)" } ?? "\\N", r.e == 1 ? "a" : "b", tags, "\(r.w)",
        ].joined(separator: "\t")
    }

    static let select = """
        SELECT tenant_id, metric_name, value, timestamp, timestamp_ms, dimensions.key, dimensions.value,
               metadata.key, metadata.value, ok, u, n, e, tags, w
        FROM %@ ORDER BY tenant_id, metric_name, timestamp FORMAT TSV
        """

    @Test func clickHouse1816AcceptsEveryCompressionMethodAndReturnsTheRows() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/clickhouse-server") else {
            Issue.record("clickhouse-server 18.16 is not installed: run `bash deploy/local/install.sh`")
            return
        }
        let server = try Server()
        defer { server.stop() }
        #expect(try server.query("SELECT version()").hasPrefix("18.16"))

        let rows = Self.rows(200, seed: 5)
        let expected = rows.sorted { a, b in
            let ta = Array(a.tenant.utf8), tb = Array(b.tenant.utf8)
            if ta != tb { return ta.lexicographicallyPrecedes(tb) }
            if a.metric != b.metric { return a.metric < b.metric }
            return a.ms < b.ms
        }.map(Self.tsv).joined(separator: "\n") + "\n"

        for method in CompressionMethod.allCases {
            let table = "t_\(method.rawValue)"
            _ = try server.query(String(format: Self.ddl, table))
            let physical = try server.describe(table)
            let plan = try NativeInsertPlan(logicalSchema: Self.logical, table: physical,
                                            orderBy: ["tenant_id", "metric_name", "timestamp"])
            #expect(!plan.insertColumnNames.contains("inserted"))
            let body = try NativeEncoder(compression: method).encodeInsertBody(Self.batch(rows), plan: plan)
            let insert = try server.post(
                query: "INSERT INTO \(table) \(plan.insertColumnList) FORMAT Native", parameters: "&decompress=1",
                body: body.body.bytes)
            #expect(insert.status == 200, "\(method): \(insert.text)")
            #expect(try server.query(String(format: Self.select, table)) == expected, "\(method)")
        }
    }

    @Test func clickHouse1816AcceptsABodyOfManyFrames() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/clickhouse-server") else {
            Issue.record("clickhouse-server 18.16 is not installed: run `bash deploy/local/install.sh`")
            return
        }
        let server = try Server()
        defer { server.stop() }
        _ = try server.query(String(format: Self.ddl, "big"))
        let plan = try NativeInsertPlan(logicalSchema: Self.logical, table: server.describe("big"),
                                        orderBy: ["tenant_id", "metric_name", "timestamp"])
        let rows = Self.rows(60_000, seed: 9)
        for method in [CompressionMethod.lz4, .zstd] {
            let body = try NativeEncoder(compression: method).encodeInsertBody(Self.batch(rows), plan: plan)
            var frames = 0
            try body.body.withUnsafeBytes { p in
                var offset = 0
                while offset < p.count {
                    let h = try CompressedFrame.header(in: p, at: offset)
                    #expect(h.uncompressedSize <= CompressedFrame.maxUncompressedSize)
                    offset += h.frameLength
                    frames += 1
                }
            }
            #expect(frames > 2, "\(method): \(body.uncompressedBytes) bytes in \(frames) frames")
            let insert = try server.post(
                query: "INSERT INTO big \(plan.insertColumnList) FORMAT Native", parameters: "&decompress=1",
                body: body.body.bytes)
            #expect(insert.status == 200, "\(method): \(insert.text)")
        }
        let sum = rows.reduce(0.0) { $0 + $1.value } * 2
        #expect(try server.query("SELECT count(), sum(value), sum(length(dimensions.key)) FROM big FORMAT TSV")
            == "120000\t\(Int(sum))\t\(rows.reduce(0) { $0 + $1.dims.count } * 2)\n")
    }
}
