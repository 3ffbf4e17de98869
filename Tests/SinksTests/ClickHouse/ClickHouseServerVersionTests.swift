import Testing

import Sinks

@Suite("ClickHouse server version")
struct ClickHouseServerVersionTests {
    @Test func parsesDebianVersionWithNewline() throws {
        let version = try #require(ClickHouseServerVersion(parsing: "18.16.1\n"))
        #expect(version.components == [18, 16, 1])
        #expect(version.major == 18)
        #expect(version.minor == 16)
        #expect(version.description == "18.16.1")
    }

    @Test func parsesFourComponentVersionAndIgnoresSuffix() throws {
        #expect(try #require(ClickHouseServerVersion(parsing: "24.8.4.13")).components == [24, 8, 4, 13])
        #expect(try #require(ClickHouseServerVersion(parsing: "25.3.1.1-testing")).components == [25, 3, 1, 1])
    }

    @Test(arguments: ["", "abc", "18", "\n", ".1.2"])
    func rejectsTextWithoutMajorAndMinor(text: String) {
        #expect(ClickHouseServerVersion(parsing: text) == nil)
    }

    @Test func comparesNumericallyComponentByComponent() {
        #expect(ClickHouseServerVersion(18, 16, 1) < ClickHouseServerVersion(19, 1))
        #expect(ClickHouseServerVersion(21, 9) < ClickHouseServerVersion(21, 12))
        #expect(ClickHouseServerVersion(22, 2) == ClickHouseServerVersion(22, 2, 0, 0))
        #expect(Set([ClickHouseServerVersion(22, 2), ClickHouseServerVersion(22, 2, 0)]).count == 1)
    }

    @Test func debianServerHasNoneOfTheModernFeatures() {
        let v = ClickHouseServerVersion(18, 16, 1)
        #expect(!v.hasLowCardinality)
        #expect(!v.hasTTL)
        #expect(!v.hasQueryParameters)
        #expect(!v.hasDateTime64)
        #expect(!v.hasExceptionCodeHeader)
        #expect(!v.hasMap)
        #expect(!v.hasBool)
        #expect(!v.hasInsertDeduplicationToken)
    }

    @Test func modernServerHasEveryFeature() {
        let v = ClickHouseServerVersion(24, 8, 4, 13)
        #expect(v.hasLowCardinality && v.hasTTL && v.hasQueryParameters && v.hasDateTime64)
        #expect(v.hasExceptionCodeHeader && v.hasMap && v.hasBool && v.hasInsertDeduplicationToken)
    }

    @Test func featureGatesSwitchAtTheirReleases() {
        #expect(!ClickHouseServerVersion(19, 5).hasTTL && ClickHouseServerVersion(19, 6).hasTTL)
        #expect(!ClickHouseServerVersion(19, 17).hasDateTime64 && ClickHouseServerVersion(20, 1).hasDateTime64)
        #expect(!ClickHouseServerVersion(20, 12).hasMap && ClickHouseServerVersion(21, 1).hasMap)
        #expect(!ClickHouseServerVersion(21, 11).hasBool && ClickHouseServerVersion(21, 12).hasBool)
        #expect(!ClickHouseServerVersion(22, 1).hasInsertDeduplicationToken && ClickHouseServerVersion(22, 2).hasInsertDeduplicationToken)
    }
}
