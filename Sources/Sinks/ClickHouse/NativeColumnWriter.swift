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
}
