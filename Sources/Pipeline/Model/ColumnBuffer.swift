/// One column of a batch, stored the way ClickHouse's Native format lays it out.
///
/// Validation appends typed values row by row, without a heap allocation per row; the
/// encoder later writes the buffers out almost verbatim. Values are stored by the
/// dataset's *logical* type (for example `DateTime64(3)` as Int64 milliseconds); the
/// sink converts to the table's physical type when it differs (see the encoder).
///
/// A column has exactly one owner at a time: the stage that is filling it, then the
/// batch it was merged into, then the sink that encodes it. That hand-over is why the
/// class is `@unchecked Sendable`; nothing ever reads a column while another task
/// writes it.
public final class ColumnBuffer: @unchecked Sendable {
    /// How a type's rows are stored.
    public enum Layout: Sendable, Equatable {
        /// `values` holds `width` bytes per row.
        case fixed(width: Int)
        /// `values` holds the bytes of all rows, `ends` the UInt64 end offset of each row.
        case string
        /// `nulls` holds one byte per row (1 = NULL); `inner` holds a value for every row.
        case nullable
        /// `ends` holds the UInt64 end offset of each row into `inner`.
        case array
        /// `ends` holds the UInt64 end offset of each row into `inner` (keys) and `inner2` (values).
        case map
    }

    public let type: ColumnType
    public let layout: Layout
    // Single owner (see above), so the runtime's dynamic exclusivity checks on these
    // buffers can only cost time: validation appends to them several times per event,
    // and the checks were about a sixth of decode time.
    @exclusivity(unchecked) public var values: GrowableBuffer
    @exclusivity(unchecked) public var ends: GrowableBuffer
    @exclusivity(unchecked) public var nulls: GrowableBuffer
    public let inner: ColumnBuffer?
    public let inner2: ColumnBuffer?

    public init(type: ColumnType, expectedRows: Int = 0) {
        self.type = type
        var inner: ColumnBuffer?
        var inner2: ColumnBuffer?
        let layout: Layout
        switch type {
        case .lowCardinality(let t):
            // LowCardinality is an encoding choice; rows are kept like the inner type's.
            let probe = ColumnBuffer(type: t)
            layout = probe.layout
            inner = probe.inner
            inner2 = probe.inner2
        case .string:
            layout = .string
        case .nullable(let t):
            layout = .nullable
            inner = ColumnBuffer(type: t, expectedRows: expectedRows)
        case .array(let t):
            layout = .array
            inner = ColumnBuffer(type: t, expectedRows: expectedRows)
        case .map(let k, let v):
            layout = .map
            inner = ColumnBuffer(type: k, expectedRows: expectedRows)
            inner2 = ColumnBuffer(type: v, expectedRows: expectedRows)
        default:
            layout = .fixed(width: type.fixedWidth!)
        }
        self.layout = layout
        self.inner = inner
        self.inner2 = inner2
        switch layout {
        case .fixed(let w):
            values = GrowableBuffer(capacity: w * Swift.max(expectedRows, 16))
            ends = GrowableBuffer(capacity: 16)
        case .string:
            values = GrowableBuffer(capacity: 16 * Swift.max(expectedRows, 16))
            ends = GrowableBuffer(capacity: 8 * Swift.max(expectedRows, 16))
        case .array, .map:
            values = GrowableBuffer(capacity: 16)
            ends = GrowableBuffer(capacity: 8 * Swift.max(expectedRows, 16))
        case .nullable:
            values = GrowableBuffer(capacity: 16)
            ends = GrowableBuffer(capacity: 16)
        }
        nulls = GrowableBuffer(capacity: layout == .nullable ? Swift.max(expectedRows, 16) : 16)
    }

    /// A new, empty column of the same type.
    public func makeEmpty(expectedRows: Int = 0) -> ColumnBuffer {
        ColumnBuffer(type: type, expectedRows: expectedRows)
    }

    public var rowCount: Int {
        switch layout {
        case .fixed(let w): values.count / w
        case .string, .array, .map: ends.count >> 3
        case .nullable: nulls.count
        }
    }

    /// Approximate bytes of data held, used for batch size limits.
    public var byteCount: Int {
        values.count + ends.count + nulls.count + (inner?.byteCount ?? 0) + (inner2?.byteCount ?? 0)
    }

    /// Bytes of memory reserved, used for the memory budget.
    public var allocatedBytes: Int {
        values.allocatedBytes + ends.allocatedBytes + nulls.allocatedBytes
            + (inner?.allocatedBytes ?? 0) + (inner2?.allocatedBytes ?? 0)
    }

    // MARK: Appending

    /// Appends a fixed-width integer value (also Bool, Date, DateTime, DateTime64, Enum).
    @inlinable
    public func append<T: FixedWidthInteger>(_ value: T) {
        values.append(value)
    }

    @inlinable
    public func append(_ value: Float64) { values.append(value) }

    @inlinable
    public func append(_ value: Float32) { values.append(value) }

    /// Appends raw bytes as one row: a String value, a FixedString value already padded
    /// to its width, or a UUID in wire order.
    @inlinable
    public func append(bytes: UnsafeRawBufferPointer) {
        values.append(bytes: bytes)
        if layout == .string { ends.append(UInt64(values.count)) }
    }

    public func append(string: String) {
        var s = string
        s.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Ends a String row whose bytes were written straight into `values`; lets a
    /// decoder unescape into the column without a temporary buffer.
    @inlinable
    public func finishStringRow() {
        ends.append(UInt64(values.count))
    }

    /// Appends a NULL to a Nullable column (the inner column gets a placeholder).
    public func appendNull() {
        nulls.append(UInt8(1))
        inner!.appendDefault()
    }

    /// Marks the next row of a Nullable column as present and returns the column the
    /// value must be appended to.
    @inlinable
    public func appendNotNull() -> ColumnBuffer {
        nulls.append(UInt8(0))
        return inner!
    }

    /// Ends an Array or Map row whose elements were appended to `inner` (and `inner2`).
    @inlinable
    public func finishCollectionRow() {
        ends.append(UInt64(inner!.rowCount))
    }

    /// Appends the type's default: zero, the empty string, the empty array or map, or NULL.
    public func appendDefault() {
        switch layout {
        case .fixed(let w): values.appendZeros(w)
        case .string: ends.append(UInt64(values.count))
        case .nullable: appendNull()
        case .array, .map: ends.append(UInt64(inner!.rowCount))
        }
    }

    // MARK: Reading

    @inlinable
    public func fixedValue<T: FixedWidthInteger>(at row: Int, as type: T.Type) -> T {
        values.load(at: row * MemoryLayout<T>.size, as: T.self)
    }

    public func float64(at row: Int) -> Float64 {
        Float64(bitPattern: fixedValue(at: row, as: UInt64.self))
    }

    public func float32(at row: Int) -> Float32 {
        Float32(bitPattern: fixedValue(at: row, as: UInt32.self))
    }

    /// Start and end offset of a String row in `values`, or of an Array/Map row in `inner`.
    @inlinable
    public func range(of row: Int) -> Range<Int> {
        let end = Int(ends.load(at: row << 3, as: UInt64.self))
        let start = row == 0 ? 0 : Int(ends.load(at: (row - 1) << 3, as: UInt64.self))
        return start..<end
    }

    public func stringBytes(at row: Int) -> [UInt8] {
        switch layout {
        case .string: return values.bytes(in: range(of: row))
        case .fixed(let w): return values.bytes(in: row * w..<(row + 1) * w)
        default: preconditionFailure("not a string column")
        }
    }

    public func string(at row: Int) -> String {
        String(decoding: stringBytes(at: row), as: UTF8.self)
    }

    public func isNull(at row: Int) -> Bool {
        layout == .nullable && nulls.load(at: row, as: UInt8.self) != 0
    }

    // MARK: Rollback and merging

    /// Drops every row at index `rows` and after; used to undo a row that failed
    /// validation half-way through.
    public func truncate(toRows rows: Int) {
        switch layout {
        case .fixed(let w):
            values.truncate(to: rows * w)
        case .string:
            values.truncate(to: rows == 0 ? 0 : Int(ends.load(at: (rows - 1) << 3, as: UInt64.self)))
            ends.truncate(to: rows << 3)
        case .nullable:
            nulls.truncate(to: rows)
            inner!.truncate(toRows: rows)
        case .array, .map:
            let innerRows = rows == 0 ? 0 : Int(ends.load(at: (rows - 1) << 3, as: UInt64.self))
            ends.truncate(to: rows << 3)
            inner!.truncate(toRows: innerRows)
            inner2?.truncate(toRows: innerRows)
        }
    }

    public func removeAll() { truncate(toRows: 0) }

    /// Appends every row of `other`, which must have the same type.
    public func append(contentsOf other: ColumnBuffer) {
        precondition(other.layout == layout, "column layouts differ")
        switch layout {
        case .fixed:
            other.values.withUnsafeBytes { values.append(bytes: $0) }
        case .string:
            appendEnds(of: other, base: UInt64(values.count))
            other.values.withUnsafeBytes { values.append(bytes: $0) }
        case .nullable:
            other.nulls.withUnsafeBytes { nulls.append(bytes: $0) }
            inner!.append(contentsOf: other.inner!)
        case .array, .map:
            appendEnds(of: other, base: UInt64(inner!.rowCount))
            inner!.append(contentsOf: other.inner!)
            if let inner2 { inner2.append(contentsOf: other.inner2!) }
        }
    }

    private func appendEnds(of other: ColumnBuffer, base: UInt64) {
        let n = other.ends.count >> 3
        ends.reserve(n << 3)
        for i in 0..<n {
            ends.append(base &+ other.ends.load(at: i << 3, as: UInt64.self))
        }
    }

    /// Appends one row of `other`, which must have the same type.
    public func append(row: Int, of other: ColumnBuffer) {
        switch layout {
        case .fixed(let w):
            other.values.withUnsafeBytes { src in
                values.append(bytes: UnsafeRawBufferPointer(rebasing: src[row * w..<(row + 1) * w]))
            }
        case .string:
            let r = other.range(of: row)
            other.values.withUnsafeBytes { src in
                values.append(bytes: UnsafeRawBufferPointer(rebasing: src[r]))
            }
            ends.append(UInt64(values.count))
        case .nullable:
            nulls.append(other.nulls.load(at: row, as: UInt8.self))
            inner!.append(row: row, of: other.inner!)
        case .array, .map:
            let r = other.range(of: row)
            for i in r {
                inner!.append(row: i, of: other.inner!)
                inner2?.append(row: i, of: other.inner2!)
            }
            ends.append(UInt64(inner!.rowCount))
        }
    }
}
