/// The rows of one table, column by column.
///
/// Validation fills a batch per chunk of events; the table writer merges chunks into the
/// batch it will flush; the sink sorts and encodes it. Like ``ColumnBuffer``, a batch has
/// one owner at a time.
public final class ColumnBatch: @unchecked Sendable {
    /// One named column.
    public struct Column: Sendable {
        public let name: String
        public let buffer: ColumnBuffer
    }

    public let columns: [Column]
    private let indexByName: [String: Int]

    public init(schema: [(name: String, type: ColumnType)], expectedRows: Int = 0) {
        columns = schema.map { Column(name: $0.name, buffer: ColumnBuffer(type: $0.type, expectedRows: expectedRows)) }
        var index: [String: Int] = [:]
        for (i, c) in schema.enumerated() { index[c.name] = i }
        indexByName = index
    }

    /// An empty batch with the same columns.
    public func makeEmpty(expectedRows: Int = 0) -> ColumnBatch {
        ColumnBatch(schema: columns.map { ($0.name, $0.buffer.type) }, expectedRows: expectedRows)
    }

    public var schema: [(name: String, type: ColumnType)] { columns.map { ($0.name, $0.buffer.type) } }

    public subscript(name: String) -> ColumnBuffer? {
        indexByName[name].map { columns[$0].buffer }
    }

    public func index(of name: String) -> Int? { indexByName[name] }

    /// Rows in the batch. Every column has this many rows between calls to the
    /// validator; a mismatch means a row was left half-written.
    public var rowCount: Int { columns.first?.buffer.rowCount ?? 0 }

    public var byteCount: Int { columns.reduce(0) { $0 + $1.buffer.byteCount } }

    public var allocatedBytes: Int { columns.reduce(0) { $0 + $1.buffer.allocatedBytes } }

    /// Drops rows from `rows` on, in every column.
    ///
    /// Columns that already have exactly `rows` rows are truncated too: an Array, Map or
    /// String column whose current row failed half-way holds element or byte data past
    /// its last finished row, and this drops it.
    public func truncate(toRows rows: Int) {
        for c in columns where c.buffer.rowCount >= rows { c.buffer.truncate(toRows: rows) }
    }

    public func removeAll() { truncate(toRows: 0) }

    /// Appends all rows of a batch with the same schema.
    public func append(contentsOf other: ColumnBatch) {
        precondition(other.columns.count == columns.count, "schemas differ")
        for (mine, theirs) in zip(columns, other.columns) { mine.buffer.append(contentsOf: theirs.buffer) }
    }

    /// Appends the listed rows of a batch with the same schema, in the given order.
    public func append(rows: some Sequence<Int>, of other: ColumnBatch) {
        precondition(other.columns.count == columns.count, "schemas differ")
        for row in rows {
            for (mine, theirs) in zip(columns, other.columns) { mine.buffer.append(row: row, of: theirs.buffer) }
        }
    }

    /// Checks that every column has the same number of rows.
    public var isConsistent: Bool {
        let n = rowCount
        return columns.allSatisfy { $0.buffer.rowCount == n }
    }
}
