public import Logging
public import Sinks

/// Answers ``QuerySpec``s: checks limits, picks the rollup or the raw table, runs the
/// SQL (and the comparison SQL) with the configured timeout, fills gaps, and caches the
/// result for `query.cache_ttl`.
///
/// Every public entry point takes a ``QueryScope``; the scope's tenant is applied to every
/// statement and is part of every cache key, so one tenant never sees another's rows,
/// fresh or cached.
public final class QueryService: Sendable {
    public let catalog: QueryCatalog
    public let configuration: QueryPortConfiguration
    public let runner: any QueryRunning
    public let dialects: DialectProvider
    public let database: String
    let results: ResultCache<QueryResult>
    let rowCache: ResultCache<[[String?]]>
    let logger: Logger

    public init(
        catalog: QueryCatalog, configuration: QueryPortConfiguration, runner: any QueryRunning, dialects: DialectProvider,
        database: String, logger: Logger = Logger(label: "sluice.query")
    ) {
        self.catalog = catalog
        self.configuration = configuration
        self.runner = runner
        self.dialects = dialects
        self.database = database
        self.results = ResultCache(ttl: configuration.cacheTTL, capacity: configuration.cacheEntries)
        self.rowCache = ResultCache(ttl: configuration.cacheTTL, capacity: configuration.cacheEntries)
        self.logger = logger
    }

    /// The production wiring: an executor over `transport`, the dialect read lazily.
    public convenience init(
        catalog: QueryCatalog, configuration: QueryPortConfiguration, transport: ClickHouseHTTPTransport,
        logger: Logger = Logger(label: "sluice.query")
    ) {
        self.init(
            catalog: catalog, configuration: configuration,
            runner: QueryExecutor(transport: transport, timeout: configuration.timeout),
            dialects: DialectProvider(transport: transport), database: transport.configuration.database, logger: logger)
    }

    var maxRows: Int { configuration.maxRows }

    func dataset(_ name: String, parameter: String = "dataset") throws(QueryError) -> QueryDataset {
        guard let d = catalog.dataset(named: name) else { throw QueryError.invalid(parameter, "unknown dataset '\(name)'") }
        return d
    }

    func builder(_ dataset: QueryDataset, scope: QueryScope) async throws(QueryError) -> QuerySQLBuilder {
        QuerySQLBuilder(dataset: dataset, dialect: try await dialects.dialect(), database: database, scope: scope)
    }

    /// Checks the range against `query.max_range`.
    func checkRange(fromMs: Int64, toMs: Int64, fromName: String = "from", toName: String = "to") throws(QueryError) {
        guard toMs > fromMs else { throw QueryError.invalid(toName, "'\(toName)' must be after '\(fromName)'") }
        let maxMs = Int64(configuration.maxRange.components.seconds) * 1000
        guard toMs - fromMs <= maxMs else {
            throw QueryError.limit("query.max_range", "the time range is longer than query.max_range (\(configuration.maxRange))", parameter: fromName)
        }
    }

    func rowLimitError() -> QueryError {
        QueryError.limit("query.max_rows", "the result has more than query.max_rows (\(maxRows)) rows; narrow the range, use a wider bucket or fewer groups")
    }

    // MARK: Queries

    /// Runs (or answers from cache) a validated query.
    public func run(_ spec: QuerySpec, scope: QueryScope) async throws(QueryError) -> QueryResult {
        let key = "q\u{0}\(scope.tenant ?? "\u{0}*")\u{0}\(spec.cacheKey)"
        if let hit = results.value(for: key) { return hit }
        let result = try await compute(spec, scope: scope)
        results.store(result, for: key)
        return result
    }

    /// Runs (or answers from cache) one catalog-built statement, keyed by the statement
    /// itself and the tenant (the statement already contains the tenant condition).
    func cachedRows(_ sql: String, scope: QueryScope) async throws(QueryError) -> [[String?]] {
        let key = "r\u{0}\(scope.tenant ?? "\u{0}*")\u{0}\(sql)"
        if let hit = rowCache.value(for: key) { return hit }
        let rows = try await runner.rows(sql)
        rowCache.store(rows, for: key)
        return rows
    }

    private func compute(_ spec: QuerySpec, scope: QueryScope) async throws(QueryError) -> QueryResult {
        let dataset = try dataset(spec.dataset)
        try checkRange(fromMs: spec.fromMs, toMs: spec.toMs)
        guard !spec.measures.isEmpty else { throw QueryError.invalid("measures", "at least one measure is required") }
        if let k = spec.topK {
            guard !spec.groupBy.isEmpty else { throw QueryError.invalid("top_k", "top_k needs group_by") }
            guard (1...maxRows).contains(k.n) else { throw QueryError.invalid("top_k.n", "top_k.n must be between 1 and query.max_rows (\(maxRows))") }
        }
        let builder = try await builder(dataset, scope: scope)
        let measures = try builder.measures(spec)
        let layout = try builder.layout(spec)
        let grid = spec.bucket.grid(fromMs: spec.fromMs, toMs: spec.toMs)

        let source: QuerySource
        let obstacle = builder.rollupObstacle(spec, grid: grid)
        switch spec.source {
        case .auto: source = obstacle == nil ? .rollup : .raw
        case .raw: source = .raw
        case .rollup:
            if let obstacle { throw QueryError.invalid(obstacle.parameter, "the rollup cannot answer this query: \(obstacle.reason)") }
            source = .rollup
        }

        var compare = spec.compare
        if case .whole = spec.bucket, compare == .previousBucket { compare = .previousPeriod }
        if case .calendar = spec.bucket, compare == .previousPeriod {
            throw QueryError.invalid("compare", "previous_period needs a fixed-width bucket; use previous_bucket with calendar buckets")
        }

        let fromSeconds = QueryTime.floorDivMod(spec.fromMs, 1000).0
        let firstStart = grid.start(of: fromSeconds)
        var starts: [Int64] = []
        if spec.fill != .none {
            starts = grid.starts(fromMs: spec.fromMs, toMs: spec.toMs, limit: maxRows)
            guard starts.count <= maxRows else { throw rowLimitError() }
        }

        // previous_bucket: one query that also reads the bucket before the first one.
        var queryFrom = spec.fromMs
        if compare == .previousBucket { queryFrom = min(spec.fromMs, grid.previous(before: firstStart) * 1000) }
        let mainSQL = try builder.select(
            spec, source: source, grid: grid, fromMs: queryFrom, toMs: spec.toMs,
            rankFromMs: spec.fromMs, rankToMs: spec.toMs, limit: compare == .previousBucket ? 2 * maxRows + 1 : maxRows + 1)

        // previous_period: the same query on the range shifted back by its length, on a
        // grid shifted by exactly that much, so bucket i compares with bucket i.
        let span = spec.toMs - spec.fromMs
        var previousSQL: String?
        var shiftSeconds: Int64 = 0
        if compare == .previousPeriod {
            shiftSeconds = span / 1000
            let shifted: BucketGrid
            switch spec.bucket {
            case .fixed(let step, let anchor, let label):
                let origin = anchor ?? fromSeconds
                shifted = TimeBucket.fixed(seconds: step, anchor: origin - shiftSeconds, label: label).grid(fromMs: spec.fromMs - span, toMs: spec.toMs - span)
            default:
                shifted = spec.bucket.grid(fromMs: spec.fromMs - span, toMs: spec.toMs - span)
            }
            guard span % 1000 == 0 else { throw QueryError.invalid("to", "compare needs a range of whole seconds") }
            previousSQL = try builder.select(
                spec, source: source, grid: shifted, fromMs: spec.fromMs - span, toMs: spec.toMs - span,
                rankFromMs: spec.fromMs, rankToMs: spec.toMs, limit: maxRows + 1)
        }

        let runner = self.runner
        async let mainRows = Self.capture { () async throws(QueryError) in try await runner.rows(mainSQL) }
        async let previousRows = Self.capture { () async throws(QueryError) -> [[String?]] in
            guard let previousSQL else { return [] }
            return try await runner.rows(previousSQL)
        }
        let current = try await mainRows.get()
        let previous = try await previousRows.get()

        let parsed = try Self.parse(current, layout: layout)
        let currentCount = parsed.filter { $0.bucket >= firstStart }.count
        guard currentCount <= maxRows else { throw rowLimitError() }
        let previousParsed = try Self.parse(previous, layout: layout)
        guard previousParsed.count <= maxRows else { throw rowLimitError() }

        // Rows arrive ordered by group, then bucket: series keep ClickHouse's group order.
        var order: [[String?]] = []
        var seen = Set<[String?]>()
        var byGroup: [[String?]: [Int64: [BaseValue]]] = [:]
        for r in parsed {
            byGroup[r.group, default: [:]][r.bucket] = r.values
            if r.bucket >= firstStart, seen.insert(r.group).inserted { order.append(r.group) }
        }
        var previousByGroup: [[String?]: [Int64: [BaseValue]]] = [:]
        for r in previousParsed { previousByGroup[r.group, default: [:]][r.bucket] = r.values }
        if spec.fill != .none, order.isEmpty, spec.groupBy.isEmpty { order = [[]] }
        guard order.count * max(1, starts.count) <= maxRows || spec.fill == .none else { throw rowLimitError() }

        var series: [QueryResult.Series] = []
        for group in order {
            let rows = byGroup[group] ?? [:]
            let buckets = spec.fill == .none ? rows.keys.filter { $0 >= firstStart }.sorted() : starts
            var points: [QueryResult.Point] = []
            points.reserveCapacity(buckets.count)
            for b in buckets {
                let values = rows[b].map { Self.values(measures, layout: layout, bases: $0) } ?? Self.filler(measures, spec.fill)
                var prev: [QueryResult.Value?]?
                switch compare {
                case .none: prev = nil
                case .previousBucket:
                    prev = rows[grid.previous(before: b)].map { Self.values(measures, layout: layout, bases: $0) }
                        ?? Self.filler(measures, spec.fill)
                case .previousPeriod:
                    prev = previousByGroup[group]?[b - shiftSeconds].map { Self.values(measures, layout: layout, bases: $0) }
                        ?? Self.filler(measures, spec.fill)
                }
                points.append(QueryResult.Point(start: b, seconds: grid.seconds(at: b), values: values, previous: prev))
            }
            series.append(QueryResult.Series(group: group, points: points))
        }
        logger.debug("query", metadata: ["dataset": "\(spec.dataset)", "source": "\(source.rawValue)", "rows": "\(parsed.count)"])
        return QueryResult(
            dataset: dataset.name, source: source, fromMs: spec.fromMs, toMs: spec.toMs, bucket: spec.bucket,
            measures: measures, groupBy: layout.groups, compare: compare, series: series)
    }

    static func capture<T: Sendable>(_ body: () async throws(QueryError) -> T) async -> Result<T, QueryError> {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    // MARK: Rows to values

    enum BaseValue: Sendable, Hashable {
        case number(Double?)
        case array([Double?])
        case text(String?)
    }

    struct ParsedRow {
        var bucket: Int64
        var group: [String?]
        var values: [BaseValue]
    }

    static func parse(_ rows: [[String?]], layout: QuerySQLBuilder.Layout) throws(QueryError) -> [ParsedRow] {
        let width = 1 + layout.groups.count + layout.bases.count
        var out: [ParsedRow] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            guard row.count == width, let b = row[0].flatMap({ Int64($0) }) else {
                throw QueryError(kind: .upstream, message: "unexpected result shape from ClickHouse")
            }
            let group = Array(row[1..<1 + layout.groups.count])
            var values: [BaseValue] = []
            for (i, base) in layout.bases.enumerated() {
                let cell = row[1 + layout.groups.count + i]
                switch base {
                case .rollup, .fieldQuantiles, .field(_, .p50), .field(_, .p95), .field(_, .p99):
                    if let array = TabSeparated.numberArray(cell) {
                        values.append(.array(array))
                    } else {
                        values.append(.number(TabSeparated.number(cell)))
                    }
                case .field(_, .any):
                    values.append(.text(cell))
                default:
                    values.append(.number(TabSeparated.number(cell)))
                }
            }
            out.append(ParsedRow(bucket: b, group: group, values: values))
        }
        return out
    }

    static func values(_ measures: [QueryMeasure], layout: QuerySQLBuilder.Layout, bases: [BaseValue]) -> [QueryResult.Value?] {
        func base(_ b: BaseAggregate) -> BaseValue? { layout.bases.firstIndex(of: b).map { bases[$0] } }
        func number(_ v: BaseValue?) -> Double? {
            if case .number(let d)? = v { return d }
            return nil
        }
        func element(_ v: BaseValue?, _ level: Int) -> Double? {
            if case .array(let a)? = v, level >= 1, level <= a.count { return a[level - 1] }
            return nil
        }
        return measures.map { m -> QueryResult.Value? in
            switch m.kind {
            case .rollup(_, let level?):
                return element(base(m.bases[0]), level).map { .number($0) }
            case .rollup:
                return number(base(m.bases[0])).map { .number($0) }
            case .ratio:
                guard let n = number(base(m.bases[0])), let d = number(base(m.bases[1])), d != 0 else { return nil }
                return .number(n / d)
            case .field(_, let agg):
                switch agg {
                case .p50: return element(base(m.bases[0]), 1).map { .number($0) }
                case .p95: return element(base(m.bases[0]), 2).map { .number($0) }
                case .p99: return element(base(m.bases[0]), 3).map { .number($0) }
                case .first, .last: return number(base(m.bases[0])).map { .time(Int64($0)) }
                case .any:
                    if case .text(let s)? = base(m.bases[0]) { return s.map { .text($0) } }
                    return nil
                default: return number(base(m.bases[0])).map { .number($0) }
                }
            }
        }
    }

    static func filler(_ measures: [QueryMeasure], _ fill: QuerySpec.GapFill) -> [QueryResult.Value?] {
        measures.map { m in fill == .zero && m.valueType == .number ? .number(0) : nil }
    }
}
