
/// Why a dataset's columns cannot be written to a table as it is.
///
/// Every case names the column at fault. None is cured by retrying with the same schema:
/// the table or the dataset definition has to change (run the migration, or fix the
/// catalog), after which a new `DESCRIBE TABLE` gives a new plan.
public enum NativeInsertPlanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A dataset column has no table column to go to; inserting would drop its data.
    case unmatchedLogicalColumn(name: String, reason: String)
    /// A table column gets no data and has no DEFAULT/MATERIALIZED/ALIAS expression.
    case missingPhysicalColumn(name: String, typeName: String)
    /// Both sides exist but the values cannot be converted without loss.
    case incompatibleTypes(column: String, logical: String, physical: String, reason: String)
    /// The table column's type is not one the encoder can write.
    case unsupportedPhysicalType(column: String, typeName: String, reason: String)
    /// A dataset column maps to a MATERIALIZED or ALIAS column, which an INSERT cannot set.
    case notInsertable(column: String, kind: PhysicalColumn.DefaultKind)
    /// Two table columns of the same name, or two sources for one column.
    case duplicateColumn(name: String)
    /// An ORDER BY column is not in the dataset.
    case unknownSortColumn(name: String)
    /// An ORDER BY column's type cannot be pre-sorted (Array, Map).
    case unsupportedSortKey(name: String, typeName: String)

    public var isRetryable: Bool { false }

    public var description: String {
        switch self {
        case .unmatchedLogicalColumn(let n, let r): "dataset column '\(n)' has no table column: \(r)"
        case .missingPhysicalColumn(let n, let t): "table column '\(n)' \(t) gets no value and has no default"
        case .incompatibleTypes(let c, let l, let p, let r): "column '\(c)': cannot write \(l) into \(p): \(r)"
        case .unsupportedPhysicalType(let c, let t, let r): "column '\(c)': unsupported table type \(t): \(r)"
        case .notInsertable(let c, let k): "column '\(c)' is \(k.rawValue) in the table and cannot be inserted into"
        case .duplicateColumn(let n): "column '\(n)' appears twice"
        case .unknownSortColumn(let n): "ORDER BY column '\(n)' is not a dataset column"
        case .unsupportedSortKey(let n, let t): "ORDER BY column '\(n)' of type \(t) cannot be pre-sorted"
        }
    }
}
