/// One column of a table as the server describes it (`DESCRIBE TABLE`).
///
/// The encoder writes each Native column with the table's exact type text, because 18.x
/// does not convert mismatching types; this is where that text comes from. `Nested`
/// columns appear flattened, e.g. `d.key Array(String)`.
public struct ClickHouseColumnDescription: Sendable, Hashable {
    /// How a column gets a value when an INSERT omits it.
    public enum DefaultKind: Sendable, Hashable {
        /// No default expression: the type's zero value is used.
        case none
        /// `DEFAULT expr`: computed when the column is omitted; may also be inserted.
        case `default`
        /// `MATERIALIZED expr`: always computed; cannot be inserted.
        case materialized
        /// `ALIAS expr`: not stored; cannot be inserted.
        case alias
        /// `EPHEMERAL` (modern servers): insertable, not stored.
        case ephemeral
        /// A kind this code does not know yet, as the server spelled it.
        case other(String)

        init(_ text: String) {
            switch text {
            case "": self = .none
            case "DEFAULT": self = .default
            case "MATERIALIZED": self = .materialized
            case "ALIAS": self = .alias
            case "EPHEMERAL": self = .ephemeral
            default: self = .other(text)
            }
        }

        /// Whether an INSERT may list the column.
        public var isInsertable: Bool {
            switch self {
            case .none, .default, .ephemeral, .other: true
            case .materialized, .alias: false
            }
        }
    }

    /// Column name; for `Nested` columns the flattened `parent.child` name.
    public let name: String
    /// The type exactly as the server writes it, e.g. `Array(Nullable(String))`.
    public let type: String
    /// How the column is filled when omitted.
    public let defaultKind: DefaultKind
    /// The default expression, or nil when ``defaultKind`` is ``DefaultKind/none``.
    public let defaultExpression: String?
    /// The column comment, when the server reports one and it is non-empty.
    public let comment: String?

    public init(name: String, type: String, defaultKind: DefaultKind = .none, defaultExpression: String? = nil, comment: String? = nil) {
        self.name = name
        self.type = type
        self.defaultKind = defaultKind
        self.defaultExpression = defaultExpression
        self.comment = comment
    }

    /// Parses `DESCRIBE TABLE ... FORMAT TabSeparated` output.
    ///
    /// 18.16 writes five fields per row (name, type, default kind, default expression,
    /// comment); modern servers add codec and TTL expressions. Only the first two are
    /// required; extra fields are ignored. Fields use TabSeparated escaping.
    public static func parseDescribeOutput(_ bytes: [UInt8]) throws(ClickHouseError) -> [ClickHouseColumnDescription] {
        var columns: [ClickHouseColumnDescription] = []
        for (lineNumber, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map { TabSeparated.unescape($0) }
            guard fields.count >= 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw ClickHouseError(
                    kind: .server,
                    message: "unexpected DESCRIBE TABLE output on line \(lineNumber + 1): \(String(decoding: line.prefix(200), as: UTF8.self))")
            }
            let kindText = fields.count > 2 ? fields[2] : ""
            let expression = fields.count > 3 ? fields[3] : ""
            let comment = fields.count > 4 ? fields[4] : ""
            columns.append(ClickHouseColumnDescription(
                name: fields[0],
                type: fields[1],
                defaultKind: DefaultKind(kindText),
                defaultExpression: kindText.isEmpty && expression.isEmpty ? nil : expression,
                comment: comment.isEmpty ? nil : comment))
        }
        return columns
    }
}

/// ClickHouse's TabSeparated escaping, as used in query output.
public enum TabSeparated {
    /// Undoes the escaping of one field: `\t`, `\n`, `\\`, `\'` and the rest of
    /// ClickHouse's backslash sequences. An unknown escape yields the character itself,
    /// as the server's own reader does.
    public static func unescape(_ field: some Collection<UInt8>) -> String {
        guard field.contains(UInt8(ascii: "\\")) else { return String(decoding: field, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(field.count)
        var escaping = false
        for byte in field {
            if escaping {
                switch byte {
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "a"): out.append(0x07)
                case UInt8(ascii: "v"): out.append(0x0b)
                case UInt8(ascii: "0"): out.append(0x00)
                default: out.append(byte)
                }
                escaping = false
            } else if byte == UInt8(ascii: "\\") {
                escaping = true
            } else {
                out.append(byte)
            }
        }
        if escaping { out.append(UInt8(ascii: "\\")) }
        return String(decoding: out, as: UTF8.self)
    }
}
