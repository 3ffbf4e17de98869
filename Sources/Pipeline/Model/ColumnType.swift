/// A ClickHouse column type, as `DESCRIBE TABLE` prints it.
///
/// Sluice keeps the parsed type rather than the text so that validation can coerce a
/// JSON value to exactly the column's type, and the encoder can lay out bytes without
/// re-parsing. `name` round-trips to the canonical text ClickHouse accepts in a Native
/// block header.
public indirect enum ColumnType: Sendable, Hashable, CustomStringConvertible {
    case uint8, uint16, uint32, uint64
    case int8, int16, int32, int64
    case float32, float64
    case bool
    case string
    case fixedString(Int)
    /// Days since 1970-01-01 as UInt16.
    case date
    /// Unix seconds as UInt32; the time zone is display metadata only.
    case dateTime(timezone: String?)
    /// Ticks of 10^-precision seconds since the epoch, as Int64.
    case dateTime64(precision: Int, timezone: String?)
    case uuid
    case enum8([EnumCase])
    case enum16([EnumCase])
    case nullable(ColumnType)
    case array(ColumnType)
    case lowCardinality(ColumnType)
    case map(key: ColumnType, value: ColumnType)

    /// One `'name' = value` pair of an Enum8 or Enum16 type.
    public struct EnumCase: Sendable, Hashable {
        public let name: String
        public let value: Int
        public init(name: String, value: Int) {
            self.name = name
            self.value = value
        }
    }

    /// The canonical ClickHouse spelling, e.g. `Array(Nullable(String))`.
    public var name: String {
        switch self {
        case .uint8: "UInt8"
        case .uint16: "UInt16"
        case .uint32: "UInt32"
        case .uint64: "UInt64"
        case .int8: "Int8"
        case .int16: "Int16"
        case .int32: "Int32"
        case .int64: "Int64"
        case .float32: "Float32"
        case .float64: "Float64"
        case .bool: "Bool"
        case .string: "String"
        case .fixedString(let n): "FixedString(\(n))"
        case .date: "Date"
        case .dateTime(let tz): tz.map { "DateTime(\(Self.quote($0)))" } ?? "DateTime"
        case .dateTime64(let p, let tz): tz.map { "DateTime64(\(p), \(Self.quote($0)))" } ?? "DateTime64(\(p))"
        case .uuid: "UUID"
        case .enum8(let cases): "Enum8(\(Self.enumBody(cases)))"
        case .enum16(let cases): "Enum16(\(Self.enumBody(cases)))"
        case .nullable(let t): "Nullable(\(t.name))"
        case .array(let t): "Array(\(t.name))"
        case .lowCardinality(let t): "LowCardinality(\(t.name))"
        case .map(let k, let v): "Map(\(k.name), \(v.name))"
        }
    }

    public var description: String { name }

    /// Bytes per row for types whose values all have the same width, nil otherwise.
    public var fixedWidth: Int? {
        switch self {
        case .uint8, .int8, .bool, .enum8: 1
        case .uint16, .int16, .date, .enum16: 2
        case .uint32, .int32, .float32, .dateTime: 4
        case .uint64, .int64, .float64, .dateTime64: 8
        case .uuid: 16
        case .fixedString(let n): n
        default: nil
        }
    }

    /// The type with LowCardinality and Nullable wrappers removed.
    public var base: ColumnType {
        switch self {
        case .nullable(let t), .lowCardinality(let t): t.base
        default: self
        }
    }

    public var isNullable: Bool {
        switch self {
        case .nullable: true
        case .lowCardinality(let t): t.isNullable
        default: false
        }
    }

    static func quote(_ s: String) -> String {
        var out = "'"
        for ch in s {
            if ch == "'" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        out.append("'")
        return out
    }

    static func enumBody(_ cases: [EnumCase]) -> String {
        cases.map { "\(quote($0.name)) = \($0.value)" }.joined(separator: ", ")
    }
}

/// A type name that Sluice cannot parse or does not support.
public struct ColumnTypeError: Error, Sendable, CustomStringConvertible {
    public let typeName: String
    public let reason: String
    public var description: String { "unsupported column type '\(typeName)': \(reason)" }
}

extension ColumnType {
    /// Parses a ClickHouse type name such as `Map(String, String)` or
    /// `DateTime64(3, 'UTC')`.
    public init(parsing text: String) throws(ColumnTypeError) {
        var parser = TypeNameParser(text: Array(text.utf8), original: text)
        let type = try parser.parseType()
        parser.skipSpaces()
        guard parser.atEnd else { throw parser.error("unexpected text after the type") }
        self = type
    }
}

/// A small recursive-descent parser over the bytes of a type name.
private struct TypeNameParser {
    let text: [UInt8]
    let original: String
    var position = 0

    var atEnd: Bool { position >= text.count }

    func error(_ reason: String) -> ColumnTypeError {
        ColumnTypeError(typeName: original, reason: reason)
    }

    mutating func skipSpaces() {
        while position < text.count, text[position] == 0x20 || text[position] == 0x09 || text[position] == 0x0A {
            position += 1
        }
    }

    mutating func identifier() -> String {
        skipSpaces()
        let start = position
        while position < text.count {
            let c = text[position]
            let isWord = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F
            if !isWord { break }
            position += 1
        }
        return String(decoding: text[start..<position], as: UTF8.self)
    }

    mutating func expect(_ byte: UInt8) throws(ColumnTypeError) {
        skipSpaces()
        guard position < text.count, text[position] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))' at offset \(position)")
        }
        position += 1
    }

    mutating func peek(_ byte: UInt8) -> Bool {
        skipSpaces()
        return position < text.count && text[position] == byte
    }

    mutating func integer() throws(ColumnTypeError) -> Int {
        skipSpaces()
        var negative = false
        if position < text.count, text[position] == 0x2D {
            negative = true
            position += 1
        }
        let start = position
        var value = 0
        while position < text.count, text[position] >= 0x30, text[position] <= 0x39 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(text[position] - 0x30))
            guard !o1, !o2 else { throw error("number too large") }
            value = s
            position += 1
        }
        guard position > start else { throw error("expected a number at offset \(start)") }
        return negative ? -value : value
    }

    mutating func quotedString() throws(ColumnTypeError) -> String {
        skipSpaces()
        guard position < text.count, text[position] == 0x27 else { throw error("expected a quoted string at offset \(position)") }
        position += 1
        var bytes: [UInt8] = []
        while position < text.count {
            let c = text[position]
            position += 1
            if c == 0x5C {
                guard position < text.count else { break }
                bytes.append(text[position])
                position += 1
            } else if c == 0x27 {
                return String(decoding: bytes, as: UTF8.self)
            } else {
                bytes.append(c)
            }
        }
        throw error("unterminated quoted string")
    }

    mutating func enumCases(range: ClosedRange<Int>) throws(ColumnTypeError) -> [ColumnType.EnumCase] {
        try expect(0x28)
        var cases: [ColumnType.EnumCase] = []
        repeat {
            let name = try quotedString()
            try expect(0x3D)
            let value = try integer()
            guard range.contains(value) else { throw error("enum value \(value) out of range") }
            cases.append(.init(name: name, value: value))
        } while consumeComma()
        try expect(0x29)
        guard !cases.isEmpty else { throw error("enum without values") }
        return cases
    }

    mutating func consumeComma() -> Bool {
        if peek(0x2C) {
            position += 1
            return true
        }
        return false
    }

    mutating func parseType() throws(ColumnTypeError) -> ColumnType {
        let name = identifier()
        switch name {
        case "UInt8": return .uint8
        case "UInt16": return .uint16
        case "UInt32": return .uint32
        case "UInt64": return .uint64
        case "Int8": return .int8
        case "Int16": return .int16
        case "Int32": return .int32
        case "Int64": return .int64
        case "Float32": return .float32
        case "Float64": return .float64
        case "Bool", "Boolean": return .bool
        case "String": return .string
        case "UUID": return .uuid
        case "Date": return .date
        case "FixedString":
            try expect(0x28)
            let n = try integer()
            try expect(0x29)
            guard n > 0 else { throw error("FixedString needs a positive length") }
            return .fixedString(n)
        case "DateTime":
            if peek(0x28) {
                position += 1
                let tz = try quotedString()
                try expect(0x29)
                return .dateTime(timezone: tz)
            }
            return .dateTime(timezone: nil)
        case "DateTime64":
            try expect(0x28)
            let p = try integer()
            guard (0...9).contains(p) else { throw error("DateTime64 precision must be 0...9") }
            var tz: String?
            if consumeComma() { tz = try quotedString() }
            try expect(0x29)
            return .dateTime64(precision: p, timezone: tz)
        case "Enum8": return .enum8(try enumCases(range: -128...127))
        case "Enum16": return .enum16(try enumCases(range: -32768...32767))
        case "Nullable":
            try expect(0x28)
            let inner = try parseType()
            try expect(0x29)
            if case .nullable = inner { throw error("Nullable(Nullable(...)) is not allowed") }
            return .nullable(inner)
        case "Array":
            try expect(0x28)
            let inner = try parseType()
            try expect(0x29)
            return .array(inner)
        case "LowCardinality":
            try expect(0x28)
            let inner = try parseType()
            try expect(0x29)
            switch inner.base {
            case .string, .fixedString: break
            default: throw error("LowCardinality is supported over String and FixedString only")
            }
            return .lowCardinality(inner)
        case "Map":
            try expect(0x28)
            let key = try parseType()
            try expect(0x2C)
            let value = try parseType()
            try expect(0x29)
            return .map(key: key, value: value)
        case "":
            throw error("expected a type name at offset \(position)")
        default:
            throw error("type '\(name)' is not supported")
        }
    }
}
