internal import Pipeline

/// LowCardinality columns: the dictionary encoding of spec §3.
extension NativeColumnWriter {
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
