public import Pipeline

/// Turns a ``ColumnBatch`` into the body of `INSERT INTO t (...) FORMAT Native` with
/// `decompress=1`: one Native block (revision-0 layout, no BlockInfo; spec §2) whose
/// rows are sorted by the table's ORDER BY, cut into compressed frames (spec §5).
///
/// The encoder owns its ``Compressor`` (and so a reusable zstd context) and is used by
/// one task at a time, which is why it is not `Sendable`; the body it returns is an
/// immutable ``ByteBlob`` that can be shared and kept for retries. Retrying with the same
/// body keeps ClickHouse's block deduplication working, because the bytes are identical.
///
/// Guarantees: a batch with zero rows is an error, never an empty block or frame; every
/// frame carries at most 1 MiB of uncompressed data; the batch is only read.
public final class NativeEncoder {
    public let compressor: Compressor
    /// Body bytes per column-buffer byte of the last batch, to size the next body.
    private var lastBodyRatio: Double?

    public init(compression: CompressionMethod, zstdLevel: Int = 1) throws(CompressionError) {
        compressor = try Compressor(method: compression, zstdLevel: zstdLevel)
    }

    public init(compressor: Compressor) {
        self.compressor = compressor
    }

    /// Sorts `batch` by `plan.orderBy`, encodes it as one Native block and frames it.
    ///
    /// - Returns: the request body, the number of rows, and the size of the Native
    ///   stream before compression (for metrics and batch sizing).
    public func encodeInsertBody(_ batch: ColumnBatch, plan: NativeInsertPlan) throws(NativeEncodingError) -> EncodedInsertBody {
        let source = batch.byteCount
        let hint = lastBodyRatio.map { Int(Double(source) * $0 * 1.1) + 65536 }
        let r = try Self.encode(batch, plan: plan, sorted: true, compressor: compressor, bodyCapacity: hint)
        if source > 0 { lastBodyRatio = Double(r.body.count) / Double(source) }
        return EncodedInsertBody(body: r.body, rows: r.rows, uncompressedBytes: r.uncompressedBytes)
    }

    /// The plain Native block, without frames: what a body decompresses to. For tests,
    /// debugging, and writing `.native` files.
    ///
    /// - Parameter sorted: sort by `plan.orderBy` first (as ``encodeInsertBody(_:plan:)``
    ///   does), or keep the batch's row order.
    public static func encodeBlock(_ batch: ColumnBatch, plan: NativeInsertPlan, sorted: Bool = true) throws(NativeEncodingError) -> ByteBlob {
        try encode(batch, plan: plan, sorted: sorted, compressor: nil).body
    }

    /// The row order ``encodeInsertBody(_:plan:)`` writes: row indices of `batch` sorted
    /// by `plan.orderBy`.
    public static func sortedRowOrder(of batch: ColumnBatch, plan: NativeInsertPlan) throws(NativeEncodingError) -> [Int] {
        let views = try makeViews(batch, plan: plan)
        var dictionaries = DictionaryCache()
        let perm = BatchSorter.permutation(views: views, keys: plan.sortKeys, rows: batch.rowCount, dictionaries: &dictionaries)
        return perm.map { $0.map { Int($0) } } ?? Array(0..<batch.rowCount)
    }

    private static func makeViews(_ batch: ColumnBatch, plan: NativeInsertPlan) throws(NativeEncodingError) -> [ColumnView] {
        guard plan.matches(batch) else {
            throw .schemaMismatch(
                expected: plan.logicalColumns.map { "\($0.name) \($0.type)" }.joined(separator: ", "),
                actual: batch.schema.map { "\($0.name) \($0.type)" }.joined(separator: ", "))
        }
        let rows = batch.rowCount
        guard rows > 0 else { throw .emptyBatch }
        var views: [ColumnView] = []
        views.reserveCapacity(batch.columns.count)
        for column in batch.columns {
            let view = try ColumnView(column.buffer, path: column.name)
            guard view.rows == rows else { throw .inconsistentRows(column: column.name, rows: view.rows, expected: rows) }
            views.append(view)
        }
        return views
    }

    private static func encode(
        _ batch: ColumnBatch, plan: NativeInsertPlan, sorted: Bool, compressor: Compressor?, bodyCapacity: Int? = nil
    ) throws(NativeEncodingError) -> (body: ByteBlob, rows: Int, uncompressedBytes: Int) {
        let views = try makeViews(batch, plan: plan)
        let rows = batch.rowCount
        var dictionaries = DictionaryCache()
        let perm = sorted
            ? BatchSorter.permutation(views: views, keys: plan.sortKeys, rows: rows, dictionaries: &dictionaries) : nil

        var out = NativeStreamWriter(
            compressor: compressor, expectedBytes: batch.byteCount + 64 * plan.columns.count + 32, expectedBodyBytes: bodyCapacity)
        out.pending.appendVarUInt(UInt64(plan.columns.count))
        out.pending.appendVarUInt(UInt64(rows))

        func writeColumns(_ selection: RowSelection, _ out: inout NativeStreamWriter) {
            for column in plan.columns {
                appendString(column.name, to: &out.pending)
                appendString(column.typeName, to: &out.pending)
                NativeColumnWriter.writePrefix(column.conversion, to: &out)
                NativeColumnWriter.write(
                    column.conversion, view: views[column.sourceIndex], rows: selection, to: &out, dictionaries: &dictionaries)
                out.checkpoint()
            }
        }
        if let perm {
            perm.withUnsafeBufferPointer { writeColumns(.indices($0), &out) }
        } else {
            writeColumns(.range(0..<rows), &out)
        }
        withExtendedLifetime(batch) {}
        do {
            let (body, uncompressed) = try out.finish()
            return (body, rows, uncompressed)
        } catch {
            throw .compression(error)
        }
    }

    private static func appendString(_ s: String, to buffer: inout GrowableBuffer) {
        var s = s
        s.withUTF8 { utf8 in
            buffer.appendVarUInt(UInt64(utf8.count))
            buffer.append(bytes: UnsafeRawBufferPointer(utf8))
        }
    }
}

/// A ready-to-send INSERT body.
public struct EncodedInsertBody: Sendable {
    /// Compressed frames of one Native block.
    public let body: ByteBlob
    public let rows: Int
    /// Bytes of the Native stream before compression.
    public let uncompressedBytes: Int
}
