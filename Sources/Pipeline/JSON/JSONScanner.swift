/// A strict RFC 8259 JSON scanner that writes a document into a reusable flat tape.
///
/// Built for the ingest hot path: one pass over the bytes, no recursion (nesting is an
/// explicit stack bounded by ``maxDepth``, so a body nested 10,000 levels deep fails at
/// level `maxDepth + 1` instead of exhausting the thread's stack), no allocation once the
/// tape has grown to the largest document seen, and strings are validated as UTF-8 eight
/// bytes at a time while they are pure ASCII.
///
/// Strictness: invalid UTF-8 anywhere (overlong forms, surrogates, code points above
/// U+10FFFF, stray continuation bytes), unescaped control characters in strings, bad
/// escapes and unpaired `\u` surrogates, numbers with leading zeros or a missing digit,
/// and anything after the top-level value except whitespace are all errors. Duplicate
/// object keys are kept (RFC 8259 leaves them to the reader).
///
/// Values returned by ``parse(_:)`` and ``root`` point into the scanner and into the
/// input: they are valid until the next `parse` and while the input bytes stay alive.
public struct JSONScanner: ~Copyable {
    /// Deepest nesting of objects and arrays accepted; the top-level container is depth 1.
    public let maxDepth: Int
    /// Longest string accepted, in bytes of its JSON text (escapes not yet decoded).
    public var maxStringBytes: Int
    public internal(set) var tape: JSONTape
    @usableFromInline var stack: UnsafeMutablePointer<UInt32>
    @usableFromInline var input: UnsafePointer<UInt8>

    public init(maxDepth: Int = 64, maxStringBytes: Int = Int(UInt32.max)) {
        precondition(maxDepth >= 1, "maxDepth must be at least 1")
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        tape = JSONTape()
        stack = .allocate(capacity: maxDepth)
        input = UnsafePointer(bitPattern: 0x10)!
    }

    deinit { stack.deallocate() }

    /// The top-level value of the last successful scan.
    @inlinable
    public var root: JSONValue { JSONValue(nodes: tape.nodes, base: input, index: 0) }

    /// Scans `bytes` as one JSON document and returns its top-level value.
    @discardableResult
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        tape.removeAll()
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw Self.error(.emptyDocument, 0) { "empty document" }
        }
        guard bytes.count < Int(UInt32.max) else {
            throw Self.error(.documentTooLarge, 0) { "document of \(bytes.count) bytes is larger than 4 GiB" }
        }
        let s = base.assumingMemoryBound(to: UInt8.self)
        input = s
        do {
            try scan(s, bytes.count)
        } catch {
            tape.removeAll()
            throw error
        }
        return root
    }

    // MARK: The scanner proper

    private static let quote: UInt8 = 0x22
    private static let backslash: UInt8 = 0x5C

    @inline(__always)
    private static func skipWhitespace(_ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int) -> Int {
        var p = p
        while p < n {
            let c = s[p]
            if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { break }
            p &+= 1
        }
        return p
    }

    /// The whole document in one loop over locals: the tape's pointer, capacity and count,
    /// and the depth stack live in registers instead of being re-read through `self` and
    /// `inout` parameters per node, which was most of the per-node cost.
    ///
    /// A stack entry is the container's node index shifted left by one, with the low bit
    /// set for objects, so the after-value path knows the container kind without reading
    /// its node.
    private mutating func scan(_ s: UnsafePointer<UInt8>, _ n: Int) throws(JSONError) {
        let p = Self.skipWhitespace(s, n, 0)
        guard p < n else { throw JSONError(.emptyDocument, at: p, "empty document (only whitespace)") }
        // No string of a document shorter than the limit can exceed it: that (common)
        // case gets a copy of the loop without the per-string length test and without
        // the limit as one more live value.
        if n <= maxStringBytes {
            try scanValues(s, n, p, limitStrings: false)
        } else {
            try scanValues(s, n, p, limitStrings: true)
        }
    }

    /// The loop of ``scan(_:_:)``; `limitStrings` is a constant in each of its two
    /// inlined copies.
    @inline(__always)
    private mutating func scanValues(_ s: UnsafePointer<UInt8>, _ n: Int, _ start: Int, limitStrings: Bool) throws(JSONError) {
        var p = start
        let stack = self.stack
        let maxDepth = self.maxDepth
        let maxStringBytes = limitStrings ? self.maxStringBytes : Int.max
        var nodes = tape.nodes
        var capacity = tape.capacity
        var count = 0
        var depth = 0

        valueLoop: while true {
            // p is at the first byte of a value (whitespace already skipped). Room for the
            // value and the key that may follow an opening brace.
            if count &+ 2 > capacity {
                tape.count = count
                tape.grow()
                nodes = tape.nodes
                capacity = tape.capacity
            }
            guard p < n else { throw JSONError(.unexpectedEnd, at: p, "unexpected end of input, expected a value") }
            let c = s[p]
            if c == Self.quote {
                let (end, escapes) = try Self.scanString(s, n, p &+ 1)
                guard !limitStrings || end &- p &- 1 <= maxStringBytes else { throw Self.stringTooLong(p, end, maxStringBytes) }
                nodes[count] = JSONNode(
                    start: UInt32(truncatingIfNeeded: p &+ 1), end: UInt32(truncatingIfNeeded: end),
                    next: UInt32(truncatingIfNeeded: count &+ 1), kind: .string, flags: escapes ? JSONNode.hasEscapes : 0)
                count &+= 1
                p = end &+ 1
            } else if c == 0x7B || c == 0x5B { // { [
                guard depth < maxDepth else {
                    throw Self.error(.tooDeep, p) { "nested deeper than \(maxDepth) levels" }
                }
                let isObject = c == 0x7B
                nodes[count] = JSONNode(start: UInt32(truncatingIfNeeded: p), end: 0, next: 0, kind: isObject ? .object : .array, flags: 0)
                stack[depth] = UInt32(truncatingIfNeeded: count) &<< 1 | (isObject ? 1 : 0)
                let index = count
                count &+= 1
                depth &+= 1
                p = Self.skipWhitespace(s, n, p &+ 1)
                if p < n, s[p] == (isObject ? 0x7D : 0x5D) {
                    nodes[index].end = UInt32(truncatingIfNeeded: p &+ 1)
                    nodes[index].next = UInt32(truncatingIfNeeded: count)
                    depth &-= 1
                    p &+= 1
                } else {
                    if isObject {
                        p = try Self.scanKey(s, n, p, nodes, &count, limitStrings, maxStringBytes)
                    }
                    continue valueLoop
                }
            } else if c == 0x2D || c &- 0x30 < 10 {
                p = try Self.scanNumber(s, n, p, nodes, &count)
            } else if c == 0x74 { // t
                p = try Self.literal(s, n, p, 0x74_72_75_65, .true, nodes, &count)
            } else if c == 0x66 { // f
                guard n - p >= 5, s[p + 4] == 0x65 else { throw Self.badLiteral(p, "false") }
                p = try Self.literal(s, n, p, 0x66_61_6C_73, .false, nodes, &count) &+ 1
            } else if c == 0x6E { // n
                p = try Self.literal(s, n, p, 0x6E_75_6C_6C, .null, nodes, &count)
            } else {
                throw Self.unexpected(s, n, p, expecting: "a value")
            }

            // A value just ended: close containers or move to the next member/element.
            while true {
                if depth == 0 {
                    p = Self.skipWhitespace(s, n, p)
                    guard p == n else {
                        throw Self.error(.trailingCharacters, p) { "unexpected \(Self.describe(s, n, p)) after the end of the document" }
                    }
                    tape.count = count
                    return
                }
                let top = stack[depth &- 1]
                let isObject = top & 1 != 0
                p = Self.skipWhitespace(s, n, p)
                guard p < n else {
                    throw Self.error(.unexpectedEnd, p) { "unexpected end of input inside an \(isObject ? "object" : "array")" }
                }
                let c = s[p]
                if c == 0x2C { // ,
                    p = Self.skipWhitespace(s, n, p &+ 1)
                    if isObject {
                        if count &+ 2 > capacity {
                            tape.count = count
                            tape.grow()
                            nodes = tape.nodes
                            capacity = tape.capacity
                        }
                        p = try Self.scanKey(s, n, p, nodes, &count, limitStrings, maxStringBytes)
                    }
                    continue valueLoop
                }
                if c == (isObject ? 0x7D : 0x5D) {
                    let index = Int(top &>> 1)
                    nodes[index].end = UInt32(truncatingIfNeeded: p &+ 1)
                    nodes[index].next = UInt32(truncatingIfNeeded: count)
                    depth &-= 1
                    p &+= 1
                    continue
                }
                throw Self.unexpected(s, n, p, expecting: isObject ? "',' or '}'" : "',' or ']'")
            }
        }
    }

    /// Scans `"key" :`, appends the key's node (the caller made room), and returns the
    /// offset of the member's value.
    @inline(__always)
    private static func scanKey(
        _ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int, _ nodes: UnsafeMutablePointer<JSONNode>, _ count: inout Int,
        _ limitStrings: Bool, _ maxStringBytes: Int
    ) throws(JSONError) -> Int {
        guard p < n, s[p] == Self.quote else { throw Self.unexpected(s, n, p, expecting: "a string key") }
        let (end, escapes) = try Self.scanString(s, n, p &+ 1)
        guard !limitStrings || end &- p &- 1 <= maxStringBytes else { throw Self.stringTooLong(p, end, maxStringBytes) }
        nodes[count] = JSONNode(
            start: UInt32(truncatingIfNeeded: p &+ 1), end: UInt32(truncatingIfNeeded: end),
            next: UInt32(truncatingIfNeeded: count &+ 1), kind: .string, flags: escapes ? JSONNode.hasEscapes : 0)
        count &+= 1
        var q = end &+ 1
        // Producers write `"key":value`; test the byte right after the quote first.
        if q < n, s[q] == 0x3A {
            q &+= 1
            if q < n, s[q] > 0x20 { return q }
            return Self.skipWhitespace(s, n, q)
        }
        q = Self.skipWhitespace(s, n, q)
        guard q < n, s[q] == 0x3A else { throw Self.unexpected(s, n, q, expecting: "':'") }
        return Self.skipWhitespace(s, n, q &+ 1)
    }

    @inline(never)
    private static func stringTooLong(_ p: Int, _ end: Int, _ maxStringBytes: Int) -> JSONError {
        JSONError(.stringTooLong, at: p, "string of \(end - p - 1) bytes is longer than the limit of \(maxStringBytes)")
    }

    @inline(never)
    private static func badLiteral(_ p: Int, _ word: String) -> JSONError {
        JSONError(.unexpectedCharacter, at: p, "invalid literal, expected '\(word)'")
    }

    @inline(__always)
    private static func literal(
        _ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int, _ word: UInt32, _ kind: JSONKind, _ nodes: UnsafeMutablePointer<JSONNode>, _ count: inout Int
    ) throws(JSONError) -> Int {
        guard n - p >= 4,
              UInt32(s[p]) << 24 | UInt32(s[p + 1]) << 16 | UInt32(s[p + 2]) << 8 | UInt32(s[p + 3]) == word
        else {
            throw badLiteral(p, kind == .true ? "true" : kind == .false ? "false" : "null")
        }
        let len = kind == .false ? 5 : 4
        nodes[count] = JSONNode(start: UInt32(truncatingIfNeeded: p), end: UInt32(truncatingIfNeeded: p &+ len), next: UInt32(truncatingIfNeeded: count &+ 1), kind: kind, flags: 0)
        count &+= 1
        return p + 4
    }

    /// Finds the closing quote of a string whose content starts at `start`, validating
    /// UTF-8, control characters and escapes on the way.
    ///
    /// Only the all-ASCII, escape-free case is inlined into the scanner; anything else
    /// continues out of line, which keeps the scanner's loop small.
    @inline(__always)
    static func scanString(_ s: UnsafePointer<UInt8>, _ n: Int, _ start: Int) throws(JSONError) -> (end: Int, escapes: Bool) {
        var p = start
        let limit = n &- 8
        // Eight ASCII bytes at a time: stop at a quote, a backslash, a control character
        // or a non-ASCII byte.
        while p <= limit {
            let special = specialBytes(UnsafeRawPointer(s + p).loadUnaligned(as: UInt64.self))
            if special != 0 {
                p &+= special.trailingZeroBitCount &>> 3
                if s[p] == quote { return (p, false) }
                break
            }
            p &+= 8
        }
        return try scanStringRest(s, n, start, p)
    }

    /// The high bit of every byte of `w` that a string scan must stop at (a quote, a
    /// backslash, a control character or a non-ASCII byte), exact for the lowest one:
    /// a borrow only starts at a byte that is a match and only runs upwards. The usual
    /// `& ~x` of the zero-byte test is left out because the bytes it excludes (0x81 and
    /// up after the xor) have their own high bit set, which is flagged anyway.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = (w ^ (ones &* 0x22)) &- ones
        let backslashes = (w ^ (ones &* 0x5C)) &- ones
        let controls = w &- (ones &* 0x20)
        return (quotes | backslashes | controls | w) & (ones &* 0x80)
    }

    /// The general string loop, from `p` on (everything before `p` is plain ASCII):
    /// escapes, multi-byte UTF-8, control characters and the last few bytes of the input.
    @inline(never)
    static func scanStringRest(_ s: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ from: Int) throws(JSONError) -> (end: Int, escapes: Bool) {
        var p = from
        var escapes = false
        let limit = n &- 8
        while true {
            while p <= limit {
                let special = specialBytes(UnsafeRawPointer(s + p).loadUnaligned(as: UInt64.self))
                if special != 0 {
                    p &+= special.trailingZeroBitCount &>> 3
                    break
                }
                p &+= 8
            }
            guard p < n else { throw JSONError(.unexpectedEnd, at: start - 1, "unterminated string") }
            let c = s[p]
            if c == quote { return (p, escapes) }
            if c == backslash {
                escapes = true
                p = try scanEscape(s, n, p)
            } else if c < 0x20 {
                throw Self.error(.controlCharacter, p) { "unescaped control character 0x\(hex2(c)) in a string" }
            } else if c < 0x80 {
                p &+= 1
            } else {
                p = try validateUTF8Sequence(s, n, p)
            }
        }
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt32? {
        if c &- 0x30 < 10 { return UInt32(c &- 0x30) }
        let l = c | 0x20
        if l &- 0x61 < 6 { return UInt32(l &- 0x61 + 10) }
        return nil
    }

    static func hex4(_ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int) -> UInt32? {
        guard p + 4 <= n,
              let a = hexValue(s[p]), let b = hexValue(s[p + 1]), let c = hexValue(s[p + 2]), let d = hexValue(s[p + 3])
        else { return nil }
        return a << 12 | b << 8 | c << 4 | d
    }

    /// Validates the escape at `p` (a backslash) and returns the offset after it.
    static func scanEscape(_ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int) throws(JSONError) -> Int {
        guard p + 1 < n else { throw JSONError(.unexpectedEnd, at: p, "unterminated escape sequence") }
        switch s[p + 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
            return p + 2
        case 0x75: // u
            guard let cp = hex4(s, n, p + 2) else {
                throw Self.error(.invalidEscape, p) { "invalid \\u escape: four hex digits are required" }
            }
            if cp >= 0xD800, cp <= 0xDBFF {
                guard p + 7 < n, s[p + 6] == backslash, s[p + 7] == 0x75, let low = hex4(s, n, p + 8), low >= 0xDC00, low <= 0xDFFF else {
                    throw Self.error(.unpairedSurrogate, p) { "high surrogate \\u\(String(cp, radix: 16, uppercase: true)) is not followed by a low surrogate" }
                }
                return p + 12
            }
            if cp >= 0xDC00, cp <= 0xDFFF {
                throw Self.error(.unpairedSurrogate, p) { "unpaired low surrogate \\u\(String(cp, radix: 16, uppercase: true))" }
            }
            return p + 6
        default:
            throw Self.error(.invalidEscape, p) { "invalid escape '\\\(describeByte(s[p + 1]))'" }
        }
    }

    /// Validates one multi-byte UTF-8 sequence starting at `p` (RFC 3629 table 3-7) and
    /// returns the offset after it.
    @inline(__always)
    static func validateUTF8Sequence(_ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int) throws(JSONError) -> Int {
        let c0 = s[p]
        @inline(__always) func cont(_ i: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i < n && s[i] >= lo && s[i] <= hi
        }
        if c0 < 0xC2 {
            throw Self.error(.invalidUTF8, p) { c0 < 0xC0 ? "invalid UTF-8: unexpected continuation byte 0x\(hex2(c0))" : "invalid UTF-8: overlong encoding" }
        } else if c0 < 0xE0 {
            if cont(p + 1) { return p + 2 }
        } else if c0 < 0xF0 {
            let ok: Bool
            switch c0 {
            case 0xE0: ok = cont(p + 1, 0xA0, 0xBF)
            case 0xED: ok = cont(p + 1, 0x80, 0x9F)
            default: ok = cont(p + 1)
            }
            if ok, cont(p + 2) { return p + 3 }
            if c0 == 0xE0, cont(p + 1, 0x80, 0x9F) { throw JSONError(.invalidUTF8, at: p, "invalid UTF-8: overlong encoding") }
            if c0 == 0xED, cont(p + 1, 0xA0, 0xBF) { throw JSONError(.invalidUTF8, at: p, "invalid UTF-8: encoded surrogate") }
        } else if c0 < 0xF5 {
            let ok: Bool
            switch c0 {
            case 0xF0: ok = cont(p + 1, 0x90, 0xBF)
            case 0xF4: ok = cont(p + 1, 0x80, 0x8F)
            default: ok = cont(p + 1)
            }
            if ok, cont(p + 2), cont(p + 3) { return p + 4 }
            if c0 == 0xF0, cont(p + 1, 0x80, 0x8F) { throw JSONError(.invalidUTF8, at: p, "invalid UTF-8: overlong encoding") }
            if c0 == 0xF4, cont(p + 1, 0x90, 0xBF) { throw JSONError(.invalidUTF8, at: p, "invalid UTF-8: code point above U+10FFFF") }
        } else {
            throw Self.error(.invalidUTF8, p) { "invalid UTF-8: byte 0x\(hex2(c0)) never appears in UTF-8" }
        }
        throw Self.error(.invalidUTF8, p) { "invalid UTF-8: truncated or malformed sequence" }
    }

    /// Scans a number (RFC 8259 grammar), appends its node, and returns the offset after it.
    @inline(__always)
    private static func scanNumber(
        _ s: UnsafePointer<UInt8>, _ n: Int, _ start: Int, _ nodes: UnsafeMutablePointer<JSONNode>, _ count: inout Int
    ) throws(JSONError) -> Int {
        var p = start
        var flags = JSONNode.isInteger
        if s[p] == 0x2D {
            flags |= JSONNode.isNegative
            p += 1
        }
        guard p < n, s[p] &- 0x30 < 10 else {
            throw Self.error(.invalidNumber, p) { "invalid number: expected a digit" }
        }
        if s[p] == 0x30 {
            p += 1
            if p < n, s[p] &- 0x30 < 10 {
                throw Self.error(.leadingZero, start) { "invalid number: leading zeros are not allowed" }
            }
        } else {
            while p < n, s[p] &- 0x30 < 10 { p &+= 1 }
        }
        if p < n, s[p] == 0x2E {
            p += 1
            guard p < n, s[p] &- 0x30 < 10 else {
                throw Self.error(.invalidNumber, p) { "invalid number: expected a digit after '.'" }
            }
            while p < n, s[p] &- 0x30 < 10 { p &+= 1 }
            flags &= ~JSONNode.isInteger
        }
        if p < n, s[p] | 0x20 == 0x65 {
            p += 1
            if p < n, s[p] == 0x2B || s[p] == 0x2D { p += 1 }
            guard p < n, s[p] &- 0x30 < 10 else {
                throw Self.error(.invalidNumber, p) { "invalid number: expected a digit in the exponent" }
            }
            while p < n, s[p] &- 0x30 < 10 { p &+= 1 }
            flags &= ~JSONNode.isInteger
        }
        nodes[count] = JSONNode(start: UInt32(truncatingIfNeeded: start), end: UInt32(truncatingIfNeeded: p), next: UInt32(truncatingIfNeeded: count &+ 1), kind: .number, flags: flags)
        count &+= 1
        return p
    }

    // MARK: Error text

    /// Builds an error out of line: keeping message formatting out of the scanning
    /// functions keeps them small enough to inline and their registers free.
    @inline(never)
    static func error(_ code: JSONError.Code, _ offset: Int, _ message: () -> String) -> JSONError {
        JSONError(code, at: offset, message())
    }

    private static func unexpected(_ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int, expecting: String) -> JSONError {
        if p >= n { return JSONError(.unexpectedEnd, at: p, "unexpected end of input, expected \(expecting)") }
        if s[p] >= 0x80 {
            // Report broken UTF-8 as such, even outside strings.
            do {
                _ = try Self.validateUTF8Sequence(s, n, p)
            } catch {
                return error
            }
        }
        return Self.error(.unexpectedCharacter, p) { "unexpected \(Self.describe(s, n, p)), expected \(expecting)" }
    }

    static func describe(_ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int) -> String {
        p < n ? "character '\(describeByte(s[p]))'" : "end of input"
    }

    static func describeByte(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "\\x\(hex2(c))"
    }

    static func hex2(_ c: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(c >> 4)], digits[Int(c & 15)]])
    }
}
