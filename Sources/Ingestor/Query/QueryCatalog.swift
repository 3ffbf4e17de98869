public import Pipeline
import Sinks

/// The allowlist of everything a query may name: datasets, dimensions (to filter and
/// group by) and measures (to aggregate), derived once from the dataset definitions.
///
/// Request input never becomes an identifier or an SQL fragment. A request names things,
/// the catalog looks the names up, and only the catalog's own SQL (built from validated
/// dataset definitions) reaches ClickHouse. A name the catalog does not know is a `400`.
public struct QueryCatalog: Sendable {
    public let datasets: [QueryDataset]

    public init(datasets: [DatasetDefinition]) {
        self.datasets = datasets.map(QueryDataset.init(definition:))
    }

    public func dataset(named name: String) -> QueryDataset? { datasets.first { $0.name == name } }
}

/// What a dimension's values are, which decides how a filter value is checked and
/// written as an SQL literal and how a result value is written as JSON.
public enum QueryValueKind: String, Sendable, Hashable {
    case string, uuid, int, uint, float, bool

    init?(_ type: ColumnType) {
        switch type.base {
        case .string, .fixedString, .enum8, .enum16: self = .string
        case .uuid: self = .uuid
        case .int8, .int16, .int32, .int64: self = .int
        case .uint8, .uint16, .uint32, .uint64: self = .uint
        case .float32, .float64: self = .float
        case .bool: self = .bool
        default: return nil
        }
    }
}

/// A column (or catalog expression, or map key) that queries can filter and group by.
public struct QueryDimension: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// A raw column of that name; rollup dimensions keep the same name.
        case column(String)
        /// A rollup dimension defined by a catalog expression over raw columns
        /// (`intDiv(status_code, 100)`); the rollup stores it under the dimension's name.
        case expression(String)
        /// One key of a `Map(String, String)` field, e.g. `dimensions.region`.
        case mapKey(map: String, key: String)
    }

    public let name: String
    public let kind: QueryValueKind
    public let source: Source
    /// Whether the hourly rollup has this dimension.
    public let inRollup: Bool

    /// SQL for the dimension's value in the raw table or the rollup.
    func sql(rollup: Bool, dialect: ClickHouseDialect) -> String {
        switch source {
        case .column(let c): return ClickHouseSQL.quoteIdentifier(c)
        case .expression(let e): return rollup ? ClickHouseSQL.quoteIdentifier(name) : e
        case .mapKey(let map, let key):
            let k = ClickHouseSQL.quoteString(key)
            if dialect.map { return "\(ClickHouseSQL.quoteIdentifier(map))[\(k)]" }
            // 18.16 stores maps as Nested arrays; a missing key reads as '' (index 0),
            // like a missing Map key on modern servers.
            return "\(ClickHouseSQL.quoteIdentifier("\(map).value"))[indexOf(\(ClickHouseSQL.quoteIdentifier("\(map).key")), \(k))]"
        }
    }
}

/// Aggregations of a raw field that the rollup does not keep (raw table only).
public enum FieldAggregate: String, Sendable, Hashable, CaseIterable {
    case sum, avg, min, max, p50, p95, p99
    /// Earliest and latest value of the time column (milliseconds).
    case first, last
    /// Any one value of a text field in the group.
    case any
}

/// The SQL aggregates a query selects; measures are read from them (several measures can
/// share one, e.g. `p50` and `p99` from one `quantilesTDigestMerge`).
public enum BaseAggregate: Sendable, Hashable {
    /// A rollup measure, merged from its `-State` column or computed over raw rows.
    case rollup(String)
    /// `quantilesTDigest(0.5, 0.95, 0.99)` of a numeric field (raw only).
    case fieldQuantiles(String)
    /// Any other field aggregate (raw only).
    case field(String, FieldAggregate)
}

/// A named number (or time, or text) a query can ask for.
public struct QueryMeasure: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A rollup measure; `level` picks one quantile (1-based) of a `quantiles` measure.
        case rollup(RollupMeasure, level: Int?)
        /// `numerator / denominator` of two rollup measures (null when the denominator is 0).
        case ratio(numerator: String, denominator: String)
        /// A raw-only aggregate of a field.
        case field(String, FieldAggregate)
    }

    public enum ValueType: String, Sendable, Hashable {
        case number
        /// Milliseconds since the epoch, written as an RFC 3339 string.
        case time
        case text
    }

    public let name: String
    public let kind: Kind
    public let valueType: ValueType
    public let description: String

    /// The SQL aggregates this measure is read from.
    public var bases: [BaseAggregate] {
        switch kind {
        case .rollup(let m, _): [.rollup(m.name)]
        case .ratio(let n, let d): [.rollup(n), .rollup(d)]
        case .field(let f, let agg):
            switch agg {
            case .p50, .p95, .p99: [.fieldQuantiles(f)]
            default: [.field(f, agg)]
            }
        }
    }

    /// Whether the hourly rollup can answer this measure.
    public var inRollup: Bool {
        if case .field = kind { return false }
        return true
    }
}

/// One dataset as the query API sees it.
public struct QueryDataset: Sendable {
    public let definition: DatasetDefinition
    public let dimensions: [QueryDimension]
    public let measures: [QueryMeasure]
    /// `Map(String, String)` fields whose keys are dimensions as `<field>.<key>`.
    public let mapFields: [String]
    private let dimensionIndex: [String: Int]
    private let measureIndex: [String: Int]

    public var name: String { definition.name }
    public var hasRollup: Bool { definition.rollup != nil }

    init(definition: DatasetDefinition) {
        self.definition = definition
        let rollup = definition.rollup
        let rollupDimensionNames = Set(rollup?.dimensions.map(\.name) ?? [])
        var dims: [QueryDimension] = []
        var maps: [String] = []
        for f in definition.fields where f.name != definition.timeColumn {
            if case .map(let k, let v) = f.type.base, k.base == .string, v.base == .string {
                maps.append(f.name)
                continue
            }
            guard let kind = QueryValueKind(f.type) else { continue }
            dims.append(QueryDimension(name: f.name, kind: kind, source: .column(f.name), inRollup: rollupDimensionNames.contains(f.name)))
        }
        for d in rollup?.dimensions ?? [] where d.expression != nil && !dims.contains(where: { $0.name == d.name }) {
            // Catalog expressions are integer arithmetic over raw columns (status classes).
            dims.append(QueryDimension(name: d.name, kind: .int, source: .expression(d.expression ?? ""), inRollup: true))
        }
        dimensions = dims
        mapFields = maps

        var ms: [QueryMeasure] = []
        var taken = Set<String>()
        func add(_ m: QueryMeasure) {
            guard taken.insert(m.name).inserted else { return }
            ms.append(m)
        }
        let rollupMeasures = rollup?.measures ?? []
        let countMeasure = rollupMeasures.first { $0.aggregate == .count }
        for m in rollupMeasures {
            switch m.aggregate {
            case .quantiles:
                for (i, level) in m.levels.enumerated() {
                    add(QueryMeasure(
                        name: Self.quantileName(measure: m.name, level: level), kind: .rollup(m, level: i + 1), valueType: .number,
                        description: "quantile \(level) of \(m.expression ?? m.name) (t-digest)"))
                }
            default:
                add(QueryMeasure(name: m.name, kind: .rollup(m, level: nil), valueType: .number, description: Self.describe(m)))
            }
        }
        if let count = countMeasure {
            for m in rollupMeasures {
                switch m.aggregate {
                case .countIf:
                    add(QueryMeasure(
                        name: "\(m.name)_rate", kind: .ratio(numerator: m.name, denominator: count.name), valueType: .number,
                        description: "\(m.name) / \(count.name)"))
                case .sum:
                    add(QueryMeasure(
                        name: m.name == "sum" ? "avg" : "\(m.name)_avg", kind: .ratio(numerator: m.name, denominator: count.name),
                        valueType: .number, description: "\(m.name) / \(count.name)"))
                default: break
                }
            }
        }
        // Raw-only aggregates of every field, for questions the rollup was not built for.
        // Rollup measures keep their names when a generated name would collide.
        for f in definition.fields {
            if f.name == definition.timeColumn {
                add(QueryMeasure(name: "\(f.name)_first", kind: .field(f.name, .first), valueType: .time, description: "earliest \(f.name)"))
                add(QueryMeasure(name: "\(f.name)_last", kind: .field(f.name, .last), valueType: .time, description: "latest \(f.name)"))
                continue
            }
            switch QueryValueKind(f.type) {
            case .int?, .uint?, .float?:
                for agg in [FieldAggregate.sum, .avg, .min, .max, .p50, .p95, .p99] {
                    add(QueryMeasure(name: "\(f.name)_\(agg.rawValue)", kind: .field(f.name, agg), valueType: .number, description: "\(agg.rawValue) of \(f.name)"))
                }
            case .string?, .uuid?:
                add(QueryMeasure(name: "\(f.name)_any", kind: .field(f.name, .any), valueType: .text, description: "any one \(f.name) of the group"))
            default: break
            }
        }
        measures = ms
        var di: [String: Int] = [:]
        for (i, d) in dims.enumerated() { di[d.name] = i }
        dimensionIndex = di
        var mi: [String: Int] = [:]
        for (i, m) in ms.enumerated() { mi[m.name] = i }
        measureIndex = mi
    }

    /// `p50` for `quantiles`, `latency_ms_p95` for `latency_ms_quantiles`, `x_p99` otherwise.
    static func quantileName(measure: String, level: Double) -> String {
        let pct = level * 100
        let label = pct == pct.rounded() ? "p\(Int(pct))" : "p" + String(pct).replacingOccurrences(of: ".", with: "_")
        if measure == "quantiles" { return label }
        if measure.hasSuffix("_quantiles") { return String(measure.dropLast("_quantiles".count)) + "_" + label }
        return "\(measure)_\(label)"
    }

    static func describe(_ m: RollupMeasure) -> String {
        switch m.aggregate {
        case .count: "number of rows"
        case .countIf: "rows where \(m.condition ?? "")"
        default: "\(m.aggregate.rawValue) of \(m.expression ?? "")"
        }
    }

    public func measure(named name: String) -> QueryMeasure? { measureIndex[name].map { measures[$0] } }

    /// A dimension by name: a catalog dimension, or `<map>.<key>` for a key of a map field.
    public func dimension(named name: String) -> QueryDimension? {
        if let i = dimensionIndex[name] { return dimensions[i] }
        for map in mapFields where name.hasPrefix(map + ".") {
            let key = String(name.dropFirst(map.count + 1))
            guard Self.isValidLabelKey(key) else { return nil }
            return QueryDimension(name: name, kind: .string, source: .mapKey(map: map, key: key), inRollup: false)
        }
        return nil
    }

    /// Label keys are data, and they travel as quoted literals, but they also become JSON
    /// field names in responses; keep them to a plain, bounded alphabet.
    public static func isValidLabelKey(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= 128 else { return false }
        return key.utf8.allSatisfy { b in
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":") || b == UInt8(ascii: "/")
        }
    }

    /// The tenant column as a dimension, if the dataset is multi-tenant.
    public var tenantDimension: QueryDimension? { definition.tenantColumn.flatMap { dimension(named: $0) } }

    /// The raw field definition of a column.
    func field(_ name: String) -> FieldDefinition? { definition.field(named: name) }

    /// The rollup measure of that name.
    func rollupMeasure(_ name: String) -> RollupMeasure? { definition.rollup?.measures.first { $0.name == name } }
}
