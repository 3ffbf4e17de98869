/// Instants of the query API: milliseconds since the Unix epoch, always UTC.
///
/// Requests carry RFC 3339 timestamps (`2024-01-01T00:00:00Z`, with an optional fraction
/// and offset). Seed 000's clients also send them without a zone (`2024-01-01T00:00:00`),
/// which is read as UTC. Parsing and formatting are done here, by hand, so no timestamp
/// text ever reaches SQL: the builder formats the integer it gets back.
public enum QueryTime {
    /// Parses an RFC 3339 / ISO 8601 timestamp; nil when it is not one.
    public static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        var p = 0
        func num(_ n: Int) -> Int? {
            guard p + n <= b.count else { return nil }
            var v = 0
            for i in p..<p + n {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            p += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard p < b.count, b[p] == c else { return false }
            p += 1
            return true
        }
        guard let year = num(4), expect(0x2D), let month = num(2), expect(0x2D), let day = num(2) else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0, offset = 0
        if p < b.count {
            guard b[p] == UInt8(ascii: "T") || b[p] == UInt8(ascii: "t") || b[p] == 0x20 else { return nil }
            p += 1
            guard let h = num(2), expect(0x3A), let m = num(2) else { return nil }
            hour = h
            minute = m
            if expect(0x3A) {
                guard let s = num(2) else { return nil }
                second = s
                if expect(0x2E) {
                    var digits = 0
                    var frac = 0
                    while p < b.count, (0x30...0x39).contains(b[p]) {
                        if digits < 3 { frac = frac * 10 + Int(b[p] - 0x30) }
                        digits += 1
                        p += 1
                    }
                    guard digits > 0 else { return nil }
                    if digits < 3 { for _ in digits..<3 { frac *= 10 } }
                    millis = frac
                }
            }
            guard hour < 24, minute < 60, second < 60 else { return nil }
            if p < b.count {
                if b[p] == UInt8(ascii: "Z") || b[p] == UInt8(ascii: "z") {
                    p += 1
                } else if b[p] == UInt8(ascii: "+") || b[p] == UInt8(ascii: "-") {
                    let sign = b[p] == UInt8(ascii: "-") ? -1 : 1
                    p += 1
                    guard let oh = num(2), expect(0x3A), let om = num(2), oh < 24, om < 60 else { return nil }
                    offset = sign * (oh * 3600 + om * 60)
                } else {
                    return nil
                }
            }
        }
        guard p == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return seconds * 1000 + Int64(millis)
    }

    /// `2024-01-01T00:00:00Z`, with `.123` when there are milliseconds. `zone: false`
    /// leaves out the `Z` (seed 000's `time_period` format).
    public static func format(_ ms: Int64, zone: Bool = true) -> String {
        let (seconds, millis) = floorDivMod(ms, 1000)
        let (days, secOfDay) = floorDivMod(seconds, 86400)
        let (y, m, d) = civilFromDays(Int(days))
        let h = Int(secOfDay / 3600), mi = Int(secOfDay % 3600 / 60), s = Int(secOfDay % 60)
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))"
        if millis != 0 { out += "." + pad(Int(millis), 3) }
        if zone { out += "Z" }
        return out
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 {
            q -= 1
            r += b
        }
        return (q, r)
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
