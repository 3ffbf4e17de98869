/// The one place that turns dedup-key material into an ``EventKey``.
///
/// Every key in the raw tables' `_event_key` column, the in-memory dedup window and the
/// ClickHouse look-ups of possible redeliveries comes from this function, so changing the
/// hash (the lead plans CityHash128 v1.0.2) is a one-line change here and nowhere else.
/// Keys written by one hash are not comparable with keys of another: switch before the
/// first production data, or rebuild the window.
///
/// Today: two wyhash-style 64-bit hashes of the material with independent seeds. wyhash
/// passes SMHasher and mixes every input bit through 128-bit multiplications; two seeds
/// give 128 bits of key, so accidental collisions (which would drop an event as a
/// duplicate) are out of reach for any realistic volume.
public enum EventKeyHasher {
    public static func key(_ material: UnsafeRawBufferPointer) -> EventKey {
        EventKey(
            low: wyhash(material, seed: 0x243F_6A88_85A3_08D3),
            high: wyhash(material, seed: 0x1319_8A2E_0370_7344))
    }

    public static func key(_ material: [UInt8]) -> EventKey {
        material.withUnsafeBytes { key($0) }
    }

    private static let p0: UInt64 = 0xA076_1D64_78BD_642F
    private static let p1: UInt64 = 0xE703_7ED1_A0B4_28DB
    private static let p2: UInt64 = 0x8EBC_6AF0_9C88_C6E3
    private static let p3: UInt64 = 0x5899_65CC_7537_4CC3

    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let r = a.multipliedFullWidth(by: b)
        return r.high ^ r.low
    }

    @inline(__always)
    private static func r8(_ p: UnsafeRawPointer, _ i: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
    }

    @inline(__always)
    private static func r4(_ p: UnsafeRawPointer, _ i: Int) -> UInt64 {
        UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
    }

    /// wyhash (final version 4 structure, 64-bit output).
    static func wyhash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let len = bytes.count
        var seed = seed ^ mix(seed ^ p0, p1)
        var a: UInt64 = 0
        var b: UInt64 = 0
        if let p = bytes.baseAddress, len > 0 {
            if len <= 16 {
                if len >= 4 {
                    let shift = (len >> 3) << 2
                    a = r4(p, 0) << 32 | r4(p, shift)
                    b = r4(p, len - 4) << 32 | r4(p, len - 4 - shift)
                } else {
                    let b0 = UInt64(bytes[0]), b1 = UInt64(bytes[len >> 1]), b2 = UInt64(bytes[len - 1])
                    a = b0 << 16 | b1 << 8 | b2
                }
            } else {
                var i = len
                var q = 0
                if i > 48 {
                    var see1 = seed, see2 = seed
                    repeat {
                        seed = mix(r8(p, q) ^ p1, r8(p, q + 8) ^ seed)
                        see1 = mix(r8(p, q + 16) ^ p2, r8(p, q + 24) ^ see1)
                        see2 = mix(r8(p, q + 32) ^ p3, r8(p, q + 40) ^ see2)
                        q += 48
                        i -= 48
                    } while i > 48
                    seed ^= see1 ^ see2
                }
                while i > 16 {
                    seed = mix(r8(p, q) ^ p1, r8(p, q + 8) ^ seed)
                    i -= 16
                    q += 16
                }
                a = r8(p, q + i - 16)
                b = r8(p, q + i - 8)
            }
        }
        a ^= p1
        b ^= seed
        let r = a.multipliedFullWidth(by: b)
        return mix(r.low ^ p0 ^ UInt64(len), r.high ^ p1)
    }
}
