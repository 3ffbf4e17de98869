/// Why a byte sequence is not a JSON document (RFC 8259), and where.
///
/// The scanner stops at the first problem; `offset` is the byte offset of that problem
/// in the scanned input, so a dead-letter row can point at it. The error is a small
/// value: building it allocates only the message text, and only on failure.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case emptyDocument
        case unexpectedEnd
        case unexpectedCharacter
        case invalidUTF8
        case controlCharacter
        case invalidEscape
        case unpairedSurrogate
        case invalidNumber
        case leadingZero
        case trailingCharacters
        /// The document nests objects and arrays deeper than the scanner's limit.
        case tooDeep
        /// A string is longer than the scanner's limit.
        case stringTooLong
        /// The document is longer than 4 GiB - 1, which the tape's 32-bit offsets cannot address.
        case documentTooLarge
    }

    public let code: Code
    /// Byte offset of the problem in the scanned input.
    public let offset: Int
    /// What went wrong, for people (no offset; ``description`` adds it).
    public let message: String

    public init(_ code: Code, at offset: Int, _ message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) at byte \(offset)" }
}
