import CCurl

/// Settings every transfer of a transport shares.
struct CurlTransferOptions: Sendable {
    var connectTimeoutMilliseconds: Int
    var timeoutMilliseconds: Int
    /// Complete header lines (`Name: value`) sent with every request.
    var headers: [String]
    /// Largest response body kept; a bigger one fails the request instead of
    /// exhausting memory.
    var maxResponseBytes: Int
}

/// The outcome of one `curl_easy_perform`, in Swift types.
struct CurlTransfer {
    /// libcurl's result (`CURLE_OK` = 0).
    var code: Int
    /// libcurl's explanation of a failure, or empty.
    var errorText: String
    /// 0 when no status line arrived.
    var status: Int
    var exceptionCode: String?
    var queryID: String?
    var summary: String?
    var body: [UInt8]
    /// Whether any byte of a response (status line or header) arrived.
    var sawResponse: Bool
    /// Whether the transfer was stopped because the body exceeded the size limit.
    var responseTooLarge: Bool = false
    /// `CURLINFO_NUM_CONNECTS`: 0 when a kept-alive connection was reused.
    var connectionsOpened: Int
    var bytesSent: Int
    var elapsed: Duration

    /// The failure class when libcurl itself failed; nil when a response arrived
    /// completely (whatever its status).
    var failureKind: ClickHouseError.Kind? {
        if responseTooLarge { return .invalidRequest }
        return switch code {
        case Int(CURLE_OK.rawValue): nil
        case Int(CURLE_OPERATION_TIMEDOUT.rawValue): .timeout
        case Int(CURLE_ABORTED_BY_CALLBACK.rawValue): .cancelled
        // A malformed URL, an unsupported scheme or a TLS certificate problem will not
        // fix itself: an operator has to.
        case Int(CURLE_UNSUPPORTED_PROTOCOL.rawValue), Int(CURLE_URL_MALFORMAT.rawValue),
             Int(CURLE_NOT_BUILT_IN.rawValue), Int(CURLE_SSL_CERTPROBLEM.rawValue),
             Int(CURLE_PEER_FAILED_VERIFICATION.rawValue), Int(CURLE_SSL_CACERT_BADFILE.rawValue):
            .configuration
        default: .network
        }
    }

    /// See ``ClickHouseHTTPTransport/shouldResendOnFreshConnection(curlCode:connectionsOpened:sawResponse:)``.
    var looksLikeStaleConnection: Bool {
        ClickHouseHTTPTransport.shouldResendOnFreshConnection(
            curlCode: code, connectionsOpened: connectionsOpened, sawResponse: sawResponse)
    }
}

/// One libcurl easy handle: a `CURL*` plus the connection cache that lives inside it.
///
/// Each transport thread owns one for its whole life, which is what makes keep-alive
/// work: libcurl keeps the connection in the handle between transfers. The class is not
/// `Sendable` and must stay on the thread that created it. `curl_easy_perform` blocks,
/// so this type is never touched from Swift's cooperative pool.
final class CurlEasyHandle {
    private let curl: UnsafeMutableRawPointer
    /// libcurl writes failure details here; it must outlive every transfer.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Returns nil when libcurl cannot allocate a handle.
    init?() {
        guard CurlGlobal.initialized, let curl = curl_easy_init() else { return nil }
        self.curl = curl
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(curl)
        errorBuffer.deallocate()
    }

    /// Runs one transfer to completion. Blocks the calling thread.
    ///
    /// - Parameters:
    ///   - freshConnection: forbid reusing a cached connection (the stale-connection retry).
    ///   - abort: checked during the transfer; raising it aborts with `CURLE_ABORTED_BY_CALLBACK`.
    func perform(_ request: HTTPRequest, options: CurlTransferOptions, freshConnection: Bool, abort: AbortSignal?) -> CurlTransfer {
        switch request.body {
        case .none:
            return perform(request, body: nil, options: options, freshConnection: freshConnection, abort: abort)
        case .blob(let blob):
            // The blob outlives the transfer: POSTFIELDS points into it without a copy.
            return blob.withUnsafeBytes { bytes in
                perform(request, body: bytes, options: options, freshConnection: freshConnection, abort: abort)
            }
        case .bytes(let array):
            return array.withUnsafeBytes { bytes in
                perform(request, body: bytes, options: options, freshConnection: freshConnection, abort: abort)
            }
        }
    }

    private func perform(
        _ request: HTTPRequest, body: UnsafeRawBufferPointer?, options: CurlTransferOptions, freshConnection: Bool,
        abort: AbortSignal?
    ) -> CurlTransfer {
        // reset clears every option but keeps the connection cache, so nothing from the
        // previous request (POST fields, fresh-connect) leaks into this one.
        curl_easy_reset(curl)
        errorBuffer[0] = 0
        let collector = ResponseCollector(maxBodyBytes: options.maxResponseBytes)
        var headerList: UnsafeMutablePointer<curl_slist>?
        var lines = options.headers
        if request.method == .post {
            lines.append("Content-Type: application/octet-stream")
        }
        // An empty `Expect:` stops libcurl from waiting for `100 Continue` on large bodies,
        // a round trip ClickHouse never needs.
        lines.append("Expect:")
        for line in lines {
            headerList = curl_slist_append(headerList, line)
        }
        defer { curl_slist_free_all(headerList) }

        let unmanagedCollector = Unmanaged.passRetained(collector)
        defer { unmanagedCollector.release() }
        let unmanagedAbort = abort.map { Unmanaged.passRetained($0) }
        defer { unmanagedAbort?.release() }

        var setupFailure: CURLcode = CURLE_OK
        func check(_ rc: CURLcode) {
            if rc != CURLE_OK && setupFailure == CURLE_OK { setupFailure = rc }
        }
        check(sluice_curl_setopt_ptr(curl, CURLOPT_ERRORBUFFER, errorBuffer))
        check(request.url.withCString { sluice_curl_setopt_ptr(curl, CURLOPT_URL, $0) })
        // Signals are process-wide; libcurl must not use SIGALRM for DNS timeouts in a
        // multi-threaded process.
        check(sluice_curl_setopt_long(curl, CURLOPT_NOSIGNAL, 1))
        check(sluice_curl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMilliseconds))
        check(sluice_curl_setopt_long(curl, CURLOPT_TIMEOUT_MS, options.timeoutMilliseconds))
        check(sluice_curl_setopt_long(curl, CURLOPT_TCP_KEEPALIVE, 1))
        check(sluice_curl_setopt_long(curl, CURLOPT_TCP_KEEPIDLE, 30))
        check(sluice_curl_setopt_long(curl, CURLOPT_TCP_KEEPINTVL, 10))
        check(sluice_curl_setopt_long(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1))
        // ClickHouse traffic goes direct: an http_proxy inherited from the environment
        // would otherwise silently route inserts through a proxy.
        check("".withCString { sluice_curl_setopt_ptr(curl, CURLOPT_PROXY, $0) })
        check(sluice_curl_setopt_ptr(curl, CURLOPT_HTTPHEADER, headerList))
        check(sluice_curl_setopt_datacb(curl, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let context else { return 0 }
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
            let n = size * count
            guard let data else { return n }
            // Returning less than n makes libcurl fail the transfer (CURLE_WRITE_ERROR).
            return collector.appendBody(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
        }))
        check(sluice_curl_setopt_ptr(curl, CURLOPT_WRITEDATA, unmanagedCollector.toOpaque()))
        check(sluice_curl_setopt_datacb(curl, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let context else { return 0 }
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
            let n = size * count
            guard let data else { return n }
            collector.headerLine(UnsafeRawBufferPointer(start: data, count: n))
            return n
        }))
        check(sluice_curl_setopt_ptr(curl, CURLOPT_HEADERDATA, unmanagedCollector.toOpaque()))
        if let unmanagedAbort {
            check(sluice_curl_setopt_long(curl, CURLOPT_NOPROGRESS, 0))
            check(sluice_curl_setopt_xferinfocb(curl, { context, _, _, _, _ in
                guard let context else { return 0 }
                return Unmanaged<AbortSignal>.fromOpaque(context).takeUnretainedValue().isRaised ? 1 : 0
            }))
            check(sluice_curl_setopt_ptr(curl, CURLOPT_XFERINFODATA, unmanagedAbort.toOpaque()))
        }
        if freshConnection {
            check(sluice_curl_setopt_long(curl, CURLOPT_FRESH_CONNECT, 1))
        }
        switch request.method {
        case .get:
            check(sluice_curl_setopt_long(curl, CURLOPT_HTTPGET, 1))
        case .post:
            check(sluice_curl_setopt_long(curl, CURLOPT_POST, 1))
            check(sluice_curl_setopt_off(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body?.count ?? 0)))
            if let base = body?.baseAddress, body?.isEmpty == false {
                check(sluice_curl_setopt_ptr(curl, CURLOPT_POSTFIELDS, base))
            } else {
                check("".withCString { sluice_curl_setopt_ptr(curl, CURLOPT_COPYPOSTFIELDS, $0) })
            }
        }

        guard setupFailure == CURLE_OK else {
            return CurlTransfer(
                code: Int(setupFailure.rawValue), errorText: "setting libcurl options failed: " + Self.describe(setupFailure),
                status: 0, body: [], sawResponse: false, connectionsOpened: 0, bytesSent: 0, elapsed: .zero)
        }

        let rc = curl_easy_perform(curl)

        var status = 0
        var connects = 0
        var uploaded: curl_off_t = 0
        var totalMicroseconds: curl_off_t = 0
        var longValue = 0
        if sluice_curl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &longValue) == CURLE_OK { status = longValue }
        if sluice_curl_getinfo_long(curl, CURLINFO_NUM_CONNECTS, &longValue) == CURLE_OK { connects = longValue }
        _ = sluice_curl_getinfo_off(curl, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        _ = sluice_curl_getinfo_off(curl, CURLINFO_TOTAL_TIME_T, &totalMicroseconds)

        var errorText = ""
        if rc != CURLE_OK {
            let detail = String(cString: errorBuffer)
            errorText = Self.describe(rc) + (detail.isEmpty ? "" : ": " + detail.trimmingASCIIWhitespace())
            if collector.bodyLimitExceeded {
                errorText = "response larger than \(options.maxResponseBytes) bytes"
            }
        }
        return CurlTransfer(
            code: Int(rc.rawValue), errorText: errorText, status: status,
            exceptionCode: collector.exceptionCode, queryID: collector.queryID, summary: collector.summary,
            body: collector.body, sawResponse: collector.sawResponse, responseTooLarge: collector.bodyLimitExceeded,
            connectionsOpened: connects,
            bytesSent: Int(uploaded), elapsed: .microseconds(Int64(totalMicroseconds)))
    }

    static func describe(_ code: CURLcode) -> String {
        guard let text = curl_easy_strerror(code) else { return "curl error \(code.rawValue)" }
        return String(cString: text)
    }
}

/// Accumulates one response inside libcurl's callbacks (same thread as the transfer).
private final class ResponseCollector {
    let maxBodyBytes: Int
    var body: [UInt8] = []
    var exceptionCode: String?
    var queryID: String?
    var summary: String?
    var sawResponse = false
    var bodyLimitExceeded = false

    init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        sawResponse = true
        guard body.count + bytes.count <= maxBodyBytes else {
            bodyLimitExceeded = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    func headerLine(_ bytes: UnsafeRawBufferPointer) {
        sawResponse = true
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new status line (after a redirect or an interim response) starts a new
            // header set.
            exceptionCode = nil
            queryID = nil
            summary = nil
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingASCIIWhitespace()
        switch name {
        case "x-clickhouse-exception-code": exceptionCode = value
        case "x-clickhouse-query-id": queryID = value
        case "x-clickhouse-summary": summary = value
        default: break
        }
    }
}

/// `curl_global_init` must run once, before any handle exists and before threads race
/// to create them; a static `let` is initialised exactly once, thread-safely.
enum CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
}
