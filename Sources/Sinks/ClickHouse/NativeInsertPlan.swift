public import Pipeline

/// How a dataset's batches are written into one ClickHouse table.
///
/// Batches hold columns by the dataset's *logical* types; the table has whatever
/// *physical* types its server supports (18.16 has no LowCardinality, DateTime64, Map or
/// Bool). The plan pairs them once per (logical schema, `DESCRIBE TABLE` result) and the
/// encoder reuses it for every batch. It guarantees that no dataset column is dropped:
/// every logical column feeds at least one table column or building the plan fails.
///
/// Matching is by name, with these conversions:
/// - identical types (time zones are display metadata and may differ);
/// - `LowCardinality(T)` into `T`, and `T` or `LowCardinality(T)` into `LowCardinality(T)`
///   (written with the real dictionary encoding);
/// - `Bool` into `UInt8`, lossless numeric widening, `T` into `Nullable(T)`, conversions
///   inside `Nullable`, `Array` and `Map` element types;
/// - `DateTime64(p)` into `DateTime` (whole seconds) plus, if the table has it, the
///   sub-second companion `<name>_ms` (p ≤ 3), `<name>_us` (p ≤ 6) or `<name>_ns`;
/// - `DateTime64(p)` into `DateTime64(q)`;
/// - `Map(K, V)` into the Nested pair `<name>.key Array(K)`, `<name>.value Array(V)`.
///
/// Table columns that get no data are left out of the INSERT when they have a DEFAULT,
/// MATERIALIZED, ALIAS or EPHEMERAL expression, and are an error otherwise.
public struct NativeInsertPlan: Sendable, Hashable {
    /// One column of the logical schema the plan was built for.
    public struct LogicalColumn: Sendable, Hashable {
        public let name: String
        public let type: ColumnType
    }

    /// One column of the INSERT, in table order.
    public struct Column: Sendable, Hashable {
        /// Table column name, also the name in the Native block header.
        public let name: String
        /// Table type text, written verbatim into the block header.
        public let typeName: String
        /// The logical column that feeds it.
        public let source: String
        let sourceIndex: Int
        let conversion: ColumnConversion

        /// True when the stored bytes are written as they are (no conversion).
        public var isDirectCopy: Bool { conversion.isIdentity }

        /// How the values are converted, for logs: e.g. `DateTime64(3) to whole seconds`.
        public var conversionDescription: String { conversion.summary }
    }

    public let logicalColumns: [LogicalColumn]
    public let columns: [Column]
    /// Logical columns batches are sorted by before encoding (the table's ORDER BY).
    public let orderBy: [String]
    let sortKeys: [SortKey]

    /// Column names for `INSERT INTO t (...)`.
    public var insertColumnNames: [String] { columns.map(\.name) }

    /// `(`a`, `b`, `dims.key`)`: the column list with identifiers back-quoted, since
    /// Nested columns contain a dot.
    public var insertColumnList: String {
        "(" + columns.map { Self.quoteIdentifier($0.name) }.joined(separator: ", ") + ")"
    }

    public static func quoteIdentifier(_ name: String) -> String { ClickHouseSQL.quoteIdentifier(name) }

    /// - Parameters:
    ///   - logicalSchema: the batch columns (``ColumnBatch/schema``).
    ///   - table: the table's columns from `DESCRIBE TABLE`, in table order.
    ///   - orderBy: logical column names to pre-sort each batch by; empty keeps row order.
    public init(
        logicalSchema: [(name: String, type: ColumnType)], table: [PhysicalColumn], orderBy: [String] = []
    ) throws(NativeInsertPlanError) {
        logicalColumns = logicalSchema.map { LogicalColumn(name: $0.name, type: $0.type) }
        var physicalByName: [String: PhysicalColumn] = [:]
        for p in table {
            guard physicalByName.updateValue(p, forKey: p.name) == nil else { throw .duplicateColumn(name: p.name) }
        }
        var logicalIndex: [String: Int] = [:]
        for (i, l) in logicalColumns.enumerated() {
            guard logicalIndex.updateValue(i, forKey: l.name) == nil else { throw .duplicateColumn(name: l.name) }
        }

        var fed: [String: (source: Int, conversion: ColumnConversion)] = [:]
        func feed(_ physical: PhysicalColumn, from source: Int, _ conversion: ColumnConversion) throws(NativeInsertPlanError) {
            guard physical.defaultKind.isInsertable else { throw .notInsertable(column: physical.name, kind: physical.defaultKind) }
            guard fed.updateValue((source, conversion), forKey: physical.name) == nil else {
                throw .duplicateColumn(name: physical.name)
            }
        }
        func parse(_ physical: PhysicalColumn) throws(NativeInsertPlanError) -> ColumnType {
            do {
                return try ColumnType(parsing: physical.typeName)
            } catch {
                throw .unsupportedPhysicalType(column: physical.name, typeName: physical.typeName, reason: error.reason)
            }
        }
        func convert(_ l: LogicalColumn, _ p: PhysicalColumn, _ pType: ColumnType) throws(NativeInsertPlanError) -> ColumnConversion {
            switch ColumnConversion.make(from: l.type, to: pType) {
            case .success(let c): return c
            case .failure(let f):
                throw .incompatibleTypes(column: p.name, logical: l.type.name, physical: p.typeName, reason: f.reason)
            }
        }

        for (index, l) in logicalColumns.enumerated() {
            if let p = physicalByName[l.name] {
                let pType = try parse(p)
                guard p.defaultKind.isInsertable else { throw .notInsertable(column: p.name, kind: p.defaultKind) }
                try feed(p, from: index, try convert(l, p, pType))
                // 18.16 keeps millisecond timestamps as DateTime plus a sub-second column.
                if case .dateTime64(let precision, _) = l.type, case .dateTime = pType {
                    let companion = l.name + ColumnConversion.companionSuffix(precision: precision)
                    if logicalIndex[companion] == nil, let c = physicalByName[companion] {
                        switch ColumnConversion.fraction(precision: precision, into: try parse(c)) {
                        case .success(let conversion): try feed(c, from: index, conversion)
                        case .failure(let f):
                            throw .incompatibleTypes(column: c.name, logical: l.type.name, physical: c.typeName, reason: f.reason)
                        }
                    }
                }
                continue
            }
            if case .map(let k, let v) = l.type {
                let keyColumn = physicalByName[l.name + ".key"]
                let valueColumn = physicalByName[l.name + ".value"]
                if let keyColumn, let valueColumn {
                    for (part, physical, elementType) in [(0, keyColumn, k), (1, valueColumn, v)] {
                        guard case .array(let pElement) = try parse(physical) else {
                            throw .incompatibleTypes(
                                column: physical.name, logical: l.type.name, physical: physical.typeName,
                                reason: "a Map's Nested part must be an Array")
                        }
                        let element = LogicalColumn(name: l.name, type: elementType)
                        let inner = try convert(element, physical, pElement)
                        try feed(physical, from: index, part == 0 ? .mapKeys(inner) : .mapValues(inner))
                    }
                    continue
                }
                if keyColumn != nil || valueColumn != nil {
                    throw .unmatchedLogicalColumn(
                        name: l.name, reason: "the table has only one of '\(l.name).key' and '\(l.name).value'")
                }
            }
            throw .unmatchedLogicalColumn(name: l.name, reason: "the table has no column '\(l.name)'")
        }

        var planned: [Column] = []
        for p in table {
            if let f = fed[p.name] {
                planned.append(Column(name: p.name, typeName: p.typeName, source: logicalColumns[f.source].name,
                                      sourceIndex: f.source, conversion: f.conversion))
            } else if !p.defaultKind.hasServerValue {
                throw .missingPhysicalColumn(name: p.name, typeName: p.typeName)
            }
        }
        columns = planned

        var keys: [SortKey] = []
        for name in orderBy {
            guard let i = logicalIndex[name] else { throw .unknownSortColumn(name: name) }
            guard let kind = SortKeyKind(logicalColumns[i].type) else {
                throw .unsupportedSortKey(name: name, typeName: logicalColumns[i].type.name)
            }
            keys.append(SortKey(column: i, kind: kind))
        }
        self.orderBy = orderBy
        sortKeys = keys
    }

    /// Whether `batch` has exactly the logical columns this plan was built for.
    public func matches(_ batch: ColumnBatch) -> Bool {
        batch.columns.count == logicalColumns.count
            && zip(batch.columns, logicalColumns).allSatisfy { $0.name == $1.name && $0.buffer.type == $1.type }
    }
}
