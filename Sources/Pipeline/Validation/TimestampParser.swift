/// Hand-written, allocation-free parsing of the timestamp texts events carry.
///
/// Accepted forms (years 0001-9999):
/// - RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`, `z` and a space instead of
///   `T` are accepted as RFC 3339 §5.6 allows. A leap second (`:60`) is counted as the
///   first second of the next minute.
/// - The same without a zone, read as UTC (seed 000 sends `2024-01-01T00:00:00`), unless
///   the caller requires a zone (the CloudEvents `time` attribute does).
/// - `YYYY-MM-DD` for Date columns.
///
/// Fractions longer than nanoseconds are truncated, never rounded, so a value never moves
/// into the next second.
public enum TimestampParser {
    /// A point in time: whole seconds since the Unix epoch (floor) plus nanoseconds.
    public struct Instant: Sendable, Equatable {
        public var seconds: Int64
        public var nanoseconds: Int64

        public init(seconds: Int64, nanoseconds: Int64) {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        }
    }

    @inline(__always)
    static func twoDigits(_ b: UnsafePointer<UInt8>, _ i: Int) -> Int? {
        let a = b[i] &- 0x30, c = b[i + 1] &- 0x30
        guard a < 10, c < 10 else { return nil }
        return Int(a) * 10 + Int(c)
    }

    /// Days since 1970-01-01 of a valid civil date (Howard Hinnant's algorithm).
    @inline(__always)
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// ``daysFromCivil(year:month:day:)`` for years 1 and later, in unsigned arithmetic:
    /// the divisions by constants then need no sign corrections.
    @inline(__always)
    static func daysFromCivilAD(year: Int, month: Int, day: Int) -> Int64 {
        let y = UInt(truncatingIfNeeded: month <= 2 ? year &- 1 : year)
        let era = y / 400
        let yoe = y &- era &* 400
        let mp = UInt(truncatingIfNeeded: month > 2 ? month &- 3 : month &+ 9)
        let doy = (153 &* mp &+ 2) / 5 &+ UInt(truncatingIfNeeded: day) &- 1
        let doe = yoe &* 365 &+ yoe / 4 &- yoe / 100 &+ doy
        return Int64(truncatingIfNeeded: era &* 146_097 &+ doe) &- 719_468
    }

    @inline(__always)
    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses `YYYY-MM-DD` at the start of `b` and returns days since the epoch.
    @inline(__always)
    static func date(_ b: UnsafePointer<UInt8>, _ n: Int) -> Int64? {
        guard n >= 10, b[4] == 0x2D, b[7] == 0x2D,
              let y1 = twoDigits(b, 0), let y2 = twoDigits(b, 2),
              let month = twoDigits(b, 5), let day = twoDigits(b, 8)
        else { return nil }
        let year = y1 * 100 + y2
        guard year >= 1, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month) else { return nil }
        return daysFromCivil(year: year, month: month, day: day)
    }

    /// Parses a `YYYY-MM-DD` date into days since 1970-01-01.
    public static func parseDate(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard bytes.count == 10, let base = bytes.baseAddress else { return nil }
        return date(base.assumingMemoryBound(to: UInt8.self), 10)
    }

    // "YYYY-MM-" and "DDTHH:MM" are read as little-endian words; the masks select digit bytes.

    /// True when every byte selected by `mask` is an ASCII digit.
    @inline(__always)
    private static func allDigits(_ w: UInt64, _ mask: UInt64) -> Bool {
        let t = (w ^ 0x3030_3030_3030_3030) & mask
        return t & 0xF0F0_F0F0_F0F0_F0F0 == 0 && (t &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0
    }

    @inline(__always)
    private static func digit(_ w: UInt64, _ i: Int) -> Int { Int(truncatingIfNeeded: (w >> UInt64(i * 8)) & 0x0F) }

    /// The canonical form events carry (`YYYY-MM-DDTHH:MM:SS[.fff]Z`), checked and read
    /// sixteen bytes at a time; nil sends the text to the general parser.
    @inline(__always)
    private static func parseCanonical(_ b: UnsafePointer<UInt8>, _ n: Int) -> Instant? {
        guard n >= 20, b[n - 1] == 0x5A, b[16] == 0x3A else { return nil }
        let dateDigits: UInt64 = 0x00FF_FF00_FFFF_FFFF
        let dateSeparators: UInt64 = 0x2D00_002D_0000_0000 // '-' at 4 and 7
        let timeDigits: UInt64 = 0xFFFF_00FF_FF00_FFFF
        let timeSeparators: UInt64 = 0x0000_3A00_0054_0000 // 'T' at 2, ':' at 5
        let w1 = UnsafeRawPointer(b).loadUnaligned(as: UInt64.self)
        let w2 = UnsafeRawPointer(b + 8).loadUnaligned(as: UInt64.self)
        guard w1 & ~dateDigits == dateSeparators, w2 & ~timeDigits == timeSeparators,
              allDigits(w1, dateDigits), allDigits(w2, timeDigits),
              b[17] &- 0x30 < 10, b[18] &- 0x30 < 10
        else { return nil }
        let year = digit(w1, 0) * 1000 + digit(w1, 1) * 100 + digit(w1, 2) * 10 + digit(w1, 3)
        let month = digit(w1, 5) * 10 + digit(w1, 6)
        let day = digit(w2, 0) * 10 + digit(w2, 1)
        let hour = digit(w2, 3) * 10 + digit(w2, 4)
        let minute = digit(w2, 6) * 10 + digit(w2, 7)
        let second = Int(b[17] &- 0x30) * 10 + Int(b[18] &- 0x30)
        guard year >= 1, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month),
              hour < 24, minute < 60, second <= 60
        else { return nil }
        var nanos: Int64 = 0
        if n == 24 {
            // Milliseconds, what almost every producer sends.
            let d1 = b[20] &- 0x30, d2 = b[21] &- 0x30, d3 = b[22] &- 0x30
            guard b[19] == 0x2E, d1 < 10, d2 < 10, d3 < 10 else { return nil }
            nanos = (Int64(d1) &* 100 &+ Int64(d2) &* 10 &+ Int64(d3)) &* 1_000_000
        } else if n > 20 {
            guard b[19] == 0x2E, n > 21 else { return nil }
            var p = 20
            var kept = 0
            while p < n - 1 {
                let d = b[p] &- 0x30
                guard d < 10 else { return nil }
                if kept < 9 {
                    nanos = nanos * 10 + Int64(d)
                    kept += 1
                }
                p += 1
            }
            while kept < 9 {
                nanos *= 10
                kept += 1
            }
        }
        let days = daysFromCivilAD(year: year, month: month, day: day)
        return Instant(seconds: days &* 86_400 &+ Int64(hour &* 3600 &+ minute &* 60 &+ second), nanoseconds: nanos)
    }

    /// Parses a date-time as described on the type; nil when the text is not one.
    public static func parse(_ bytes: UnsafeRawBufferPointer, requireZone: Bool) -> Instant? {
        let n = bytes.count
        guard n >= 19, let base = bytes.baseAddress else { return nil }
        let b = base.assumingMemoryBound(to: UInt8.self)
        if let instant = parseCanonical(b, n) { return instant }
        guard let days = date(b, n) else { return nil }
        let sep = b[10]
        guard sep == 0x54 || sep == 0x74 || sep == 0x20, b[13] == 0x3A, b[16] == 0x3A,
              let hour = twoDigits(b, 11), let minute = twoDigits(b, 14), let second = twoDigits(b, 17),
              hour < 24, minute < 60, second <= 60
        else { return nil }
        var p = 19
        var nanos: Int64 = 0
        if p < n, b[p] == 0x2E {
            p += 1
            let start = p
            while p < n, b[p] &- 0x30 < 10 {
                if p - start < 9 { nanos = nanos * 10 + Int64(b[p] &- 0x30) }
                p += 1
            }
            guard p > start else { return nil }
            var kept = p - start
            while kept < 9 {
                nanos *= 10
                kept += 1
            }
        }
        var offset = 0
        if p == n {
            if requireZone { return nil }
        } else {
            let z = b[p]
            if z == 0x5A || z == 0x7A {
                p += 1
            } else if z == 0x2B || z == 0x2D {
                guard n - p >= 6, b[p + 3] == 0x3A, let oh = twoDigits(b, p + 1), let om = twoDigits(b, p + 4),
                      oh < 24, om < 60
                else { return nil }
                offset = (oh * 60 + om) * 60
                if z == 0x2D { offset = -offset }
                p += 6
            } else {
                return nil
            }
            guard p == n else { return nil }
        }
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        return Instant(seconds: seconds, nanoseconds: nanos)
    }
}
