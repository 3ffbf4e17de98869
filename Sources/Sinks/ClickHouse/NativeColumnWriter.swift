internal import Pipeline

/// Writes Native column data (spec §3) for one planned column.
///
/// Every function switches on the conversion and the selection once per column and then
/// runs a tight loop over raw pointers, writing a chunk of rows into the stream writer's
/// pending buffer after a single capacity check, and calling `checkpoint()` between
/// chunks so full frames are compressed while hot. No per-row allocation, no existential
/// dispatch per value: generic helpers are specialised per concrete number type.
enum NativeColumnWriter {
    /// Rows per chunk for fixed-width gathers.
    static let fixedChunkRows = 16384
    /// A String chunk ends after this many rows or about this many bytes.
    static let stringChunkRows = 4096
    static let stringChunkBytes = 1 << 18

    // MARK: Prefix phase

    /// Writes the state prefixes of versioned types nested in the column (spec §3
    /// "Composite prefix phase"): the LowCardinality key version word, in declaration order.
    static func writePrefix(_ conversion: ColumnConversion, to out: inout NativeStreamWriter) {
        switch conversion {
        case .lowCardinality:
            out.pending.append(UInt64(1))
        case .nullable(let c), .addNullMap(let c), .array(let c), .mapKeys(let c), .mapValues(let c):
            writePrefix(c, to: &out)
        case .map(let k, let v):
            writePrefix(k, to: &out)
            writePrefix(v, to: &out)
        case .fixed, .string, .numeric, .dateTime64Seconds, .dateTime64Fraction, .rescaleDateTime64:
            break
        }
    }

    // MARK: Data phase

    static func write(
        _ conversion: ColumnConversion, view: ColumnView, rows: RowSelection,
        to out: inout NativeStreamWriter, dictionaries: inout DictionaryCache
    ) {
        switch conversion {
        case .fixed(let width):
            writeFixed(base: view.values, width: width, rows: rows, to: &out)
        case .string:
            writeStrings(view: view, rows: rows, to: &out, dictionaries: &dictionaries)
        case .numeric(let from, let to):
            writeNumeric(from: from, to: to, view: view, rows: rows, out: &out)
        case .dateTime64Seconds(let p):
            let d = pow10(p)
            mapFixed(Int64.self, UInt32.self, view: view, rows: rows, out: &out) { t in
                UInt32(clamping: floorDiv(t, d))
            }
        case .dateTime64Fraction(let p, let digits, let kind):
            let d = pow10(p)
            let scale = pow10(digits - p)
            writeFraction(kind: kind, view: view, rows: rows, out: &out) { t in
                UInt64(truncatingIfNeeded: (t &- floorDiv(t, d) &* d) &* scale)
            }
        case .rescaleDateTime64(let p, let q):
            if q >= p {
                let m = pow10(q - p)
                mapFixed(Int64.self, Int64.self, view: view, rows: rows, out: &out) { $0 &* m }
            } else {
                let d = pow10(p - q)
                mapFixed(Int64.self, Int64.self, view: view, rows: rows, out: &out) { floorDiv($0, d) }
            }
        case .nullable(let inner):
            writeFixed(base: UnsafeRawPointer(view.nulls), width: 1, rows: rows, to: &out)
            if let innerView = view.inner {
                write(inner, view: innerView, rows: rows, to: &out, dictionaries: &dictionaries)
            }
        case .addNullMap(let inner):
            var left = rows.count
            while left > 0 {
                let n = Swift.min(left, CompressedFrame.maxUncompressedSize)
                out.pending.appendZeros(n)
                out.checkpoint()
                left -= n
            }
            write(inner, view: view, rows: rows, to: &out, dictionaries: &dictionaries)
        case .array(let inner):
            guard let innerView = view.inner else { return }
            writeOffsets(of: view, rows: rows, to: &out, dictionaries: &dictionaries).with { elements in
                write(inner, view: innerView, rows: elements, to: &out, dictionaries: &dictionaries)
            }
        case .map(let k, let v):
            guard let keys = view.inner, let values = view.inner2 else { return }
            writeOffsets(of: view, rows: rows, to: &out, dictionaries: &dictionaries).with { elements in
                write(k, view: keys, rows: elements, to: &out, dictionaries: &dictionaries)
                write(v, view: values, rows: elements, to: &out, dictionaries: &dictionaries)
            }
        case .mapKeys(let k):
            guard let keys = view.inner else { return }
            writeOffsets(of: view, rows: rows, to: &out, dictionaries: &dictionaries).with { elements in
                write(k, view: keys, rows: elements, to: &out, dictionaries: &dictionaries)
            }
        case .mapValues(let v):
            guard let values = view.inner2 else { return }
            writeOffsets(of: view, rows: rows, to: &out, dictionaries: &dictionaries).with { elements in
                write(v, view: values, rows: elements, to: &out, dictionaries: &dictionaries)
            }
        case .lowCardinality(let nullable):
            writeLowCardinality(targetNullable: nullable, view: view, rows: rows, out: &out, dictionaries: &dictionaries)
        }
    }

    // MARK: Fixed width

    static func writeFixed(base: UnsafeRawPointer, width w: Int, rows: RowSelection, to out: inout NativeStreamWriter) {
        switch rows {
        case .range(let r):
            // Storage order: the column's bytes are already the wire bytes.
            let step = Swift.max(1, CompressedFrame.maxUncompressedSize / w)
            var row = r.lowerBound
            while row < r.upperBound {
                let n = Swift.min(step, r.upperBound - row)
                out.pending.append(bytes: UnsafeRawBufferPointer(start: base + row * w, count: n * w))
                out.checkpoint()
                row += n
            }
        case .indices(let idx):
            var k = 0
            while k < idx.count {
                let n = Swift.min(fixedChunkRows, idx.count - k)
                let chunk = UnsafeBufferPointer(rebasing: idx[k..<k + n])
                out.pending.appendUnsafe(maxCount: n * w) { dst in
                    gather(base: base, width: w, indices: chunk, into: dst)
                    return n * w
                }
                out.checkpoint()
                k += n
            }
        }
    }

    @inline(__always)
    static func gather(base: UnsafeRawPointer, width w: Int, indices: UnsafeBufferPointer<UInt32>, into dst: UnsafeMutableRawPointer) {
        switch w {
        case 1: gatherTyped(UInt8.self, base, indices, dst)
        case 2: gatherTyped(UInt16.self, base, indices, dst)
        case 4: gatherTyped(UInt32.self, base, indices, dst)
        case 8: gatherTyped(UInt64.self, base, indices, dst)
        case 16:
            var o = dst
            for i in indices {
                let s = base + Int(i) * 16
                o.storeBytes(of: s.loadUnaligned(as: UInt64.self), as: UInt64.self)
                (o + 8).storeBytes(of: s.loadUnaligned(fromByteOffset: 8, as: UInt64.self), as: UInt64.self)
                o += 16
            }
        default:
            var o = dst
            for i in indices {
                o.copyMemory(from: base + Int(i) * w, byteCount: w)
                o += w
            }
        }
    }

    @inline(__always)
    static func gatherTyped<T: FixedWidthInteger>(_: T.Type, _ base: UnsafeRawPointer, _ indices: UnsafeBufferPointer<UInt32>, _ dst: UnsafeMutableRawPointer) {
        let size = MemoryLayout<T>.size
        for (k, i) in indices.enumerated() {
            (dst + k * size).storeBytes(of: base.loadUnaligned(fromByteOffset: Int(i) * size, as: T.self), as: T.self)
        }
    }

    // MARK: Strings

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

    // MARK: Numbers and time

    @inline(__always)
    static func pow10(_ e: Int) -> Int64 {
        var r: Int64 = 1
        for _ in 0..<Swift.max(e, 0) { r &*= 10 }
        return r
    }

    /// Division rounding toward negative infinity, so times before 1970 split into
    /// seconds and a non-negative fraction.
    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Reads `S` per selected row and writes `transform(value)` as `D`.
    @inline(__always)
    static func mapFixed<S: BitwiseCopyable, D: BitwiseCopyable>(
        _: S.Type, _: D.Type, view: ColumnView, rows: RowSelection, out: inout NativeStreamWriter,
        _ transform: (S) -> D
    ) {
        let sw = MemoryLayout<S>.size
        let dw = MemoryLayout<D>.size
        let base = view.values
        var k = 0
        let total = rows.count
        while k < total {
            let n = Swift.min(fixedChunkRows, total - k)
            let chunk = rows.slice(k..<k + n)
            out.pending.appendUnsafe(maxCount: n * dw) { dst in
                var o = dst
                chunk.forEach { r in
                    o.storeBytes(of: transform(base.loadUnaligned(fromByteOffset: r * sw, as: S.self)), as: D.self)
                    o += dw
                }
                return n * dw
            }
            out.checkpoint()
            k += n
        }
    }

    static func writeFraction(
        kind: NumericKind, view: ColumnView, rows: RowSelection, out: inout NativeStreamWriter, _ f: (Int64) -> UInt64
    ) {
        switch kind {
        case .u8, .i8: mapFixed(Int64.self, UInt8.self, view: view, rows: rows, out: &out) { UInt8(truncatingIfNeeded: f($0)) }
        case .u16, .i16: mapFixed(Int64.self, UInt16.self, view: view, rows: rows, out: &out) { UInt16(truncatingIfNeeded: f($0)) }
        case .u32, .i32: mapFixed(Int64.self, UInt32.self, view: view, rows: rows, out: &out) { UInt32(truncatingIfNeeded: f($0)) }
        case .u64, .i64, .f32, .f64: mapFixed(Int64.self, UInt64.self, view: view, rows: rows, out: &out) { f($0) }
        }
    }

    static func writeNumeric(from: NumericKind, to: NumericKind, view: ColumnView, rows: RowSelection, out: inout NativeStreamWriter) {
        switch from {
        case .u8: widen(UInt8.self, to: to, view: view, rows: rows, out: &out)
        case .u16: widen(UInt16.self, to: to, view: view, rows: rows, out: &out)
        case .u32: widen(UInt32.self, to: to, view: view, rows: rows, out: &out)
        case .u64: widen(UInt64.self, to: to, view: view, rows: rows, out: &out)
        case .i8: widen(Int8.self, to: to, view: view, rows: rows, out: &out)
        case .i16: widen(Int16.self, to: to, view: view, rows: rows, out: &out)
        case .i32: widen(Int32.self, to: to, view: view, rows: rows, out: &out)
        case .i64: widen(Int64.self, to: to, view: view, rows: rows, out: &out)
        case .f32: mapFixed(Float32.self, Float64.self, view: view, rows: rows, out: &out) { Float64($0) }
        case .f64: mapFixed(Float64.self, Float64.self, view: view, rows: rows, out: &out) { $0 }
        }
    }

    static func widen<S: FixedWidthInteger & BitwiseCopyable>(
        _: S.Type, to: NumericKind, view: ColumnView, rows: RowSelection, out: inout NativeStreamWriter
    ) {
        switch to {
        case .u8: mapFixed(S.self, UInt8.self, view: view, rows: rows, out: &out) { UInt8(truncatingIfNeeded: $0) }
        case .u16: mapFixed(S.self, UInt16.self, view: view, rows: rows, out: &out) { UInt16(truncatingIfNeeded: $0) }
        case .u32: mapFixed(S.self, UInt32.self, view: view, rows: rows, out: &out) { UInt32(truncatingIfNeeded: $0) }
        case .u64: mapFixed(S.self, UInt64.self, view: view, rows: rows, out: &out) { UInt64(truncatingIfNeeded: $0) }
        case .i8: mapFixed(S.self, Int8.self, view: view, rows: rows, out: &out) { Int8(truncatingIfNeeded: $0) }
        case .i16: mapFixed(S.self, Int16.self, view: view, rows: rows, out: &out) { Int16(truncatingIfNeeded: $0) }
        case .i32: mapFixed(S.self, Int32.self, view: view, rows: rows, out: &out) { Int32(truncatingIfNeeded: $0) }
        case .i64: mapFixed(S.self, Int64.self, view: view, rows: rows, out: &out) { Int64(truncatingIfNeeded: $0) }
        case .f32: mapFixed(S.self, Float32.self, view: view, rows: rows, out: &out) { Float32($0) }
        case .f64: mapFixed(S.self, Float64.self, view: view, rows: rows, out: &out) { Float64($0) }
        }
    }

    // MARK: Arrays and maps

    /// The elements of selected Array/Map rows: a range when the rows are in storage
    /// order, else the element indices in output order.
    enum Elements {
        case range(Range<Int>)
        case list([UInt32])

        @inline(__always)
        func with(_ body: (RowSelection) -> Void) {
            switch self {
            case .range(let r): body(.range(r))
            case .list(let l): l.withUnsafeBufferPointer { body(.indices($0)) }
            }
        }
    }

    /// Writes the UInt64 end offsets of the selected Array/Map rows and returns the
    /// selection of their elements.
    static func writeOffsets(
        of view: ColumnView, rows: RowSelection, to out: inout NativeStreamWriter, dictionaries: inout DictionaryCache
    ) -> Elements {
        switch rows {
        case .range(let r):
            // Storage order: offsets are the stored ends shifted to start at 0.
            let base = r.isEmpty ? 0 : UInt64(view.start(r.lowerBound))
            var k = r.lowerBound
            while k < r.upperBound {
                let n = Swift.min(fixedChunkRows, r.upperBound - k)
                let from = k
                out.pending.appendUnsafe(maxCount: n * 8) { dst in
                    for j in 0..<n { (dst + j * 8).storeBytes(of: view.ends[from + j] &- base, as: UInt64.self) }
                    return n * 8
                }
                out.checkpoint()
                k += n
            }
            return .range(r.isEmpty ? 0..<0 : view.start(r.lowerBound)..<view.end(r.upperBound - 1))
        case .indices(let idx):
            let expansion = dictionaries.expansion(for: view) ?? {
                let e = expand(view, idx)
                dictionaries.storeExpansion(e, for: view)
                return e
            }()
            expansion.offsets.withUnsafeBytes { bytes in
                var k = 0
                while k < bytes.count {
                    let n = Swift.min(CompressedFrame.maxUncompressedSize, bytes.count - k)
                    out.pending.append(bytes: UnsafeRawBufferPointer(rebasing: bytes[k..<k + n]))
                    out.checkpoint()
                    k += n
                }
            }
            return .list(expansion.elements)
        }
    }

    /// One pass over the permuted rows yields both the offsets and the element index
    /// list. Each chunk's end offsets are touched first so their misses overlap.
    static func expand(_ view: ColumnView, _ idx: UnsafeBufferPointer<UInt32>) -> (offsets: [UInt64], elements: [UInt32]) {
        // A permutation of all rows selects every element once, so the element column's
        // size is the right capacity; a selection that repeats rows makes it grow.
        var capacity = Swift.max(view.inner?.rows ?? 0, 16)
        var out = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        defer { out.deallocate() }
        var touch: UInt64 = 0
        var running = 0
        var offsets = [UInt64](repeating: 0, count: idx.count)
        offsets.withUnsafeMutableBufferPointer { offs in
            var k = 0
            while k < idx.count {
                let n = Swift.min(1024, idx.count - k)
                for j in k..<k + n { touch &+= view.ends[Int(idx[j])] }
                for j in k..<k + n {
                    let r = Int(idx[j])
                    let s = view.start(r)
                    let e = view.end(r)
                    if running + (e - s) > capacity {
                        let bigger = UnsafeMutablePointer<UInt32>.allocate(capacity: 2 * capacity + e - s)
                        bigger.update(from: out, count: running)
                        out.deallocate()
                        out = bigger
                        capacity = 2 * capacity + e - s
                    }
                    for x in s..<e {
                        out[running] = UInt32(truncatingIfNeeded: x)
                        running += 1
                    }
                    offs[j] = UInt64(running)
                }
                k += n
            }
        }
        let elements = Array(UnsafeBufferPointer(start: out, count: running))
        // Consume the touched sum so the optimiser keeps the touching loads.
        if touch == 1 { offsets.reserveCapacity(offsets.count) }
        return (offsets, elements)
    }

    // MARK: LowCardinality

    /// Dictionary encoding as the server writes it: slot 0 holds the type's default (or
    /// stands for NULL, with slot 1 the default, when the type is Nullable), then the
    /// other distinct values, then one key per row in the narrowest width that fits.
    static func writeLowCardinality(
        targetNullable: Bool, view: ColumnView, rows: RowSelection, out: inout NativeStreamWriter,
        dictionaries: inout DictionaryCache
    ) {
        guard rows.count > 0 else { return }
        let sourceNullable = view.layout == .nullable
        guard let values = sourceNullable ? view.inner : view else { return }
        let dict = dictionaries.dictionary(for: values)
        let reserved = targetNullable ? 2 : 1
        let defaultSlot = UInt32(targetNullable ? 1 : 0)
        var slotOf = [UInt32](repeating: 0, count: dict.count)
        var next = UInt32(reserved)
        for id in 0..<dict.count {
            if UInt32(id) == dict.defaultID {
                slotOf[id] = defaultSlot
            } else {
                slotOf[id] = next
                next += 1
            }
        }
        let size = Int(next)
        let (code, keyWidth): (UInt64, Int) =
            size <= 1 << 8 ? (0, 1) : size <= 1 << 16 ? (1, 2) : size <= 1 << 32 ? (2, 4) : (3, 8)
        out.pending.append(UInt64(0x600) | code)
        out.pending.append(UInt64(size))
        for _ in 0..<reserved {
            if case .fixed(let w) = values.layout { out.pending.appendZeros(w) } else { out.pending.append(UInt8(0)) }
        }
        for id in 0..<dict.count where UInt32(id) != dict.defaultID {
            appendValue(of: values, row: Int(dict.firstRows[id]), to: &out)
            if id & 1023 == 0 { out.checkpoint() }
        }
        out.pending.append(UInt64(rows.count))
        let ids = dict.ids
        let nulls = view.nulls
        let local = UnsafeMutablePointer<UInt32>.allocate(capacity: fixedChunkRows)
        defer { local.deallocate() }
        slotOf.withUnsafeBufferPointer { slots in
            var k = 0
            let total = rows.count
            while k < total {
                let n = Swift.min(fixedChunkRows, total - k)
                // Gather ids, then map them to slots: two loops of independent loads.
                switch rows.slice(k..<k + n) {
                case .range(let r): for j in 0..<n { local[j] = ids[r.lowerBound + j] }
                case .indices(let p): for j in 0..<n { local[j] = ids[Int(p[j])] }
                }
                for j in 0..<n { local[j] = slots[Int(local[j])] }
                if sourceNullable {
                    let chunk = rows.slice(k..<k + n)
                    for j in 0..<n where nulls[chunk.row(j)] != 0 { local[j] = 0 }
                }
                out.pending.appendUnsafe(maxCount: n * keyWidth) { dst in
                    switch keyWidth {
                    case 1: for j in 0..<n { (dst + j).storeBytes(of: UInt8(truncatingIfNeeded: local[j]), as: UInt8.self) }
                    case 2: for j in 0..<n { (dst + 2 * j).storeBytes(of: UInt16(truncatingIfNeeded: local[j]), as: UInt16.self) }
                    case 4: for j in 0..<n { (dst + 4 * j).storeBytes(of: local[j], as: UInt32.self) }
                    default: for j in 0..<n { (dst + 8 * j).storeBytes(of: UInt64(local[j]), as: UInt64.self) }
                    }
                    return n * keyWidth
                }
                out.checkpoint()
                k += n
            }
        }
    }
}
