extension DatasetDefinition {
    /// Column holding the 128-bit hash of the dedup key. Restart-safe dedup reads it back
    /// from ClickHouse, so it is part of every raw table.
    public static let eventKeyColumn = "_event_key"
    /// Column holding the time Sluice accepted the row; the dedup window is rebuilt from it.
    public static let ingestedAtColumn = "_ingested_at"

    /// The raw table's columns in insert order: the declared fields, then Sluice's own.
    public var tableSchema: [(name: String, type: ColumnType)] {
        fields.map { ($0.name, $0.type) } + [
            (Self.eventKeyColumn, .fixedString(16)),
            (Self.ingestedAtColumn, .dateTime(timezone: nil)),
        ]
    }

    /// Checks names, references and types, and throws an error that names the key.
    public func validate(keyPrefix: String = "") throws(CatalogError) {
        let prefix = keyPrefix.isEmpty ? "datasets.\(name)." : keyPrefix
        try Self.checkIdentifier(name, key: "\(prefix)name")
        guard !name.hasPrefix("_"), name != "dead_letter", !name.hasSuffix("_hourly") else {
            throw CatalogError(key: "\(prefix)name", reason: "'\(name)' is reserved")
        }
        guard !routes.isEmpty else { throw CatalogError(key: "\(prefix)routes", reason: "at least one CloudEvent type is required") }
        for (i, r) in routes.enumerated() where r.isEmpty {
            throw CatalogError(key: "\(prefix)routes[\(i)]", reason: "empty CloudEvent type")
        }
        guard !fields.isEmpty else { throw CatalogError(key: "\(prefix)fields", reason: "at least one field is required") }
        var seen = Set<String>()
        for (i, f) in fields.enumerated() {
            let key = "\(prefix)fields[\(i)]"
            try Self.checkIdentifier(f.name, key: "\(key).name")
            guard !f.name.hasPrefix("_") else { throw CatalogError(key: "\(key).name", reason: "names starting with '_' are reserved for Sluice") }
            guard seen.insert(f.name).inserted else { throw CatalogError(key: "\(key).name", reason: "duplicate field '\(f.name)'") }
            guard !f.sources.isEmpty else { throw CatalogError(key: "\(key).from", reason: "a field needs at least one source") }
        }
        guard !dedupKey.isEmpty else { throw CatalogError(key: "\(prefix)dedup_key", reason: "a dedup key is required") }
        guard !orderBy.isEmpty else { throw CatalogError(key: "\(prefix)order_by", reason: "a sorting key is required") }
        for (i, c) in orderBy.enumerated() where field(named: c) == nil {
            throw CatalogError(key: "\(prefix)order_by[\(i)]", reason: "unknown column '\(c)'")
        }
        guard let time = field(named: timeColumn) else {
            throw CatalogError(key: "\(prefix)time_column", reason: "unknown column '\(timeColumn)'")
        }
        switch time.type {
        case .dateTime, .dateTime64, .date: break
        default: throw CatalogError(key: "\(prefix)time_column", reason: "'\(timeColumn)' must be Date, DateTime or DateTime64, not \(time.type)")
        }
        if let tenantColumn {
            guard let t = field(named: tenantColumn) else {
                throw CatalogError(key: "\(prefix)tenant_column", reason: "unknown column '\(tenantColumn)'")
            }
            switch t.type.base {
            case .string, .uuid, .fixedString: break
            default: throw CatalogError(key: "\(prefix)tenant_column", reason: "'\(tenantColumn)' must be a String or UUID column")
            }
        }
        if let retentionDays, retentionDays <= 0 {
            throw CatalogError(key: "\(prefix)retention_days", reason: "must be positive")
        }
        if let rollup { try rollup.validate(dataset: self, key: "\(prefix)rollup") }
    }

    static func checkIdentifier(_ s: String, key: String) throws(CatalogError) {
        guard let first = s.utf8.first, s.utf8.count <= 64 else {
            throw CatalogError(key: key, reason: "an identifier of 1 to 64 characters is required")
        }
        let ok = (first >= 0x61 && first <= 0x7A) || first == 0x5F
        guard ok, s.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) else {
            throw CatalogError(key: key, reason: "'\(s)' is not a lowercase identifier ([a-z_][a-z0-9_]*)")
        }
    }
}

extension RollupDefinition {
    func validate(dataset: DatasetDefinition, key: String) throws(CatalogError) {
        guard !measures.isEmpty else { throw CatalogError(key: "\(key).measures", reason: "at least one measure is required") }
        var names = Set(["hour"])
        for (i, d) in dimensions.enumerated() {
            try DatasetDefinition.checkIdentifier(d.name, key: "\(key).dimensions[\(i)].name")
            guard names.insert(d.name).inserted else { throw CatalogError(key: "\(key).dimensions[\(i)]", reason: "duplicate name '\(d.name)'") }
            if d.expression == nil, dataset.field(named: d.name) == nil {
                throw CatalogError(key: "\(key).dimensions[\(i)]", reason: "unknown column '\(d.name)'; give an expression")
            }
        }
        for (i, m) in measures.enumerated() {
            let mkey = "\(key).measures[\(i)]"
            try DatasetDefinition.checkIdentifier(m.name, key: "\(mkey).name")
            guard names.insert(m.name).inserted else { throw CatalogError(key: "\(mkey).name", reason: "duplicate name '\(m.name)'") }
            switch m.aggregate {
            case .count:
                break
            case .countIf:
                guard m.condition != nil else { throw CatalogError(key: "\(mkey).condition", reason: "countIf needs a condition") }
            case .sumIf:
                guard m.condition != nil, m.expression != nil else {
                    throw CatalogError(key: mkey, reason: "sumIf needs an expression and a condition")
                }
            case .quantiles:
                guard m.expression != nil else { throw CatalogError(key: "\(mkey).of", reason: "quantiles needs a column") }
                guard !m.levels.isEmpty, m.levels.allSatisfy({ $0 > 0 && $0 < 1 }) else {
                    throw CatalogError(key: "\(mkey).levels", reason: "levels must be between 0 and 1")
                }
            case .sum, .min, .max, .avg, .uniq:
                guard m.expression != nil else { throw CatalogError(key: "\(mkey).of", reason: "\(m.aggregate.rawValue) needs a column") }
            }
        }
    }
}
