/// Which rows of a column the encoder writes, and in what order.
///
/// Top-level columns are written either in storage order (`range`) or through the sort
/// permutation (`indices`); the elements of an Array or Map follow their parent rows, so
/// they are a contiguous range when the parents are, and an expanded index list otherwise.
enum RowSelection {
    case range(Range<Int>)
    case indices(UnsafeBufferPointer<UInt32>)

    var count: Int {
        switch self {
        case .range(let r): r.count
        case .indices(let p): p.count
        }
    }

    /// The row at position `k` of the selection.
    @inline(__always)
    func row(_ k: Int) -> Int {
        switch self {
        case .range(let r): r.lowerBound + k
        case .indices(let p): Int(p[k])
        }
    }

    /// Calls `body` with each row index in order; the switch happens once, not per row.
    @inline(__always)
    func forEach(_ body: (Int) -> Void) {
        switch self {
        case .range(let r):
            for i in r { body(i) }
        case .indices(let p):
            for i in p { body(Int(i)) }
        }
    }

    /// The rows `sub` (positions within this selection), e.g. one chunk of it.
    @inline(__always)
    func slice(_ sub: Range<Int>) -> RowSelection {
        switch self {
        case .range(let r): .range(r.lowerBound + sub.lowerBound..<r.lowerBound + sub.upperBound)
        case .indices(let p): .indices(UnsafeBufferPointer(rebasing: p[sub]))
        }
    }
}
