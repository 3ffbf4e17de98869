/// Turning HTTP responses into ``ClickHouseError`` values.
///
/// Pure functions, so every server generation's error format can be unit-tested without
/// a server: 18.x writes `Code: 60, e.displayText() = DB::Exception: ..., e.what() = ...`
/// and no exception header; 20.1+ writes `Code: 60. DB::Exception: ... (UNKNOWN_TABLE)
/// (version ...)` and sets `X-ClickHouse-Exception-Code`.
extension ClickHouseError {
    /// Exception codes that mean the rows or the Native stream are wrong.
    ///
    /// 368 (BAD_CAST) is here because 18.16 reports a Native column whose declared type
    /// differs from the table's (e.g. `UInt64` for a `UInt32` column) that way, measured.
    static let dataCodes: Set<Int> = [
        6,    // CANNOT_PARSE_TEXT
        8,    // THERE_IS_NO_COLUMN (a listed column missing from the block)
        15,   // DUPLICATE_COLUMN
        19,   // SIZE_OF_FIXED_STRING_DOESNT_MATCH
        20,   // NUMBER_OF_COLUMNS_DOESNT_MATCH
        26,   // CANNOT_PARSE_QUOTED_STRING
        27,   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
        32,   // ATTEMPT_TO_READ_AFTER_EOF
        33,   // CANNOT_READ_ALL_DATA (truncated or malformed Native block)
        38,   // CANNOT_PARSE_DATE
        41,   // CANNOT_PARSE_DATETIME
        44,   // ILLEGAL_COLUMN
        53,   // TYPE_MISMATCH
        69,   // ARGUMENT_OUT_OF_BOUND
        70,   // CANNOT_CONVERT_TYPE
        72,   // CANNOT_PARSE_NUMBER
        117,  // INCORRECT_DATA
        131,  // TOO_LARGE_STRING_SIZE
        190,  // SIZES_OF_ARRAYS_DOESNT_MATCH (Nested columns of unequal lengths)
        246,  // CORRUPTED_DATA
        321,  // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        349,  // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
        368,  // BAD_CAST
        395,  // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (a throwIf in a materialized view)
    ]

    /// Exception codes that need an operator: credentials, permissions, missing objects,
    /// or a schema the server cannot hold.
    static let configurationCodes: Set<Int> = [
        16,   // NO_SUCH_COLUMN_IN_TABLE: the dataset and the table disagree; run migrations
        50,   // UNKNOWN_TYPE: the schema uses a type this server version lacks
        60,   // UNKNOWN_TABLE
        73,   // UNKNOWN_FORMAT
        81,   // UNKNOWN_DATABASE
        115,  // UNKNOWN_SETTING
        164,  // READONLY
        192,  // UNKNOWN_USER
        193,  // WRONG_PASSWORD
        194,  // REQUIRED_PASSWORD
        195,  // IP_ADDRESS_NOT_ALLOWED
        291,  // DATABASE_ACCESS_DENIED
        452,  // SETTING_CONSTRAINT_VIOLATION
        497,  // ACCESS_DENIED
        511,  // UNKNOWN_ROLE
        512,  // SET_NON_GRANTED_ROLE
        516,  // AUTHENTICATION_FAILED
    ]

    /// Exception codes that mean the statement itself is wrong.
    static let invalidRequestCodes: Set<Int> = [
        36,   // BAD_ARGUMENTS
        42,   // NUMBER_OF_ARGUMENTS_DOESNT_MATCH
        43,   // ILLEGAL_TYPE_OF_ARGUMENT
        46,   // UNKNOWN_FUNCTION
        47,   // UNKNOWN_IDENTIFIER
        48,   // NOT_IMPLEMENTED
        57,   // TABLE_ALREADY_EXISTS
        62,   // SYNTAX_ERROR
        82,   // DATABASE_ALREADY_EXISTS
    ]

    /// Exception codes that are transient however the server maps them to a status.
    ///
    /// 252 TOO_MANY_PARTS heals once merges catch up; 40 CHECKSUM_DOESNT_MATCH means the
    /// body was corrupted on the way, and a resend carries intact bytes.
    static let transientCodes: Set<Int> = [
        3,    // UNEXPECTED_END_OF_FILE (connection cut while the server read)
        40,   // CHECKSUM_DOESNT_MATCH
        159,  // TIMEOUT_EXCEEDED
        201,  // QUOTA_EXCEEDED (per time window)
        202,  // TOO_MANY_SIMULTANEOUS_QUERIES
        209,  // SOCKET_TIMEOUT
        210,  // NETWORK_ERROR
        225,  // NO_ZOOKEEPER
        236,  // ABORTED
        241,  // MEMORY_LIMIT_EXCEEDED
        242,  // TABLE_IS_READ_ONLY (replica lost ZooKeeper)
        252,  // TOO_MANY_PARTS
        319,  // UNKNOWN_STATUS_OF_INSERT
        394,  // QUERY_WAS_CANCELLED
        425,  // SYSTEM_ERROR
        999,  // KEEPER_EXCEPTION
    ]

    /// The kind for a server-reported failure: the exception code decides when it is
    /// known, the HTTP status otherwise.
    ///
    /// The fallback matters most for 18.x, which answers 500 for nearly everything; an
    /// unknown code there is treated as retryable, so the caller's capped backoff (not
    /// this table) bounds how long an unrecognised failure is retried.
    public static func kind(forExceptionCode code: Int?, httpStatus: Int) -> Kind {
        if let code {
            if dataCodes.contains(code) { return .data }
            if configurationCodes.contains(code) { return .configuration }
            if invalidRequestCodes.contains(code) { return .invalidRequest }
            if transientCodes.contains(code) { return .server }
        }
        switch httpStatus {
        case 401, 403, 407: return .configuration
        case 408, 429: return .server
        case 400, 404, 405, 411, 413, 414, 415, 501: return .invalidRequest
        default: return .server
        }
    }

    /// Classifies a complete HTTP response; `nil` means success.
    ///
    /// A response is a success only when the status is 200, there is no
    /// `X-ClickHouse-Exception-Code` header, and the body does not start with a
    /// ClickHouse exception (`Code: <n>.` or `Code: <n>,`). The last two checks catch
    /// servers that had already sent `200 OK` when the exception happened (all versions
    /// without `wait_end_of_query`, and the 23.x-24.8 header bug).
    ///
    /// - Parameters:
    ///   - status: the HTTP status code.
    ///   - exceptionCodeHeader: the value of `X-ClickHouse-Exception-Code`, if sent.
    ///   - body: the response body.
    public static func fromResponse(status: Int, exceptionCodeHeader: String?, body: [UInt8]) -> ClickHouseError? {
        let headerCode = exceptionCodeHeader.flatMap { Int($0.trimmingASCIIWhitespace()) }
        let bodyLooksLikeException = startsWithException(body)
        if status == 200 && exceptionCodeHeader == nil && !bodyLooksLikeException {
            return nil
        }
        let text = String(decoding: body.prefix(64 * 1024), as: UTF8.self)
        let parsed = parseExceptionText(text)
        let code = headerCode ?? parsed.code
        var message = parsed.message
        if message.isEmpty { message = "HTTP \(status) with an empty body" }
        return ClickHouseError(
            kind: kind(forExceptionCode: code, httpStatus: status),
            httpStatus: status,
            code: code,
            codeName: parsed.codeName,
            message: message)
    }

    /// Whether a body starts with `Code: <digits>` followed by `.` or `,`.
    static func startsWithException(_ body: [UInt8]) -> Bool {
        let prefix = Array("Code: ".utf8)
        guard body.count > prefix.count, body.starts(with: prefix) else { return false }
        var i = prefix.count
        var digits = 0
        while i < body.count, body[i] >= UInt8(ascii: "0"), body[i] <= UInt8(ascii: "9") {
            i += 1
            digits += 1
        }
        return digits > 0 && i < body.count && (body[i] == UInt8(ascii: ".") || body[i] == UInt8(ascii: ","))
    }

    /// Extracts the code, the symbolic name and a trimmed message from an error body of
    /// either generation. Text that is not a ClickHouse exception (a proxy's HTML page)
    /// is kept as the message with no code.
    static func parseExceptionText(_ raw: String) -> (code: Int?, codeName: String?, message: String) {
        let text = raw.trimmingASCIIWhitespace()
        var code: Int?
        if let range = text.firstRange(of: "Code: ") {
            let digits = text[range.upperBound...].prefix(while: \.isASCIIDigit)
            code = Int(digits)
        }
        // Modern bodies end with "(ERROR_NAME) (version X.Y.Z.W (official build))".
        var codeName: String?
        if let versionRange = text.ranges(of: " (version ").last {
            let head = text[..<versionRange.lowerBound]
            if head.hasSuffix(")"), let open = head.lastIndex(of: "(") {
                let name = head[head.index(after: open)..<head.index(before: head.endIndex)]
                if !name.isEmpty, name.allSatisfy({ $0 == "_" || ($0.isASCII && $0.isUppercase) || $0.isASCIIDigit }) {
                    codeName = String(name)
                }
            }
        }
        let limit = 4096
        let message = text.count > limit ? String(text.prefix(limit)) + "..." : text
        return (code, codeName, message)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    /// Trims spaces, tabs, CR and LF without Foundation.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
