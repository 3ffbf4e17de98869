import Ingestor
import Pipeline
import Sinks
import Testing
import TestSupport

/// Pure pieces of the query side-port: timestamps, buckets, the request parser, and the
/// SQL each dialect gets (captured through the public API, no server).
@Suite struct QueryUnitTests {
    @Test func timestampsParseAndFormat() {
        #expect(QueryTime.parse("2024-01-01T00:00:00Z") == 1_704_067_200_000)
        #expect(QueryTime.parse("2024-01-01T00:00:00") == 1_704_067_200_000)
        #expect(QueryTime.parse("2024-01-01 00:00:00.5") == 1_704_067_200_500)
        #expect(QueryTime.parse("2024-01-01T02:00:00.123456+02:00") == 1_704_067_200_123)
        #expect(QueryTime.parse("2024-02-29T23:59:59Z") == 1_709_251_199_000)
        #expect(QueryTime.parse("2024-01-01") == 1_704_067_200_000)
        for bad in ["2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00Zjunk", "1704067200", "", "2024-01-01'--"] {
            #expect(QueryTime.parse(bad) == nil, "\(bad)")
        }
        #expect(QueryTime.format(1_704_067_200_000) == "2024-01-01T00:00:00Z")
        #expect(QueryTime.format(1_704_067_200_120, zone: false) == "2024-01-01T00:00:00.120")
        #expect(QueryTime.format(-1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func bucketsParseOnlyTheirGrammar() {
        for ok in ["1m", "5m", "15m", "1h", "1d", "1w", "7d", "90m", "2h", "3w", "1mo", "1q", "1y", "all"] {
            #expect(TimeBucket(parsing: ok)?.description == ok, "\(ok)")
        }
        for bad in ["", "0h", "01h", "1", "h", "1s", "1.5h", "1h ", "-1h", "1H", "9999999h", "1h); DROP"] {
            #expect(TimeBucket(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func bucketGridsAlign() {
        let from: Int64 = 1_704_067_200_000 + 5_400_000 // 2024-01-01T01:30Z
        let hourly = TimeBucket(parsing: "1h")!.grid(fromMs: from, toMs: from + 10_800_000)
        #expect(hourly.starts(fromMs: from, toMs: from + 10_800_000, limit: 10) == [1_704_070_800, 1_704_074_400, 1_704_078_000, 1_704_081_600])
        let custom = TimeBucket(parsing: "2h")!.grid(fromMs: from, toMs: from + 10_800_000)
        #expect(custom.starts(fromMs: from, toMs: from + 10_800_000, limit: 10) == [1_704_072_600, 1_704_079_800])
        #expect(!custom.isHourAligned)
        // Wednesday 2024-01-03 belongs to the week of Monday 2024-01-01.
        let week = TimeBucket(parsing: "1w")!.grid(fromMs: 0, toMs: 1)
        #expect(week.start(of: 1_704_240_000) == 1_704_067_200)
        let quarter = TimeBucket(parsing: "1q")!.grid(fromMs: 0, toMs: 1)
        #expect(quarter.start(of: 1_715_000_000) == 1_711_929_600) // 2024-05-06 -> 2024-04-01
        #expect(quarter.next(after: 1_711_929_600) == 1_719_792_000) // -> 2024-07-01
        let month = TimeBucket(parsing: "1mo")!.grid(fromMs: 0, toMs: 1)
        #expect(month.previous(before: 1_704_067_200) == 1_701_388_800) // 2024-01-01 -> 2023-12-01
        #expect(month.seconds(at: 1_706_745_600) == 29 * 86400) // February 2024
    }

    @Test func jsonInputIsStrict() throws {
        #expect(try JSONInput.parse(Array(#"{"a":"x\u00e9\ud83d\ude00\n","b":[1,-2.5e3,true,null]}"#.utf8))
            == .object([("a", .string("xé😀\n")), ("b", .array([.number("1"), .number("-2.5e3"), .bool(true), .null]))]))
        for bad in [#"{"a":1,"a":2}"#, #"{"a":1} x"#, "[1,]", #"{"a":"\ud800"}"#, "01", #""\x""#, String(repeating: "[", count: 40) + String(repeating: "]", count: 40)] {
            #expect(throws: JSONInputError.self, "\(bad)") { try JSONInput.parse(Array(bad.utf8)) }
        }
    }

    /// Captures SQL instead of running it.
    final class Capture: QueryRunning {
        let statements = Locked<[String]>([])
        func rows(_ sql: String) async throws(QueryError) -> [[String?]] {
            statements.withLock { $0.append(sql) }
            return []
        }
    }

    func sql(_ dialect: ClickHouseDialect, _ body: String, tenant: String? = nil) async throws -> [String] {
        let datasets = try DatasetCatalogLoader.load(paths: [QueryFixture.presetsDirectory])
        let capture = Capture()
        var config = QueryPortConfiguration()
        config.cacheTTL = .zero
        let api = QueryAPI(service: QueryService(
            catalog: QueryCatalog(datasets: datasets), configuration: config, runner: capture,
            dialects: DialectProvider(fixed: dialect), database: "db"))
        let r = await api.handle(.post("/v1/query", json: body, headers: tenant.map { [("X-Tenant-ID", $0)] } ?? []))
        #expect(r.status == 200, "\(r.text)")
        return capture.statements.withLock { $0 }
    }

    @Test func labelsAndTimesFollowTheDialect() async throws {
        let body = #"{"dataset":"metrics","measures":["count"],"from":"2024-01-01T00:00:00.250Z","to":"2024-01-02T00:00:00Z","filters":{"dimensions.region":"o'k\\"},"group_by":["dimensions.plan"]}"#
        let legacy = try await sql(.legacy, body, tenant: "t'1").joined()
        #expect(legacy.contains(#"`dimensions.value`[indexOf(`dimensions.key`, 'region')] = 'o\'k\\'"#))
        #expect(legacy.contains("`dimensions.value`[indexOf(`dimensions.key`, 'plan')] AS `_g0`"))
        #expect(legacy.contains("(`timestamp` > toDateTime(1704067200) OR `timestamp_ms` >= 250)"))
        #expect(legacy.contains(#"`tenant_id` = 't\'1'"#))
        #expect(legacy.contains("FROM `db`.`metrics`"))
        let modern = try await sql(.modern, body, tenant: "t1").joined()
        #expect(modern.contains(#"`dimensions`['region'] = 'o\'k\\'"#))
        #expect(modern.contains("fromUnixTimestamp64Milli(toInt64(1704067200250), 'UTC')"))
        #expect(!modern.contains("timestamp_ms"))
    }

    @Test func rollupQueriesMergeStatesAndRawQueriesAggregateRows() async throws {
        let body = #"{"dataset":"metrics","measures":["count","p95"],"from":"2024-01-01T00:00:00Z","to":"2024-01-02T00:00:00Z","bucket":"1h"}"#
        let rollup = try await sql(.legacy, body).joined()
        #expect(rollup.contains("FROM `db`.`metrics_hourly`"))
        #expect(rollup.contains("countMerge(`count`)") && rollup.contains("quantilesTDigestMerge(0.5, 0.95, 0.99)(`quantiles`)"))
        let raw = try await sql(.legacy, body.replacingOccurrences(of: "}", with: #","source":"raw"}"#)).joined()
        #expect(raw.contains("FROM `db`.`metrics`") && raw.contains("quantilesTDigest(0.5, 0.95, 0.99)(value)"))
    }
}

