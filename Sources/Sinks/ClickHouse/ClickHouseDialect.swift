/// What the target server's SQL and types allow, as far as Sluice's DDL and queries care.
///
/// Sluice runs against Debian's ClickHouse 18.16 and against current releases. Rather
/// than scatter version checks, the migrator and the query builder ask a dialect.
public struct ClickHouseDialect: Sendable, Hashable {
    /// `LowCardinality(T)` without an experimental flag (19.x on; experimental in 18.x).
    public var lowCardinality: Bool
    /// `DateTime64(p)` (20.1 on).
    public var dateTime64: Bool
    /// `Map(K, V)` (21.1 on; experimental before 21.8).
    public var map: Bool
    /// `Bool` (21.12 on).
    public var bool: Bool
    /// Table `TTL` (19.6 on).
    public var ttl: Bool
    /// Data-skipping indexes such as `bloom_filter` (20.1 on without a flag).
    public var skipIndexes: Bool
    /// `{name:Type}` query parameters (19.12 on).
    public var queryParameters: Bool
    /// `insert_deduplication_token` (22.2 on).
    public var insertDeduplicationToken: Bool

    public init(
        lowCardinality: Bool, dateTime64: Bool, map: Bool, bool: Bool, ttl: Bool,
        skipIndexes: Bool, queryParameters: Bool, insertDeduplicationToken: Bool
    ) {
        self.lowCardinality = lowCardinality
        self.dateTime64 = dateTime64
        self.map = map
        self.bool = bool
        self.ttl = ttl
        self.skipIndexes = skipIndexes
        self.queryParameters = queryParameters
        self.insertDeduplicationToken = insertDeduplicationToken
    }

    /// The dialect of a server version `major.minor`.
    public init(major: Int, minor: Int) {
        func atLeast(_ m: Int, _ n: Int) -> Bool { major > m || (major == m && minor >= n) }
        self.init(
            lowCardinality: atLeast(19, 0),
            dateTime64: atLeast(20, 1),
            map: atLeast(21, 8),
            bool: atLeast(21, 12),
            ttl: atLeast(19, 6),
            skipIndexes: atLeast(20, 1),
            queryParameters: atLeast(19, 12),
            insertDeduplicationToken: atLeast(22, 2)
        )
    }

    /// ClickHouse 18.16, the Debian server.
    public static let legacy = ClickHouseDialect(major: 18, minor: 16)
    /// Any current server (24.x to 26.x), and chdb-core.
    public static let modern = ClickHouseDialect(major: 24, minor: 8)
}
