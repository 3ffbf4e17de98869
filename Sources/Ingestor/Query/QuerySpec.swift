/// A validated, normalized query: every name in it has been checked against the
/// ``QueryCatalog``, every value against its dimension's type, and every limit against
/// the configuration. All APIs (`/v1/query` and the seed-compatible routes) build one of
/// these and hand it to ``QueryService``; its ``cacheKey`` identifies the result.
public struct QuerySpec: Sendable, Hashable {
    /// Equality (`values.count == 1`) or `IN` on one dimension.
    public struct Filter: Sendable, Hashable {
        public var dimension: String
        /// Canonical text of each value, already checked against the dimension's type.
        public var values: [String]
        public init(dimension: String, values: [String]) {
            self.dimension = dimension
            self.values = values
        }
    }

    /// Keep only the `n` groups ranked first by `measure` over the whole range.
    public struct TopK: Sendable, Hashable {
        public var n: Int
        public var measure: String
        /// Rank smallest first instead of largest first.
        public var ascending: Bool
        public init(n: Int, measure: String, ascending: Bool = false) {
            self.n = n
            self.measure = measure
            self.ascending = ascending
        }
    }

    public enum GapFill: String, Sendable, Hashable {
        /// Only buckets that have rows.
        case none
        /// Every bucket of the range; missing ones get 0 (numbers) or null (times, text).
        case zero
        /// Every bucket of the range; missing ones get null.
        case null
    }

    public enum Compare: String, Sendable, Hashable {
        case none
        /// Each bucket against the same bucket of the period just before the range (the
        /// range shifted back by its own length).
        case previousPeriod = "previous_period"
        /// Each bucket against the bucket just before it (seed 000's `return_delta`).
        case previousBucket = "previous_bucket"
    }

    public enum SourcePreference: String, Sendable, Hashable {
        /// The rollup when it can answer exactly, the raw table otherwise.
        case auto
        case raw
        /// The rollup, or a `400` naming what prevents it.
        case rollup
    }

    public var dataset: String
    public var measures: [String]
    /// Range start (inclusive) and end (exclusive), milliseconds since the epoch.
    public var fromMs: Int64
    public var toMs: Int64
    public var bucket: TimeBucket
    public var filters: [Filter]
    public var groupBy: [String]
    public var topK: TopK?
    public var fill: GapFill
    public var compare: Compare
    public var source: SourcePreference

    public init(
        dataset: String, measures: [String], fromMs: Int64, toMs: Int64, bucket: TimeBucket = .whole,
        filters: [Filter] = [], groupBy: [String] = [], topK: TopK? = nil, fill: GapFill = .none,
        compare: Compare = .none, source: SourcePreference = .auto
    ) {
        self.dataset = dataset
        self.measures = measures
        self.fromMs = fromMs
        self.toMs = toMs
        self.bucket = bucket
        self.filters = filters
        self.groupBy = groupBy
        self.topK = topK
        self.fill = fill
        self.compare = compare
        self.source = source
    }

    /// A text that is equal for queries that must return the same rows: filters are
    /// sorted by dimension and their values sorted, so `{"a":1,"b":2}` and
    /// `{"b":2,"a":1}` share a cache entry. Measures and groups keep their order because
    /// the response does.
    public var cacheKey: String {
        let f = filters.sorted { $0.dimension < $1.dimension }
            .map { "\($0.dimension)=\($0.values.sorted().joined(separator: "\u{1}"))" }.joined(separator: "\u{2}")
        let k = topK.map { "\($0.n):\($0.measure):\($0.ascending)" } ?? "-"
        return [dataset, measures.joined(separator: ","), "\(fromMs)", "\(toMs)", bucket.description, f,
                groupBy.joined(separator: ","), k, fill.rawValue, compare.rawValue, source.rawValue].joined(separator: "\u{3}")
    }
}
