public import Pipeline

/// One column of a table as Sluice creates it on a particular server (the DDL side;
/// ``PhysicalColumn`` is what `DESCRIBE TABLE` reports back).
public struct ColumnDefinition: Sendable, Hashable {
    /// Column name in `CREATE TABLE`; a Nested column expands to `name.key`, `name.value`.
    public let name: String
    /// Type text in `CREATE TABLE`.
    public let ddlType: String
    /// The columns `DESCRIBE TABLE` reports for it, with their types.
    public let described: [(name: String, type: ColumnType)]

    public static func == (a: ColumnDefinition, b: ColumnDefinition) -> Bool {
        a.name == b.name && a.ddlType == b.ddlType
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(ddlType)
    }
}

/// Turns dataset definitions into the DDL of their raw, rollup and dead-letter tables
/// for one server dialect.
///
/// Datasets are written in modern types (`LowCardinality`, `DateTime64`, `Map`, `Bool`).
/// On servers without them the planner lowers each type to a portable form that loses
/// nothing: `DateTime64(3)` becomes a `DateTime` plus a `<name>_ms UInt16` column, `Map`
/// becomes a `Nested(key, value)` pair of arrays, `Bool` becomes `UInt8`, and
/// `LowCardinality(T)` becomes `T`. The Native encoder applies the same lowering when it
/// binds a batch to the table that `DESCRIBE TABLE` reports.
public struct SchemaPlanner: Sendable {
    public let database: String
    public let dialect: ClickHouseDialect

    public init(database: String, dialect: ClickHouseDialect) {
        self.database = database
        self.dialect = dialect
    }

    /// The companion column that holds the sub-second part of a lowered `DateTime64`.
    public static func fractionColumn(of name: String, precision: Int) -> (name: String, type: ColumnType) {
        switch precision {
        case ...3: ("\(name)_ms", .uint16)
        case 4...6: ("\(name)_us", .uint32)
        default: ("\(name)_ns", .uint32)
        }
    }

    // MARK: Types

    /// The type a nested (non top-level) value is stored as on this server.
    public func lowered(_ type: ColumnType, key: String) throws(CatalogError) -> ColumnType {
        switch type {
        case .lowCardinality(let t):
            let inner = try lowered(t, key: key)
            return dialect.lowCardinality ? .lowCardinality(inner) : inner
        case .bool:
            return dialect.bool ? .bool : .uint8
        case .nullable(let t):
            return .nullable(try lowered(t, key: key))
        case .array(let t):
            return .array(try lowered(t, key: key))
        case .dateTime64:
            guard dialect.dateTime64 else {
                throw CatalogError(key: key, reason: "DateTime64 inside another type needs ClickHouse 20.1 or later")
            }
            return type
        case .map(let k, let v):
            guard dialect.map else {
                throw CatalogError(key: key, reason: "Map inside another type needs ClickHouse 21.8 or later")
            }
            return .map(key: try lowered(k, key: key), value: try lowered(v, key: key))
        default:
            return type
        }
    }

    /// The physical columns that store one dataset field.
    public func physicalColumns(for field: FieldDefinition, key: String) throws(CatalogError) -> [ColumnDefinition] {
        let name = field.name
        switch field.type {
        case .dateTime64(let p, let tz) where !dialect.dateTime64:
            let seconds = ColumnType.dateTime(timezone: tz)
            let frac = Self.fractionColumn(of: name, precision: p)
            return [
                ColumnDefinition(name: name, ddlType: seconds.name, described: [(name, seconds)]),
                ColumnDefinition(name: frac.name, ddlType: frac.type.name, described: [(frac.name, frac.type)]),
            ]
        case .map(let k, let v) where !dialect.map:
            let lk = try lowered(k, key: key)
            let lv = try lowered(v, key: key)
            return [
                ColumnDefinition(
                    name: name, ddlType: "Nested(key \(lk.name), value \(lv.name))",
                    described: [("\(name).key", .array(lk)), ("\(name).value", .array(lv))])
            ]
        default:
            let t = try lowered(field.type, key: key)
            return [ColumnDefinition(name: name, ddlType: t.name, described: [(name, t)])]
        }
    }

    /// Every physical column of a dataset's raw table, in order.
    public func rawColumns(of dataset: DatasetDefinition) throws(CatalogError) -> [ColumnDefinition] {
        var columns: [ColumnDefinition] = []
        for (i, f) in dataset.fields.enumerated() {
            columns += try physicalColumns(for: f, key: "datasets.\(dataset.name).fields[\(i)].type")
        }
        columns.append(ColumnDefinition(
            name: DatasetDefinition.eventKeyColumn, ddlType: "FixedString(16)",
            described: [(DatasetDefinition.eventKeyColumn, .fixedString(16))]))
        columns.append(ColumnDefinition(
            name: DatasetDefinition.ingestedAtColumn, ddlType: "DateTime DEFAULT now()",
            described: [(DatasetDefinition.ingestedAtColumn, .dateTime(timezone: nil))]))
        return columns
    }

    // MARK: DDL

    public func quoted(_ identifier: String) -> String { ClickHouseSQL.quoteIdentifier(identifier) }

    public func qualified(_ table: String) -> String { "\(quoted(database)).\(quoted(table))" }

    public func createDatabase() -> String { "CREATE DATABASE IF NOT EXISTS \(quoted(database))" }

    /// `CREATE TABLE IF NOT EXISTS` for a dataset's raw MergeTree table.
    public func createRawTable(_ dataset: DatasetDefinition) throws(CatalogError) -> String {
        let columns = try rawColumns(of: dataset)
        var lines = columns.map { "    \(quoted($0.name)) \($0.ddlType)" }
        if dialect.skipIndexes {
            // The restart-safe dedup path looks events up by key; a bloom filter lets
            // the server skip granules instead of scanning the whole column.
            lines.append("    INDEX \(quoted("idx_event_key")) \(quoted(DatasetDefinition.eventKeyColumn)) TYPE bloom_filter GRANULARITY 4")
        }
        let time = quoted(dataset.timeColumn)
        var sql = """
            CREATE TABLE IF NOT EXISTS \(qualified(dataset.name)) (
            \(lines.joined(separator: ",\n"))
            ) ENGINE = MergeTree
            PARTITION BY toYYYYMM(\(time))
            ORDER BY (\(dataset.orderBy.map(quoted).joined(separator: ", ")))
            """
        if let days = dataset.retentionDays, dialect.ttl {
            sql += "\nTTL toDateTime(\(time)) + toIntervalDay(\(days))"
        }
        sql += "\nSETTINGS index_granularity = 8192"
        return sql
    }

    /// `ALTER TABLE ... ADD COLUMN` for columns a newer dataset definition added.
    /// 18.16 has no `ADD COLUMN IF NOT EXISTS`, so the migrator diffs `DESCRIBE TABLE`.
    public func addMissingColumns(_ dataset: DatasetDefinition, existing: Set<String>) throws(CatalogError) -> [String] {
        try rawColumns(of: dataset).filter { column in
            !column.described.allSatisfy { existing.contains($0.name) }
        }.map { column in
            "ALTER TABLE \(qualified(dataset.name)) ADD COLUMN \(quoted(column.name)) \(column.ddlType)"
        }
    }

    /// The SELECT that aggregates raw rows into hourly states; the rollup table is
    /// created from it (so ClickHouse infers every state type) and the materialized view
    /// runs it on each insert.
    public func rollupSelect(_ dataset: DatasetDefinition, rollup: RollupDefinition, emptyResult: Bool) -> String {
        var items = ["toStartOfHour(toDateTime(\(quoted(dataset.timeColumn)))) AS \(quoted("hour"))"]
        for d in rollup.dimensions {
            items.append("\(d.expression ?? quoted(d.name)) AS \(quoted(d.name))")
        }
        for m in rollup.measures {
            items.append("\(Self.stateExpression(m)) AS \(quoted(m.name))")
        }
        let groups = (["hour"] + rollup.dimensions.map(\.name)).map(quoted).joined(separator: ", ")
        return """
            SELECT
                \(items.joined(separator: ",\n    "))
            FROM \(qualified(dataset.name))\(emptyResult ? "\nWHERE 0" : "")
            GROUP BY \(groups)
            """
    }

    /// `CREATE TABLE` for `<dataset>_hourly` (an AggregatingMergeTree).
    public func createRollupTable(_ dataset: DatasetDefinition, rollup: RollupDefinition) -> String {
        let key = (rollup.dimensions.map(\.name) + ["hour"]).map(quoted).joined(separator: ", ")
        return """
            CREATE TABLE IF NOT EXISTS \(qualified(dataset.rollupTableName))
            ENGINE = AggregatingMergeTree
            PARTITION BY toYYYYMM(\(quoted("hour")))
            ORDER BY (\(key))
            AS \(rollupSelect(dataset, rollup: rollup, emptyResult: true))
            """
    }

    public func rollupViewName(_ dataset: DatasetDefinition) -> String { "\(dataset.rollupTableName)_mv" }

    /// The materialized view that feeds the rollup on every insert into the raw table.
    public func createRollupView(_ dataset: DatasetDefinition, rollup: RollupDefinition) -> String {
        """
        CREATE MATERIALIZED VIEW IF NOT EXISTS \(qualified(rollupViewName(dataset)))
        TO \(qualified(dataset.rollupTableName))
        AS \(rollupSelect(dataset, rollup: rollup, emptyResult: false))
        """
    }

    /// `CREATE TABLE` for `dead_letter`: rejected events with their raw bytes and the reason.
    public func createDeadLetterTable() -> String {
        let lc = dialect.lowCardinality ? "LowCardinality(String)" : "String"
        var sql = """
            CREATE TABLE IF NOT EXISTS \(qualified(DeadLetterTable.name)) (
                \(quoted("received_at")) DateTime,
                \(quoted("dataset")) \(lc),
                \(quoted("source")) \(lc),
                \(quoted("stream")) String,
                \(quoted("partition")) Int32,
                \(quoted("offset")) String,
                \(quoted("event_id")) String,
                \(quoted("event_source")) String,
                \(quoted("event_type")) String,
                \(quoted("field")) String,
                \(quoted("reason")) String,
                \(quoted("raw_event")) String,
                \(quoted(DatasetDefinition.eventKeyColumn)) FixedString(16)
            ) ENGINE = MergeTree
            PARTITION BY toYYYYMM(\(quoted("received_at")))
            ORDER BY (\(quoted("received_at")), \(quoted("dataset")))
            """
        if dialect.ttl { sql += "\nTTL \(quoted("received_at")) + toIntervalDay(\(DeadLetterTable.retentionDays))" }
        return sql
    }

    /// The whole schema in the order it must be created.
    public func migrationStatements(for datasets: [DatasetDefinition]) throws(CatalogError) -> [String] {
        var statements = [createDatabase(), createDeadLetterTable()]
        for dataset in datasets {
            statements.append(try createRawTable(dataset))
            if let rollup = dataset.rollup {
                statements.append(createRollupTable(dataset, rollup: rollup))
                statements.append(createRollupView(dataset, rollup: rollup))
            }
        }
        return statements
    }

    // MARK: Aggregates

    /// The `-State` call a measure stores.
    public static func stateExpression(_ m: RollupMeasure) -> String {
        let e = m.expression ?? ""
        switch m.aggregate {
        case .count: return "countState()"
        case .countIf: return "countIfState(\(m.condition ?? "1"))"
        case .sum: return "sumState(\(e))"
        case .sumIf: return "sumIfState(\(e), \(m.condition ?? "1"))"
        case .min: return "minState(\(e))"
        case .max: return "maxState(\(e))"
        case .avg: return "avgState(\(e))"
        case .uniq: return "uniqState(\(e))"
        case .quantiles: return "quantilesTDigestState(\(levelList(m.levels)))(\(e))"
        }
    }

    /// The `-Merge` call that reads a measure back from the rollup.
    public static func mergeExpression(_ m: RollupMeasure, column: String) -> String {
        switch m.aggregate {
        case .count: "countMerge(\(column))"
        case .countIf: "countIfMerge(\(column))"
        case .sum: "sumMerge(\(column))"
        case .sumIf: "sumIfMerge(\(column))"
        case .min: "minMerge(\(column))"
        case .max: "maxMerge(\(column))"
        case .avg: "avgMerge(\(column))"
        case .uniq: "uniqMerge(\(column))"
        case .quantiles: "quantilesTDigestMerge(\(levelList(m.levels)))(\(column))"
        }
    }

    /// The same aggregate computed directly over raw rows, for comparisons and for
    /// queries the rollup cannot answer.
    public static func rawExpression(_ m: RollupMeasure) -> String {
        let e = m.expression ?? ""
        switch m.aggregate {
        case .count: return "count()"
        case .countIf: return "countIf(\(m.condition ?? "1"))"
        case .sum: return "sum(\(e))"
        case .sumIf: return "sumIf(\(e), \(m.condition ?? "1"))"
        case .min: return "min(\(e))"
        case .max: return "max(\(e))"
        case .avg: return "avg(\(e))"
        case .uniq: return "uniq(\(e))"
        case .quantiles: return "quantilesTDigest(\(levelList(m.levels)))(\(e))"
        }
    }

    static func levelList(_ levels: [Double]) -> String {
        levels.map { String($0) }.joined(separator: ", ")
    }
}

/// Names and retention of the dead-letter table (a contract: users query it directly).
public enum DeadLetterTable {
    public static let name = "dead_letter"
    public static let retentionDays = 30
}
