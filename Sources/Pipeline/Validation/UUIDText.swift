/// Parsing of canonical UUID text (`8-4-4-4-12` hex digits, either case).
public enum UUIDText {
    /// The two 64-bit halves of the canonical big-endian 16 bytes: `high` is bytes 0-7,
    /// `low` bytes 8-15. ClickHouse's wire order is `high` then `low`, each written
    /// little-endian, which is exactly what appending them to a column does.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> (high: UInt64, low: UInt64)? {
        guard bytes.count == 36, let base = bytes.baseAddress else { return nil }
        let s = base.assumingMemoryBound(to: UInt8.self)
        guard s[8] == 0x2D, s[13] == 0x2D, s[18] == 0x2D, s[23] == 0x2D else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for i in 0..<36 where i != 8 && i != 13 && i != 18 && i != 23 {
            guard let v = JSONScanner.hexValue(s[i]) else { return nil }
            if digits < 16 {
                high = high << 4 | UInt64(v)
            } else {
                low = low << 4 | UInt64(v)
            }
            digits += 1
        }
        return (high, low)
    }
}
