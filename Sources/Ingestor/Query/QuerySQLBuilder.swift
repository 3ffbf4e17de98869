import Pipeline
import Sinks

/// Which table answered a query.
public enum QuerySource: String, Sendable, Hashable {
    case rollup, raw
}

/// Turns a ``QuerySpec`` into ClickHouse SQL for one server dialect and one source table.
///
/// Every identifier comes from the catalog (quoted with
/// ``ClickHouseSQL/quoteIdentifier(_:)``) and every value is a literal written by
/// ``QueryLiteral``; the spec's strings are only ever used to look things up. The time
/// column is read in the dialect's layout: on 18.16 a `DateTime64(3)` field is a
/// `DateTime` plus a `<name>_ms` column, on modern servers a real `DateTime64`.
struct QuerySQLBuilder: Sendable {
    let dataset: QueryDataset
    let dialect: ClickHouseDialect
    let database: String
    let scope: QueryScope

    /// The output layout of a grouped SELECT: `_b`, then one column per group, then one
    /// per base aggregate.
    struct Layout: Sendable {
        var groups: [QueryDimension]
        var bases: [BaseAggregate]
    }

    var q: (String) -> String { ClickHouseSQL.quoteIdentifier }

    func table(_ source: QuerySource) -> String {
        ClickHouseSQL.qualifiedName(database: database, table: source == .rollup ? dataset.definition.rollupTableName : dataset.name)
    }

    // MARK: Time

    private var timeField: FieldDefinition? { dataset.field(dataset.definition.timeColumn) }

    /// The lowered sub-second column and its units per millisecond, on servers without
    /// DateTime64.
    private var fraction: (column: String, perMilli: Int64)? {
        guard !dialect.dateTime64, case .dateTime64(let p, _)? = timeField?.type.base else { return nil }
        let c = SchemaPlanner.fractionColumn(of: dataset.definition.timeColumn, precision: p)
        return (c.name, p <= 3 ? 1 : p <= 6 ? 1000 : 1_000_000)
    }

    private var isDateTime64Native: Bool {
        if dialect.dateTime64, case .dateTime64? = timeField?.type.base { return true }
        return false
    }

    /// Epoch seconds of a row, as an integer expression.
    func secondsExpression(_ source: QuerySource) -> String {
        if source == .rollup { return "toUInt32(\(q("hour")))" }
        let t = q(dataset.definition.timeColumn)
        if isDateTime64Native { return "intDiv(toUnixTimestamp64Milli(\(t)), 1000)" }
        return "toUInt32(\(t))"
    }

    /// Epoch milliseconds of a row (raw table).
    func millisecondsExpression() -> String {
        let t = q(dataset.definition.timeColumn)
        if isDateTime64Native { return "toUnixTimestamp64Milli(\(t))" }
        if let f = fraction {
            let frac = f.perMilli == 1 ? q(f.column) : "intDiv(\(q(f.column)), \(f.perMilli))"
            return "(toInt64(toUInt32(\(t))) * 1000 + \(frac))"
        }
        return "(toInt64(toUInt32(\(t))) * 1000)"
    }

    /// `[fromMs, toMs)` on the chosen table. The rollup is only used with whole hours, so
    /// its `hour` column compares directly; raw 18.16 rows compare seconds first (so the
    /// primary key still prunes) and their sub-second column only at the boundary second.
    func rangeCondition(_ source: QuerySource, fromMs: Int64, toMs: Int64) -> String {
        let (fs, fm) = QueryTime.floorDivMod(fromMs, 1000)
        let (ts, tm) = QueryTime.floorDivMod(toMs, 1000)
        if source == .rollup {
            return "\(q("hour")) >= toDateTime(\(fs)) AND \(q("hour")) < toDateTime(\(ts))"
        }
        let t = q(dataset.definition.timeColumn)
        if isDateTime64Native {
            return "\(t) >= fromUnixTimestamp64Milli(toInt64(\(fromMs)), 'UTC') AND \(t) < fromUnixTimestamp64Milli(toInt64(\(toMs)), 'UTC')"
        }
        guard let f = fraction else {
            // Whole seconds only: a row at second s is inside when s*1000 is.
            let lo = fm == 0 ? fs : fs + 1
            let hi = tm == 0 ? ts : ts + 1
            return "\(t) >= toDateTime(\(lo)) AND \(t) < toDateTime(\(hi))"
        }
        let c = q(f.column)
        let lower = fm == 0 ? "\(t) >= toDateTime(\(fs))"
            : "\(t) >= toDateTime(\(fs)) AND (\(t) > toDateTime(\(fs)) OR \(c) >= \(fm * f.perMilli))"
        let upper = tm == 0 ? "\(t) < toDateTime(\(ts))"
            : "\(t) <= toDateTime(\(ts)) AND (\(t) < toDateTime(\(ts)) OR \(c) < \(tm * f.perMilli))"
        return "\(lower) AND \(upper)"
    }

    // MARK: Aggregates

    func baseSQL(_ base: BaseAggregate, _ source: QuerySource) throws(QueryError) -> String {
        switch base {
        case .rollup(let name):
            guard let m = dataset.rollupMeasure(name) else { throw QueryError.invalid("measures", "unknown rollup measure '\(name)'") }
            return source == .rollup ? SchemaPlanner.mergeExpression(m, column: q(m.name)) : SchemaPlanner.rawExpression(m)
        case .fieldQuantiles(let f):
            return "quantilesTDigest(0.5, 0.95, 0.99)(\(q(f)))"
        case .field(let f, let agg):
            switch agg {
            case .sum, .avg, .min, .max: return "\(agg.rawValue)(\(q(f)))"
            case .any: return "toString(any(\(q(f))))"
            case .first: return "min(\(millisecondsExpression()))"
            case .last: return "max(\(millisecondsExpression()))"
            case .p50, .p95, .p99: return "quantilesTDigest(0.5, 0.95, 0.99)(\(q(f)))"
            }
        }
    }

    /// One SQL expression for a measure, for ordering (top-k).
    func measureSQL(_ m: QueryMeasure, _ source: QuerySource) throws(QueryError) -> String {
        switch m.kind {
        case .rollup(_, let level?):
            return "(\(try baseSQL(m.bases[0], source)))[\(level)]"
        case .rollup:
            return try baseSQL(m.bases[0], source)
        case .ratio:
            return "(\(try baseSQL(m.bases[0], source)) / \(try baseSQL(m.bases[1], source)))"
        case .field(_, let agg):
            let level = [FieldAggregate.p50: 1, .p95: 2, .p99: 3][agg]
            let base = try baseSQL(m.bases[0], source)
            return level.map { "(\(base))[\($0)]" } ?? base
        }
    }

    // MARK: Conditions

    /// Tenant, filters and time range, ANDed.
    func conditions(_ spec: QuerySpec, _ source: QuerySource, fromMs: Int64, toMs: Int64) throws(QueryError) -> [String] {
        var out = [rangeCondition(source, fromMs: fromMs, toMs: toMs)]
        if let tenant = scope.tenant {
            guard let dim = dataset.tenantDimension else {
                throw QueryError.invalid("X-Tenant-ID", "dataset '\(dataset.name)' has no tenant column, so a tenant-scoped query cannot read it")
            }
            guard let canonical = QueryLiteral.canonical(tenant, kind: dim.kind) else {
                throw QueryError.invalid("X-Tenant-ID", "tenant '\(tenant)' is not a valid \(dim.kind.rawValue) for dataset '\(dataset.name)'")
            }
            out.append("\(dim.sql(rollup: source == .rollup, dialect: dialect)) = \(QueryLiteral.sql(canonical, kind: dim.kind))")
        }
        for f in spec.filters {
            guard let dim = dataset.dimension(named: f.dimension), !f.values.isEmpty else {
                throw QueryError.invalid("filters.\(f.dimension)", "unknown dimension '\(f.dimension)'")
            }
            let column = dim.sql(rollup: source == .rollup, dialect: dialect)
            let literals = f.values.map { QueryLiteral.sql($0, kind: dim.kind) }
            out.append(literals.count == 1 ? "\(column) = \(literals[0])" : "\(column) IN (\(literals.joined(separator: ", ")))")
        }
        return out
    }

    func groups(_ spec: QuerySpec) throws(QueryError) -> [QueryDimension] {
        var out: [QueryDimension] = []
        for (i, g) in spec.groupBy.enumerated() {
            guard let d = dataset.dimension(named: g) else { throw QueryError.invalid("group_by[\(i)]", "unknown dimension '\(g)'") }
            out.append(d)
        }
        return out
    }

    func measures(_ spec: QuerySpec) throws(QueryError) -> [QueryMeasure] {
        var out: [QueryMeasure] = []
        for (i, name) in spec.measures.enumerated() {
            guard let m = dataset.measure(named: name) else { throw QueryError.invalid("measures[\(i)]", "unknown measure '\(name)'") }
            out.append(m)
        }
        return out
    }

    /// The layout of `spec`'s SELECT: its groups and the distinct base aggregates its
    /// measures read.
    func layout(_ spec: QuerySpec) throws(QueryError) -> Layout {
        var bases: [BaseAggregate] = []
        for m in try measures(spec) {
            for b in m.bases where !bases.contains(b) { bases.append(b) }
        }
        return Layout(groups: try groups(spec), bases: bases)
    }

    /// `(g1, g2) IN (SELECT g1, g2 ... ORDER BY measure DESC LIMIT n)`: the top-k groups
    /// ranked over `[fromMs, toMs)` (the requested range, also for a comparison query,
    /// so both periods show the same groups).
    func topKCondition(_ spec: QuerySpec, _ source: QuerySource, fromMs: Int64, toMs: Int64) throws(QueryError) -> String? {
        guard let k = spec.topK else { return nil }
        guard let measure = dataset.measure(named: k.measure) else { throw QueryError.invalid("top_k.by", "unknown measure '\(k.measure)'") }
        let groups = try groups(spec).map { $0.sql(rollup: source == .rollup, dialect: dialect) }
        let key = groups.count == 1 ? groups[0] : "(\(groups.joined(separator: ", ")))"
        let order = "\(try measureSQL(measure, source)) \(k.ascending ? "ASC" : "DESC"), " + groups.joined(separator: ", ")
        return """
            \(key) IN (SELECT \(groups.joined(separator: ", ")) FROM \(table(source)) \
            WHERE \(try conditions(spec, source, fromMs: fromMs, toMs: toMs).joined(separator: " AND ")) \
            GROUP BY \(groups.joined(separator: ", ")) ORDER BY \(order) LIMIT \(k.n))
            """
    }

    /// The grouped SELECT over `[fromMs, toMs)`, bucketed on `grid`, with top-k ranked
    /// over `rankFromMs..<rankToMs`.
    func select(
        _ spec: QuerySpec, source: QuerySource, grid: BucketGrid, fromMs: Int64, toMs: Int64,
        rankFromMs: Int64, rankToMs: Int64, limit: Int
    ) throws(QueryError) -> String {
        let layout = try layout(spec)
        var items = ["\(grid.sql(seconds: secondsExpression(source), lowest: QueryTime.floorDivMod(fromMs, 1000).0)) AS \(q("_b"))"]
        for (i, g) in layout.groups.enumerated() {
            items.append("\(g.sql(rollup: source == .rollup, dialect: dialect)) AS \(q("_g\(i)"))")
        }
        for (i, b) in layout.bases.enumerated() {
            items.append("\(try baseSQL(b, source)) AS \(q("_a\(i)"))")
        }
        var conds = try conditions(spec, source, fromMs: fromMs, toMs: toMs)
        if let top = try topKCondition(spec, source, fromMs: rankFromMs, toMs: rankToMs) { conds.append(top) }
        let keys = layout.groups.indices.map { q("_g\($0)") } + [q("_b")]
        return """
            SELECT \(items.joined(separator: ", "))
            FROM \(table(source))
            WHERE \(conds.joined(separator: " AND "))
            GROUP BY \(keys.joined(separator: ", "))
            ORDER BY \(keys.joined(separator: ", "))
            LIMIT \(limit)
            FORMAT TabSeparated
            """
    }

    // MARK: Source choice

    /// Why the rollup cannot answer `spec` exactly, or nil when it can.
    func rollupObstacle(_ spec: QuerySpec, grid: BucketGrid) -> (parameter: String, reason: String)? {
        guard dataset.hasRollup else { return ("dataset", "dataset '\(dataset.name)' has no rollup") }
        for (i, name) in spec.measures.enumerated() where dataset.measure(named: name)?.inRollup != true {
            return ("measures[\(i)]", "measure '\(name)' is computed from raw rows only")
        }
        if let k = spec.topK, dataset.measure(named: k.measure)?.inRollup != true {
            return ("top_k.by", "measure '\(k.measure)' is computed from raw rows only")
        }
        for (i, g) in spec.groupBy.enumerated() where dataset.dimension(named: g)?.inRollup != true {
            return ("group_by[\(i)]", "'\(g)' is not a rollup dimension")
        }
        for f in spec.filters where dataset.dimension(named: f.dimension)?.inRollup != true {
            return ("filters.\(f.dimension)", "'\(f.dimension)' is not a rollup dimension")
        }
        if scope.tenant != nil, dataset.tenantDimension?.inRollup != true {
            return ("X-Tenant-ID", "the tenant column is not a rollup dimension")
        }
        guard grid.isHourAligned else { return ("bucket", "bucket '\(spec.bucket)' is not a whole number of hours on an hour grid") }
        guard spec.fromMs % 3_600_000 == 0 else { return ("from", "'from' is not on a whole hour") }
        guard spec.toMs % 3_600_000 == 0 else { return ("to", "'to' is not on a whole hour") }
        return nil
    }
}
