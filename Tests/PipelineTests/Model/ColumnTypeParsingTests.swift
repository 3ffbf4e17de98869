import Testing
import Pipeline

@Suite struct ColumnTypeParsingTests {
    static let canonical = [
        "UInt8", "UInt16", "UInt32", "UInt64", "Int8", "Int16", "Int32", "Int64", "Float32", "Float64",
        "Bool", "String", "FixedString(16)", "Date", "DateTime", "DateTime('UTC')", "DateTime('Europe/Moscow')",
        "DateTime64(3)", "DateTime64(3, 'UTC')", "DateTime64(9, 'Asia/Kolkata')", "DateTime64(0)", "UUID",
        "Enum8('a' = 1, 'b' = 2)", "Enum8('neg' = -128, 'pos' = 127)", "Enum16('x' = 1000, 'y' = -1000)",
        "Enum8('it\\'s' = 1)", "Nullable(String)", "Nullable(UInt64)", "Array(String)", "Array(Array(UInt8))",
        "Array(Nullable(Int32))", "LowCardinality(String)", "LowCardinality(Nullable(String))",
        "LowCardinality(FixedString(2))", "Map(String, String)", "Map(String, UInt64)",
        "Map(LowCardinality(String), Array(Nullable(Float64)))", "Array(LowCardinality(String))",
        "Array(Map(String, String))",
    ]

    @Test(arguments: canonical)
    func canonicalNamesRoundTrip(_ text: String) throws {
        let type = try ColumnType(parsing: text)
        #expect(type.name == text)
        #expect(try ColumnType(parsing: type.name) == type)
    }

    @Test func spacingVariantsParseToTheCanonicalName() throws {
        #expect(try ColumnType(parsing: "Map(String,String)").name == "Map(String, String)")
        #expect(try ColumnType(parsing: " Nullable( String ) ").name == "Nullable(String)")
        #expect(try ColumnType(parsing: "DateTime64(3,'UTC')").name == "DateTime64(3, 'UTC')")
        #expect(try ColumnType(parsing: "Enum8('a'=1,'b'=2)").name == "Enum8('a' = 1, 'b' = 2)")
        #expect(try ColumnType(parsing: "Boolean") == .bool)
    }

    static let invalid: [(String, String)] = [
        ("", "expected a type name"),
        ("Decimal(9, 4)", "not supported"),
        ("IPv4", "not supported"),
        ("Nullable(Nullable(String))", "Nullable(Nullable"),
        ("Array(String", "expected ')'"),
        ("FixedString(0)", "positive length"),
        ("FixedString(x)", "expected a number"),
        ("DateTime64(10)", "precision"),
        ("Enum8('a' = 300)", "out of range"),
        ("LowCardinality(UInt64)", "String and FixedString"),
        ("String extra", "unexpected text"),
        ("DateTime('UTC", "unterminated"),
        ("Map(String)", "expected ','"),
    ]

    @Test(arguments: invalid.indices)
    func badTypeNamesAreRejectedWithAReason(_ i: Int) {
        let (text, reasonFragment) = Self.invalid[i]
        #expect {
            _ = try ColumnType(parsing: text)
        } throws: { error in
            guard let e = error as? ColumnTypeError else { return false }
            return e.typeName == text && e.reason.contains(reasonFragment)
        }
    }
}
