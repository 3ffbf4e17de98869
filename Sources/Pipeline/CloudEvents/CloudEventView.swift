/// One decoded CloudEvent as the validator sees it: attribute values by slot, the data
/// value, and the event's own bytes. Everything points into the decoder's reusable
/// memory and the chunk's bytes, and is valid only during the sink call it is passed to.
struct CloudEventView {
    /// Indexed by ``AttributeSlot`` and the catalog's extension slots; nil = absent or null.
    let attributes: UnsafeMutablePointer<JSONValue?>
    /// The payload: the `data` JSON value, the JSON parsed from `data_base64` or a binary
    /// body, or a string over non-JSON bytes. nil when the event has no data or `null`.
    let data: JSONValue?
    /// The event's own bytes (one batch element, one item, or the whole message).
    let raw: UnsafeRawBufferPointer
    /// Index of the message in its chunk.
    let message: Int
    /// The `time` attribute as the envelope check parsed it (nil when absent), so a
    /// time column fed the same text (`data.timestamp` equal to `time`, as producers
    /// commonly send) is not parsed a second time.
    var time: TimestampParser.Instant? = nil

    @inline(__always)
    func attribute(_ slot: Int) -> JSONValue? { attributes[slot] }

    /// Decoded text of an attribute for a dead-letter row ("" when absent).
    func text(_ slot: Int) -> String {
        guard let v = attributes[slot] else { return "" }
        return v.kind == .string ? v.string : String(decoding: v.bytes, as: UTF8.self)
    }
}

/// Receives what the CloudEvents decoder makes of a message.
protocol CloudEventSink: ~Copyable {
    /// An event whose envelope is valid (required attributes present and well-formed).
    mutating func accept(_ event: CloudEventView)
    /// An event or message that cannot be decoded.
    mutating func reject(_ rejection: Rejection)
}

/// How rejection reasons show a JSON value: its kind and, for scalars, a short excerpt.
enum ValueDescription {
    static func describe(_ v: JSONValue) -> String {
        switch v.kind {
        case .string:
            var text = v.string
            if text.utf8.count > 64 { text = String(text.prefix(60)) + "..." }
            var escaped = ""
            for ch in text.unicodeScalars {
                switch ch {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                default:
                    if ch.value < 0x20 { escaped += "\\u{\(String(ch.value, radix: 16))}" } else { escaped.unicodeScalars.append(ch) }
                }
            }
            return "string \"\(escaped)\""
        case .number:
            let b = v.bytes
            return "number " + String(decoding: b.count > 40 ? UnsafeRawBufferPointer(rebasing: b[0..<40]) : b, as: UTF8.self)
        case .true: return "boolean true"
        case .false: return "boolean false"
        case .null: return "null"
        case .object: return "object"
        case .array: return "array"
        }
    }
}
