/// A read-only view of one value of a scanned document.
///
/// A view is three words (tape, input, node index) and holds no references, so passing
/// it around costs nothing. It is valid until its scanner scans the next document and
/// while the input bytes are alive; keep neither longer.
public struct JSONValue {
    @usableFromInline let nodes: UnsafePointer<JSONNode>
    @usableFromInline let base: UnsafePointer<UInt8>
    public let index: Int

    @inlinable
    public init(nodes: UnsafePointer<JSONNode>, base: UnsafePointer<UInt8>, index: Int) {
        self.nodes = nodes
        self.base = base
        self.index = index
    }

    @inlinable public var node: JSONNode { nodes[index] }
    @inlinable public var kind: JSONKind { nodes[index].kind }
    @inlinable public var isNull: Bool { nodes[index].kind == .null }

    /// Strings: the content between the quotes, escapes not decoded. Other values: their
    /// JSON text (objects and arrays including their brackets).
    @inlinable
    public var bytes: UnsafeRawBufferPointer {
        let n = nodes[index]
        return UnsafeRawBufferPointer(start: base + Int(n.start), count: Int(n.end &- n.start))
    }

    /// The value's JSON text exactly as it appeared in the input (strings with quotes).
    /// An attribute that came from a header has no JSON text; its content is returned.
    @inlinable
    public var rawBytes: UnsafeRawBufferPointer {
        let n = nodes[index]
        if n.kind == .string, n.flags & JSONNode.external == 0 {
            return UnsafeRawBufferPointer(start: base + Int(n.start) - 1, count: Int(n.end &- n.start) + 2)
        }
        return UnsafeRawBufferPointer(start: base + Int(n.start), count: Int(n.end &- n.start))
    }

    /// The string holds backslash escapes, so ``bytes`` is not its decoded content.
    @inlinable
    public var hasEscapes: Bool {
        let n = nodes[index]
        return n.kind == .string && n.flags & JSONNode.hasEscapes != 0
    }

    /// Number without fraction or exponent.
    @inlinable
    public var isIntegerLiteral: Bool { nodes[index].flags & JSONNode.isInteger != 0 }

    /// Byte offset of the value in its input.
    public var offset: Int { Int(nodes[index].start) }

    // MARK: Containers

    /// Iterates an object's members in document order.
    public struct Members: Sequence, IteratorProtocol {
        @usableFromInline let nodes: UnsafePointer<JSONNode>
        @usableFromInline let base: UnsafePointer<UInt8>
        @usableFromInline var position: Int
        @usableFromInline let end: Int

        @inlinable
        init(nodes: UnsafePointer<JSONNode>, base: UnsafePointer<UInt8>, position: Int, end: Int) {
            self.nodes = nodes
            self.base = base
            self.position = position
            self.end = end
        }

        @inlinable
        public mutating func next() -> (key: JSONValue, value: JSONValue)? {
            guard position < end else { return nil }
            let key = JSONValue(nodes: nodes, base: base, index: position)
            let value = JSONValue(nodes: nodes, base: base, index: position + 1)
            position = Int(nodes[position + 1].next)
            return (key, value)
        }
    }

    /// Iterates an array's elements in order.
    public struct Elements: Sequence, IteratorProtocol {
        @usableFromInline let nodes: UnsafePointer<JSONNode>
        @usableFromInline let base: UnsafePointer<UInt8>
        @usableFromInline var position: Int
        @usableFromInline let end: Int

        @inlinable
        init(nodes: UnsafePointer<JSONNode>, base: UnsafePointer<UInt8>, position: Int, end: Int) {
            self.nodes = nodes
            self.base = base
            self.position = position
            self.end = end
        }

        @inlinable
        public mutating func next() -> JSONValue? {
            guard position < end else { return nil }
            let value = JSONValue(nodes: nodes, base: base, index: position)
            position = Int(nodes[position].next)
            return value
        }
    }

    /// The members of an object (empty for any other kind).
    @inlinable
    public var members: Members {
        let n = nodes[index]
        return Members(nodes: nodes, base: base, position: index + 1, end: n.kind == .object ? Int(n.next) : index + 1)
    }

    /// The elements of an array (empty for any other kind).
    @inlinable
    public var elements: Elements {
        let n = nodes[index]
        return Elements(nodes: nodes, base: base, position: index + 1, end: n.kind == .array ? Int(n.next) : index + 1)
    }

    /// Members of an object or elements of an array; 0 for scalars. O(count).
    public var count: Int {
        switch kind {
        case .object: members.reduce(0) { n, _ in n + 1 }
        case .array: elements.reduce(0) { n, _ in n + 1 }
        default: 0
        }
    }

    /// The first member of an object whose decoded key equals `key`.
    @inlinable
    public func member(key: UnsafeRawBufferPointer) -> JSONValue? {
        var it = members
        while let (k, v) = it.next() {
            if k.equals(key) { return v }
        }
        return nil
    }

    public func member(_ key: String) -> JSONValue? {
        var key = key
        return key.withUTF8 { member(key: UnsafeRawBufferPointer($0)) }
    }

    /// The value at a member path (`["dimensions", "region"]`), or nil when any step is
    /// missing or not an object.
    public func value(atPath path: [String]) -> JSONValue? {
        var current = self
        for step in path {
            guard current.kind == .object, let next = current.member(step) else { return nil }
            current = next
        }
        return current
    }

    /// A string whose decoded content equals `other`.
    @inlinable
    public func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        let n = nodes[index]
        guard n.kind == .string else { return false }
        let len = Int(n.end &- n.start)
        if n.flags & JSONNode.hasEscapes == 0 {
            return len == other.count && JSONBytes.equal(base + Int(n.start), other, count: len)
        }
        return JSONUnescaper.decodedEquals(UnsafeRawBufferPointer(start: base + Int(n.start), count: len), other)
    }

    public func equals(_ other: String) -> Bool {
        var other = other
        return other.withUTF8 { equals(UnsafeRawBufferPointer($0)) }
    }

    // MARK: Scalars

    /// Appends a string's decoded content (or any other value's JSON text) to `buffer`.
    /// Always inlined: validation calls it for most string fields, and the call cost about
    /// as much as the copy of a short string.
    @inlinable @inline(__always)
    public func appendDecoded(to buffer: inout GrowableBuffer) {
        if hasEscapes {
            JSONUnescaper.unescape(bytes, into: &buffer)
        } else {
            buffer.append(bytes: bytes)
        }
    }

    /// The decoded string (or any other value's JSON text). Allocates; for tests, error
    /// messages and cold paths.
    public var string: String {
        if hasEscapes {
            var buffer = GrowableBuffer(capacity: bytes.count)
            JSONUnescaper.unescape(bytes, into: &buffer)
            return buffer.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The number as an Int64 when it is an integer literal within range.
    @inlinable
    public var int64: Int64? {
        guard kind == .number, isIntegerLiteral else { return nil }
        return JSONNumber.parseInt64(bytes)
    }

    /// The number as a UInt64 when it is a non-negative integer literal within range.
    @inlinable
    public var uint64: UInt64? {
        guard kind == .number, isIntegerLiteral else { return nil }
        return JSONNumber.parseUInt64(bytes)
    }

    /// The number as the nearest Double (correctly rounded; ±infinity past the range).
    @inlinable
    public var double: Double? {
        guard kind == .number else { return nil }
        return JSONNumber.parseDouble(bytes)
    }

    @inlinable public var bool: Bool? {
        switch kind {
        case .true: true
        case .false: false
        default: nil
        }
    }
}

/// Byte comparisons shared by the scanner's helpers.
@usableFromInline
enum JSONBytes {
    /// Compares `count` bytes; both sides must hold at least that many.
    @inlinable @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafeRawBufferPointer, count: Int) -> Bool {
        guard count > 0 else { return true }
        let bp = b.baseAddress!
        let ap = UnsafeRawPointer(a)
        var i = 0
        while i + 8 <= count {
            if ap.loadUnaligned(fromByteOffset: i, as: UInt64.self) != bp.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < count {
            if ap.load(fromByteOffset: i, as: UInt8.self) != bp.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }
}
