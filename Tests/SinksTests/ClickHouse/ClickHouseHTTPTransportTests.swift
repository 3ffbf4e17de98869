import Foundation
import Pipeline

import Testing
import TestSupport

import Sinks

/// The transport against a real ClickHouse 18.16 started by the shared fixture.
@Suite("ClickHouse HTTP transport against a real server")
struct ClickHouseHTTPTransportTests {
    /// clickhouse-test-vectors.md §2: block `a UInt32 = 1,2,3`, `s String = 'x','yy','zzz'`.
    static let block = "020301610655496e743332010000000200000003000000017306537472696e670178027979037a7a7a"
    static let lz4Frame =
        "3844281ae074eefe0f9a7014eee0ba62823400000029000000f01a020301610655496e743332010000000200000003000000017306537472696e670178027979037a7a7a"
    static let zstdFrame =
        "f17af6dfd57af89add59e0152dc2943e903b0000002900000028b52ffd2029490100020301610655496e743332010000000200000003000000017306537472696e670178027979037a7a7a"
    static let noneFrame =
        "af87e0ab097f2cfa8f8cd1ca86b9aeb5023200000029000000020301610655496e743332010000000200000003000000017306537472696e670178027979037a7a7a"

    private func makeTransport(
        _ server: ClickHouseServer, database: String, maxConnections: Int = 4,
        observer: (@Sendable (ClickHouseRequestMetrics) -> Void)? = nil
    ) throws -> ClickHouseHTTPTransport {
        try ClickHouseHTTPTransport(
            configuration: server.configuration(database: database, maxConnections: maxConnections), observer: observer)
    }

    private func createTable(_ server: ClickHouseServer, _ database: String, _ table: String = "t", columns: String = "a UInt32, s String") async throws {
        try await server.execute("CREATE TABLE \(database).\(table) (\(columns)) ENGINE = MergeTree ORDER BY tuple()")
    }

    @Test func pingSucceeds() async throws {
        let server = try await ClickHouseServer.shared()
        let transport = try makeTransport(server, database: "default")
        try await transport.ping()
        await transport.shutdown()
    }

    @Test func serverVersionOfTheDebianServerIs18_16_1() async throws {
        let server = try await ClickHouseServer.shared()
        let transport = try makeTransport(server, database: "default")
        let version = try await transport.serverVersion()
        #expect(version == ClickHouseServerVersion(18, 16, 1))
        #expect(!version.hasExceptionCodeHeader)
        await transport.shutdown()
    }

    @Test(arguments: [("lz4", lz4Frame), ("zstd", zstdFrame), ("none", noneFrame)])
    func compressedNativeBodyIsInsertedAndReadBack(method: String, frame: String) async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "insert_\(method)")
        try await createTable(server, database)
        let transport = try makeTransport(server, database: database)
        let metrics = try await transport.insert(
            table: "t", columns: ["a", "s"], body: ByteBlob(Hex.bytes(frame)), compressed: true, queryID: "test-\(method)-\(UUID())")
        #expect(metrics.operation == .insert)
        #expect(metrics.httpStatus == 200)
        #expect(metrics.bytesSent == Hex.bytes(frame).count)
        let rows = try await server.query("SELECT a, s FROM \(database).t ORDER BY a")
        #expect(rows == "1\tx\n2\tyy\n3\tzzz\n")
        await transport.shutdown()
    }

    @Test func uncompressedNativeBodyIsInsertedWithoutDecompress() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "insert_raw")
        try await createTable(server, database)
        let transport = try makeTransport(server, database: database)
        try await transport.insert(table: "t", columns: ["a", "s"], body: ByteBlob(Hex.bytes(Self.block)), compressed: false)
        #expect(try await server.query("SELECT count(), sum(a) FROM \(database).t") == "3\t6\n")
        await transport.shutdown()
    }

    @Test func identifiersThatNeedQuotingWork() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "quoting")
        try await server.execute("CREATE TABLE \(database).`odd table` (a UInt32, `s` String) ENGINE = Memory")
        let transport = try makeTransport(server, database: database)
        try await transport.insert(table: "odd table", columns: ["a", "s"], body: ByteBlob(Hex.bytes(Self.noneFrame)), compressed: true)
        #expect(try await server.query("SELECT count() FROM \(database).`odd table`") == "3\n")
        await transport.shutdown()
    }

    @Test func bodyIntoATableWithADifferentColumnTypeIsANonRetryableDataError() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "wrong_type")
        try await createTable(server, database, columns: "a String, s String")
        let transport = try makeTransport(server, database: database)
        let error = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "t", columns: ["a", "s"], body: ByteBlob(Hex.bytes(Self.lz4Frame)), compressed: true)
        }
        #expect(error?.kind == .data)
        #expect(error?.isRetryable == false)
        #expect(error?.code == 368)
        #expect(error?.httpStatus == 500)
        #expect(error?.message.contains("Bad cast") == true)
        #expect(try await server.query("SELECT count() FROM \(database).t") == "0\n")
        await transport.shutdown()
    }

    @Test func bodyDeclaringUInt64ForAUInt32ColumnIsRejectedWithItsCode() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "wrong_header")
        try await createTable(server, database)
        let transport = try makeTransport(server, database: database)
        var body: [UInt8] = [0x02, 0x03, 0x01, 0x61, 0x06] + Array("UInt64".utf8)
        for value: UInt64 in [1, 2, 3] { withUnsafeBytes(of: value.littleEndian) { body += $0 } }
        body += [0x01, 0x73, 0x06] + Array("String".utf8) + [0x01, 0x78, 0x02, 0x79, 0x79, 0x03, 0x7a, 0x7a, 0x7a]
        let error = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "t", columns: ["a", "s"], body: ByteBlob(body), compressed: false)
        }
        #expect(error?.kind == .data)
        #expect(error?.code != nil)
        #expect(error?.isRetryable == false)
        await transport.shutdown()
    }

    @Test func truncatedBodyIsADataError() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "truncated")
        try await createTable(server, database)
        let transport = try makeTransport(server, database: database)
        let error = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "t", columns: ["a", "s"], body: ByteBlob(Hex.bytes(Self.block).prefix(30)), compressed: false)
        }
        #expect(error?.kind == .data)
        #expect(error?.code == 33)
        await transport.shutdown()
    }

    @Test func corruptedFrameChecksumIsRetryable() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "checksum")
        try await createTable(server, database)
        let transport = try makeTransport(server, database: database)
        var frame = Hex.bytes(Self.noneFrame)
        frame[0] ^= 0x01
        let error = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "t", columns: ["a", "s"], body: ByteBlob(frame), compressed: true)
        }
        #expect(error?.code == 40)
        #expect(error?.isRetryable == true)
        await transport.shutdown()
    }

    @Test func missingTableNeedsAnOperator() async throws {
        let server = try await ClickHouseServer.shared()
        let transport = try makeTransport(server, database: "default")
        let error = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "no_such_table", columns: ["a"], body: ByteBlob(Hex.bytes(Self.noneFrame)), compressed: true)
        }
        #expect(error?.kind == .configuration)
        #expect(error?.code == 60)
        #expect(error?.httpStatus == 404)
        await transport.shutdown()
    }

    @Test func syntaxErrorIsAnInvalidRequest() async throws {
        let server = try await ClickHouseServer.shared()
        let transport = try makeTransport(server, database: "default")
        let error = await #expect(throws: ClickHouseError.self) { try await transport.execute("SELEC 1") }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.code == 62)
        await transport.shutdown()
    }

    @Test func queryParametersAreRejectedBy18_16AsAnUnknownSetting() async throws {
        let server = try await ClickHouseServer.shared()
        let transport = try makeTransport(server, database: "default")
        let error = await #expect(throws: ClickHouseError.self) {
            _ = try await transport.query("SELECT {x:UInt8}", parameters: ["x": "1"])
        }
        #expect(error?.code == 115)
        #expect(error?.kind == .configuration)
        await transport.shutdown()
    }

    @Test func queryReturnsTheResultAndHonoursSettings() async throws {
        let server = try await ClickHouseServer.shared()
        let transport = try makeTransport(server, database: "default")
        let body = try await transport.query("SELECT number FROM system.numbers LIMIT 3", settings: [("max_threads", "1")])
        #expect(String(decoding: body, as: UTF8.self) == "0\n1\n2\n")
        await transport.shutdown()
    }

    @Test func describeReturnsRealTypesNestedColumnsAndDefaults() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "describe")
        try await server.execute("""
            CREATE TABLE \(database).events (
                ts DateTime,
                name LowCardinality(String) DEFAULT 'x',
                d Nested(key String, value Float64),
                note String DEFAULT concat('a\\tb', toString(ts)),
                tags Array(Nullable(String)),
                doubled UInt64 MATERIALIZED toUInt64(ts) * 2,
                alias_ts DateTime ALIAS ts,
                `we``ird` Nullable(Decimal(9, 4))
            ) ENGINE = MergeTree ORDER BY ts
            """, settings: [("allow_experimental_low_cardinality_type", "1")])
        let transport = try makeTransport(server, database: database)
        let columns = try await transport.describe(table: "events")
        let byName = Dictionary(uniqueKeysWithValues: columns.map { ($0.name, $0) })
        #expect(columns.first?.name == "ts")
        #expect(byName["ts"]?.type == "DateTime")
        #expect(byName["name"]?.type == "LowCardinality(String)")
        #expect(byName["name"]?.defaultKind == .default)
        // 18.16 rewrites the default into a CAST to the column type.
        #expect(byName["name"]?.defaultExpression?.contains("'x'") == true)
        #expect(byName["d.key"]?.type == "Array(String)")
        #expect(byName["d.value"]?.type == "Array(Float64)")
        #expect(byName["note"]?.defaultExpression == "concat('a\\tb', toString(ts))")
        #expect(byName["tags"]?.type == "Array(Nullable(String))")
        #expect(byName["doubled"]?.defaultKind == .materialized)
        #expect(byName["alias_ts"]?.defaultKind == .alias)
        #expect(byName["we`ird"]?.type == "Nullable(Decimal(9, 4))")
        await transport.shutdown()
    }

    @Test func sequentialRequestsReuseKeptAliveConnections() async throws {
        let server = try await ClickHouseServer.shared()
        let opened = Locked<[Int]>([])
        let transport = try makeTransport(server, database: "default", maxConnections: 2) { metrics in
            opened.withLock { $0.append(metrics.connectionsOpened) }
        }
        for _ in 0..<40 {
            _ = try await transport.query("SELECT 1")
        }
        try await transport.ping()
        let statistics = transport.statistics
        #expect(statistics.requests == 41)
        #expect(statistics.connectionsOpened >= 1)
        #expect(statistics.connectionsOpened <= 2)
        #expect(opened.withLock { $0.filter { $0 == 0 }.count } >= 39)
        await transport.shutdown()
    }

    @Test func parallelInsertsAllSucceedOnABoundedSetOfDedicatedThreads() async throws {
        let server = try await ClickHouseServer.shared()
        let database = try await server.makeDatabase(prefix: "parallel")
        try await createTable(server, database)
        let workers = Locked<(indexes: Set<Int>, offPool: Int)>(([], 0))
        let transport = try makeTransport(server, database: database, maxConnections: 3) { metrics in
            // The observer runs on the thread that performed the request.
            let onTransportThread = ClickHouseHTTPTransport.isCurrentThreadATransportThread
            workers.withLock {
                $0.indexes.insert(metrics.workerIndex)
                if onTransportThread { $0.offPool += 1 }
            }
        }
        #expect(!ClickHouseHTTPTransport.isCurrentThreadATransportThread)
        #expect(transport.threadCount == 3)
        let body = ByteBlob(Hex.bytes(Self.lz4Frame))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<30 {
                group.addTask {
                    try await transport.insert(table: "t", columns: ["a", "s"], body: body, compressed: true, queryID: "parallel-\(i)-\(UUID())")
                }
            }
            try await group.waitForAll()
        }
        #expect(try await server.query("SELECT count(), sum(a) FROM \(database).t") == "90\t180\n")
        let seen = workers.withLock { $0 }
        #expect(seen.indexes.isSubset(of: [0, 1, 2]))
        #expect(seen.offPool == 30, "every request ran on a dedicated transport thread")
        #expect(transport.statistics.connectionsOpened <= 3)
        #expect(transport.statistics.requests == 30)
        #expect(transport.threadCount == 3)
        await transport.shutdown()
        #expect(transport.threadCount == 0)
    }
}
