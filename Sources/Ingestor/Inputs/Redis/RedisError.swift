/// Why a Redis call failed, and whether trying again can help.
///
/// The input's loops act on ``isRetryable`` and ``dropsConnection`` alone: a dropped
/// connection or a Redis that is still loading its AOF heals by itself (reconnect with
/// backoff), a missing consumer group is recreated, and a wrong password or a reply of
/// an unexpected shape needs an operator or a fix, so it is logged loudly and retried
/// slowly rather than spun on.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The TCP connection could not be made (refused, unreachable, timed out).
        /// Retryable.
        case connect
        /// The connection broke or timed out mid-command. Retryable on a new connection;
        /// the command's effect is unknown (XACK and XREADGROUP are safe to repeat).
        case io
        /// The server sent bytes hiredis cannot parse. Retryable on a new connection.
        case `protocol`
        /// The server answered with an error reply (`-CODE message`); see ``code``.
        case server
        /// The reply has a shape this code does not expect (a server too old, or a bug).
        /// Not retryable.
        case unexpectedReply
        /// `inputs.redis.url` or a publish URL cannot be used. Not retryable.
        case configuration
        /// The worker's queue of waiting commands is full. Retryable: nothing was sent.
        case overloaded
        /// The worker thread was shut down. Not retryable on this worker.
        case shutdown
    }

    public let kind: Kind
    /// The error code of a server error reply (`NOGROUP`, `BUSYGROUP`, `LOADING`,
    /// `WRONGPASS`, `ERR` ...); empty otherwise.
    public let code: String
    public let message: String

    public init(kind: Kind, code: String = "", message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// A server error reply, split into its code (the first word) and message.
    public init(serverReply text: String) {
        let code = text.prefix { $0 != " " }
        self.init(kind: .server, code: String(code), message: text)
    }

    /// Server error codes that describe a passing state of the server.
    static let transientServerCodes: Set<String> = ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY"]

    /// Whether the same call can succeed later without an operator's help.
    public var isRetryable: Bool {
        switch kind {
        case .connect, .io, .protocol, .overloaded: true
        case .server: Self.transientServerCodes.contains(code) || isMissingGroup
        case .unexpectedReply, .configuration, .shutdown: false
        }
    }

    /// Whether the connection is unusable after this error (hiredis contexts are dead
    /// after any I/O or protocol error), so the next call must reconnect.
    public var dropsConnection: Bool {
        switch kind {
        case .connect, .io, .protocol: true
        case .server: code == "LOADING" || code == "READONLY"
        default: false
        }
    }

    /// `NOGROUP`: the stream or its consumer group is gone (a Redis restarted without
    /// persistence, or someone deleted the key); the group must be created again.
    public var isMissingGroup: Bool { kind == .server && code == "NOGROUP" }

    public var description: String {
        code.isEmpty ? "redis \(kind.rawValue) error: \(message)" : "redis \(kind.rawValue) error \(code): \(message)"
    }
}
