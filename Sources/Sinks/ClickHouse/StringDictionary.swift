internal import Pipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The distinct values of a String or FixedString column and, for every row, the id of
/// its value.
///
/// Both pre-sorting (rank of each row's string) and LowCardinality encoding (dictionary
/// plus keys) need exactly this, so the encoder builds it once per column and batch and
/// shares it. Ids are dense, in order of first appearance. Building is one pass with an
/// open-addressing hash table that stores only ids (the bytes stay in the column), so
/// a 20-value column over a million rows touches a table that fits in L1.
struct StringDictionary {
    /// Id of each row's value, for all rows of the column.
    let ids: UnsafeMutableBufferPointer<UInt32>
    /// For each id, the first row holding that value.
    let firstRows: [UInt32]
    /// Id of the type's default value (empty string, all-zero FixedString) if it occurs.
    let defaultID: UInt32?

    var count: Int { firstRows.count }

    func deallocate() { ids.deallocate() }

    /// Bytes of one row of a String (`.string`) or FixedString (`.fixed`) column.
    @inline(__always)
    static func bytes(_ view: ColumnView, _ row: Int) -> (UnsafeRawPointer, Int) {
        switch view.layout {
        case .fixed(let w): return (view.values + row * w, w)
        default:
            let s = view.start(row)
            return (view.values + s, view.end(row) - s)
        }
    }

    /// Byte equality; short values (the common case) compare with two overlapping
    /// loads instead of a `memcmp` call.
    @inline(__always)
    static func equal(_ a: UnsafeRawPointer, _ an: Int, _ b: UnsafeRawPointer, _ bn: Int) -> Bool {
        guard an == bn else { return false }
        if an >= 8 {
            if an <= 16 {
                return a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
                    && a.loadUnaligned(fromByteOffset: an - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: an - 8, as: UInt64.self)
            }
            return memcmp(a, b, an) == 0
        }
        if an >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: an - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: an - 4, as: UInt32.self)
        }
        if an == 0 { return true }
        // 1...3 bytes: first, middle and last cover them all.
        return a.load(as: UInt8.self) == b.load(as: UInt8.self)
            && a.load(fromByteOffset: an >> 1, as: UInt8.self) == b.load(fromByteOffset: an >> 1, as: UInt8.self)
            && a.load(fromByteOffset: an - 1, as: UInt8.self) == b.load(fromByteOffset: an - 1, as: UInt8.self)
    }

    /// A fast non-cryptographic hash of a short byte string (wyhash-style mixing). Loads
    /// overlap instead of looping over single tail bytes.
    @inline(__always)
    static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        @inline(__always) func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let m = a.multipliedFullWidth(by: b)
            return m.high ^ m.low
        }
        let seed: UInt64 = 0xa076_1d64_78bd_642f
        var a: UInt64, b: UInt64
        if n >= 8 {
            if n <= 16 {
                a = p.loadUnaligned(as: UInt64.self)
                b = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            } else {
                var h = seed ^ UInt64(n)
                var i = 0
                while i + 16 <= n {
                    h = mix(p.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ 0xe703_7ed1_a0b4_28db,
                            p.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self) ^ h)
                    i += 16
                }
                a = p.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self) ^ h
                b = p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            }
        } else if n >= 4 {
            a = UInt64(p.loadUnaligned(as: UInt32.self))
            b = UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else if n > 0 {
            let c0 = UInt64(p.load(as: UInt8.self))
            let c1 = UInt64(p.load(fromByteOffset: n >> 1, as: UInt8.self))
            let c2 = UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self))
            a = (c0 << 16) | (c1 << 8) | c2
            b = 0
        } else {
            a = 0
            b = 0
        }
        return mix(a ^ 0xe703_7ed1_a0b4_28db, b ^ seed ^ UInt64(n))
    }

    /// Builds the dictionary of `view`, which must have the `.string` or `.fixed` layout.
    /// With `maxDistinct`, gives up (returning nil) as soon as there are more distinct
    /// values than that, so trying costs little on a high-cardinality column.
    static func build(_ view: ColumnView, maxDistinct: Int = Int.max) -> StringDictionary? {
        // One copy of the loop per layout, so the row-bytes lookup has no switch.
        switch view.layout {
        case .fixed(let w):
            let values = view.values
            return build(view, maxDistinct: maxDistinct) { (values + $0 * w, w) }
        default:
            let values = view.values
            let ends = view.ends
            return build(view, maxDistinct: maxDistinct) { row in
                let s = row == 0 ? 0 : Int(truncatingIfNeeded: ends[row - 1])
                return (values + s, Int(truncatingIfNeeded: ends[row]) - s)
            }
        }
    }

    @inline(__always)
    private static func build(
        _ view: ColumnView, maxDistinct: Int, _ bytes: (Int) -> (UnsafeRawPointer, Int)
    ) -> StringDictionary? {
        let rows = view.rows
        let ids = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: Swift.max(rows, 1))
        var firstRows: [UInt32] = []
        var capacity = 64
        var slots = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        defer { slots.deallocate() }
        // A slot holds (hash high 32 bits << 32) | (id + 1); 0 is empty.
        var mask = capacity - 1
        var lastPointer: UnsafeRawPointer? = nil
        var lastLength = -1
        var lastID: UInt32 = 0

        for row in 0..<rows {
            let (p, n) = bytes(row)
            // Runs of the same value are common (sorted input, repeated tenants); skip the probe.
            if let lp = lastPointer, equal(p, n, lp, lastLength) {
                ids[row] = lastID
                continue
            }
            let h = hash(p, n)
            let tag = h & 0xffff_ffff_0000_0000
            var slot = Int(truncatingIfNeeded: h) & mask
            var id: UInt32
            while true {
                let e = slots[slot]
                if e == 0 {
                    if firstRows.count >= maxDistinct {
                        ids.deallocate()
                        return nil
                    }
                    id = UInt32(firstRows.count)
                    firstRows.append(UInt32(row))
                    slots[slot] = tag | UInt64(id + 1)
                    break
                }
                if e & 0xffff_ffff_0000_0000 == tag {
                    let candidate = UInt32(truncatingIfNeeded: e) - 1
                    let (q, m) = bytes(Int(firstRows[Int(candidate)]))
                    if equal(p, n, q, m) { id = candidate; break }
                }
                slot = (slot + 1) & mask
            }
            ids[row] = id
            lastPointer = p
            lastLength = n
            lastID = id
            if firstRows.count * 2 > capacity {
                let newCapacity = capacity * 4
                let newSlots = UnsafeMutablePointer<UInt64>.allocate(capacity: newCapacity)
                newSlots.initialize(repeating: 0, count: newCapacity)
                let newMask = newCapacity - 1
                for i in 0..<capacity where slots[i] != 0 {
                    let e = slots[i]
                    let (q, m) = bytes(Int(firstRows[Int(UInt32(truncatingIfNeeded: e) - 1)]))
                    var s = Int(truncatingIfNeeded: hash(q, m)) & newMask
                    while newSlots[s] != 0 { s = (s + 1) & newMask }
                    newSlots[s] = e
                }
                slots.deallocate()
                slots = newSlots
                capacity = newCapacity
                mask = newMask
            }
        }

        var defaultID: UInt32?
        for (id, row) in firstRows.enumerated() {
            let (p, n) = bytes(Int(row))
            let isDefault: Bool
            if case .fixed = view.layout {
                isDefault = (0..<n).allSatisfy { p.load(fromByteOffset: $0, as: UInt8.self) == 0 }
            } else {
                isDefault = n == 0
            }
            if isDefault {
                defaultID = UInt32(id)
                break
            }
        }
        return StringDictionary(ids: ids, firstRows: firstRows, defaultID: defaultID)
    }

    /// The sort rank of each id: the position of its value in bytewise (memcmp, shorter
    /// first on a common prefix) order, which is how ClickHouse compares strings.
    func ranks(_ view: ColumnView) -> [UInt64] {
        var order = Array(0..<UInt32(count))
        order.sort { a, b in
            let (p, n) = Self.bytes(view, Int(firstRows[Int(a)]))
            let (q, m) = Self.bytes(view, Int(firstRows[Int(b)]))
            let c = Swift.min(n, m) == 0 ? 0 : memcmp(p, q, Swift.min(n, m))
            return c != 0 ? c < 0 : n < m
        }
        var rank = [UInt64](repeating: 0, count: count)
        for (r, id) in order.enumerated() { rank[Int(id)] = UInt64(r) }
        return rank
    }
}

/// Dictionaries built during one encode call, keyed by column buffer, so sorting and
/// LowCardinality encoding of the same column share one.
struct DictionaryCache: ~Copyable {
    private enum Entry {
        case built(StringDictionary)
        /// Tried with a cap and found too many distinct values.
        case tooMany(cap: Int)
    }

    private var byColumn: [ObjectIdentifier: Entry] = [:]
    /// Element index lists of permuted Array/Map columns, keyed by column; the two
    /// columns of a Nested pair (`m.key`, `m.value`) share one.
    private var expansions: [ObjectIdentifier: (offsets: [UInt64], elements: [UInt32])] = [:]

    init() {}

    deinit {
        for case .built(let d) in byColumn.values { d.deallocate() }
    }

    mutating func dictionary(for view: ColumnView) -> StringDictionary {
        let key = ObjectIdentifier(view.buffer)
        if case .built(let d) = byColumn[key] { return d }
        // Without a cap the build always succeeds.
        let d = StringDictionary.build(view) ?? StringDictionary(ids: .allocate(capacity: 1), firstRows: [], defaultID: nil)
        byColumn[key] = .built(d)
        return d
    }

    /// The column's dictionary if it has at most `maxDistinct` values.
    mutating func dictionary(for view: ColumnView, maxDistinct: Int) -> StringDictionary? {
        let key = ObjectIdentifier(view.buffer)
        switch byColumn[key] {
        case .built(let d): return d  // already paid for: use it whatever its size
        case .tooMany(let cap) where cap >= maxDistinct: return nil
        default: break
        }
        guard let d = StringDictionary.build(view, maxDistinct: maxDistinct) else {
            byColumn[key] = .tooMany(cap: maxDistinct)
            return nil
        }
        byColumn[key] = .built(d)
        return d
    }

    func expansion(for view: ColumnView) -> (offsets: [UInt64], elements: [UInt32])? {
        expansions[ObjectIdentifier(view.buffer)]
    }

    mutating func storeExpansion(_ e: (offsets: [UInt64], elements: [UInt32]), for view: ColumnView) {
        expansions[ObjectIdentifier(view.buffer)] = e
    }
}
