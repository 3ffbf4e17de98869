/// A ClickHouse server version such as `18.16.1` or `24.8.4.13`, with the feature gates
/// Sluice's migrations and encoder need.
///
/// Sluice runs against Debian's 18.16 and against current releases; rather than guess,
/// it asks the server (`SELECT version()`) and picks DDL and column types from these
/// flags. Versions compare component by component, missing components counting as 0.
public struct ClickHouseServerVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The numeric components, most significant first (at least major and minor).
    public let components: [Int]

    /// Builds a version from its components; at least two are required.
    public init(_ major: Int, _ minor: Int, _ rest: Int...) {
        self.components = [major, minor] + rest
    }

    /// Parses `SELECT version()` output: dot-separated integers, optionally followed by
    /// a suffix (`-testing`, ` (official build)`) or a newline, which are ignored.
    /// Returns nil unless there are at least two numeric components.
    public init?(parsing text: String) {
        let trimmed = text.trimmingASCIIWhitespace()
        let numeric = trimmed.prefix(while: { $0 == "." || ($0.isASCII && $0.isNumber) })
        let parts = numeric.split(separator: ".", omittingEmptySubsequences: false)
        var values: [Int] = []
        for part in parts {
            guard let value = Int(part), value >= 0 else { break }
            values.append(value)
        }
        guard values.count >= 2 else { return nil }
        self.components = values
    }

    public var major: Int { components[0] }
    public var minor: Int { components[1] }

    public var description: String { components.map(String.init).joined(separator: ".") }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        let count = Swift.max(lhs.components.count, rhs.components.count)
        for i in 0..<count {
            let l = i < lhs.components.count ? lhs.components[i] : 0
            let r = i < rhs.components.count ? rhs.components[i] : 0
            if l != r { return l < r }
        }
        return false
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { !(lhs < rhs) && !(rhs < lhs) }

    public func hash(into hasher: inout Hasher) {
        var trimmed = components
        while trimmed.count > 2, trimmed.last == 0 { trimmed.removeLast() }
        hasher.combine(trimmed)
    }

    private func atLeast(_ major: Int, _ minor: Int) -> Bool { self >= ClickHouseServerVersion(major, minor) }

    /// `LowCardinality(T)` columns without the experimental flag (19.0). On 18.x the type
    /// exists only behind `allow_experimental_low_cardinality_type`; send the plain type.
    public var hasLowCardinality: Bool { atLeast(19, 0) }
    /// `ALTER`/`CREATE TABLE ... TTL` (19.6); older servers retain data by dropping partitions.
    public var hasTTL: Bool { atLeast(19, 6) }
    /// `{name:Type}` placeholders with `param_<name>` URL arguments. 18.16 rejects them
    /// with `Unknown setting param_x` (measured); 19.11 is the first release clients
    /// rely on for them.
    public var hasQueryParameters: Bool { atLeast(19, 11) }
    /// `DateTime64(p)` (20.1).
    public var hasDateTime64: Bool { atLeast(20, 1) }
    /// The `X-ClickHouse-Exception-Code` response header (20.1).
    public var hasExceptionCodeHeader: Bool { atLeast(20, 1) }
    /// `Map(K, V)` (21.1). Early 21.x releases need `allow_experimental_map_type=1`;
    /// later ones keep that setting as obsolete, so passing it is harmless.
    public var hasMap: Bool { atLeast(21, 1) }
    /// The `Bool` type (21.12); older servers use `UInt8`.
    public var hasBool: Bool { atLeast(21, 12) }
    /// The `insert_deduplication_token` setting (22.2).
    public var hasInsertDeduplicationToken: Bool { atLeast(22, 2) }
}
