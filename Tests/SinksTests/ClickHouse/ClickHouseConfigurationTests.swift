import Testing

import Sinks

@Suite("ClickHouse configuration")
struct ClickHouseConfigurationTests {
    private func failingKey(_ change: (inout ClickHouseConfiguration) -> Void) -> String? {
        var configuration = ClickHouseConfiguration()
        change(&configuration)
        do {
            try configuration.validate()
            return nil
        } catch {
            return error.key
        }
    }

    @Test func defaultsAreValid() throws {
        try ClickHouseConfiguration().validate()
        #expect(ClickHouseConfiguration().maxConnections == 4)
    }

    @Test func errorsNameTheKey() {
        #expect(failingKey { $0.url = "ftp://x" } == "clickhouse.url")
        #expect(failingKey { $0.url = "http://" } == "clickhouse.url")
        #expect(failingKey { $0.url = "http://h:99999" } == "clickhouse.url")
        #expect(failingKey { $0.url = "http://h:8123/?x=1" } == "clickhouse.url")
        #expect(failingKey { $0.database = "" } == "clickhouse.database")
        #expect(failingKey { $0.user = "a\r\nX-Injected: 1" } == "clickhouse.user")
        #expect(failingKey { $0.password = "p\n" } == "clickhouse.password")
        #expect(failingKey { $0.connectTimeout = .zero } == "clickhouse.connect_timeout")
        #expect(failingKey { $0.requestTimeout = .seconds(-1) } == "clickhouse.request_timeout")
        #expect(failingKey { $0.maxConnections = 0 } == "clickhouse.max_connections")
        #expect(failingKey { $0.maxQueuedRequests = 0 } == "clickhouse.max_queued_requests")
    }

    @Test func urlVariantsThatWork() throws {
        for url in ["http://127.0.0.1:8123", "https://ch.example:8443/", "http://[::1]:8123", "http://user@host"] {
            var configuration = ClickHouseConfiguration()
            configuration.url = url
            try configuration.validate()
        }
        var configuration = ClickHouseConfiguration()
        configuration.url = "http://h:8123///"
        #expect(try configuration.validatedBaseURL() == "http://h:8123")
    }

    @Test func compressionParsesCaseInsensitivelyAndNamesTheKey() throws {
        #expect(try ClickHouseConfiguration.Compression(parsing: "ZSTD") == .zstd)
        #expect(throws: ClickHouseConfigurationError.self) { try ClickHouseConfiguration.Compression(parsing: "gzip") }
        do {
            _ = try ClickHouseConfiguration.Compression(parsing: "gzip")
        } catch {
            #expect(error.key == "clickhouse.compression")
            #expect(error.description.contains("lz4, zstd, none"))
        }
    }
}
