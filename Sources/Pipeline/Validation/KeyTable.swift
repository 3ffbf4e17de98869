/// Maps byte keys (attribute names, first-level `data` member names, routed CloudEvent
/// types) to small slot numbers, compiled once.
///
/// Keys are bucketed by length. A key of up to 16 bytes (every name events carry) is
/// read as two words, without a loop and without reading past its last byte, and
/// compared with each same-length entry's precomputed words: a lookup is a length check,
/// two loads and a compare or two. Longer keys are compared eight bytes at a time. A key
/// with JSON escapes is decoded into scratch memory first (rare: no producer escapes
/// plain ASCII names).
final class KeyTable: @unchecked Sendable {
    let names: [[UInt8]]
    private let storage: UnsafeMutablePointer<UInt8>
    /// Per entry, in length order: offset into storage and slot number.
    private let offsets: UnsafeMutablePointer<Int>
    private let slots: UnsafeMutablePointer<Int>
    /// Per entry: ``words(_:_:)`` of its name (zero for names longer than 16 bytes).
    private let fingerprints: UnsafeMutablePointer<(UInt64, UInt64)>
    /// First entry index per length, for lengths 0...maxLength+1.
    private let lengthStart: UnsafeMutablePointer<Int>
    let maxLength: Int

    /// Slot `i` is `names[i]`; duplicate names keep their first slot.
    init(_ names: [[UInt8]]) {
        self.names = names
        let order = names.indices.sorted { (names[$0].count, $0) < (names[$1].count, $1) }
        maxLength = names.map(\.count).max() ?? 0
        storage = .allocate(capacity: Swift.max(1, names.reduce(0) { $0 + $1.count }))
        offsets = .allocate(capacity: Swift.max(1, names.count))
        slots = .allocate(capacity: Swift.max(1, names.count))
        fingerprints = .allocate(capacity: Swift.max(1, names.count))
        lengthStart = .allocate(capacity: maxLength + 2)
        var offset = 0
        var entry = 0
        var length = 0
        lengthStart[0] = 0
        for i in order {
            let name = names[i]
            while length < name.count {
                length += 1
                lengthStart[length] = entry
            }
            if (0..<entry).contains(where: { e in names[slots[e]] == name }) { continue }
            offsets[entry] = offset
            slots[entry] = i
            for b in name {
                storage[offset] = b
                offset += 1
            }
            fingerprints[entry] = name.count <= 16 && !name.isEmpty
                ? name.withUnsafeBytes { Self.words($0.baseAddress!, name.count) }
                : (0, 0)
            entry += 1
        }
        while length <= maxLength {
            length += 1
            lengthStart[length] = entry
        }
    }

    convenience init(_ names: [String]) {
        self.init(names.map { Array($0.utf8) })
    }

    deinit {
        storage.deallocate()
        offsets.deallocate()
        slots.deallocate()
        fingerprints.deallocate()
        lengthStart.deallocate()
    }

    /// The table as a reference-free value for hot loops: looking a key up through it
    /// costs no reference counting. Valid while the table is alive.
    var view: View {
        View(storage: storage, offsets: offsets, slots: slots, fingerprints: fingerprints, lengthStart: lengthStart, maxLength: maxLength)
    }

    /// A key of 1...16 bytes as two words, from loads that overlap instead of running
    /// past its end. Two keys of the same length are equal exactly when their words are.
    @inline(__always)
    static func words(_ p: UnsafeRawPointer, _ n: Int) -> (UInt64, UInt64) {
        if n >= 8 {
            return (p.loadUnaligned(as: UInt64.self), (p + (n &- 8)).loadUnaligned(as: UInt64.self))
        }
        if n >= 4 {
            let low = UInt64(p.loadUnaligned(as: UInt32.self))
            let high = UInt64((p + (n &- 4)).loadUnaligned(as: UInt32.self))
            return (low | high &<< 32, 0)
        }
        let a = UInt64(p.load(as: UInt8.self))
        let b = UInt64(p.load(fromByteOffset: n &>> 1, as: UInt8.self))
        let c = UInt64(p.load(fromByteOffset: n &- 1, as: UInt8.self))
        return (a | b &<< 8 | c &<< 16, 0)
    }

    struct View {
        let storage: UnsafeMutablePointer<UInt8>
        let offsets: UnsafeMutablePointer<Int>
        let slots: UnsafeMutablePointer<Int>
        let fingerprints: UnsafeMutablePointer<(UInt64, UInt64)>
        let lengthStart: UnsafeMutablePointer<Int>
        let maxLength: Int

        /// The slot of `key`, or -1.
        @inline(__always)
        func slot(_ key: UnsafeRawBufferPointer) -> Int {
            KeyTable.lookup(key, storage, offsets, slots, fingerprints, lengthStart, maxLength)
        }

        /// The slot of a JSON string value's decoded content, or -1.
        @inline(__always)
        func slot(of value: JSONValue, scratch: inout GrowableBuffer) -> Int {
            if !value.hasEscapes { return slot(value.bytes) }
            return slot(ofEscaped: value, scratch: &scratch)
        }

        /// Out of line so that the common lookup above stays small enough to inline.
        @inline(never)
        func slot(ofEscaped value: JSONValue, scratch: inout GrowableBuffer) -> Int {
            scratch.truncate(to: 0)
            value.appendDecoded(to: &scratch)
            return scratch.withUnsafeBytes { slot($0) }
        }
    }

    /// The slot of `key`, or -1.
    @inline(__always)
    func slot(_ key: UnsafeRawBufferPointer) -> Int {
        Self.lookup(key, storage, offsets, slots, fingerprints, lengthStart, maxLength)
    }

    @inline(__always)
    fileprivate static func lookup(
        _ key: UnsafeRawBufferPointer, _ storage: UnsafeMutablePointer<UInt8>, _ offsets: UnsafeMutablePointer<Int>,
        _ slots: UnsafeMutablePointer<Int>, _ fingerprints: UnsafeMutablePointer<(UInt64, UInt64)>,
        _ lengthStart: UnsafeMutablePointer<Int>, _ maxLength: Int
    ) -> Int {
        let n = key.count
        guard n > 0, n <= maxLength, let kp = key.baseAddress else { return -1 }
        var e = lengthStart[n]
        let end = lengthStart[n &+ 1]
        if n <= 16 {
            let (a, b) = words(kp, n)
            while e < end {
                let f = fingerprints[e]
                if f.0 == a, f.1 == b { return slots[e] }
                e &+= 1
            }
            return -1
        }
        while e < end {
            if JSONBytes.equal(storage + offsets[e], UnsafeRawBufferPointer(start: kp, count: n), count: n) { return slots[e] }
            e &+= 1
        }
        return -1
    }

    /// The slot of a JSON string value's decoded content, or -1.
    @inline(__always)
    func slot(of value: JSONValue, scratch: inout GrowableBuffer) -> Int {
        if !value.hasEscapes { return slot(value.bytes) }
        scratch.truncate(to: 0)
        value.appendDecoded(to: &scratch)
        return scratch.withUnsafeBytes { slot($0) }
    }
}
