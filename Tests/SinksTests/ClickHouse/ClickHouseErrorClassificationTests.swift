import Testing

import Sinks

/// Error bodies as the two server generations write them. The 18.16 samples were
/// captured from the Debian server used by the integration tests.
@Suite("ClickHouse error classification")
struct ClickHouseErrorClassificationTests {
    static let oldUnknownDatabase =
        "Code: 81, e.displayText() = DB::Exception: Database nope doesn't exist, e.what() = DB::Exception\n"
    static let oldBadCast =
        "Code: 368, e.displayText() = DB::Exception: Bad cast from type DB::ColumnVector<unsigned long> to DB::ColumnVector<unsigned int>, e.what() = DB::Exception\n"
    static let oldWrongPassword = "Code: 193, e.displayText() = DB::Exception: Wrong password for user default, e.what() = DB::Exception\n"
    static let oldChecksum =
        "Code: 40, e.displayText() = DB::Exception: Checksum doesn't match: corrupted data. Reference: fa2c7f09abe087aeb5aeb986cad18c8f. Actual: fa2c7f09abe087afb5aeb986cad18c8f. Size of compressed block: 50., e.what() = DB::Exception\n"
    static let modernUnknownTable =
        "Code: 60. DB::Exception: Table default.nope does not exist. (UNKNOWN_TABLE) (version 24.8.4.13 (official build))\n"
    static let modernTooManyParts =
        "Code: 252. DB::Exception: Too many parts (300 with average size of 1.00 KiB) in table 'db.t' (of 'MergeTree' type). Merges are processing significantly slower than inserts. (TOO_MANY_PARTS) (version 24.8.4.13 (official build))\n"
    static let modernCannotParse =
        "Code: 27. DB::Exception: Cannot parse input: expected '\\t' before: 'x': (at row 1)\n: While executing ParallelParsingBlockInputFormat. (CANNOT_PARSE_INPUT_ASSERTION_FAILED) (version 23.8.1.1 (official build))"

    private func classify(_ status: Int, header: String? = nil, _ body: String) -> ClickHouseError? {
        ClickHouseError.fromResponse(status: status, exceptionCodeHeader: header, body: Array(body.utf8))
    }

    @Test func emptyOKResponseIsSuccess() {
        #expect(classify(200, "") == nil)
        #expect(classify(200, "1\tx\n") == nil)
    }

    @Test func oldServerUnknownDatabaseIsConfigurationWithCodeFromBody() throws {
        let error = try #require(classify(404, Self.oldUnknownDatabase))
        #expect(error.kind == .configuration)
        #expect(error.code == 81)
        #expect(error.httpStatus == 404)
        #expect(!error.isRetryable)
        #expect(error.codeName == nil)
        #expect(error.message.hasPrefix("Code: 81, e.displayText() = DB::Exception: Database nope doesn't exist"))
        #expect(!error.message.hasSuffix("\n"))
    }

    @Test func oldServerWrongColumnTypeIsNonRetryableDataError() throws {
        let error = try #require(classify(500, Self.oldBadCast))
        #expect(error.kind == .data)
        #expect(error.code == 368)
        #expect(!error.isRetryable)
    }

    @Test func oldServerWrongPasswordNeedsAnOperator() throws {
        let error = try #require(classify(401, Self.oldWrongPassword))
        #expect(error.kind == .configuration)
        #expect(error.code == 193)
    }

    @Test func checksumMismatchIsRetryableBecauseTheBodyWasCorruptedInTransit() throws {
        let error = try #require(classify(500, Self.oldChecksum))
        #expect(error.kind == .server)
        #expect(error.code == 40)
        #expect(error.isRetryable)
    }

    @Test func modernServerCodeComesFromHeaderAndNameFromBody() throws {
        let error = try #require(classify(404, header: "60", Self.modernUnknownTable))
        #expect(error.kind == .configuration)
        #expect(error.code == 60)
        #expect(error.codeName == "UNKNOWN_TABLE")
        #expect(error.message.contains("Table default.nope does not exist"))
    }

    @Test func tooManyPartsIsRetryableEvenThoughItIsA500WithADataLikeMessage() throws {
        let error = try #require(classify(500, header: "252", Self.modernTooManyParts))
        #expect(error.kind == .server)
        #expect(error.code == 252)
        #expect(error.codeName == "TOO_MANY_PARTS")
        #expect(error.isRetryable)
    }

    @Test func modernParseErrorIsDataError() throws {
        let error = try #require(classify(400, header: "27", Self.modernCannotParse))
        #expect(error.kind == .data)
        #expect(error.codeName == "CANNOT_PARSE_INPUT_ASSERTION_FAILED")
    }

    @Test func okStatusWithExceptionHeaderIsAnError() throws {
        // ClickHouse 23.x-24.8 could send 200 together with the exception header.
        let error = try #require(classify(200, header: "252", Self.modernTooManyParts))
        #expect(error.code == 252)
        #expect(error.kind == .server)
    }

    @Test func okStatusWithExceptionBodyIsAnErrorOnBothGenerations() throws {
        let old = try #require(classify(200, Self.oldBadCast))
        #expect(old.kind == .data)
        let modern = try #require(classify(200, Self.modernCannotParse))
        #expect(modern.code == 27)
    }

    @Test func headerCodeWinsOverBodyCode() throws {
        let error = try #require(classify(500, header: "241", "Code: 60. DB::Exception: whatever"))
        #expect(error.code == 241)
        #expect(error.kind == .server)
    }

    @Test func bodyWithoutCodeFallsBackToTheStatus() throws {
        #expect(try #require(classify(502, "<html>Bad Gateway</html>")).kind == .server)
        #expect(try #require(classify(403, "forbidden")).kind == .configuration)
        #expect(try #require(classify(400, "")).kind == .invalidRequest)
        #expect(try #require(classify(408, "")).isRetryable)
        #expect(try #require(classify(500, "")).message == "HTTP 500 with an empty body")
    }

    @Test func resultThatMerelyMentionsCodeIsNotAnError() {
        #expect(classify(200, "Code: is a column\n") == nil)
        #expect(classify(200, "Codes: 1\n") == nil)
    }

    @Test(arguments: [6, 27, 33, 38, 41, 53, 69, 70, 72, 117, 131, 190, 246, 368])
    func dataCodesAreNotRetryable(code: Int) {
        #expect(ClickHouseError.kind(forExceptionCode: code, httpStatus: 500) == .data)
    }

    @Test(arguments: [192, 193, 194, 516, 60, 81, 497])
    func authenticationAndMissingObjectsNeedAnOperator(code: Int) {
        #expect(ClickHouseError.kind(forExceptionCode: code, httpStatus: 500) == .configuration)
    }

    @Test(arguments: [40, 159, 202, 209, 210, 241, 252])
    func transientServerConditionsAreRetryable(code: Int) {
        let kind = ClickHouseError.kind(forExceptionCode: code, httpStatus: 400)
        #expect(kind == .server)
    }

    @Test func unknownCodeOnOldServerIsRetriedAsA500() {
        #expect(ClickHouseError.kind(forExceptionCode: 9999, httpStatus: 500) == .server)
        #expect(ClickHouseError.kind(forExceptionCode: 62, httpStatus: 400) == .invalidRequest)
    }

    @Test func longMessagesAreCapped() throws {
        let body = "Code: 117, e.displayText() = DB::Exception: " + String(repeating: "x", count: 10_000)
        let error = try #require(classify(500, body))
        #expect(error.message.count <= 4100)
        #expect(error.code == 117)
    }

    @Test func descriptionSaysWhetherToRetry() throws {
        let error = try #require(classify(404, header: "60", Self.modernUnknownTable))
        #expect(error.description.contains("not retryable"))
        #expect(error.description.contains("code 60 UNKNOWN_TABLE"))
    }
}
