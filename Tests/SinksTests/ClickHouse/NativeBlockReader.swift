import Pipeline

/// A minimal Native block reader for tests: decodes every value to a short text form
/// (numbers in decimal, strings raw, `NULL`, `[a,b]`, `{k:v}`) so tests can state the
/// expected rows plainly. It follows spec §2-§3 independently of the encoder.
struct NativeBlockReader {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Block {
        var rows: Int
        var columns: [(name: String, type: String, values: [String])]
        subscript(_ name: String) -> [String]? { columns.first { $0.name == name }?.values }
        var names: [String] { columns.map(\.name) }
    }

    private let bytes: [UInt8]
    private var position = 0

    static func read(_ bytes: [UInt8]) throws -> [Block] {
        var reader = NativeBlockReader(bytes: bytes)
        var blocks: [Block] = []
        while reader.position < bytes.count { blocks.append(try reader.block()) }
        return blocks
    }

    static func readOne(_ bytes: [UInt8]) throws -> Block {
        let blocks = try read(bytes)
        guard blocks.count == 1 else { throw Failure(description: "expected one block, got \(blocks.count)") }
        return blocks[0]
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, position + n <= bytes.count else { throw Failure(description: "truncated at \(position), need \(n)") }
        defer { position += n }
        return bytes[position..<position + n]
    }

    private mutating func varUInt() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try take(1).first ?? 0
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 70 else { throw Failure(description: "bad VarUInt") }
        }
    }

    private mutating func le(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    private mutating func string() throws -> String {
        let n = Int(try varUInt())
        return String(decoding: try take(n), as: UTF8.self)
    }

    private mutating func block() throws -> Block {
        let columnCount = Int(try varUInt())
        let rows = Int(try varUInt())
        var columns: [(String, String, [String])] = []
        for _ in 0..<columnCount {
            let name = try string()
            let typeName = try string()
            let type = try ColumnType(parsing: typeName)
            try prefix(type)
            columns.append((name, typeName, try values(type, rows)))
        }
        return Block(rows: rows, columns: columns)
    }

    private mutating func prefix(_ type: ColumnType) throws {
        switch type {
        case .lowCardinality:
            let version = try le(8)
            guard version == 1 else { throw Failure(description: "LowCardinality version \(version)") }
        case .nullable(let t), .array(let t): try prefix(t)
        case .map(let k, let v):
            try prefix(k)
            try prefix(v)
        default: break
        }
    }

    private mutating func values(_ type: ColumnType, _ n: Int) throws -> [String] {
        func ints(_ width: Int, signed: Bool) throws -> [String] {
            try (0..<n).map { _ in
                let raw = try le(width)
                if !signed { return String(raw) }
                let shift = UInt64(64 - width * 8)
                return String(Int64(bitPattern: raw << shift) >> Int64(shift))
            }
        }
        switch type {
        case .uint8: return try ints(1, signed: false)
        case .uint16, .date: return try ints(2, signed: false)
        case .uint32, .dateTime: return try ints(4, signed: false)
        case .uint64: return try ints(8, signed: false)
        case .int8, .enum8: return try ints(1, signed: true)
        case .int16, .enum16: return try ints(2, signed: true)
        case .int32: return try ints(4, signed: true)
        case .int64, .dateTime64: return try ints(8, signed: true)
        case .bool: return try (0..<n).map { _ in try le(1) == 0 ? "false" : "true" }
        case .float32: return try (0..<n).map { _ in "\(Float32(bitPattern: UInt32(try le(4))))" }
        case .float64: return try (0..<n).map { _ in "\(Float64(bitPattern: try le(8)))" }
        case .string: return try (0..<n).map { _ in try string() }
        case .fixedString(let w): return try (0..<n).map { _ in String(decoding: try take(w), as: UTF8.self) }
        case .uuid:
            return try (0..<n).map { _ in
                let high = try le(8), low = try le(8)
                let hex = Array(Self.hex16(high) + Self.hex16(low))
                return String(hex[0..<8]) + "-" + String(hex[8..<12]) + "-" + String(hex[12..<16]) + "-"
                    + String(hex[16..<20]) + "-" + String(hex[20..<32])
            }
        case .nullable(let t):
            let nulls = try take(n).map { $0 != 0 }
            let inner = try values(t, n)
            return zip(nulls, inner).map { $0 ? "NULL" : $1 }
        case .array(let t):
            let ends = try (0..<n).map { _ in Int(try le(8)) }
            let inner = try values(t, ends.last ?? 0)
            var start = 0
            return ends.map { end in
                defer { start = end }
                return "[" + inner[start..<end].joined(separator: ",") + "]"
            }
        case .map(let k, let v):
            let ends = try (0..<n).map { _ in Int(try le(8)) }
            let keys = try values(k, ends.last ?? 0)
            let vals = try values(v, ends.last ?? 0)
            var start = 0
            return ends.map { end in
                defer { start = end }
                return "{" + (start..<end).map { "\(keys[$0]):\(vals[$0])" }.joined(separator: ",") + "}"
            }
        case .lowCardinality(let t):
            guard n > 0 else { return [] }
            let flags = try le(8)
            guard flags & 0xff00 == 0x600 else { throw Failure(description: "LowCardinality flags \(flags)") }
            let width = [1, 2, 4, 8][Int(flags & 0xff)]
            let dictSize = Int(try le(8))
            var plain = t
            var nullable = false
            if case .nullable(let inner) = t {
                plain = inner
                nullable = true
            }
            let dictionary = try values(plain, dictSize)
            let keyCount = Int(try le(8))
            guard keyCount == n else { throw Failure(description: "LowCardinality has \(keyCount) keys for \(n) rows") }
            return try (0..<n).map { _ in
                let key = Int(try le(width))
                guard key < dictSize else { throw Failure(description: "key \(key) outside dictionary of \(dictSize)") }
                return nullable && key == 0 ? "NULL" : dictionary[key]
            }
        }
    }

    private static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
