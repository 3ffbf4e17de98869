/// The kind of a JSON value on the tape.
public enum JSONKind: UInt8, Sendable {
    case object, array, string, number, `true`, `false`, null

    /// How error messages name the kind ("got object").
    public var name: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .true, .false: "boolean"
        case .null: "null"
        }
    }
}

/// One value of a scanned document: 16 bytes, no references, so the tape is a flat run of
/// memory that is reused from one document to the next.
///
/// Values are stored in document order. An object's members follow it as key, value,
/// key, value ...; `next` of any node is the index just past its subtree, so a reader
/// skips a nested value in O(1).
@frozen
public struct JSONNode: Sendable {
    /// Strings: first byte after the opening quote. Others: first byte of the value.
    public var start: UInt32
    /// Strings: offset of the closing quote. Others: one past the last byte of the value
    /// (for objects and arrays, one past the closing bracket).
    public var end: UInt32
    /// Index of the node after this value's subtree.
    public var next: UInt32
    public var kind: JSONKind
    /// Strings: ``hasEscapes``. Numbers: ``isInteger``, ``isNegative``.
    public var flags: UInt8

    /// String flag: the content holds at least one backslash escape.
    public static let hasEscapes: UInt8 = 1
    /// String flag: the bytes are not inside a JSON document (an attribute from a header),
    /// so there are no surrounding quotes.
    public static let external: UInt8 = 2
    /// Number flag: no fraction and no exponent.
    public static let isInteger: UInt8 = 1
    /// Number flag: starts with '-'.
    public static let isNegative: UInt8 = 2

    @inlinable
    public init(start: UInt32, end: UInt32, next: UInt32, kind: JSONKind, flags: UInt8) {
        self.start = start
        self.end = end
        self.next = next
        self.kind = kind
        self.flags = flags
    }
}
