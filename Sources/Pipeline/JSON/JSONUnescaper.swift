/// Decodes the backslash escapes of a JSON string that the scanner has already validated.
///
/// Because the scanner checked every escape and surrogate pair, decoding never fails and
/// never needs to look for errors: it copies the runs between backslashes and encodes
/// each `\uXXXX` (or surrogate pair) as UTF-8.
public enum JSONUnescaper {
    /// Appends the decoded content of `escaped` (a string's bytes between its quotes).
    public static func unescape(_ escaped: UnsafeRawBufferPointer, into out: inout GrowableBuffer) {
        guard let base = escaped.baseAddress else { return }
        let s = base.assumingMemoryBound(to: UInt8.self)
        let n = escaped.count
        out.reserve(n)
        var p = 0
        var runStart = 0
        while p < n {
            if s[p] != 0x5C {
                p += 1
                continue
            }
            if p > runStart { out.append(bytes: UnsafeRawBufferPointer(start: s + runStart, count: p - runStart)) }
            let (scalar, length) = decodeEscape(s, n, p)
            appendUTF8(scalar, to: &out)
            p += length
            runStart = p
        }
        if p > runStart { out.append(bytes: UnsafeRawBufferPointer(start: s + runStart, count: p - runStart)) }
    }

    /// Decodes the escape at `p` and returns its scalar value and its length in bytes.
    @inline(__always)
    static func decodeEscape(_ s: UnsafePointer<UInt8>, _ n: Int, _ p: Int) -> (UInt32, Int) {
        switch s[p + 1] {
        case 0x62: return (0x08, 2)
        case 0x66: return (0x0C, 2)
        case 0x6E: return (0x0A, 2)
        case 0x72: return (0x0D, 2)
        case 0x74: return (0x09, 2)
        case 0x75:
            let cp = JSONScanner.hex4(s, n, p + 2) ?? 0xFFFD
            if cp >= 0xD800, cp <= 0xDBFF, let low = JSONScanner.hex4(s, n, p + 8) {
                return (0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00), 12)
            }
            return (cp, 6)
        default: return (UInt32(s[p + 1]), 2)
        }
    }

    @inline(__always)
    static func encodeUTF8(_ c: UInt32) -> (UInt32, Int) {
        switch c {
        case 0..<0x80: return (c, 1)
        case 0x80..<0x800: return ((0xC0 | c >> 6) | (0x80 | c & 0x3F) << 8, 2)
        case 0x800..<0x10000: return ((0xE0 | c >> 12) | (0x80 | (c >> 6) & 0x3F) << 8 | (0x80 | c & 0x3F) << 16, 3)
        default:
            return ((0xF0 | c >> 18) | (0x80 | (c >> 12) & 0x3F) << 8 | (0x80 | (c >> 6) & 0x3F) << 16 | (0x80 | c & 0x3F) << 24, 4)
        }
    }

    @inline(__always)
    static func appendUTF8(_ c: UInt32, to out: inout GrowableBuffer) {
        let (packed, count) = encodeUTF8(c)
        withUnsafeBytes(of: packed.littleEndian) { out.append(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// Compares the decoded content of `escaped` with `other` without materializing it.
    public static func decodedEquals(_ escaped: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer) -> Bool {
        guard let base = escaped.baseAddress else { return other.isEmpty }
        let s = base.assumingMemoryBound(to: UInt8.self)
        let n = escaped.count
        var p = 0
        var j = 0
        while p < n {
            if s[p] != 0x5C {
                guard j < other.count, other[j] == s[p] else { return false }
                p += 1
                j += 1
                continue
            }
            let (scalar, length) = decodeEscape(s, n, p)
            var (packed, count) = encodeUTF8(scalar)
            guard j + count <= other.count else { return false }
            for _ in 0..<count {
                guard other[j] == UInt8(truncatingIfNeeded: packed) else { return false }
                packed >>= 8
                j += 1
            }
            p += length
        }
        return j == other.count
    }
}
