import CHiredis

/// A Redis reply as a Swift value, copied out of hiredis's `redisReply` tree.
///
/// Used for every command except the hot XREADGROUP path, which walks hiredis's tree in
/// place (``RedisRawReply``) to avoid one array per field. Both implement
/// ``RedisReplyNode``, so the entry-layout code that tests run on parsed RESP bytes is the
/// code that runs on live replies.
public enum RedisReply: Sendable, Hashable {
    /// A bulk string (binary-safe).
    case string([UInt8])
    /// A status reply (`+OK`).
    case status(String)
    /// An error reply (`-ERR ...`).
    case error(String)
    case integer(Int64)
    case array([RedisReply])
    /// A null bulk string or null array (`$-1`, `*-1`).
    case null

    /// Text of a bulk string or status reply.
    public var text: String? {
        switch self {
        case .string(let b): String(decoding: b, as: UTF8.self)
        case .status(let s): s
        default: nil
        }
    }

    public var elements: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var integerValue: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The reply as a thrown error when it is an error reply, else itself.
    public func orThrow() throws(RedisError) -> RedisReply {
        if case .error(let text) = self { throw RedisError(serverReply: text) }
        return self
    }

    /// Parses RESP2 bytes with hiredis's own reader: for tests and tools, so that they
    /// exercise the same C parser as live connections. Returns nil for an incomplete reply.
    public static func parse(resp: [UInt8]) throws(RedisError) -> RedisReply? {
        guard let reader = redisReaderCreate() else { throw RedisError(kind: .protocol, message: "cannot create a hiredis reader") }
        defer { redisReaderFree(reader) }
        let fed = resp.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
        }
        guard fed == REDIS_OK else { throw RedisError(kind: .protocol, message: "hiredis refused the bytes") }
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            throw RedisError(kind: .protocol, message: "malformed RESP")
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisReply(RedisRawReply(raw.assumingMemoryBound(to: redisReply.self)))
    }

    /// Copies a hiredis reply tree.
    init(_ raw: RedisRawReply) {
        switch raw.kind {
        case .string: self = .string(raw.withBytes { Array($0) })
        case .status: self = .status(raw.withBytes { String(decoding: $0, as: UTF8.self) })
        case .error: self = .error(raw.withBytes { String(decoding: $0, as: UTF8.self) })
        case .integer: self = .integer(raw.number)
        case .null: self = .null
        case .array:
            var items: [RedisReply] = []
            items.reserveCapacity(raw.elementCount)
            for i in 0..<raw.elementCount { items.append(RedisReply(raw.element(i))) }
            self = .array(items)
        }
    }
}

/// The shape of one reply node.
public enum RedisReplyKind: Sendable, Hashable {
    case string, status, error, integer, array, null
}

/// Read access to a reply tree, implemented by the copied ``RedisReply`` and by the
/// in-place ``RedisRawReply``; stream entries are decoded through it.
public protocol RedisReplyNode {
    var kind: RedisReplyKind { get }
    /// The value of an integer node (0 for others).
    var number: Int64 { get }
    var elementCount: Int { get }
    func element(_ index: Int) -> Self
    /// The bytes of a string, status or error node (empty for others).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension RedisReply: RedisReplyNode {
    public var kind: RedisReplyKind {
        switch self {
        case .string: .string
        case .status: .status
        case .error: .error
        case .integer: .integer
        case .array: .array
        case .null: .null
        }
    }

    public var number: Int64 {
        if case .integer(let i) = self { return i }
        return 0
    }

    public var elementCount: Int {
        if case .array(let a) = self { return a.count }
        return 0
    }

    public func element(_ index: Int) -> RedisReply {
        if case .array(let a) = self { return a[index] }
        return .null
    }

    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .string(let b): return try b.withUnsafeBytes(body)
        case .status(let s), .error(let s):
            var copy = s
            return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        default: return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }
}

extension RedisReplyNode {
    /// True when this is a string node equal to `literal` (ASCII, case-sensitive).
    func equals(_ literal: StaticString) -> Bool {
        guard kind == .string || kind == .status else { return false }
        return withBytes { b in
            guard b.count == literal.utf8CodeUnitCount else { return false }
            let l = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
            return b.elementsEqual(l)
        }
    }

    var textValue: String { withBytes { String(decoding: $0, as: UTF8.self) } }
}

/// A node of a live hiredis reply, read in place. Valid only until the reply is freed,
/// which ``RedisConnection`` does right after the closure it was handed to returns; it
/// never escapes the worker thread.
struct RedisRawReply: RedisReplyNode {
    let pointer: UnsafePointer<redisReply>

    init(_ pointer: UnsafePointer<redisReply>) {
        self.pointer = pointer
    }

    var kind: RedisReplyKind {
        switch pointer.pointee.type {
        case REDIS_REPLY_STRING: .string
        case REDIS_REPLY_STATUS: .status
        case REDIS_REPLY_ERROR: .error
        case REDIS_REPLY_INTEGER: .integer
        case REDIS_REPLY_ARRAY: .array
        default: .null
        }
    }

    var number: Int64 { Int64(pointer.pointee.integer) }

    var elementCount: Int { pointer.pointee.type == REDIS_REPLY_ARRAY ? Int(pointer.pointee.elements) : 0 }

    func element(_ index: Int) -> RedisRawReply {
        RedisRawReply(UnsafePointer(pointer.pointee.element[index]!))
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer.pointee.str, count: pointer.pointee.str == nil ? 0 : Int(pointer.pointee.len)))
    }
}
