internal import Pipeline

/// String columns: plain, staged through a permutation, or from a dictionary.
extension NativeColumnWriter {
    @inline(__always)
    static func putVarUInt(_ value: UInt64, _ p: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var v = value
        var q = p
        while v >= 0x80 {
            q.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, as: UInt8.self)
            q += 1
            v >>= 7
        }
        q.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
        return q + 1
    }

    /// Copies up to a few dozen bytes without a `memmove` call; most strings in
    /// metrics (tenants, metric names, label keys and values) are this short.
    @inline(__always)
    static func copySmall(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ n: Int) {
        if n >= 8 {
            if n <= 16 {
                let a = src.loadUnaligned(as: UInt64.self)
                let b = src.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                dst.storeBytes(of: a, as: UInt64.self)
                (dst + (n - 8)).storeBytes(of: b, as: UInt64.self)
            } else {
                dst.copyMemory(from: src, byteCount: n)
            }
        } else if n >= 4 {
            let a = src.loadUnaligned(as: UInt32.self)
            let b = src.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            dst.storeBytes(of: a, as: UInt32.self)
            (dst + (n - 4)).storeBytes(of: b, as: UInt32.self)
        } else if n > 0 {
            dst.storeBytes(of: src.load(as: UInt8.self), as: UInt8.self)
            (dst + (n >> 1)).storeBytes(of: src.load(fromByteOffset: n >> 1, as: UInt8.self), as: UInt8.self)
            (dst + (n - 1)).storeBytes(of: src.load(fromByteOffset: n - 1, as: UInt8.self), as: UInt8.self)
        }
    }

    /// Rows per chunk when strings are gathered through a permutation: the touched
    /// offset and value lines of one chunk (2 × 64 KiB) stay in L2 until copied.
    static let permutedStringChunkRows = 1024

    static func writeStrings(
        view: ColumnView, rows: RowSelection, to out: inout NativeStreamWriter, dictionaries: inout DictionaryCache
    ) {
        switch rows {
        case .range:
            writeStringChunks(view: view, rows: rows, chunkRows: stringChunkRows, to: &out)
        case .indices:
            // Permuted rows of a column declared LowCardinality: copy each value from its
            // (cache-resident) dictionary entry instead of chasing the row's own bytes.
            // Other String columns get the same treatment when they turn out to have few
            // distinct values (label keys and values, host names); the attempt stops early
            // on a high-cardinality column.
            let dict: StringDictionary?
            if case .lowCardinality = view.buffer.type {
                dict = dictionaries.dictionary(for: view)
            } else {
                dict = dictionaries.dictionary(for: view, maxDistinct: Swift.max(256, view.rows / 64))
            }
            if let dict {
                writeStringsFromDictionary(dict, view: view, rows: rows, to: &out)
            } else {
                writeStringChunks(view: view, rows: rows, chunkRows: permutedStringChunkRows, to: &out)
            }
        }
    }

    /// Writes String rows chunk by chunk. For permuted rows each chunk is staged: first
    /// the rows' end offsets are touched, then their first value bytes, then the bytes
    /// are copied. Every load of a staging pass is independent of the others, so the
    /// DRAM misses of a whole chunk overlap, where a single loop would wait for each
    /// row's offset before it could even request the row's bytes.
    static func writeStringChunks(view: ColumnView, rows: RowSelection, chunkRows: Int, to out: inout NativeStreamWriter) {
        let total = rows.count
        let permuted: Bool
        if case .indices = rows { permuted = true } else { permuted = false }
        var k = 0
        while k < total {
            if permuted {
                var t: UInt64 = 0
                for j in k..<Swift.min(total, k + chunkRows) { t &+= view.ends[rows.row(j)] }
                out.touch &+= t
            }
            // Size the chunk so the copy loop runs without capacity checks.
            var bytes = 0
            var end = k
            var t: UInt64 = 0
            while end < total, end - k < chunkRows, bytes < stringChunkBytes {
                let r = rows.row(end)
                let s = view.start(r)
                let n = view.end(r) - s
                if permuted, n > 0 { t &+= UInt64(view.values.load(fromByteOffset: s, as: UInt8.self)) }
                bytes += n
                end += 1
            }
            out.touch &+= t
            let first = k
            let last = end
            out.pending.appendUnsafe(maxCount: bytes + (last - first) * 10) { dst in
                var p = dst
                for j in first..<last {
                    let r = rows.row(j)
                    let s = view.start(r)
                    let n = view.end(r) - s
                    p = putVarUInt(UInt64(n), p)
                    copySmall(p, view.values + s, n)
                    p += n
                }
                return p - dst
            }
            out.checkpoint()
            k = end
        }
    }

    static func writeStringsFromDictionary(
        _ dict: StringDictionary, view: ColumnView, rows: RowSelection, to out: inout NativeStreamWriter
    ) {
        // Each distinct value pre-encoded as VarUInt length + bytes.
        var encoded = GrowableBuffer(capacity: 64)
        var starts = [Int](repeating: 0, count: dict.count + 1)
        for id in 0..<dict.count {
            starts[id] = encoded.count
            let (p, n) = StringDictionary.bytes(view, Int(dict.firstRows[id]))
            encoded.appendVarUInt(UInt64(n))
            encoded.append(bytes: UnsafeRawBufferPointer(start: p, count: n))
        }
        starts[dict.count] = encoded.count
        let ids = dict.ids
        let chunkRows = permutedStringChunkRows
        let local = UnsafeMutablePointer<UInt32>.allocate(capacity: chunkRows)
        defer { local.deallocate() }
        encoded.withUnsafeBytes { enc in
            guard let base = enc.baseAddress else { return }
            starts.withUnsafeBufferPointer { st in
                let total = rows.count
                var k = 0
                while k < total {
                    // Gather the chunk's ids first: independent loads whose misses overlap.
                    let n = Swift.min(chunkRows, total - k)
                    switch rows {
                    case .range(let r): for j in 0..<n { local[j] = ids[r.lowerBound + k + j] }
                    case .indices(let p): for j in 0..<n { local[j] = ids[Int(p[k + j])] }
                    }
                    var bytes = 0
                    for j in 0..<n {
                        let id = Int(local[j])
                        bytes += st[id + 1] - st[id]
                    }
                    out.pending.appendUnsafe(maxCount: bytes) { dst in
                        var p = dst
                        for j in 0..<n {
                            let id = Int(local[j])
                            let len = st[id + 1] - st[id]
                            copySmall(p, base + st[id], len)
                            p += len
                        }
                        return p - dst
                    }
                    out.checkpoint()
                    k += n
                }
            }
        }
    }

    /// Writes a String-like value (String or FixedString layout) of `row`.
    @inline(__always)
    static func appendValue(of view: ColumnView, row: Int, to out: inout NativeStreamWriter) {
        let (p, n) = StringDictionary.bytes(view, row)
        if case .string = view.layout { out.pending.appendVarUInt(UInt64(n)) }
        out.pending.append(bytes: UnsafeRawBufferPointer(start: p, count: n))
    }
}
