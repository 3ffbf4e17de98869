/// Why a batch could not be encoded.
public enum NativeEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The batch's columns are not the ones the plan was built for.
    case schemaMismatch(expected: String, actual: String)
    /// Columns have different row counts (a row was left half-written).
    case inconsistentRows(column: String, rows: Int, expected: Int)
    /// A column's internal buffers contradict each other.
    case corruptColumn(column: String, reason: String)
    /// Zero rows: ClickHouse must never get an empty block, so there is nothing to send.
    case emptyBatch
    /// More rows or elements than one block can address (2^32 - 1).
    case tooManyRows(Int)
    case compression(CompressionError)

    /// False for all cases: the same batch fails the same way again.
    public var isRetryable: Bool { false }

    public var description: String {
        switch self {
        case .schemaMismatch(let e, let a): "batch columns \(a) do not match the plan's \(e)"
        case .inconsistentRows(let c, let r, let e): "column '\(c)' has \(r) rows, expected \(e)"
        case .corruptColumn(let c, let r): "column '\(c)' is corrupt: \(r)"
        case .emptyBatch: "the batch has no rows"
        case .tooManyRows(let n): "\(n) rows or elements exceed one block's limit"
        case .compression(let e): "\(e)"
        }
    }
}
