import Testing

import Sinks

@Suite("ClickHouse SQL quoting and TSV parsing")
struct ClickHouseSQLTests {
    @Test func identifiersAreBacktickQuotedWithBackslashEscapes() {
        #expect(ClickHouseSQL.quoteIdentifier("metrics") == "`metrics`")
        #expect(ClickHouseSQL.quoteIdentifier("we`ird") == "`we\\`ird`")
        #expect(ClickHouseSQL.quoteIdentifier("a\\b") == "`a\\\\b`")
        #expect(ClickHouseSQL.quoteIdentifier("d.key") == "`d.key`")
    }

    @Test func insertStatementListsQuotedColumnsAndEndsWithTheFormat() {
        let sql = ClickHouseSQL.insertStatement(database: "db", table: "t", columns: ["a", "s"])
        #expect(sql == "INSERT INTO `db`.`t` (`a`, `s`) FORMAT Native")
    }

    @Test func percentEncodingLeavesOnlyUnreservedCharacters() {
        #expect(ClickHouseSQL.percentEncode("INSERT INTO `db`.`t` (a,b)") == "INSERT%20INTO%20%60db%60.%60t%60%20%28a%2Cb%29")
        #expect(ClickHouseSQL.percentEncode("a+b&c=d;é") == "a%2Bb%26c%3Dd%3B%C3%A9")
    }

    @Test func stringLiteralsEscapeQuotesAndBackslashes() {
        #expect(ClickHouseSQL.quoteString("it's a\\b") == "'it\\'s a\\\\b'")
    }

    @Test func settingNamesAreRestrictedToIdentifiers() {
        #expect(ClickHouseSQL.isValidParameterName("insert_deduplication_token"))
        #expect(!ClickHouseSQL.isValidParameterName("a&b"))
        #expect(!ClickHouseSQL.isValidParameterName("1x"))
        #expect(!ClickHouseSQL.isValidParameterName(""))
    }

    @Test func describeOutputOf18_16IsParsedWithEscapes() throws {
        // Captured from 18.16.1: name, type, default kind, default expression, comment.
        let output = """
            a\tUInt32\t\t\t
            d.key\tArray(String)\t\t\t
            x\tString\tDEFAULT\tconcat(\\'a\\\\tb\\', toString(a))\t
            we`ird\tString\t\t\t
            m\tUInt64\tMATERIALIZED\ta + 1\t
            al\tUInt64\tALIAS\ta * 2\t

            """
        let columns = try ClickHouseColumnDescription.parseDescribeOutput(Array(output.utf8))
        #expect(columns.map(\.name) == ["a", "d.key", "x", "we`ird", "m", "al"])
        #expect(columns[1].type == "Array(String)")
        #expect(columns[0].defaultKind == .none && columns[0].defaultExpression == nil)
        #expect(columns[2].defaultKind == .default)
        #expect(columns[2].defaultExpression == "concat('a\\tb', toString(a))")
        #expect(columns[4].defaultKind == .materialized && !columns[4].defaultKind.isInsertable)
        #expect(columns[5].defaultKind == .alias)
    }

    @Test func describeOutputOfModernServersHasExtraFieldsThatAreIgnored() throws {
        let output = "id\tUInt64\t\t\tthe id\tCODEC(ZSTD(1))\t\nts\tDateTime64(3, \\'UTC\\')\tDEFAULT\tnow64()\t\t\t\n"
        let columns = try ClickHouseColumnDescription.parseDescribeOutput(Array(output.utf8))
        #expect(columns.count == 2)
        #expect(columns[0].comment == "the id")
        #expect(columns[1].type == "DateTime64(3, 'UTC')")
        #expect(columns[1].defaultExpression == "now64()")
    }

    @Test func tabSeparatedUnescapesEverySequence() {
        #expect(TabSeparated.unescape(Array("a\\tb\\nc\\\\d\\'e\\0".utf8)) == "a\tb\nc\\d'e\0")
        #expect(TabSeparated.unescape(Array("plain".utf8)) == "plain")
        #expect(TabSeparated.unescape(Array("\\q".utf8)) == "q")
    }

    @Test func malformedDescribeOutputIsAnError() {
        #expect(throws: ClickHouseError.self) { try ClickHouseColumnDescription.parseDescribeOutput(Array("justaname\n".utf8)) }
    }
}
