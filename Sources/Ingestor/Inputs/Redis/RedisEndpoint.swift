/// Where and how to connect to Redis, parsed from `redis://[[user]:password@]host[:port][/db]`.
///
/// Timeouts live here too: every connection of the input uses the same ones, and they are
/// what turns a silently vanished server into an I/O error that triggers a reconnect.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// ACL user for `AUTH user password`; nil sends the one-argument `AUTH password`.
    public var username: String?
    public var password: String?
    /// Database selected with `SELECT` after connecting; 0 needs no command.
    public var database: Int
    /// How long a TCP connect may take.
    public var connectTimeout: Duration
    /// How long one reply may take. Must exceed XREADGROUP's BLOCK, or an idle stream
    /// would look like a dead server.
    public var readTimeout: Duration

    public init(
        host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0,
        connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`. The path is a database number.
    public init(url: String, connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(30)) throws(RedisError) {
        let (authority, path) = try Self.split(url)
        var database = 0
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else {
                throw RedisError(kind: .configuration, message: "'\(url)': the path must be a database number, got '\(path)'")
            }
            database = db
        }
        self = try Self.parseAuthority(authority, url: url)
        self.database = database
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// Splits `redis://AUTHORITY[/PATH]` into its two parts.
    static func split(_ url: String) throws(RedisError) -> (authority: Substring, path: Substring) {
        guard url.hasPrefix("redis://") else {
            throw RedisError(kind: .configuration, message: "'\(url)' must start with redis://")
        }
        let rest = url.dropFirst("redis://".count)
        // The password may contain '/', so the path starts after the last '@'.
        let afterAuth = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        if let slash = rest[afterAuth...].firstIndex(of: "/") {
            return (rest[..<slash], rest[rest.index(after: slash)...])
        }
        return (rest, "")
    }

    static func parseAuthority(_ authority: Substring, url: String) throws(RedisError) -> RedisEndpoint {
        var hostPort = authority
        var username: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : percentDecoded(user)
                password = percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                password = percentDecoded(credentials)
            }
        }
        var host = String(hostPort)
        var port = 6379
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw RedisError(kind: .configuration, message: "'\(url)': bad port")
            }
            port = p
            host = String(hostPort[..<colon])
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw RedisError(kind: .configuration, message: "'\(url)': no host") }
        return RedisEndpoint(host: host, port: port, username: username, password: password)
    }

    static func percentDecoded(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The URL with its credentials replaced, for `check-config` and logs.
    public static func redacting(_ url: String) -> String {
        guard url.hasPrefix("redis://"), let at = url.lastIndex(of: "@") else { return url }
        return "redis://<redacted>" + url[at...]
    }

    /// `host:port/db`, without credentials, for logs.
    public var description: String { "redis://\(host):\(port)" + (database == 0 ? "" : "/\(database)") }
}
