import Testing
import Pipeline
import Sinks

/// Every conversion of the insert plan, checked on the bytes the encoder writes, and
/// every way building a plan can fail.
@Suite struct NativeInsertPlanTests {
    /// Encodes `columns` (logical) into `table` (physical) and reads the block back.
    func encode(_ columns: [TestColumn], table: [PhysicalColumn], orderBy: [String] = []) throws -> NativeBlockReader.Block {
        let batch = makeBatch(columns)
        let plan = try NativeInsertPlan(logicalSchema: batch.schema, table: table, orderBy: orderBy)
        return try NativeBlockReader.readOne(NativeEncoder.encodeBlock(batch, plan: plan).bytes)
    }

    func planError(_ columns: [(String, ColumnType)], _ table: [PhysicalColumn], orderBy: [String] = []) -> NativeInsertPlanError? {
        do {
            _ = try NativeInsertPlan(logicalSchema: columns, table: table, orderBy: orderBy)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Conversions

    @Test func identicalTypesAreCopiedAndListedInTableOrder() throws {
        let block = try encode(
            [TestColumn("a", .uint32) { $0.append(UInt32(7)) }, TestColumn("b", .string) { $0.append(string: "x") }],
            table: [PhysicalColumn(name: "b", typeName: "String"), PhysicalColumn(name: "a", typeName: "UInt32")])
        #expect(block.names == ["b", "a"])
        #expect(block["a"] == ["7"] && block["b"] == ["x"])
    }

    @Test func lowCardinalityBecomesPlainStringForOldServers() throws {
        let block = try encode(
            [TestColumn("t", .lowCardinality(.string)) { $0.append(strings: ["x", "y", "x"]) }],
            table: [PhysicalColumn(name: "t", typeName: "String")])
        #expect(block.columns[0].type == "String")
        #expect(block["t"] == ["x", "y", "x"])
    }

    @Test func plainStringIsDictionaryEncodedForLowCardinalityColumns() throws {
        let batch = makeBatch([TestColumn("t", .string) { $0.append(strings: ["x", "y", "x"]) }])
        let plan = try NativeInsertPlan(logicalSchema: batch.schema, table: [PhysicalColumn(name: "t", typeName: "LowCardinality(String)")])
        let bytes = try NativeEncoder.encodeBlock(batch, plan: plan).bytes
        let lowCardinality = ["0100000000000000", "0006000000000000", "0300000000000000", "00", "0178", "0179", "0300000000000000", "010201"]
        #expect(Hex.string(bytes).hasSuffix(lowCardinality.joined()))
        #expect(try NativeBlockReader.readOne(bytes)["t"] == ["x", "y", "x"])
    }

    @Test func nullableLowCardinalityUsesKeyZeroForNull() throws {
        let block = try encode(
            [TestColumn("t", .lowCardinality(.nullable(.string))) { c in
                c.appendNullable { $0.append(string: "") }
                c.appendNull()
                c.appendNullable { $0.append(string: "q") }
            }],
            table: [PhysicalColumn(name: "t", typeName: "LowCardinality(Nullable(String))")])
        #expect(block["t"] == ["", "NULL", "q"])
    }

    @Test func nonNullableSourceFillsNullableLowCardinality() throws {
        let block = try encode(
            [TestColumn("t", .string) { $0.append(strings: ["a", ""]) }],
            table: [PhysicalColumn(name: "t", typeName: "LowCardinality(Nullable(String))")])
        #expect(block["t"] == ["a", ""])
    }

    @Test func lowCardinalityFixedStringKeepsItsWidth() throws {
        let block = try encode(
            [TestColumn("c", .lowCardinality(.fixedString(2))) { c in
                c.append(fixed: "us", width: 2)
                c.append(fixed: "", width: 2)
                c.append(fixed: "us", width: 2)
            }],
            table: [PhysicalColumn(name: "c", typeName: "LowCardinality(FixedString(2))")])
        #expect(block["c"] == ["us", "\0\0", "us"])
    }

    @Test func boolBecomesUInt8() throws {
        let block = try encode(
            [TestColumn("ok", .bool) { c in c.append(UInt8(1)); c.append(UInt8(0)) }],
            table: [PhysicalColumn(name: "ok", typeName: "UInt8")])
        #expect(block.columns[0].type == "UInt8" && block["ok"] == ["1", "0"])
    }

    @Test func dateTime64MillisecondsSplitIntoDateTimeAndMsCompanion() throws {
        let block = try encode(
            [TestColumn("ts", .dateTime64(precision: 3, timezone: "UTC")) { c in
                c.append(Int64(1_704_067_200_123))
                c.append(Int64(1_704_067_200_000))
                c.append(Int64(-1))  // 1969-12-31 23:59:59.999: floor, clamped to 0 seconds
            }],
            table: [
                PhysicalColumn(name: "ts", typeName: "DateTime('UTC')"),
                PhysicalColumn(name: "ts_ms", typeName: "UInt16"),
            ])
        #expect(block.names == ["ts", "ts_ms"])
        #expect(block["ts"] == ["1704067200", "1704067200", "0"])
        #expect(block["ts_ms"] == ["123", "0", "999"])
    }

    @Test func dateTime64PrecisionPicksTheCompanionSuffix() throws {
        let block = try encode(
            [
                TestColumn("a", .dateTime64(precision: 1, timezone: nil)) { $0.append(Int64(17_040_672_005)) },
                TestColumn("b", .dateTime64(precision: 6, timezone: nil)) { $0.append(Int64(1_704_067_200_123_456)) },
                TestColumn("c", .dateTime64(precision: 9, timezone: nil)) { $0.append(Int64(1_704_067_200_123_456_789)) },
                TestColumn("d", .dateTime64(precision: 3, timezone: nil)) { $0.append(Int64(1_704_067_200_999)) },
            ],
            table: [
                PhysicalColumn(name: "a", typeName: "DateTime"), PhysicalColumn(name: "a_ms", typeName: "UInt16"),
                PhysicalColumn(name: "b", typeName: "DateTime"), PhysicalColumn(name: "b_us", typeName: "UInt32"),
                PhysicalColumn(name: "c", typeName: "DateTime"), PhysicalColumn(name: "c_ns", typeName: "UInt32"),
                PhysicalColumn(name: "d", typeName: "DateTime"),
            ])
        #expect(block["a"] == ["1704067200"] && block["a_ms"] == ["500"])
        #expect(block["b"] == ["1704067200"] && block["b_us"] == ["123456"])
        #expect(block["c"] == ["1704067200"] && block["c_ns"] == ["123456789"])
        // No companion in the table: whole seconds only (the table chose to drop them).
        #expect(block["d"] == ["1704067200"] && block.names.count == 7)
    }

    @Test func dateTime64IsRescaledBetweenPrecisions() throws {
        let block = try encode(
            [
                TestColumn("up", .dateTime64(precision: 3, timezone: nil)) { c in c.append(Int64(1_500)); c.append(Int64(-1)) },
                TestColumn("down", .dateTime64(precision: 6, timezone: nil)) { c in c.append(Int64(1_500_999)); c.append(Int64(-1)) },
            ],
            table: [
                PhysicalColumn(name: "up", typeName: "DateTime64(6, 'UTC')"),
                PhysicalColumn(name: "down", typeName: "DateTime64(3)"),
            ])
        #expect(block["up"] == ["1500000", "-1000"])
        #expect(block["down"] == ["1500", "-1"])
    }

    @Test func mapBecomesNestedKeyAndValueArrays() throws {
        let block = try encode(
            [TestColumn("dims", .map(key: .string, value: .string)) { c in
                c.appendMapRow([("region", "us"), ("plan", "pro")])
                c.appendMapRow([])
                c.appendMapRow([("k", "v")])
            }],
            table: [
                PhysicalColumn(name: "dims.key", typeName: "Array(String)"),
                PhysicalColumn(name: "dims.value", typeName: "Array(String)"),
            ])
        #expect(block["dims.key"] == ["[region,plan]", "[]", "[k]"])
        #expect(block["dims.value"] == ["[us,pro]", "[]", "[v]"])
    }

    @Test func mapElementsAreConvertedInsideNestedArrays() throws {
        let block = try encode(
            [TestColumn("m", .map(key: .lowCardinality(.string), value: .uint8)) { c in
                c.inner?.append(strings: ["a", "b"])
                c.inner2?.append(UInt8(1))
                c.inner2?.append(UInt8(255))
                c.finishCollectionRow()
            }],
            table: [
                PhysicalColumn(name: "m.key", typeName: "Array(String)"),
                PhysicalColumn(name: "m.value", typeName: "Array(UInt64)"),
            ])
        #expect(block["m.key"] == ["[a,b]"] && block["m.value"] == ["[1,255]"])
    }

    @Test func mapIntoMapConvertsKeyAndValueTypes() throws {
        let block = try encode(
            [TestColumn("m", .map(key: .string, value: .int32)) { c in
                c.inner?.append(string: "a")
                c.inner2?.append(Int32(-5))
                c.finishCollectionRow()
            }],
            table: [PhysicalColumn(name: "m", typeName: "Map(LowCardinality(String), Nullable(Int64))")])
        #expect(block["m"] == ["{a:-5}"])
    }

    @Test func numbersWidenLosslessly() throws {
        let block = try encode(
            [
                TestColumn("u8", .uint8) { $0.append(UInt8(255)) },
                TestColumn("u16", .uint16) { $0.append(UInt16(65535)) },
                TestColumn("i8", .int8) { $0.append(Int8(-128)) },
                TestColumn("i32", .int32) { $0.append(Int32.min) },
                TestColumn("f32", .float32) { $0.append(Float32(1.5)) },
                TestColumn("i16f", .int16) { $0.append(Int16(-300)) },
                TestColumn("flag", .bool) { $0.append(UInt8(1)) },
            ],
            table: [
                PhysicalColumn(name: "u8", typeName: "UInt64"), PhysicalColumn(name: "u16", typeName: "Int32"),
                PhysicalColumn(name: "i8", typeName: "Int64"), PhysicalColumn(name: "i32", typeName: "Int64"),
                PhysicalColumn(name: "f32", typeName: "Float64"), PhysicalColumn(name: "i16f", typeName: "Float32"),
                PhysicalColumn(name: "flag", typeName: "UInt32"),
            ])
        #expect(block["u8"] == ["255"] && block["u16"] == ["65535"] && block["i8"] == ["-128"])
        #expect(block["i32"] == ["-2147483648"] && block["f32"] == ["1.5"] && block["i16f"] == ["-300.0"])
        #expect(block["flag"] == ["1"])
    }

    @Test func valuesGainANullMapForNullableColumns() throws {
        let block = try encode(
            [
                TestColumn("n", .int32) { c in c.append(Int32(1)); c.append(Int32(2)) },
                TestColumn("s", .lowCardinality(.string)) { $0.append(strings: ["a", "b"]) },
                TestColumn("w", .uint8) { c in c.append(UInt8(3)); c.append(UInt8(4)) },
            ],
            table: [
                PhysicalColumn(name: "n", typeName: "Nullable(Int32)"),
                PhysicalColumn(name: "s", typeName: "Nullable(String)"),
                PhysicalColumn(name: "w", typeName: "Nullable(UInt64)"),
            ])
        #expect(block["n"] == ["1", "2"] && block["s"] == ["a", "b"] && block["w"] == ["3", "4"])
    }

    @Test func arrayElementsAreConverted() throws {
        let block = try encode(
            [TestColumn("a", .array(.lowCardinality(.string))) { c in
                c.appendArrayRow { $0.append(strings: ["x", "y"]) }
                c.appendArrayRow { _ in }
            }],
            table: [PhysicalColumn(name: "a", typeName: "Array(String)")])
        #expect(block["a"] == ["[x,y]", "[]"])
        let lc = try encode(
            [TestColumn("a", .array(.string)) { c in
                c.appendArrayRow { $0.append(strings: ["x", "y", "x"]) }
                c.appendArrayRow { _ in }
            }],
            table: [PhysicalColumn(name: "a", typeName: "Array(LowCardinality(String))")])
        #expect(lc["a"] == ["[x,y,x]", "[]"])
    }

    @Test func unfedColumnsWithDefaultsAreLeftOutOfTheInsert() throws {
        let plan = try NativeInsertPlan(
            logicalSchema: [("a", .uint8)],
            table: [
                PhysicalColumn(name: "id", typeName: "UUID", defaultKind: .default),
                PhysicalColumn(name: "a", typeName: "UInt8"),
                PhysicalColumn(name: "day", typeName: "Date", defaultKind: .materialized),
                PhysicalColumn(name: "x", typeName: "Decimal(9, 2)", defaultKind: .alias),
                PhysicalColumn(name: "e", typeName: "String", defaultKind: .ephemeral),
            ])
        #expect(plan.insertColumnNames == ["a"])
        #expect(plan.insertColumnList == "(`a`)")
    }

    @Test func insertColumnListQuotesNestedNames() throws {
        let plan = try NativeInsertPlan(
            logicalSchema: [("m", .map(key: .string, value: .string)), ("odd`name", .uint8)],
            table: [
                PhysicalColumn(name: "m.key", typeName: "Array(String)"),
                PhysicalColumn(name: "m.value", typeName: "Array(String)"),
                PhysicalColumn(name: "odd`name", typeName: "UInt8"),
            ])
        #expect(plan.insertColumnList == "(`m.key`, `m.value`, `odd\\`name`)")
    }

    @Test func planNamesEachColumnsSourceAndConversion() throws {
        let plan = try NativeInsertPlan(
            logicalSchema: [("ts", .dateTime64(precision: 3, timezone: nil)), ("m", .map(key: .string, value: .string)),
                            ("t", .lowCardinality(.string))],
            table: [
                PhysicalColumn(name: "ts", typeName: "DateTime"), PhysicalColumn(name: "ts_ms", typeName: "UInt16"),
                PhysicalColumn(name: "m.key", typeName: "Array(String)"), PhysicalColumn(name: "m.value", typeName: "Array(String)"),
                PhysicalColumn(name: "t", typeName: "String"),
            ])
        #expect(plan.columns.map(\.source) == ["ts", "ts", "m", "m", "t"])
        #expect(plan.columns.map(\.conversionDescription) == [
            "DateTime64(3) to whole seconds", "DateTime64(3) sub-second part in 10^-3 s",
            "Map keys as Array(copy strings)", "Map values as Array(copy strings)", "copy strings",
        ])
        #expect(plan.columns.map(\.isDirectCopy) == [false, false, false, false, true])
    }

    @Test func describeRowsMapDefaultKinds() {
        #expect(PhysicalColumn(describeName: "a", type: "UInt8", defaultType: "").defaultKind == .none)
        #expect(PhysicalColumn(describeName: "a", type: "UInt8", defaultType: "MATERIALIZED").defaultKind == .materialized)
        #expect(PhysicalColumn(describeName: "a", type: "UInt8", defaultType: "ALIAS").defaultKind == .alias)
        #expect(PhysicalColumn(describeName: "a", type: "UInt8", defaultType: "DEFAULT").defaultKind == .default)
    }

    // MARK: Failures

    @Test func logicalColumnWithoutTableColumnIsAnErrorNamingIt() {
        #expect(planError([("a", .uint8), ("lost", .string)], [PhysicalColumn(name: "a", typeName: "UInt8")])
            == .unmatchedLogicalColumn(name: "lost", reason: "the table has no column 'lost'"))
    }

    @Test func halfANestedPairIsAnError() {
        let e = planError([("m", .map(key: .string, value: .string))], [PhysicalColumn(name: "m.key", typeName: "Array(String)")])
        guard case .unmatchedLogicalColumn(let name, _) = e else {
            Issue.record("got \(String(describing: e))")
            return
        }
        #expect(name == "m")
    }

    @Test func tableColumnWithoutValueOrDefaultIsAnErrorNamingIt() {
        #expect(planError([("a", .uint8)], [PhysicalColumn(name: "a", typeName: "UInt8"), PhysicalColumn(name: "b", typeName: "String")])
            == .missingPhysicalColumn(name: "b", typeName: "String"))
    }

    @Test func lossyConversionsAreRejected() {
        let cases: [(ColumnType, String)] = [
            (.int64, "Int32"), (.uint64, "Int64"), (.int8, "UInt16"), (.float64, "Float32"), (.int64, "Float64"),
            (.nullable(.string), "String"), (.string, "UInt8"), (.nullable(.string), "LowCardinality(String)"),
            (.fixedString(3), "FixedString(2)"), (.dateTime(timezone: nil), "Date"), (.array(.string), "String"),
            (.enum8([.init(name: "a", value: 1), .init(name: "b", value: 2)]), "Enum8('a' = 1)"),
            (.string, "FixedString(4)"), (.uint32, "Float32"),
        ]
        for (logical, physical) in cases {
            let e = planError([("c", logical)], [PhysicalColumn(name: "c", typeName: physical)])
            guard case .incompatibleTypes(let column, _, let p, _) = e else {
                Issue.record("\(logical) -> \(physical): \(String(describing: e))")
                continue
            }
            #expect(column == "c" && p == physical)
        }
    }

    @Test func enumIntoSupersetEnumIsAccepted() throws {
        let logical = ColumnType.enum8([.init(name: "a", value: 1)])
        let block = try encode(
            [TestColumn("e", logical) { $0.append(Int8(1)) }],
            table: [PhysicalColumn(name: "e", typeName: "Enum16('a' = 1, 'b' = 2)")])
        #expect(block["e"] == ["1"])
    }

    @Test func materializedColumnCannotBeFed() {
        #expect(planError([("a", .uint8)], [PhysicalColumn(name: "a", typeName: "UInt8", defaultKind: .materialized)])
            == .notInsertable(column: "a", kind: .materialized))
    }

    @Test func unsupportedTableTypeIsAnErrorOnlyWhenFed() {
        let e = planError([("a", .uint8)], [PhysicalColumn(name: "a", typeName: "Decimal(9, 2)")])
        guard case .unsupportedPhysicalType(let column, let type, _) = e else {
            Issue.record("got \(String(describing: e))")
            return
        }
        #expect(column == "a" && type == "Decimal(9, 2)")
    }

    @Test func tooNarrowMillisecondCompanionIsRejected() {
        let e = planError(
            [("ts", .dateTime64(precision: 3, timezone: nil))],
            [PhysicalColumn(name: "ts", typeName: "DateTime"), PhysicalColumn(name: "ts_ms", typeName: "UInt8")])
        guard case .incompatibleTypes(let column, _, _, _) = e else {
            Issue.record("got \(String(describing: e))")
            return
        }
        #expect(column == "ts_ms")
    }

    @Test func duplicateTableColumnsAreRejected() {
        #expect(planError([("a", .uint8)], [PhysicalColumn(name: "a", typeName: "UInt8"), PhysicalColumn(name: "a", typeName: "UInt8")])
            == .duplicateColumn(name: "a"))
    }

    @Test func sortKeysMustBeSortableDatasetColumns() {
        let table = [PhysicalColumn(name: "a", typeName: "Array(String)"), PhysicalColumn(name: "b", typeName: "UInt8")]
        #expect(planError([("a", .array(.string)), ("b", .uint8)], table, orderBy: ["nope"]) == .unknownSortColumn(name: "nope"))
        #expect(planError([("a", .array(.string)), ("b", .uint8)], table, orderBy: ["b", "a"])
            == .unsupportedSortKey(name: "a", typeName: "Array(String)"))
    }

    @Test func batchWithAnotherSchemaOrNoRowsIsRejected() throws {
        let columns = [TestColumn("a", .uint8) { _ in }]
        let plan = try makePlan(columns)
        #expect(throws: NativeEncodingError.emptyBatch) { _ = try NativeEncoder.encodeBlock(makeBatch(columns), plan: plan) }
        let other = makeBatch([TestColumn("b", .uint8) { $0.append(UInt8(1)) }])
        #expect {
            _ = try NativeEncoder.encodeBlock(other, plan: plan)
        } throws: { error in
            if case .schemaMismatch = error as? NativeEncodingError { return true }
            return false
        }
    }

    @Test func halfWrittenRowIsReportedNotEncoded() throws {
        let columns = [
            TestColumn("a", .uint8) { c in c.append(UInt8(1)); c.append(UInt8(2)) },
            TestColumn("b", .uint8) { $0.append(UInt8(1)) },
        ]
        let encoder = try NativeEncoder(compression: .lz4)
        #expect {
            _ = try encoder.encodeInsertBody(makeBatch(columns), plan: makePlan(columns))
        } throws: { error in
            if case .inconsistentRows(let column, _, _) = error as? NativeEncodingError { return column == "b" }
            return false
        }
    }
}
