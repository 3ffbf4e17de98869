import Pipeline
import Testing

/// Decodes one event whose `data.v` is `json` into a one-column dataset of `type`.
private func coerce(_ type: String, _ json: String, required: Bool = true) -> (column: ColumnBuffer?, reasons: [String]) {
    let catalog = [DatasetDefinition(
        name: "t", routes: ["t"],
        fields: [Presets.field("v", type, ["data.v"], required: required), Presets.field("at", "DateTime", ["received_at"])],
        dedupKey: [.attribute("id")], orderBy: ["at"], timeColumn: "at")]
    let out = Harness(catalog: catalog).decode(cloudEvent(type: "t", data: #"{"v":\#(json)}"#))
    let column = out.column("t", "v", in: catalog)
    if let batch = out.rows("t", in: catalog)?.batch { #expect(batch.isConsistent) }
    return (column?.rowCount == 1 ? column : nil, out.reasons)
}

private func fixed<T: FixedWidthInteger>(_ type: String, _ json: String, as: T.Type) -> T? {
    coerce(type, json).column?.fixedValue(at: 0, as: T.self)
}

private func rejected(_ type: String, _ json: String) -> String? {
    let r = coerce(type, json)
    return r.column == nil ? r.reasons.first : nil
}

@Suite struct CoercionTests {
    @Test func integersAcceptInRangeLiteralsAndNumericStrings() {
        #expect(fixed("Int8", "-128", as: Int8.self) == -128)
        #expect(fixed("Int8", "127", as: Int8.self) == 127)
        #expect(fixed("UInt8", "255", as: UInt8.self) == 255)
        #expect(fixed("Int16", #""-32768""#, as: Int16.self) == -32768)
        #expect(fixed("UInt32", "4294967295", as: UInt32.self) == 4_294_967_295)
        #expect(fixed("Int64", "-9223372036854775808", as: Int64.self) == .min)
        #expect(fixed("Int64", #""9223372036854775807""#, as: Int64.self) == .max)
        #expect(fixed("UInt64", "18446744073709551615", as: UInt64.self) == .max)
    }

    @Test func integersRejectOverflowFractionsAndText() {
        #expect(rejected("Int8", "128") == "data.v: expected Int8, got number 128 (out of range)")
        #expect(rejected("UInt8", "-1") == "data.v: expected UInt8, got number -1 (out of range)")
        #expect(rejected("UInt16", "1.5") == "data.v: expected UInt16, got number 1.5 (not an integer)")
        #expect(rejected("Int32", #""12a""#) == #"data.v: expected Int32, got string "12a""#)
        #expect(rejected("Int64", "true") == "data.v: expected Int64, got boolean true")
        #expect(rejected("UInt64", "18446744073709551616") == "data.v: expected UInt64, got number 18446744073709551616 (out of range)")
        #expect(rejected("Int32", #""""#) == #"data.v: expected Int32, got string """#)
    }

    @Test func floatsAcceptNumbersAndNumericStringsButNotNaNOrInfinity() {
        #expect(coerce("Float64", "1250.50").column?.float64(at: 0) == 1250.5)
        #expect(coerce("Float64", #""-1.5e3""#).column?.float64(at: 0) == -1500)
        #expect(coerce("Float64", "1.7976931348623157e308").column?.float64(at: 0) == .greatestFiniteMagnitude)
        #expect(coerce("Float32", "0.1").column?.float32(at: 0) == Float32(0.1))
        #expect(rejected("Float64", #""NaN""#) == #"data.v: expected Float64, got string "NaN""#)
        #expect(rejected("Float64", #""Infinity""#) == #"data.v: expected Float64, got string "Infinity""#)
        #expect(rejected("Float64", "1e400") == "data.v: expected Float64, got number 1e400 (out of range)")
        #expect(rejected("Float32", "1e39") == "data.v: expected Float32, got number 1e39 (out of range)")
        #expect(rejected("Float64", #""abc""#) == #"data.v: expected Float64, got string "abc""#)
        #expect(rejected("Float64", "{}") == "data.v: expected Float64, got object")
    }

    @Test func boolsAcceptTheirSpellings() {
        for (json, expected) in [("true", 1), ("false", 0), ("1", 1), ("0", 0), (#""true""#, 1), (#""false""#, 0), (#""1""#, 1)] {
            #expect(fixed("Bool", json, as: UInt8.self) == UInt8(expected), "\(json)")
        }
        #expect(rejected("Bool", "2") == "data.v: expected Bool, got number 2")
        #expect(rejected("Bool", #""yes""#) == #"data.v: expected Bool, got string "yes""#)
    }

    @Test func stringsUnescapeAndKeepOtherValuesAsJSONText() {
        #expect(coerce("String", #""héllo \"wörld\" \u20ac\ud83d\ude00""#).column?.string(at: 0) == "héllo \"wörld\" €😀")
        #expect(coerce("String", #""""#).column?.string(at: 0) == "")
        #expect(coerce("String", "12.50").column?.string(at: 0) == "12.50")
        #expect(coerce("String", "false").column?.string(at: 0) == "false")
        #expect(coerce("LowCardinality(String)", #"{"a": [1, "x"]}"#).column?.string(at: 0) == #"{"a": [1, "x"]}"#)
        #expect(coerce("String", "[]").column?.string(at: 0) == "[]")
    }

    @Test func fixedStringsArePaddedAndLengthChecked() {
        #expect(coerce("FixedString(4)", #""ab""#).column?.stringBytes(at: 0) == [0x61, 0x62, 0, 0])
        #expect(coerce("FixedString(2)", #""é""#).column?.stringBytes(at: 0) == [0xC3, 0xA9])
        #expect(rejected("FixedString(2)", #""abc""#) == #"data.v: expected FixedString(2), got string "abc" (3 bytes, more than 2)"#)
    }

    @Test func uuidsAreStoredInClickHouseWireOrder() {
        let c = coerce("UUID", #""550E8400-e29b-41d4-a716-446655440000""#).column
        #expect(c?.stringBytes(at: 0) == [0xD4, 0x41, 0x9B, 0xE2, 0x00, 0x84, 0x0E, 0x55, 0x00, 0x00, 0x44, 0x55, 0x66, 0x44, 0x16, 0xA7])
        #expect(rejected("UUID", #""550e8400e29b41d4a716446655440000""#) == #"data.v: expected UUID, got string "550e8400e29b41d4a716446655440000" (not a canonical 8-4-4-4-12 UUID)"#)
        #expect(rejected("UUID", #""550e8400-e29b-41d4-a716-44665544000g""#) != nil)
        #expect(rejected("UUID", "5") == "data.v: expected UUID, got number 5")
    }

    @Test func datesAreDaysSinceTheEpoch() {
        #expect(fixed("Date", #""1970-01-01""#, as: UInt16.self) == 0)
        #expect(fixed("Date", #""2024-02-29""#, as: UInt16.self) == 19782)
        #expect(fixed("Date", #""2149-06-06""#, as: UInt16.self) == 65535)
        #expect(rejected("Date", #""2023-02-29""#) == #"data.v: expected Date, got string "2023-02-29" (not a YYYY-MM-DD date)"#)
        #expect(rejected("Date", #""1969-12-31""#) == #"data.v: expected Date, got string "1969-12-31" (outside 1970-01-01...2149-06-06)"#)
    }

    @Test func dateTimesAcceptRFC3339ZonelessTextAndEpochSeconds() {
        #expect(fixed("DateTime", #""2024-03-15T14:30:00Z""#, as: UInt32.self) == 1_710_513_000)
        #expect(fixed("DateTime", #""2024-03-15T16:30:00.999+02:00""#, as: UInt32.self) == 1_710_513_000)
        #expect(fixed("DateTime", #""2024-03-15 14:30:00""#, as: UInt32.self) == 1_710_513_000)
        #expect(fixed("DateTime", #""2024-03-15T14:30:00""#, as: UInt32.self) == 1_710_513_000)
        #expect(fixed("DateTime", #""2024-03-15t09:30:00-05:00""#, as: UInt32.self) == 1_710_513_000)
        #expect(fixed("DateTime", "1710513000", as: UInt32.self) == 1_710_513_000)
        #expect(fixed("DateTime", "1710513000.75", as: UInt32.self) == 1_710_513_000)
        #expect(fixed("DateTime", #""1970-01-01T00:00:00Z""#, as: UInt32.self) == 0)
        #expect(fixed("DateTime", #""2106-02-07T06:28:15Z""#, as: UInt32.self) == .max)
        #expect(rejected("DateTime", #""2106-02-07T06:28:16Z""#)?.hasSuffix("(outside 1970-01-01 00:00:00...2106-02-07 06:28:15 UTC)") == true)
        #expect(rejected("DateTime", "-1")?.hasSuffix("(outside 1970-01-01 00:00:00...2106-02-07 06:28:15 UTC)") == true)
        #expect(rejected("DateTime", #""2024-13-01T00:00:00Z""#)?.contains("not an RFC 3339") == true)
        #expect(rejected("DateTime", #""2024-01-01T24:00:00Z""#)?.contains("not an RFC 3339") == true)
        #expect(rejected("DateTime", #""2024-01-01T00:00:00+0200""#)?.contains("not an RFC 3339") == true)
    }

    @Test func dateTime64KeepsPDigitsAndReadsNumbersByMagnitude() {
        #expect(fixed("DateTime64(3)", #""2024-01-15T12:30:45.123456Z""#, as: Int64.self) == 1_705_321_845_123)
        #expect(fixed("DateTime64(6, 'UTC')", #""2024-01-15T12:30:45.123456789Z""#, as: Int64.self) == 1_705_321_845_123_456)
        #expect(fixed("DateTime64(0)", #""2024-01-15T12:30:45.9Z""#, as: Int64.self) == 1_705_321_845)
        #expect(fixed("DateTime64(9)", #""2024-01-15T12:30:45.1Z""#, as: Int64.self) == 1_705_321_845_100_000_000)
        #expect(fixed("DateTime64(3)", "1705321845", as: Int64.self) == 1_705_321_845_000)
        #expect(fixed("DateTime64(3)", "1705321845.5", as: Int64.self) == 1_705_321_845_500)
        #expect(fixed("DateTime64(3)", "1705321845123", as: Int64.self) == 1_705_321_845_123)
        #expect(fixed("DateTime64(3)", "1705321845123456", as: Int64.self) == 1_705_321_845_123)
        #expect(fixed("DateTime64(6)", "1705321845123456789", as: Int64.self) == 1_705_321_845_123_456)
        #expect(fixed("DateTime64(3)", "1.705321845123e12", as: Int64.self) == 1_705_321_845_123)
        #expect(fixed("DateTime64(3)", "0", as: Int64.self) == 0)
        #expect(fixed("DateTime64(3)", #""1969-12-31T23:59:59.5Z""#, as: Int64.self) == -500)
        #expect(fixed("DateTime64(3)", #""1900-01-01T00:00:00Z""#, as: Int64.self) == -2_208_988_800_000)
        #expect(rejected("DateTime64(3)", #""1899-12-31T23:59:59Z""#)?.contains("outside 1900-01-01...2299-12-31") == true)
        #expect(rejected("DateTime64(9)", #""2263-01-01T00:00:00Z""#)?.contains("Int64 range") == true)
        #expect(rejected("DateTime64(3)", "true") == "data.v: expected DateTime64(3), got boolean true")
    }

    @Test func enumsAcceptNamesAndValuesOfTheEnumOnly() {
        let type = "Enum8('ok' = 1, 'error' = -2)"
        #expect(fixed(type, #""error""#, as: Int8.self) == -2)
        #expect(fixed(type, "1", as: Int8.self) == 1)
        #expect(fixed(type, #""-2""#, as: Int8.self) == -2)
        #expect(rejected(type, #""warn""#) == #"data.v: expected Enum8('ok' = 1, 'error' = -2), got string "warn" (not an element of the enum)"#)
        #expect(rejected(type, "3")?.hasSuffix("(not an element of the enum)") == true)
        #expect(fixed("Enum16('a' = 1000)", #""a""#, as: Int16.self) == 1000)
    }

    @Test func nullableTakesNullAsNULLAndOtherwiseTheInnerType() {
        let present = coerce("Nullable(Float64)", "2.5", required: false).column
        #expect(present?.isNull(at: 0) == false)
        #expect(present?.inner?.float64(at: 0) == 2.5)
        #expect(coerce("Nullable(Float64)", "null", required: false).column?.isNull(at: 0) == true)
        #expect(rejected("Nullable(Float64)", #""x""#) == #"data.v: expected Float64, got string "x""#)
    }

    @Test func nullAtTheTopLevelIsAbsent() {
        #expect(rejected("Float64", "null") == "data.v: missing (required by column v)")
        #expect(coerce("Float64", "null", required: false).column?.float64(at: 0) == 0)
        #expect(coerce("String", "null", required: false).column?.string(at: 0) == "")
    }

    @Test func arraysCoerceEveryElementAndNameTheBadOne() {
        let c = coerce("Array(Int32)", "[1, -2, \"3\"]").column
        #expect(c?.range(of: 0) == 0..<3)
        #expect(c?.inner?.fixedValue(at: 2, as: Int32.self) == 3)
        #expect(rejected("Array(Int32)", "[1, 2, 1.5]") == "data.v[2]: expected Int32, got number 1.5 (not an integer)")
        #expect(rejected("Array(String)", "[\"a\", null]") == "data.v[1]: expected String, got null")
        let nullable = coerce("Array(Nullable(String))", "[\"a\", null]").column
        #expect(nullable?.inner?.isNull(at: 1) == true)
        #expect(coerce("Array(UInt8)", "[]").column?.range(of: 0) == 0..<0)
        #expect(rejected("Array(UInt8)", "{}") == "data.v: expected Array(UInt8), got object")
    }

    @Test func mapsTakeObjectsWithValuesAsTextAndDropNulls() {
        let c = coerce("Map(String, String)", #"{"region":"us-west","n":12,"ok":true,"nested":{"a":1},"gone":null,"k\u00e9":"v"}"#).column!
        #expect(mapRow(c, 0) == ["region": "us-west", "n": "12", "ok": "true", "nested": #"{"a":1}"#, "ké": "v"])
        let numbers = coerce("Map(String, UInt16)", #"{"a":1,"b":"2"}"#).column!
        #expect(numbers.inner2?.fixedValue(at: 1, as: UInt16.self) == 2)
        #expect(rejected("Map(String, UInt16)", #"{"a":1,"b":-2}"#) == "data.v.b: expected UInt16, got number -2 (out of range)")
        #expect(rejected("Map(String, String)", "[1]") == "data.v: expected Map(String, String), got array")
    }
}

@Suite struct TimestampParserTests {
    private func parse(_ s: String, zone: Bool = false) -> TimestampParser.Instant? {
        Array(s.utf8).withUnsafeBytes { TimestampParser.parse($0, requireZone: zone) }
    }

    @Test func parsesRFC3339AndItsVariants() {
        #expect(parse("2018-04-05T17:31:00Z", zone: true) == .init(seconds: 1_522_949_460, nanoseconds: 0))
        #expect(parse("2018-04-05T17:31:00.5z", zone: true) == .init(seconds: 1_522_949_460, nanoseconds: 500_000_000))
        #expect(parse("2018-04-05 19:31:00.123456789123+02:00", zone: true) == .init(seconds: 1_522_949_460, nanoseconds: 123_456_789))
        #expect(parse("2016-12-31T23:59:60Z", zone: true)?.seconds == 1_483_228_800)
        #expect(parse("0001-01-01T00:00:00Z")?.seconds == -62_135_596_800)
        #expect(parse("2018-04-05T17:31:00", zone: true) == nil)
        #expect(parse("2018-04-05T17:31:00")?.seconds == 1_522_949_460)
    }

    @Test func canonicalFastPathAgreesWithTheGeneralParser() {
        var rng = SystemRandomNumberGenerator()
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        for _ in 0..<5000 {
            let year = Int.random(in: 1...9999, using: &rng)
            let text = "\(String(repeating: "0", count: 4 - String(year).count))\(year)-\(two(Int.random(in: 1...12, using: &rng)))-\(two(Int.random(in: 1...28, using: &rng)))T"
                + "\(two(Int.random(in: 0...23, using: &rng))):\(two(Int.random(in: 0...59, using: &rng))):\(two(Int.random(in: 0...59, using: &rng)))"
                + (Bool.random(using: &rng) ? ".\(Int.random(in: 0...999_999_999_999, using: &rng))" : "")
            // "Z" takes the fast path, "+00:00" the general one.
            #expect(parse(text + "Z", zone: true) == parse(text + "+00:00", zone: true), "\(text)")
        }
    }

    @Test func canonicalFastPathRejectsWhatTheGeneralParserRejects() {
        for bad in ["2025-01-15T10:30:00.Z", "2025-02-30T10:30:00Z", "2025-01-15T10:3a:00Z", "2025-01-15T10:30:00.12aZ",
                    "2025/01/15T10:30:00Z", "2025-01-15T10-30:00Z", "2025-01-15T10:30:0aZ", "2025-01-15T24:00:00Z",
                    "2025-13-15T10:30:00Z", "0000-01-01T00:00:00Z", "2025-01-15T10:30:00ZZ", "2025-01-15T10:30:60.5Z"] {
            #expect(parse(bad) == nil || bad.hasSuffix("60.5Z"), "\(bad)")
        }
        #expect(parse("2025-01-15T10:30:00Z")?.seconds == 1_736_937_000)
        #expect(parse("2025-01-15T10:30:00.5Z") == .init(seconds: 1_736_937_000, nanoseconds: 500_000_000))
    }

    @Test func millisecondFastPathAgreesWithTheGeneralParser() {
        for fraction in ["000", "007", "010", "123", "999"] {
            let text = "2025-01-15T10:30:00.\(fraction)"
            #expect(parse(text + "Z", zone: true) == parse(text + "+00:00", zone: true), "\(text)")
            #expect(parse(text + "Z")?.nanoseconds == Int64(fraction)! * 1_000_000)
        }
        // Neighbouring lengths take the general fraction loop.
        #expect(parse("2025-01-15T10:30:00.12Z")?.nanoseconds == 120_000_000)
        #expect(parse("2025-01-15T10:30:00.1234Z")?.nanoseconds == 123_400_000)
        for bad in ["2025-01-15T10:30:00.1a3Z", "2025-01-15T10:30:00,123Z", "2025-01-15T10:30:00.12 Z", "2025-01-15T10:30:00.-12Z"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
        #expect(parse("2024-02-29T23:59:59.999Z") == .init(seconds: 1_709_251_199, nanoseconds: 999_000_000))
        #expect(parse("1970-01-01T00:00:00.001Z") == .init(seconds: 0, nanoseconds: 1_000_000))
        #expect(parse("1969-12-31T23:59:59.500Z") == .init(seconds: -1, nanoseconds: 500_000_000))
    }

    @Test func rejectsImpossibleDatesAndTimes() {
        for bad in ["2019-02-29T00:00:00Z", "2018-04-31T00:00:00Z", "2018-00-10T00:00:00Z", "2018-04-05T17:61:00Z", "2018-04-05T17:31:00.Z",
                    "2018-04-05T17:31:00+25:00", "2018-04-05X17:31:00Z", "2018-4-05T17:31:00Z", "2018-04-05T17:31:00Zjunk", ""] {
            #expect(parse(bad) == nil, "\(bad)")
        }
        #expect(parse("2000-02-29T00:00:00Z") != nil)
        #expect(parse("1900-02-29T00:00:00Z") == nil)
    }
}
