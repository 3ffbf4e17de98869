/// A parsed JSON request body, small and strict.
///
/// Query requests are tiny, and the API must answer a malformed or oversized one with a
/// `400` that names the problem, never crash or accept a typo silently. A hand-written
/// parser gives exact control over that (depth and size limits, duplicate keys, numbers
/// kept as text so integers stay exact), which Foundation's `JSONSerialization` does not
/// on Linux (it cannot tell `true` from `1`).
public enum JSONInput: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's text as written, so integer parameters are parsed exactly.
    case number(String)
    case string(String)
    case array([JSONInput])
    /// Members in document order; keys are unique.
    case object([(String, JSONInput)])

    public static func == (a: JSONInput, b: JSONInput) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .number(let n): hasher.combine(n)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o): for (k, v) in o { hasher.combine(k); hasher.combine(v) }
        }
    }

    /// The member named `key` of an object.
    public subscript(key: String) -> JSONInput? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// What the value is, for error messages.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Parses a whole document. Throws a message naming the byte offset of the problem.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws(JSONInputError) -> JSONInput {
        var parser = Parser(bytes: bytes, maxDepth: maxDepth)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let maxDepth: Int
        var position = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func error(_ message: String) -> JSONInputError { JSONInputError(offset: position, message: message) }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func value(depth: Int) throws(JSONInputError) -> JSONInput {
            guard depth < maxDepth else { throw error("nested deeper than \(maxDepth) levels") }
            guard position < bytes.count else { throw error("unexpected end of input") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character")
            }
        }

        mutating func literal(_ word: String) throws(JSONInputError) {
            let w = Array(word.utf8)
            guard position + w.count <= bytes.count, Array(bytes[position..<position + w.count]) == w else {
                throw error("invalid literal")
            }
            position += w.count
        }

        mutating func number() throws(JSONInputError) -> String {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            func digits(_ p: inout Int, _ b: [UInt8]) -> Int {
                let s = p
                while p < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[p]) { p += 1 }
                return p - s
            }
            let integerStart = position
            let integerDigits = digits(&position, bytes)
            guard integerDigits > 0 else { throw error("invalid number") }
            guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw error("leading zero in number") }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits(&position, bytes) > 0 else { throw error("invalid number") }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard digits(&position, bytes) > 0 else { throw error("invalid number") }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func hex4() throws(JSONInputError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[position]
                let d: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | d
                position += 1
            }
            return v
        }

        mutating func string() throws(JSONInputError) -> String {
            position += 1
            var out: [UInt8] = []
            while true {
                guard position < bytes.count else { throw error("unterminated string") }
                let b = bytes[position]
                position += 1
                switch b {
                case UInt8(ascii: "\""):
                    // Invalid UTF-8 is replaced, so a value can never smuggle bytes past quoting.
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard position < bytes.count else { throw error("unterminated escape") }
                    let e = bytes[position]
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard position + 2 <= bytes.count, bytes[position] == 0x5C, bytes[position + 1] == UInt8(ascii: "u") else {
                                throw error("unpaired surrogate")
                            }
                            position += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                        out += Array(String(Character(u)).utf8)
                    default: throw error("invalid escape")
                    }
                case 0..<0x20:
                    throw error("control character in string")
                default:
                    out.append(b)
                }
            }
        }

        mutating func array(depth: Int) throws(JSONInputError) -> JSONInput {
            position += 1
            var items: [JSONInput] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard position < bytes.count else { throw error("unterminated array") }
                let b = bytes[position]
                position += 1
                if b == UInt8(ascii: "]") { return .array(items) }
                guard b == UInt8(ascii: ",") else { throw error("expected , or ]") }
            }
        }

        mutating func object(depth: Int) throws(JSONInputError) -> JSONInput {
            position += 1
            var members: [(String, JSONInput)] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try string()
                guard !members.contains(where: { $0.0 == key }) else { throw error("duplicate member '\(key)'") }
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected :") }
                position += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard position < bytes.count else { throw error("unterminated object") }
                let b = bytes[position]
                position += 1
                if b == UInt8(ascii: "}") { return .object(members) }
                guard b == UInt8(ascii: ",") else { throw error("expected , or }") }
            }
        }
    }
}

/// A request body that is not valid JSON.
public struct JSONInputError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let message: String
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}
