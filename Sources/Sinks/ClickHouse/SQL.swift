/// Quoting for the few places where Sluice writes SQL text.
///
/// Identifiers only ever come from the validated catalog, and values from requests are
/// written as literals through `literal(_:)`; both escape every character ClickHouse
/// treats specially, so no input can end a quoted token early.
public enum SQL {
    /// A backtick-quoted identifier, e.g. `` `metrics` ``.
    public static func quoteIdentifier(_ name: String) -> String {
        var out = "`"
        for ch in name.unicodeScalars {
            switch ch {
            case "`": out += "\\`"
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(ch)
            }
        }
        out += "`"
        return out
    }

    /// A single-quoted string literal with backslash escapes.
    public static func literal(_ value: String) -> String {
        var out = "'"
        for ch in value.unicodeScalars {
            switch ch {
            case "'": out += "\\'"
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\0": out += "\\0"
            default:
                if ch.value < 0x20 || ch.value == 0x7F {
                    out += "\\x" + String(ch.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        out += "'"
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
