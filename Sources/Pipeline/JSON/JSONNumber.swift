/// Number syntax checks and conversions over raw bytes, shared by JSON numbers and by
/// strings that hold a number (`"42"`).
///
/// Integers are exact or rejected. Doubles take Clinger's fast path (a mantissa of at
/// most 2^53 scaled by an exact power of ten up to 10^22: one correctly rounded IEEE
/// multiplication or division), which covers the short decimals that metrics carry; any
/// other form falls back to the standard library's correctly rounded `Double(String)`.
public enum JSONNumber {
    /// Syntax of `bytes` as a complete JSON number: nil when invalid, else whether it is an
    /// integer literal (no fraction, no exponent).
    public static func syntax(_ bytes: UnsafeRawBufferPointer) -> (isInteger: Bool, isNegative: Bool)? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var p = 0
        var negative = false
        if bytes[p] == 0x2D {
            negative = true
            p += 1
        }
        @inline(__always) func digit(_ i: Int) -> Bool { i < n && bytes[i] &- 0x30 < 10 }
        guard digit(p) else { return nil }
        if bytes[p] == 0x30 {
            p += 1
            if digit(p) { return nil }
        } else {
            while digit(p) { p += 1 }
        }
        var integer = true
        if p < n, bytes[p] == 0x2E {
            p += 1
            guard digit(p) else { return nil }
            while digit(p) { p += 1 }
            integer = false
        }
        if p < n, bytes[p] | 0x20 == 0x65 {
            p += 1
            if p < n, bytes[p] == 0x2B || bytes[p] == 0x2D { p += 1 }
            guard digit(p) else { return nil }
            while digit(p) { p += 1 }
            integer = false
        }
        return p == n ? (integer, negative) : nil
    }

    /// An integer literal as Int64, nil when out of range. `bytes` must be valid syntax.
    @inlinable
    public static func parseInt64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        guard n > 0 else { return nil }
        let negative = bytes[0] == 0x2D
        var p = negative ? 1 : 0
        var magnitude: UInt64 = 0
        while p < n {
            let d = bytes[p] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            magnitude = a
            p += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// An integer literal as UInt64, nil when negative (other than -0) or out of range.
    @inlinable
    public static func parseUInt64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var p = 0
        if bytes[0] == 0x2D {
            // Only "-0" is a non-negative negative literal.
            return n == 2 && bytes[1] == 0x30 ? 0 : nil
        }
        var value: UInt64 = 0
        while p < n {
            let d = bytes[p] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            value = a
            p += 1
        }
        return value
    }

    @usableFromInline
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// A number (valid JSON syntax) as the nearest Double; ±infinity beyond the range.
    @inlinable
    public static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> Double {
        let n = bytes.count
        var p = 0
        let negative = n > 0 && bytes[0] == 0x2D
        if negative { p = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var truncated = false
        while p < n, bytes[p] &- 0x30 < 10 {
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(bytes[p] &- 0x30)
                if mantissa != 0 { digits += 1 }
            } else {
                exponent += 1
                truncated = true
            }
            p += 1
        }
        if p < n, bytes[p] == 0x2E {
            p += 1
            while p < n, bytes[p] &- 0x30 < 10 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[p] &- 0x30)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else {
                    truncated = true
                }
                p += 1
            }
        }
        if p < n, bytes[p] | 0x20 == 0x65 {
            p += 1
            var expNegative = false
            if p < n, bytes[p] == 0x2B || bytes[p] == 0x2D {
                expNegative = bytes[p] == 0x2D
                p += 1
            }
            var e = 0
            while p < n, bytes[p] &- 0x30 < 10 {
                if e < 100_000 { e = e * 10 + Int(bytes[p] &- 0x30) }
                p += 1
            }
            exponent += expNegative ? -e : e
        }
        if !truncated {
            if mantissa == 0 { return negative ? -0.0 : 0.0 }
            if mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
                var value = Double(mantissa)
                if exponent >= 0 {
                    value *= exactPowersOfTen[exponent]
                } else {
                    value /= exactPowersOfTen[-exponent]
                }
                return negative ? -value : value
            }
        }
        return slowDouble(bytes)
    }

    /// The standard library's correctly rounded conversion, for long or extreme forms.
    @usableFromInline
    static func slowDouble(_ bytes: UnsafeRawBufferPointer) -> Double {
        Double(String(decoding: bytes, as: UTF8.self)) ?? .nan
    }
}
