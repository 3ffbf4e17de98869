/// How a stream entry's fields map onto a CloudEvent. Redis has no official CloudEvents
/// binding (cloudevents.md §6); Sluice reads the two layouts in use:
///
/// - **Structured** (Dapr's Redis pub/sub, and what `sluice publish --to redis://` writes):
///   field `data` holds the CloudEvent as JSON (`application/cloudevents+json` implied; a
///   JSON array is read as a batch). An optional `metadata` field (Dapr's publish
///   metadata, a JSON object of strings) and any other field are ignored.
/// - **Binary** (mirrors the Kafka binding): `ce_<attribute>` fields carry the context
///   attributes as canonical strings (`ce_id`, `ce_source`, `ce_type`, `ce_specversion`,
///   `ce_time`, extensions such as `ce_tenantid`), `data` holds the event's data, and an
///   optional `content-type` field is the `datacontenttype`. An entry is binary as soon
///   as it has one `ce_` field.
///
/// Everything else, an entry without a `data` field, is ``unreadable``: it still goes
/// through the pipeline (rendered as text that no decoder accepts), so it lands in the
/// dead-letter table with its stream and entry id and is then acknowledged. Nothing is
/// acknowledged without a dead-letter row, and nothing blocks the stream.
///
/// ``deleted`` is an entry whose payload was trimmed (XTRIM, MAXLEN, XDEL) while it was
/// still pending: Redis returns its id with a nil field list. There is nothing left to
/// ingest; it is acknowledged and counted.
public enum RedisEntryLayout: Sendable, Hashable {
    /// `data` is the value node at `fields[data]`.
    case structured(data: Int)
    /// `data` is at `fields[data]`; attributes come from the `ce_*` and `content-type` fields.
    case binary(data: Int, attributes: [String: String])
    case unreadable
    case deleted

    /// Classifies an entry's field list (`[name1, value1, name2, value2, ...]` or nil).
    public static func classify<N: RedisReplyNode>(fields: N) -> RedisEntryLayout {
        guard fields.kind == .array else { return .deleted }
        var data = -1
        var sawAttribute = false
        var i = 0
        let n = fields.elementCount
        while i + 1 < n {
            let name = fields.element(i)
            if data < 0, name.equals("data") {
                data = i + 1
            } else if name.hasAttributePrefix {
                sawAttribute = true
            }
            i += 2
        }
        guard data >= 0 else { return .unreadable }
        guard sawAttribute else { return .structured(data: data) }
        var attributes: [String: String] = [:]
        i = 0
        while i + 1 < n {
            let name = fields.element(i)
            if name.hasAttributePrefix {
                let key = name.withBytes { String(decoding: $0.dropFirst(3), as: UTF8.self) }
                if !key.isEmpty, attributes[key] == nil { attributes[key] = fields.element(i + 1).textValue }
            } else if name.equals("content-type"), attributes["datacontenttype"] == nil {
                attributes["datacontenttype"] = fields.element(i + 1).textValue
            }
            i += 2
        }
        return .binary(data: data, attributes: attributes)
    }

    /// What an unreadable entry becomes: text that starts with a character no JSON
    /// document starts with, so the decoder is certain to reject it, followed by the
    /// fields for whoever reads the dead-letter row.
    public static func renderUnreadable<N: RedisReplyNode>(fields: N, into out: inout [UInt8]) {
        out.append(contentsOf: "redis entry without a data field:".utf8)
        var i = 0
        let n = fields.elementCount
        while i < n {
            out.append(i % 2 == 0 ? UInt8(ascii: " ") : UInt8(ascii: "="))
            fields.element(i).withBytes { out.append(contentsOf: $0) }
            i += 1
        }
    }
}

extension RedisReplyNode {
    /// A field name beginning with `ce_` (lower case, as the Kafka binding writes them).
    var hasAttributePrefix: Bool {
        guard kind == .string else { return false }
        return withBytes { b in b.count > 3 && b[0] == UInt8(ascii: "c") && b[1] == UInt8(ascii: "e") && b[2] == UInt8(ascii: "_") }
    }
}
