/// Quoting and URL encoding for the statements the transport builds.
///
/// Table and column names come from operator configuration, so they are always quoted:
/// a name with a space, a dot or a backtick must not change the statement.
public enum ClickHouseSQL {
    /// Quotes an identifier with backticks, escaping `\` and `` ` `` with a backslash.
    /// Backslash escapes work on 18.16 and on modern servers (doubling backticks does
    /// not work on old ones).
    public static func quoteIdentifier(_ name: String) -> String {
        var out = "`"
        for ch in name.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "`": out += "\\`"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "`"
    }

    /// `` `db`.`table` ``.
    public static func qualifiedName(database: String, table: String) -> String {
        quoteIdentifier(database) + "." + quoteIdentifier(table)
    }

    /// Quotes a string literal with single quotes and backslash escapes.
    public static func quoteString(_ value: String) -> String {
        var out = "'"
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "'"
    }

    /// The INSERT statement for a Native body: `INSERT INTO `db`.`t` (`a`, `b`) FORMAT Native`.
    ///
    /// Nothing may follow `Native`: the server appends `\n` and the body to the `query`
    /// parameter, and the Native stream must start right after that newline.
    public static func insertStatement(database: String, table: String, columns: [String]) -> String {
        var sql = "INSERT INTO " + qualifiedName(database: database, table: table)
        if !columns.isEmpty {
            sql += " (" + columns.map(quoteIdentifier).joined(separator: ", ") + ")"
        }
        return sql + " FORMAT Native"
    }

    /// Percent-encodes everything except RFC 3986 unreserved characters, so the result
    /// is safe as a URL query name or value (`+`, `&`, `=` and `;` included).
    public static func percentEncode(_ text: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `name=value&name=value`, each part percent-encoded.
    public static func queryString(_ parameters: [(String, String)]) -> String {
        parameters.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
    }

    /// Whether `name` can be a setting or query-parameter name: ClickHouse names are
    /// ASCII letters, digits and underscores. Checking it keeps a caller's typo from
    /// turning into a different URL parameter.
    public static func isValidParameterName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_")
        }
    }
}
