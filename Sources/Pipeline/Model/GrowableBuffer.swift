/// A growable run of raw bytes with a single owner.
///
/// Column storage appends millions of small fixed-width values per second. `[UInt8]`
/// pays for a uniqueness check and a bounds check on every append; this buffer only
/// checks capacity, and it is `~Copyable` so it can never be shared by accident.
public struct GrowableBuffer: ~Copyable {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    @usableFromInline var _count: Int
    /// Number of bytes written.
    @inlinable public var count: Int { _count }

    public init(capacity: Int = 64) {
        let capacity = Swift.max(capacity, 16)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        self.capacity = capacity
        self._count = 0
    }

    deinit { base.deallocate() }

    /// Makes room for at least `extra` more bytes.
    @inlinable
    public mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    @usableFromInline
    mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends a value's little-endian bytes.
    @inlinable @inline(__always)
    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        if count + size > capacity { grow(to: count + size) }
        (base + count).storeBytes(of: value.littleEndian, as: T.self)
        _count += size
    }

    @inlinable
    public mutating func append(_ value: Float64) { append(value.bitPattern) }

    @inlinable
    public mutating func append(_ value: Float32) { append(value.bitPattern) }

    @inlinable @inline(__always)
    public mutating func append(bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { return }
        if count + n > capacity { grow(to: count + n) }
        let src = bytes.baseAddress!
        let dst = base + count
        // Column values are mostly short strings; two overlapping word moves beat a call
        // to memmove for them.
        if n <= 16 {
            if n >= 8 {
                dst.storeBytes(of: src.loadUnaligned(as: UInt64.self), as: UInt64.self)
                (dst + n - 8).storeBytes(of: (src + n - 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
            } else if n >= 4 {
                dst.storeBytes(of: src.loadUnaligned(as: UInt32.self), as: UInt32.self)
                (dst + n - 4).storeBytes(of: (src + n - 4).loadUnaligned(as: UInt32.self), as: UInt32.self)
            } else {
                for i in 0..<n { dst.storeBytes(of: src.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
            }
        } else {
            dst.copyMemory(from: src, byteCount: n)
        }
        _count += n
    }

    /// Appends `n` zero bytes.
    @inlinable
    public mutating func appendZeros(_ n: Int) {
        guard n > 0 else { return }
        if count + n > capacity { grow(to: count + n) }
        (base + count).initializeMemory(as: UInt8.self, repeating: 0, count: n)
        _count += n
    }

    /// Appends an unsigned LEB128 integer, ClickHouse's VarUInt.
    @inlinable
    public mutating func appendVarUInt(_ value: UInt64) {
        if count + 10 > capacity { grow(to: count + 10) }
        var v = value
        var p = base + count
        while v >= 0x80 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, as: UInt8.self)
            p += 1
            v >>= 7
        }
        p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
        _count = p - base + 1
    }

    /// Reserves `maxCount` bytes, lets `body` write up to that many at the end, and keeps
    /// the number of bytes `body` returns.
    ///
    /// Hot encoding loops use this to write many values through one raw pointer with a
    /// single capacity check, and compressors write their output straight into place.
    @inlinable
    public mutating func appendUnsafe<E: Error>(
        maxCount: Int, _ body: (UnsafeMutableRawPointer) throws(E) -> Int
    ) throws(E) {
        if count + maxCount > capacity { grow(to: count + maxCount) }
        let written = try body(base + count)
        precondition(written >= 0 && written <= maxCount, "wrote outside the reserved bytes")
        _count += written
    }

    /// Removes the first `n` bytes and moves the rest to the front; a streaming writer
    /// uses it after handing a prefix to a compressor, so the tail is at most a few
    /// values long and the move is cheap.
    @inlinable
    public mutating func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= count, "cannot remove more bytes than written")
        let rest = count - n
        if rest > 0 { base.copyMemory(from: base + n, byteCount: rest) }
        _count = rest
    }

    /// Drops bytes past `newCount`; used to roll back a partly written row.
    @inlinable
    public mutating func truncate(to newCount: Int) {
        precondition(newCount <= count, "cannot truncate forward")
        _count = newCount
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        _count = 0
        if !keepingCapacity, capacity > 4096 {
            base.deallocate()
            base = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
            capacity = 64
        }
    }

    /// Reads a little-endian value at a byte offset.
    @inlinable
    public func load<T: FixedWidthInteger>(at offset: Int, as: T.Type) -> T {
        T(littleEndian: (base + offset).loadUnaligned(as: T.self))
    }

    /// Overwrites a little-endian value at a byte offset.
    @inlinable
    public mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        (base + offset).storeBytes(of: value.littleEndian, as: T.self)
    }

    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Bytes in `range`, for callers that need a copy (tests, error messages).
    public func bytes(in range: Range<Int>) -> [UInt8] {
        precondition(range.upperBound <= count)
        return Array(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    public var allBytes: [UInt8] { bytes(in: 0..<count) }

    /// Bytes held, including spare capacity: what this buffer costs in memory.
    public var allocatedBytes: Int { capacity }
}

extension GrowableBuffer {
    /// Hands the written bytes to an immutable ``ByteBlob`` without copying them.
    public consuming func freeze() -> ByteBlob {
        let blob = ByteBlob(adopting: base, count: _count)
        discard self
        return blob
    }
}
