#if _endian(big)
#error("CityHash128 and the Native encoder assume a little-endian host")
#endif

/// CityHash128 **version 1.0.2**, the checksum of ClickHouse's compressed frames.
///
/// Written by hand from the pseudo-code in `specs/clickhouse-native.md` §6 because no
/// Swift package provides it, and Google's current CityHash (1.0.3, 1.1.x) returns
/// different values: ClickHouse vendors the old 1.0.2 sources and a frame whose checksum
/// comes from a newer CityHash is rejected with `CHECKSUM_DOESNT_MATCH`.
///
/// The hash reads the input in place through an `UnsafeRawBufferPointer` and never
/// allocates, so checksumming a 1 MiB frame costs about as much as reading it once.
public enum CityHash128 {
    @usableFromInline static let k0: UInt64 = 0xc3a5_c85c_97cb_3127
    @usableFromInline static let k1: UInt64 = 0xb492_b66f_be98_f273
    @usableFromInline static let k2: UInt64 = 0x9ae1_6a3b_2f90_404f
    @usableFromInline static let k3: UInt64 = 0xc949_d7c7_509e_6557
    @usableFromInline static let kMul: UInt64 = 0x9ddf_ea08_eb38_2d69

    @usableFromInline static let emptyHash: (low: UInt64, high: UInt64) = (0x3df0_9dfc_64c0_9a2b, 0x3cb5_40c3_92e5_1e29)

    /// The 128-bit hash as ClickHouse's `uint128` pair: `low` is CityHash's `first`
    /// and goes first on the wire.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> (low: UInt64, high: UInt64) {
        let n = bytes.count
        // Empty input reads no bytes; its value is Murmur(<empty>, seed (k0, k1)),
        // checked against the spec's vector in the tests.
        guard n > 0, let s = bytes.baseAddress else { return emptyHash }
        if n >= 16 {
            return seeded(s + 16, n - 16, load64(s, 0) ^ k3, load64(s, 8))
        } else if n >= 8 {
            return seeded(s, 0, load64(s, 0) ^ (UInt64(n) &* k0), load64(s, n - 8) ^ k1)
        } else {
            return seeded(s, n, k0, k1)
        }
    }

    /// Convenience for tests and small inputs.
    public static func hash(_ bytes: [UInt8]) -> (low: UInt64, high: UInt64) {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The 16 checksum bytes exactly as a compressed-frame header carries them:
    /// `low` little-endian, then `high` little-endian.
    public static func wireBytes(of bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let h = hash(bytes)
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: h.low >> (8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: h.high >> (8 * UInt64(i)))
        }
        return out
    }

    // MARK: Primitives

    @inline(__always)
    static func load64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    static func load32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    /// Rotate right; masked shifts make `ror(v, 0) == v` as 1.0.2's `Rotate` requires.
    @inline(__always)
    static func ror(_ v: UInt64, _ r: UInt64) -> UInt64 {
        (v &>> r) | (v &<< (64 &- r))
    }

    @inline(__always)
    static func smix(_ v: UInt64) -> UInt64 { v ^ (v >> 47) }

    @inline(__always)
    static func h16(_ u: UInt64, _ v: UInt64) -> UInt64 {
        var a = (u ^ v) &* kMul
        a ^= a >> 47
        var b = (v ^ a) &* kMul
        b ^= b >> 47
        return b &* kMul
    }

    /// `HashLen0to16` of 1.0.2 (the rotate form for 9...16 bytes, `k3` for 1...3 bytes).
    @inline(__always)
    static func short(_ s: UnsafeRawPointer, _ n: Int) -> UInt64 {
        if n > 8 {
            let a = load64(s, 0)
            let b = load64(s, n - 8)
            return h16(a, ror(b &+ UInt64(n), UInt64(n))) ^ b
        }
        if n >= 4 {
            let a = load32(s, 0)
            return h16(UInt64(n) &+ (a << 3), load32(s, n - 4))
        }
        if n > 0 {
            let a = UInt32(s.load(fromByteOffset: 0, as: UInt8.self))
            let b = UInt32(s.load(fromByteOffset: n >> 1, as: UInt8.self))
            let c = UInt32(s.load(fromByteOffset: n - 1, as: UInt8.self))
            let y = a &+ (b << 8)
            let z = UInt32(n) &+ (c << 2)
            return smix((UInt64(y) &* k2) ^ (UInt64(z) &* k3)) &* k2
        }
        return k2
    }

    @inline(__always)
    static func weak(_ s: UnsafeRawPointer, _ p: Int, _ a0: UInt64, _ b0: UInt64) -> (UInt64, UInt64) {
        let w = load64(s, p), x = load64(s, p + 8), y = load64(s, p + 16), z = load64(s, p + 24)
        var a = a0 &+ w
        var b = ror(b0 &+ a &+ z, 21)
        let c = a
        a = a &+ x
        a = a &+ y
        b = b &+ ror(a, 44)
        return (a &+ z, b &+ c)
    }

    /// `CityMurmur`, used for inputs shorter than 128 bytes.
    static func murmur(_ s: UnsafeRawPointer, _ n: Int, _ lo: UInt64, _ hi: UInt64) -> (low: UInt64, high: UInt64) {
        var a = lo, b = hi, c: UInt64 = 0, d: UInt64 = 0
        if n <= 16 {
            a = smix(a &* k1) &* k1
            c = b &* k1 &+ short(s, n)
            d = smix(a &+ (n >= 8 ? load64(s, 0) : c))
        } else {
            c = h16(load64(s, n - 8) &+ k1, a)
            d = h16(b &+ UInt64(n), c &+ load64(s, n - 16))
            a = a &+ d
            var p = 0
            repeat {
                a ^= smix(load64(s, p) &* k1) &* k1
                a = a &* k1
                b ^= a
                c ^= smix(load64(s, p + 8) &* k1) &* k1
                c = c &* k1
                d ^= c
                p += 16
            } while p < n - 16
        }
        a = h16(a, c)
        b = h16(d, b)
        return (a ^ b, h16(b, a))
    }

    /// `CityHash128WithSeed` of 1.0.2.
    static func seeded(_ s: UnsafeRawPointer, _ length: Int, _ lo: UInt64, _ hi: UInt64) -> (low: UInt64, high: UInt64) {
        if length < 128 { return murmur(s, length, lo, hi) }
        var n = length
        var x = lo, y = hi, z = UInt64(n) &* k1
        var v1 = ror(y ^ k1, 49) &* k1 &+ load64(s, 0)
        var v2 = ror(v1, 42) &* k1 &+ load64(s, 8)
        var w1 = ror(y &+ z, 35) &* k1 &+ x
        var w2 = ror(x &+ load64(s, 88), 53) &* k1
        var p = 0

        @inline(__always)
        func round(_ q: Int) {
            x = ror(x &+ y &+ v1 &+ load64(s, q + 16), 37) &* k1
            y = ror(y &+ v2 &+ load64(s, q + 48), 42) &* k1
            x ^= w2
            y ^= v1
            z = ror(z ^ w1, 33)
            (v1, v2) = weak(s, q, v2 &* k1, x &+ w1)
            (w1, w2) = weak(s, q + 32, z &+ w2, y)
            swap(&x, &z)
        }

        repeat {
            round(p)
            round(p + 64)
            p += 128
            n -= 128
        } while n >= 128
        y = y &+ ror(w1, 37) &* k0 &+ z
        x = x &+ ror(v1 &+ z, 49) &* k0
        // The tail chunks are taken from the end of the input and may overlap bytes
        // already hashed; `p + n - t` never goes below 0 because p >= 128 here.
        var t = 0
        while t < n {
            t += 32
            y = ror(y &- x, 42) &* k0 &+ v2
            w1 = w1 &+ load64(s, p + n - t + 16)
            x = ror(x, 49) &* k0 &+ w1
            w1 = w1 &+ v1
            (v1, v2) = weak(s, p + n - t, v1, v2)
        }
        x = h16(x, v1)
        y = h16(y, w1)
        return (h16(x &+ v2, w2) &+ y, h16(x &+ w2, y &+ v2))
    }
}
