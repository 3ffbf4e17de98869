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

    /// The dialect of a server version, from the version's feature table.
    public init(version: ClickHouseServerVersion) {
        self.init(
            lowCardinality: version.hasLowCardinality,
            dateTime64: version.hasDateTime64,
            // Map was experimental (behind a setting) until 21.8.
            map: version >= ClickHouseServerVersion(21, 8),
            bool: version.hasBool,
            ttl: version.hasTTL,
            skipIndexes: version >= ClickHouseServerVersion(20, 1),
            queryParameters: version.hasQueryParameters,
            insertDeduplicationToken: version.hasInsertDeduplicationToken
        )
    }

    public init(major: Int, minor: Int) {
        self.init(version: ClickHouseServerVersion(major, minor))
    }

    /// ClickHouse 18.16, the Debian server.
    public static let legacy = ClickHouseDialect(major: 18, minor: 16)
    /// Any current server (24.x to 26.x), and chdb-core.
    public static let modern = ClickHouseDialect(major: 24, minor: 8)
}
