import Pipeline
import Synchronization

/// One HTTP request as a transport thread performs it. Internal: callers use the
/// transport's typed operations, which build these.
struct HTTPRequest: Sendable {
    enum Method: Sendable { case get, post }

    /// The request body. A ``ByteBlob`` is sent in place, without a copy; the request
    /// keeps it alive until the transfer has finished.
    enum Body: Sendable {
        case none
        case blob(ByteBlob)
        case bytes([UInt8])

        var count: Int {
            switch self {
            case .none: 0
            case .blob(let blob): blob.count
            case .bytes(let bytes): bytes.count
            }
        }
    }

    var method: Method
    /// The full URL, query string included (already percent-encoded).
    var url: String
    var body: Body
}

/// What a transport thread got back for a request that reached the server.
struct HTTPResponse: Sendable {
    var status: Int
    /// `X-ClickHouse-Exception-Code` (20.1+).
    var exceptionCode: String?
    /// `X-ClickHouse-Query-Id` (modern servers).
    var queryID: String?
    /// `X-ClickHouse-Summary` JSON (modern servers).
    var summary: String?
    var body: [UInt8]
    var metrics: ClickHouseRequestMetrics
}

/// Lets a waiting task abort its request: the transfer checks the flag from libcurl's
/// progress callback, which runs at least once a second while a transfer is active.
final class AbortSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    var isRaised: Bool { flag.load(ordering: .acquiring) }
    func raise() { flag.store(true, ordering: .releasing) }
}
