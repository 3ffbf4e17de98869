/// RFC 4648 base64 decoding (standard alphabet) for `data_base64`.
///
/// Padding may be present or omitted; whitespace and the URL-safe alphabet are errors,
/// as the CloudEvents JSON format uses plain base64.
public enum Base64 {
    @inline(__always)
    static func sextet(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x41...0x5A: UInt32(c - 0x41)
        case 0x61...0x7A: UInt32(c - 0x61 + 26)
        case 0x30...0x39: UInt32(c - 0x30 + 52)
        case 0x2B: 62
        case 0x2F: 63
        default: nil
        }
    }

    /// Appends the decoded bytes to `out`; returns the offset of the first bad character,
    /// or nil on success (in which case the whole input was decoded).
    public static func decode(_ text: UnsafeRawBufferPointer, into out: inout GrowableBuffer) -> Int? {
        var n = text.count
        if n > 0, text[n - 1] == 0x3D {
            n -= 1
            if n > 0, text[n - 1] == 0x3D { n -= 1 }
            guard text.count % 4 == 0 else { return n }
        }
        guard n % 4 != 1 else { return n - 1 }
        out.reserve(n / 4 * 3 + 3)
        var i = 0
        while i + 4 <= n {
            guard let a = sextet(text[i]) else { return i }
            guard let b = sextet(text[i + 1]) else { return i + 1 }
            guard let c = sextet(text[i + 2]) else { return i + 2 }
            guard let d = sextet(text[i + 3]) else { return i + 3 }
            let v = a << 18 | b << 12 | c << 6 | d
            out.append(UInt8(truncatingIfNeeded: v >> 16))
            out.append(UInt8(truncatingIfNeeded: v >> 8))
            out.append(UInt8(truncatingIfNeeded: v))
            i += 4
        }
        let rest = n - i
        if rest >= 2 {
            guard let a = sextet(text[i]) else { return i }
            guard let b = sextet(text[i + 1]) else { return i + 1 }
            var v = a << 18 | b << 12
            if rest == 3 {
                guard let c = sextet(text[i + 2]) else { return i + 2 }
                v |= c << 6
            }
            out.append(UInt8(truncatingIfNeeded: v >> 16))
            if rest == 3 { out.append(UInt8(truncatingIfNeeded: v >> 8)) }
        }
        return nil
    }
}
