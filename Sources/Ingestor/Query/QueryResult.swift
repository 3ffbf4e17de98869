/// The answer to a ``QuerySpec``: one series per group, one point per bucket.
public struct QueryResult: Sendable {
    /// A measure's value in one bucket.
    public enum Value: Sendable, Hashable {
        case number(Double)
        /// Milliseconds since the epoch.
        case time(Int64)
        case text(String)

        public var number: Double? {
            if case .number(let d) = self { return d }
            return nil
        }
    }

    public struct Point: Sendable {
        /// Bucket start, epoch seconds.
        public let start: Int64
        /// Bucket length in seconds (for rates).
        public let seconds: Int64
        /// One per measure of the query, in order; nil is null.
        public let values: [Value?]
        /// The comparison bucket's values, when the query compares.
        public let previous: [Value?]?

        /// `value - previous` of measure `i`, when both are numbers.
        public func delta(_ i: Int) -> Double? {
            guard let p = previous, let cur = values[i]?.number, let prev = p[i]?.number, cur.isFinite, prev.isFinite else { return nil }
            return cur - prev
        }

        /// The change in percent of the previous value; nil when the previous value is 0.
        public func deltaPercent(_ i: Int) -> Double? {
            guard let d = delta(i), let prev = previous?[i]?.number, prev != 0 else { return nil }
            return d / abs(prev) * 100
        }
    }

    public struct Series: Sendable {
        /// One value per `group_by` dimension (canonical text; nil for NULL).
        public let group: [String?]
        public let points: [Point]
    }

    public let dataset: String
    public let source: QuerySource
    public let fromMs: Int64
    public let toMs: Int64
    public let bucket: TimeBucket
    public let measures: [QueryMeasure]
    public let groupBy: [QueryDimension]
    public let compare: QuerySpec.Compare
    public let series: [Series]
}
