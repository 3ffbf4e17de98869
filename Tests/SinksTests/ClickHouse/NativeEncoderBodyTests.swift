import Testing
import Pipeline
import Sinks

/// The framed request body: what it decompresses to, how it is cut, and that it is
/// reproducible (ClickHouse deduplicates a retried insert only if the bytes are equal).
@Suite struct NativeEncoderBodyTests {
    static func columns(rows: Int, bigValue: Int = 0) -> [TestColumn] {
        [
            TestColumn("k", .lowCardinality(.string)) { c in for i in 0..<rows { c.append(string: "key-\((i * 7919) % 37)") } },
            TestColumn("s", .string) { c in
                for i in 0..<rows { c.append(string: i == rows / 2 ? String(repeating: "x", count: bigValue) : "value \(i)") }
            },
            TestColumn("n", .int64) { c in for i in 0..<rows { c.append(Int64((i * 104_729) % 1000) - 500) } },
            TestColumn("m", .map(key: .string, value: .string)) { c in for i in 0..<rows { c.appendMapRow([("a", "\(i % 11)")]) } },
        ]
    }

    func frameSizes(_ body: ByteBlob) throws -> [Int] {
        try body.withUnsafeBytes { p in
            var sizes: [Int] = []
            var offset = 0
            while offset < p.count {
                let h = try CompressedFrame.header(in: p, at: offset)
                sizes.append(h.uncompressedSize)
                offset += h.frameLength
            }
            return sizes
        }
    }

    @Test(arguments: CompressionMethod.allCases)
    func bodyDecompressesToTheSortedBlockInFullMebibyteFrames(_ method: CompressionMethod) throws {
        let columns = Self.columns(rows: 60_000)
        let plan = try makePlan(columns, orderBy: ["k", "n"])
        let batch = makeBatch(columns)
        let block = try NativeEncoder.encodeBlock(batch, plan: plan).bytes
        let body = try NativeEncoder(compression: method).encodeInsertBody(batch, plan: plan)
        #expect(body.rows == 60_000 && body.uncompressedBytes == block.count)
        #expect(try CompressedFrame.decode(body.body.bytes) == block)
        let sizes = try frameSizes(body.body)
        #expect(sizes.count > 1)
        #expect(sizes.dropLast().allSatisfy { $0 == CompressedFrame.maxUncompressedSize })
        #expect(sizes.last.map { $0 > 0 && $0 <= CompressedFrame.maxUncompressedSize } == true)
    }

    @Test func valueLargerThanAFrameSpansSeveralFrames() throws {
        let columns = Self.columns(rows: 100, bigValue: 3 << 20)
        let plan = try makePlan(columns, orderBy: ["k"])
        let batch = makeBatch(columns)
        let body = try NativeEncoder(compression: .lz4).encodeInsertBody(batch, plan: plan)
        #expect(try frameSizes(body.body).count == 4)
        let block = try NativeBlockReader.readOne(CompressedFrame.decode(body.body.bytes))
        #expect(block["s"]?.contains { $0.utf8.count == 3 << 20 } == true)
    }

    @Test func encodingTheSameBatchTwiceGivesIdenticalBytes() throws {
        let columns = Self.columns(rows: 5_000)
        let plan = try makePlan(columns, orderBy: ["k", "n"])
        let batch = makeBatch(columns)
        let encoder = try NativeEncoder(compression: .zstd, zstdLevel: 3)
        let first = try encoder.encodeInsertBody(batch, plan: plan).body.bytes
        let second = try encoder.encodeInsertBody(batch, plan: plan).body.bytes
        #expect(first == second)
        #expect(try NativeEncoder(compression: .zstd, zstdLevel: 3).encodeInsertBody(batch, plan: plan).body.bytes == first)
    }

    @Test func emptyBatchIsAnErrorNotAnEmptyFrame() throws {
        let columns = Self.columns(rows: 0)
        let encoder = try NativeEncoder(compression: .lz4)
        #expect(throws: NativeEncodingError.emptyBatch) {
            _ = try encoder.encodeInsertBody(makeBatch(columns), plan: makePlan(columns))
        }
    }
}
