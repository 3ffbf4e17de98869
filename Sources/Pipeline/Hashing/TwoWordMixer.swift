/// A seeded multiply-xorshift of two 64-bit words, for hash tables keyed on values that
/// are already well spread (CityHash128 event keys, Redis entry ids).
///
/// Swift's `Hasher` (SipHash) over two words was 6–15% of the daemon's CPU on the
/// ingest paths; this is a few multiplies. The seed varies the table layout per process,
/// so crafted inputs cannot be aimed at one run of slots.
public enum TwoWordMixer {
    @inlinable @inline(__always)
    public static func mix(_ first: UInt64, _ second: UInt64, seed: UInt64) -> UInt64 {
        var h = (first ^ seed) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        h = (h ^ second) &* 0xD6E8_FEB8_6659_FD93
        h ^= h >> 32
        return h
    }
}
