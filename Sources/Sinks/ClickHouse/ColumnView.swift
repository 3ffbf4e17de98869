internal import Pipeline

/// A read-only, pointer-based snapshot of a ``ColumnBuffer`` tree for the encoder's loops.
///
/// Reading through `GrowableBuffer.withUnsafeBytes` closures at every level of a nested
/// column (and paying a class-property exclusivity check on each access) is slow and
/// awkward, so the encoder takes raw pointers once per column. They stay valid because
/// the encoder holds the batch for the whole call and nobody mutates a batch that is
/// being encoded (the batch has one owner at a time, see ``ColumnBatch``).
///
/// Creating a view also checks the buffer's structural invariants (end offsets in range
/// and non-decreasing, nested row counts consistent), so a corrupt batch yields an error
/// instead of an out-of-bounds read.
final class ColumnView {
    let buffer: ColumnBuffer
    let layout: ColumnBuffer.Layout
    let rows: Int
    let values: UnsafeRawPointer
    let valuesCount: Int
    /// End offsets (String: into `values`; Array/Map: into `inner`), native endian.
    let ends: UnsafePointer<UInt64>
    let nulls: UnsafePointer<UInt8>
    let inner: ColumnView?
    let inner2: ColumnView?

    /// Stands in for the base address of an empty buffer.
    // Written once, never mutated: safe to share.
    nonisolated(unsafe) private static let emptyBase: UnsafeMutableRawPointer = {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: 16)
        return p
    }()

    init(_ buffer: ColumnBuffer, path: String) throws(NativeEncodingError) {
        self.buffer = buffer
        layout = buffer.layout
        rows = buffer.rowCount
        let v = buffer.values.withUnsafeBytes { $0 }
        values = UnsafeRawPointer(v.baseAddress ?? UnsafeRawPointer(Self.emptyBase))
        valuesCount = v.count
        let e = buffer.ends.withUnsafeBytes { $0 }
        ends = (e.baseAddress ?? UnsafeRawPointer(Self.emptyBase)).assumingMemoryBound(to: UInt64.self)
        let n = buffer.nulls.withUnsafeBytes { $0 }
        nulls = (n.baseAddress ?? UnsafeRawPointer(Self.emptyBase)).assumingMemoryBound(to: UInt8.self)
        inner = try buffer.inner.map { (b) throws(NativeEncodingError) in try ColumnView(b, path: path + ".inner") }
        inner2 = try buffer.inner2.map { (b) throws(NativeEncodingError) in try ColumnView(b, path: path + ".inner2") }

        // Row and element indices are UInt32 in the sorter and writers.
        guard rows <= Int(UInt32.max) else { throw .tooManyRows(rows) }
        switch layout {
        case .fixed(let w):
            guard w > 0, valuesCount % w == 0 else { throw .corruptColumn(column: path, reason: "values not a multiple of \(w) bytes") }
        case .string:
            try Self.checkEnds(ends, rows: rows, limit: valuesCount, path: path)
        case .nullable:
            guard let inner, inner.rows == rows else { throw .corruptColumn(column: path, reason: "null map and values differ in length") }
        case .array:
            guard let inner else { throw .corruptColumn(column: path, reason: "array without elements") }
            try Self.checkEnds(ends, rows: rows, limit: inner.rows, path: path)
        case .map:
            guard let inner, let inner2, inner.rows == inner2.rows else {
                throw .corruptColumn(column: path, reason: "map keys and values differ in length")
            }
            try Self.checkEnds(ends, rows: rows, limit: inner.rows, path: path)
        }
    }

    private static func checkEnds(_ ends: UnsafePointer<UInt64>, rows: Int, limit: Int, path: String) throws(NativeEncodingError) {
        var previous: UInt64 = 0
        var ok = true
        for i in 0..<rows {
            let e = ends[i]
            ok = ok && e >= previous
            previous = e
        }
        guard ok, previous <= UInt64(limit) else {
            throw .corruptColumn(column: path, reason: "end offsets decrease or point past the data")
        }
        // A String column's bytes past the last end would be silently dropped; that only
        // happens when a row was left half-written.
        guard rows == 0 || previous == UInt64(limit) || limit == 0 else {
            throw .corruptColumn(column: path, reason: "data past the last row")
        }
    }

    /// Start of row `i` (String bytes or Array/Map elements).
    @inline(__always)
    func start(_ i: Int) -> Int { i == 0 ? 0 : Int(truncatingIfNeeded: ends[i - 1]) }

    @inline(__always)
    func end(_ i: Int) -> Int { Int(truncatingIfNeeded: ends[i]) }
}
