import Sinks

/// Writes request values as SQL literals. ClickHouse 18.16 has no query parameters, so
/// values travel inside the statement; each one is checked against its dimension's type
/// and then either quoted with ``ClickHouseSQL/quoteString(_:)`` or re-formatted from the
/// parsed number, never pasted as the caller wrote it.
enum QueryLiteral {
    /// The canonical text of a filter value for a dimension kind, or nil when the value
    /// does not fit the kind. `raw` is the JSON value's text (strings unquoted).
    static func canonical(_ raw: String, kind: QueryValueKind) -> String? {
        switch kind {
        case .string: return raw
        case .uuid: return isUUID(raw) ? raw.lowercased() : nil
        case .int: return Int64(raw).map { String($0) }
        case .uint: return UInt64(raw).map { String($0) }
        case .float:
            guard let d = Double(raw), d.isFinite else { return nil }
            return String(d)
        case .bool:
            switch raw {
            case "true", "1": return "1"
            case "false", "0": return "0"
            default: return nil
            }
        }
    }

    /// The SQL literal of a canonical value.
    static func sql(_ canonical: String, kind: QueryValueKind) -> String {
        switch kind {
        case .string: return ClickHouseSQL.quoteString(canonical)
        // Checked to be hex and dashes only; toUUID keeps IN lists typed on every server.
        case .uuid: return "toUUID(\(ClickHouseSQL.quoteString(canonical)))"
        case .int: return Int64(canonical).map { String($0) } ?? "0"
        case .uint: return UInt64(canonical).map { String($0) } ?? "0"
        case .float: return Double(canonical).map { String($0) } ?? "0"
        case .bool: return canonical == "1" ? "1" : "0"
        }
    }

    /// `8-4-4-4-12` hexadecimal digits.
    static func isUUID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard (0x30...0x39).contains(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c) else { return false }
            }
        }
        return true
    }
}
