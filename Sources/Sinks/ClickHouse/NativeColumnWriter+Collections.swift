internal import Pipeline

/// Array and Map columns (and Nested pairs made from Maps): offsets, then elements.
extension NativeColumnWriter {
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
}
