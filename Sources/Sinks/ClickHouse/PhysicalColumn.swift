/// One column of a ClickHouse table as `DESCRIBE TABLE` reports it.
///
/// The type stays as text: the encoder writes it verbatim into the Native block header
/// (old servers want the exact table type), and it is parsed only for columns Sluice
/// actually feeds, so a table may carry types Sluice does not know (Decimal, IPv6, ...)
/// in columns that have a default.
public struct PhysicalColumn: Sendable, Hashable {
    /// `DESCRIBE TABLE`'s `default_type`.
    public enum DefaultKind: String, Sendable, Hashable {
        case none = ""
        case `default` = "DEFAULT"
        case materialized = "MATERIALIZED"
        case alias = "ALIAS"
        case ephemeral = "EPHEMERAL"

        /// Whether the server fills the column when an INSERT leaves it out.
        public var hasServerValue: Bool { self != .none }
        /// MATERIALIZED and ALIAS columns cannot appear in an INSERT at all.
        public var isInsertable: Bool { self == .none || self == .default || self == .ephemeral }
    }

    public var name: String
    /// Type text, e.g. `LowCardinality(String)`, exactly as the server printed it.
    public var typeName: String
    public var defaultKind: DefaultKind

    public init(name: String, typeName: String, defaultKind: DefaultKind = .none) {
        self.name = name
        self.typeName = typeName
        self.defaultKind = defaultKind
    }

    /// From the `name`, `type` and `default_type` fields of a `DESCRIBE TABLE` row. An
    /// unknown `default_type` counts as a server-side default.
    ///
    /// Pass the fields unescaped: `FORMAT TSV` prints `DateTime(\'UTC\')` (18.16 and
    /// modern alike), which is not a type name; JSON formats or `TSVRaw` avoid that.
    public init(describeName name: String, type: String, defaultType: String) {
        self.init(name: name, typeName: type, defaultKind: DefaultKind(rawValue: defaultType.uppercased()) ?? .default)
    }
}

extension PhysicalColumn {
    /// The encoder's view of a column the transport described.
    public init(described d: ClickHouseColumnDescription) {
        let kind: DefaultKind
        switch d.defaultKind {
        case .none: kind = .none
        case .default: kind = .default
        case .materialized: kind = .materialized
        case .alias: kind = .alias
        case .ephemeral: kind = .ephemeral
        case .other: kind = .default
        }
        self.init(name: d.name, typeName: d.type, defaultKind: kind)
    }
}
