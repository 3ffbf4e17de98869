/// The width of the time buckets a query groups rows into, and where they start.
///
/// | text | buckets | aligned to |
/// |---|---|---|
/// | `1m` `5m` `15m` `1h` `1d` | fixed width | the Unix epoch (UTC minute, hour, day boundaries) |
/// | `1w` | 7 days | Mondays 00:00 UTC (ClickHouse's `toStartOfWeek(t, 1)`) |
/// | `N` + `m`/`h`/`d`/`w` otherwise (`90m`, `7d`, `2h`) | fixed width | the query's `from` (seed 000's custom intervals) |
/// | `1mo` `1q` `1y` | calendar months, quarters, years | UTC calendar |
/// | `all` | one bucket | the whole range |
///
/// Buckets are computed the same way in SQL (for grouping) and in Swift (for gap filling
/// and comparisons), so both agree on every boundary.
public enum TimeBucket: Sendable, Hashable, CustomStringConvertible {
    /// One bucket covering the whole range.
    case whole
    /// Buckets of `seconds`, on a grid through `anchor` (epoch seconds), or through the
    /// query's `from` when `anchor` is nil.
    case fixed(seconds: Int64, anchor: Int64?, label: String)
    /// Calendar months, quarters or years in UTC.
    case calendar(CalendarUnit)

    public enum CalendarUnit: String, Sendable, Hashable {
        case month = "1mo", quarter = "1q", year = "1y"
        var months: Int {
            switch self {
            case .month: 1
            case .quarter: 3
            case .year: 12
            }
        }
    }

    /// 1970-01-05 was the first Monday after the epoch.
    static let mondayAnchor: Int64 = 4 * 86400

    /// Parses a bucket text such as `1h` or `7d`; nil when it is not one.
    public init?(parsing text: String) {
        switch text {
        case "all": self = .whole; return
        case "1mo": self = .calendar(.month); return
        case "1q": self = .calendar(.quarter); return
        case "1y": self = .calendar(.year); return
        case "1m", "5m", "15m", "1h", "1d":
            let seconds: Int64 = ["1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400][text] ?? 0
            self = .fixed(seconds: seconds, anchor: 0, label: text)
            return
        case "1w":
            self = .fixed(seconds: 7 * 86400, anchor: Self.mondayAnchor, label: text)
            return
        default: break
        }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 6, digits.first != "0", let n = Int64(digits) else { return nil }
        let unit: Int64
        switch text.dropFirst(digits.count) {
        case "m": unit = 60
        case "h": unit = 3600
        case "d": unit = 86400
        case "w": unit = 7 * 86400
        default: return nil
        }
        self = .fixed(seconds: n * unit, anchor: nil, label: "\(n)\(text.dropFirst(digits.count))")
    }

    public var description: String {
        switch self {
        case .whole: "all"
        case .fixed(_, _, let label): label
        case .calendar(let unit): unit.rawValue
        }
    }

    /// The bucket grid for a query whose range starts at `fromMs`.
    public func grid(fromMs: Int64, toMs: Int64) -> BucketGrid {
        BucketGrid(bucket: self, fromSeconds: QueryTime.floorDivMod(fromMs, 1000).0, toMs: toMs)
    }
}

/// The buckets of one query range: their start times (epoch seconds) and how SQL computes
/// them.
public struct BucketGrid: Sendable, Hashable {
    public let bucket: TimeBucket
    /// Start of the query range, in seconds.
    let fromSeconds: Int64
    let toMs: Int64

    /// For fixed buckets: the grid origin (a bucket start) and width.
    var fixed: (origin: Int64, step: Int64)? {
        guard case .fixed(let step, let anchor, _) = bucket else { return nil }
        return (anchor ?? fromSeconds, step)
    }

    /// The start of the bucket holding `seconds`.
    public func start(of seconds: Int64) -> Int64 {
        switch bucket {
        case .whole:
            return fromSeconds
        case .fixed:
            guard let (origin, step) = fixed else { return seconds }
            return origin + QueryTime.floorDivMod(seconds - origin, step).0 * step
        case .calendar(let unit):
            let (days, _) = QueryTime.floorDivMod(seconds, 86400)
            let (y, m, _) = QueryTime.civilFromDays(Int(days))
            let startMonth = (m - 1) / unit.months * unit.months + 1
            return Int64(QueryTime.daysFromCivil(year: y, month: startMonth, day: 1)) * 86400
        }
    }

    /// The start of the bucket after the one starting at `start`.
    public func next(after start: Int64) -> Int64 {
        switch bucket {
        case .whole: return Int64.max
        case .fixed(let step, _, _): return start + step
        case .calendar(let unit): return Self.addMonths(unit.months, to: start)
        }
    }

    /// The start of the bucket before the one starting at `start`.
    public func previous(before start: Int64) -> Int64 {
        switch bucket {
        case .whole: return start - (toMs - fromSeconds * 1000 + 999) / 1000
        case .fixed(let step, _, _): return start - step
        case .calendar(let unit): return Self.addMonths(-unit.months, to: start)
        }
    }

    static func addMonths(_ n: Int, to seconds: Int64) -> Int64 {
        let (y, m, _) = QueryTime.civilFromDays(Int(QueryTime.floorDivMod(seconds, 86400).0))
        let total = y * 12 + (m - 1) + n
        let (year, month0) = QueryTime.floorDivMod(Int64(total), 12)
        return Int64(QueryTime.daysFromCivil(year: Int(year), month: Int(month0) + 1, day: 1)) * 86400
    }

    /// Every bucket start from the one holding `fromMs` to the one holding the last
    /// millisecond before `toMs`, capped at `limit + 1` so a huge range cannot allocate
    /// without bound (the caller reports the limit).
    public func starts(fromMs: Int64, toMs: Int64, limit: Int) -> [Int64] {
        guard toMs > fromMs else { return [] }
        if case .whole = bucket { return [QueryTime.floorDivMod(fromMs, 1000).0] }
        var out: [Int64] = []
        var s = start(of: QueryTime.floorDivMod(fromMs, 1000).0)
        let lastSecond = QueryTime.floorDivMod(toMs - 1, 1000).0
        while s <= lastSecond, out.count <= limit {
            out.append(s)
            s = next(after: s)
        }
        return out
    }

    /// Length in seconds of the bucket that starts at `start` (the part inside the range
    /// for `.whole`).
    public func seconds(at start: Int64) -> Int64 {
        switch bucket {
        case .whole: max(1, (toMs - start * 1000 + 999) / 1000)
        default: next(after: start) - start
        }
    }

    /// Whether every bucket boundary falls on a whole hour, so hourly rollup rows can be
    /// assigned to buckets without splitting an hour.
    public var isHourAligned: Bool {
        switch bucket {
        case .whole, .calendar: return true
        case .fixed(let step, _, _):
            guard let (origin, _) = fixed else { return false }
            return step % 3600 == 0 && origin % 3600 == 0
        }
    }

    /// SQL computing the bucket start (UInt32-compatible epoch seconds) of `seconds`, an
    /// expression of epoch seconds. The grid origin is moved to at or before `lowest`
    /// (the earliest second the query reads), so the integer division never sees a
    /// negative numerator, whose rounding toward zero would pick the wrong bucket.
    public func sql(seconds expression: String, lowest: Int64) -> String {
        switch bucket {
        case .whole:
            return "toUInt32(\(fromSeconds))"
        case .fixed:
            guard let (_, step) = fixed else { return expression }
            let base = start(of: lowest)
            return "(\(base) + intDiv(toInt64(\(expression)) - \(base), \(step)) * \(step))"
        case .calendar(let unit):
            let fn = switch unit {
            case .month: "toStartOfMonth"
            case .quarter: "toStartOfQuarter"
            case .year: "toStartOfYear"
            }
            // Dates convert back at UTC midnight; both calls name the zone so the
            // server's own time zone never shifts a boundary.
            return "toUInt32(toDateTime(\(fn)(toDateTime(\(expression)), 'UTC'), 'UTC'))"
        }
    }
}
