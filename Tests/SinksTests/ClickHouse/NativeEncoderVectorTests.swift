import Testing
import Pipeline
import Sinks

/// The encoder's bytes against every Native vector in specs/clickhouse-test-vectors.md
/// §2-§4 (written or accepted by real servers) and the worked examples of
/// specs/clickhouse-native.md §3.
@Suite struct NativeEncoderVectorTests {
    // MARK: clickhouse-test-vectors.md §2

    static let section2Block = "020301610655496e743332010000000200000003000000017306537472696e670178027979037a7a7a"

    static var section2Columns: [TestColumn] {
        [
            TestColumn("a", .uint32) { c in for v: UInt32 in [1, 2, 3] { c.append(v) } },
            TestColumn("s", .string) { $0.append(strings: ["x", "yy", "zzz"]) },
        ]
    }

    @Test func uint32AndStringBlockMatchesTheBlockAcceptedBy18_16() throws {
        #expect(try blockHex(Self.section2Columns) == Self.section2Block)
    }

    // MARK: clickhouse-test-vectors.md §3 (ClickHouse 18.16.1 output)

    @Test func uint8Int64Float64MatchServerOutput() throws {
        let hex = try blockHex([
            TestColumn("a", .uint8) { $0.append(UInt8(200)) },
            TestColumn("b", .int64) { $0.append(Int64(-2)) },
            TestColumn("c", .float64) { $0.append(1.5) },
        ])
        #expect(hex == "030101610555496e7438c8016205496e743634feffffffffffffff016307466c6f61743634000000000000f83f")
    }

    @Test func dateTimeMatchesServerOutput() throws {
        let hex = try blockHex([TestColumn("t", .dateTime(timezone: nil)) { $0.append(UInt32(1_704_067_200)) }])
        #expect(hex == "01010174084461746554696d6580009265")
    }

    @Test func dateMatchesServerOutput() throws {
        let hex = try blockHex([TestColumn("d", .date) { $0.append(UInt16(19723)) }])
        #expect(hex == "0101016404446174650b4d")
    }

    @Test func uuidMatchesServerOutputOfBothVersions() throws {
        let hex = try blockHex([TestColumn("u", .uuid) { $0.append(uuid: "61f0c404-5cb3-11e7-907b-a6006ad3dba0") }])
        #expect(hex == "010101750455554944e711b35c04c4f061a0dbd36a00a67b90")
    }

    @Test func nullableStringMatchesServerOutput() throws {
        let hex = try blockHex([
            TestColumn("n", .nullable(.string)) { c in
                c.appendNullable { $0.append(string: "a") }
                c.appendNull()
            }
        ])
        #expect(hex == "0102016e104e756c6c61626c6528537472696e67290001016100")
    }

    @Test func arrayOfStringMatchesServerOutput() throws {
        let hex = try blockHex([
            TestColumn("arr", .array(.string)) { c in
                c.appendArrayRow { $0.append(strings: ["a", "bb"]) }
                c.appendArrayRow { _ in }
            }
        ])
        #expect(hex == "0102036172720d417272617928537472696e6729020000000000000002000000000000000161026262")
    }

    @Test func fixedStringMatchesServerOutput() throws {
        let hex = try blockHex([TestColumn("f", .fixedString(2)) { $0.append(fixed: "ab", width: 2) }])
        #expect(hex == "010101660e4669786564537472696e672832296162")
    }

    @Test func enum8MatchesServerOutput() throws {
        let type = ColumnType.enum8([.init(name: "a", value: 1), .init(name: "b", value: 2)])
        let hex = try blockHex([TestColumn("e", type) { $0.append(Int8(2)) }])
        #expect(hex == "0101016517456e756d3828276127203d20312c20276227203d20322902")
    }

    @Test func boolIntoUInt8TableMatchesServerOutputForUInt8() throws {
        let hex = try blockHex([TestColumn("ok", .bool, table: "UInt8") { $0.append(UInt8(1)) }])
        #expect(hex == "0101026f6b0555496e743801")
    }

    // MARK: clickhouse-test-vectors.md §4 (ClickHouse 26.9 output)

    @Test func dateTime64MatchesServerOutput() throws {
        let hex = try blockHex([
            TestColumn("t", .dateTime64(precision: 3, timezone: "UTC")) { $0.append(Int64(1_704_067_200_123)) }
        ])
        #expect(hex == "01010174144461746554696d65363428332c202755544327297bf451c28c010000")
    }

    @Test func lowCardinalityStringMatchesServerOutputByteForByte() throws {
        let hex = try blockHex([
            TestColumn("region", .lowCardinality(.string)) { $0.append(strings: ["us", "eu", "us"]) }
        ])
        #expect(hex == "010306726567696f6e164c6f7743617264696e616c69747928537472696e6729010000000000000000060000000000000300000000000000000275730265750300000000000000010201")
    }

    @Test func mapStringStringMatchesServerOutput() throws {
        let hex = try blockHex([
            TestColumn("dims", .map(key: .string, value: .string)) { $0.appendMapRow([("region", "us"), ("plan", "pro")]) }
        ])
        #expect(hex == "01010464696d73134d617028537472696e672c20537472696e6729020000000000000006726567696f6e04706c616e0275730370726f")
    }

    @Test func boolMatchesServerOutput() throws {
        #expect(try blockHex([TestColumn("b", .bool) { $0.append(UInt8(1)) }]) == "0101016204426f6f6c01")
    }

    @Test func nullableFloat64MatchesServerOutput() throws {
        let hex = try blockHex([
            TestColumn("x", .nullable(.float64)) { c in
                c.appendNullable { $0.append(1.5) }
                c.appendNull()
            }
        ])
        #expect(hex == "01020178114e756c6c61626c6528466c6f61743634290001000000000000f83f0000000000000000")
    }

    // MARK: clickhouse-native.md §3 worked examples (column data only)

    /// The column-data bytes of a one-column block (skipping the block and column headers).
    func columnData(_ column: TestColumn) throws -> String {
        let block = Hex.bytes(try blockHex([column]))
        let header = 2 + 1 + column.name.utf8.count + 1 + column.tableType.utf8.count
        return Hex.string(Array(block[header...]))
    }

    @Test func fixedWidthExamplesMatchTheSpec() throws {
        #expect(try columnData(TestColumn("x", .uint32) { c in for v: UInt32 in [1, 256, 65536] { c.append(v) } })
            == "010000000001000000000100")
        #expect(try columnData(TestColumn("x", .int32) { $0.append(Int32(-1)) }) == "ffffffff")
        #expect(try columnData(TestColumn("x", .float32) { $0.append(Float32(1.5)) }) == "0000c03f")
        #expect(try columnData(TestColumn("x", .dateTime(timezone: nil)) { $0.append(UInt32(1_710_513_000)) }) == "685bf465")
        #expect(try columnData(TestColumn("x", .dateTime64(precision: 3, timezone: nil)) { $0.append(Int64(1_705_321_845_123)) })
            == "83511a0d8d010000")
        #expect(try columnData(TestColumn("x", .date) { $0.append(UInt16(1)) }) == "0100")
        #expect(try columnData(TestColumn("x", .string) { $0.append(strings: ["ab", "", "c"]) }) == "026162000163")
        #expect(try columnData(TestColumn("x", .fixedString(3)) { c in
            c.append(fixed: "abc", width: 3)
            c.append(fixed: "de", width: 3)
        }) == "616263646500")
        #expect(try columnData(TestColumn("x", .uuid) { $0.append(uuid: "550e8400-e29b-41d4-a716-446655440000") })
            == "d4419be200840e5500004455664416a7")
    }

    @Test func nullableExamplesMatchTheSpec() throws {
        #expect(try columnData(TestColumn("x", .nullable(.uint8)) { c in
            c.appendNullable { $0.append(UInt8(5)) }
            c.appendNull()
            c.appendNullable { $0.append(UInt8(9)) }
        }) == "000100050009")
        #expect(try columnData(TestColumn("x", .nullable(.string)) { c in
            c.appendNullable { $0.append(string: "hello") }
            c.appendNull()
            c.appendNullable { $0.append(string: "world") }
        }) == "0001000568656c6c6f0005776f726c64")
    }

    @Test func arrayExamplesMatchTheSpec() throws {
        #expect(try columnData(TestColumn("x", .array(.uint32)) { c in
            c.appendArrayRow { for v: UInt32 in [10, 20, 30] { $0.append(v) } }
            c.appendArrayRow { _ in }
            c.appendArrayRow { for v: UInt32 in [40, 50] { $0.append(v) } }
        }) == "0300000000000000030000000000000005000000000000000a000000140000001e0000002800000032000000")
        let nested = try columnData(TestColumn("x", .array(.array(.uint32))) { c in
            c.appendArrayRow { $0.appendArrayRow { for v: UInt32 in [1, 2] { $0.append(v) } } }
            c.appendArrayRow { _ in }
            c.appendArrayRow { inner in
                inner.appendArrayRow { $0.append(UInt32(3)) }
                inner.appendArrayRow { for v: UInt32 in [4, 5] { $0.append(v) } }
            }
        })
        #expect(nested.count / 2 == 68)
        let expected = [
            "010000000000000001000000000000000300000000000000", "020000000000000003000000000000000500000000000000",
            "0100000002000000030000000400000005000000",
        ].joined()
        #expect(nested == expected)
    }

    @Test func mapExampleMatchesTheSpec() throws {
        #expect(try columnData(TestColumn("x", .map(key: .string, value: .uint32)) { c in
            c.inner?.append(strings: ["a", "b"])
            c.inner2?.append(UInt32(1))
            c.inner2?.append(UInt32(2))
            c.finishCollectionRow()
        }) == "0200000000000000016101620100000002000000")
    }

    @Test func lowCardinalityExampleMatchesTheServerForm() throws {
        let expected = ["0100000000000000", "0006000000000000", "0400000000000000", "00016101620163", "0500000000000000", "0102010302"]
        #expect(try columnData(TestColumn("x", .lowCardinality(.string)) { $0.append(strings: ["a", "b", "a", "c", "b"]) })
            == expected.joined())
    }

    @Test func lowCardinalityNullableReservesNullAndDefaultSlots() throws {
        // Server form: slot 0 = NULL, slot 1 = the default "", then the values; key 0 = NULL.
        let expected = ["0100000000000000", "0006000000000000", "0400000000000000", "000001610162", "0300000000000000", "020003"]
        #expect(try columnData(TestColumn("x", .lowCardinality(.nullable(.string))) { c in
            c.appendNullable { $0.append(string: "a") }
            c.appendNull()
            c.appendNullable { $0.append(string: "b") }
        }) == expected.joined())
    }

    @Test func workedMetricsExampleIs72BytesAndItsNoneFrameIs97() throws {
        let columns = [
            TestColumn("ts", .dateTime(timezone: nil)) { c in c.append(UInt32(1_710_513_000)); c.append(UInt32(1_710_513_001)) },
            TestColumn("name", .string) { $0.append(strings: ["cpu", "mem"]) },
            TestColumn("value", .float64) { c in c.append(0.5); c.append(1.25) },
        ]
        let block = """
            03 02 02 74 73 08 44 61 74 65 54 69 6d 65 68 5b f4 65 69 5b f4 65
            04 6e 61 6d 65 06 53 74 72 69 6e 67 03 63 70 75 03 6d 65 6d
            05 76 61 6c 75 65 07 46 6c 6f 61 74 36 34 00 00 00 00 00 00 e0 3f 00 00 00 00 00 00 f4 3f
            """
        #expect(try blockHex(columns) == Hex.string(Hex.bytes(block)))
        #expect(Hex.bytes(block).count == 72)

        let encoder = try NativeEncoder(compression: .none)
        let body = try encoder.encodeInsertBody(makeBatch(columns), plan: makePlan(columns))
        #expect(body.rows == 2 && body.uncompressedBytes == 72)
        #expect(body.body.count == 97)
        let frame = "07805c1e0494f65e9e2da3a554f2f60d" + "02" + "51000000" + "48000000" + Hex.string(Hex.bytes(block))
        #expect(Hex.string(body.body.bytes) == frame)
    }
}
