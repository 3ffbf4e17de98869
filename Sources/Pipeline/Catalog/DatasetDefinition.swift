/// A dataset: one raw ClickHouse table, how CloudEvents become its rows, and its rollup.
///
/// Datasets come from configuration (the presets in `config/datasets/` and any the
/// operator adds), so adding a table needs no code change. Everything that names a
/// table or column in generated SQL comes from here and has been checked by
/// ``validate()``; request input never supplies an identifier.
public struct DatasetDefinition: Sendable, Hashable {
    /// Table name of the raw table; the rollup is `<name>_hourly`.
    public var name: String
    /// CloudEvent `type` values routed to this dataset.
    public var routes: [String]
    public var fields: [FieldDefinition]
    /// Values that identify an event for deduplication, e.g. `ce.source` + `ce.id`.
    public var dedupKey: [ValueSource]
    /// Columns of the MergeTree sorting key; batches are sorted by it before insert.
    public var orderBy: [String]
    /// The event-time column: partitioning, retention, time buckets and rollups use it.
    public var timeColumn: String
    /// The column that scopes rows to a tenant, if the dataset is multi-tenant.
    public var tenantColumn: String?
    /// Days to keep raw rows; nil keeps them forever.
    public var retentionDays: Int?
    public var rollup: RollupDefinition?

    public init(
        name: String, routes: [String], fields: [FieldDefinition], dedupKey: [ValueSource],
        orderBy: [String], timeColumn: String, tenantColumn: String? = nil,
        retentionDays: Int? = nil, rollup: RollupDefinition? = nil
    ) {
        self.name = name
        self.routes = routes
        self.fields = fields
        self.dedupKey = dedupKey
        self.orderBy = orderBy
        self.timeColumn = timeColumn
        self.tenantColumn = tenantColumn
        self.retentionDays = retentionDays
        self.rollup = rollup
    }

    public var rollupTableName: String { "\(name)_hourly" }

    public func field(named name: String) -> FieldDefinition? { fields.first { $0.name == name } }
}

/// One column of a raw table and where its value comes from.
public struct FieldDefinition: Sendable, Hashable {
    public var name: String
    public var type: ColumnType
    /// Tried in order; the first one present supplies the value.
    public var sources: [ValueSource]
    /// A required field with no value rejects the event; an optional one gets `defaultValue`.
    public var required: Bool
    /// Text of the default, coerced like an input value; nil means the type's default
    /// (zero, empty, or NULL for Nullable types).
    public var defaultValue: String?
    /// Shown in the catalog API.
    public var description: String?

    public init(
        name: String, type: ColumnType, sources: [ValueSource], required: Bool = false,
        defaultValue: String? = nil, description: String? = nil
    ) {
        self.name = name
        self.type = type
        self.sources = sources
        self.required = required
        self.defaultValue = defaultValue
        self.description = description
    }
}

/// Where a field's value is read from.
public enum ValueSource: Sendable, Hashable, CustomStringConvertible {
    /// A CloudEvent context attribute or extension: `ce.id`, `ce.tenantid`.
    case attribute(String)
    /// A path into the event's JSON `data`: `data.dimensions.region`.
    case data([String])
    /// The time Sluice received the event.
    case receivedAt

    /// Parses `ce.NAME`, `data.a.b`, or `received_at`.
    public init(parsing text: String) throws(CatalogError) {
        if text == "received_at" {
            self = .receivedAt
        } else if text.hasPrefix("ce.") {
            let name = String(text.dropFirst(3))
            guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
                throw CatalogError(key: text, reason: "CloudEvent attribute names are lowercase letters and digits")
            }
            self = .attribute(name)
        } else if text.hasPrefix("data.") || text == "data" {
            let path = text.split(separator: ".", omittingEmptySubsequences: false).dropFirst().map(String.init)
            guard path.allSatisfy({ !$0.isEmpty }) else {
                throw CatalogError(key: text, reason: "empty path segment")
            }
            self = .data(path)
        } else {
            throw CatalogError(key: text, reason: "a source is ce.<attribute>, data.<path> or received_at")
        }
    }

    public var description: String {
        switch self {
        case .attribute(let a): "ce.\(a)"
        case .data(let p): (["data"] + p).joined(separator: ".")
        case .receivedAt: "received_at"
        }
    }
}

/// The hourly rollup of a dataset: an AggregatingMergeTree fed by a materialized view.
public struct RollupDefinition: Sendable, Hashable {
    public var dimensions: [RollupDimension]
    public var measures: [RollupMeasure]

    public init(dimensions: [RollupDimension], measures: [RollupMeasure]) {
        self.dimensions = dimensions
        self.measures = measures
    }
}

/// A grouping column of the rollup; `expression` defaults to the raw column of that name.
public struct RollupDimension: Sendable, Hashable {
    public var name: String
    /// SQL over raw columns, from the catalog only (for example `intDiv(status_code, 100)`).
    public var expression: String?

    public init(name: String, expression: String? = nil) {
        self.name = name
        self.expression = expression
    }
}

/// One aggregate kept per hour and dimension tuple.
public struct RollupMeasure: Sendable, Hashable {
    public enum Aggregate: String, Sendable, Hashable, CaseIterable {
        case count, countIf, sum, sumIf, min, max, avg, quantiles, uniq
    }

    public var name: String
    public var aggregate: Aggregate
    /// The raw column or SQL expression aggregated (absent for `count`).
    public var expression: String?
    /// The condition for `countIf` and `sumIf`.
    public var condition: String?
    /// Quantile levels for `quantiles`.
    public var levels: [Double]

    public init(name: String, aggregate: Aggregate, expression: String? = nil, condition: String? = nil, levels: [Double] = []) {
        self.name = name
        self.aggregate = aggregate
        self.expression = expression
        self.condition = condition
        self.levels = levels
    }
}

/// A catalog or dataset definition that cannot be used, naming the key at fault.
public struct CatalogError: Error, Sendable, CustomStringConvertible, Equatable {
    public let key: String
    public let reason: String
    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }
    public var description: String { "\(key): \(reason)" }
}
