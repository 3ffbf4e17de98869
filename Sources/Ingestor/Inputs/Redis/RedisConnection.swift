import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One blocking hiredis connection: owns a `redisContext` and frees it in `deinit`.
///
/// Every method blocks the calling thread for a network round trip, so instances live on
/// a ``RedisWorker``'s dedicated thread and are never touched from Swift's cooperative
/// pool. Not `Sendable` on purpose: the compiler keeps it on the thread that made it.
/// After an I/O or protocol error the context is dead (hiredis cannot resynchronise);
/// the owner drops it and connects again.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let endpoint: RedisEndpoint

    /// Connects, sets the read timeout, authenticates and selects the database.
    init(endpoint: RedisEndpoint) throws(RedisError) {
        self.endpoint = endpoint
        guard let c = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), Self.timeval(endpoint.connectTimeout)) else {
            throw RedisError(kind: .connect, message: "cannot allocate a hiredis context")
        }
        if sluice_redis_context_error(c) != 0 {
            let message = String(cString: sluice_redis_context_errstr(c))
            redisFree(c)
            throw RedisError(kind: .connect, message: "\(endpoint): \(message)")
        }
        context = c
        // SO_RCVTIMEO/SO_SNDTIMEO: a server that vanishes without a RST (host down,
        // network cut) becomes an I/O error instead of a reader blocked forever.
        _ = redisSetTimeout(c, Self.timeval(endpoint.readTimeout))
        _ = redisEnableKeepAlive(c)
        if let password = endpoint.password {
            let auth = endpoint.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
            _ = try command(auth).orThrow()
        }
        if endpoint.database != 0 {
            _ = try command(RedisCommand("SELECT", String(endpoint.database))).orThrow()
        }
    }

    deinit {
        redisFree(context)
    }

    /// Sends one command and hands its reply, in place, to `body`; the reply is freed
    /// when `body` returns. An error reply is passed to `body` like any other.
    func withReply<R>(_ command: RedisCommand, _ body: (RedisRawReply) throws(RedisError) -> R) throws(RedisError) -> R {
        let raw = try command.withArgv { (argc, argv, lengths) throws(RedisError) -> UnsafeMutableRawPointer in
            guard let reply = redisCommandArgv(context, argc, argv, lengths) else { throw contextError() }
            return reply
        }
        defer { freeReplyObject(raw) }
        return try body(RedisRawReply(raw.assumingMemoryBound(to: redisReply.self)))
    }

    /// Sends one command and returns a copy of its reply (error replies included).
    func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try withReply(command) { RedisReply($0) }
    }

    /// Sends all commands in one write and reads every reply: one round trip for the lot.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        try pipeline(commands) { _, reply in RedisReply(reply) }
    }

    /// Pipelined commands whose replies are read in place by `body(index, reply)`.
    func pipeline<R>(_ commands: [RedisCommand], _ body: (Int, RedisRawReply) throws(RedisError) -> R) throws(RedisError) -> [R] {
        for c in commands {
            let rc = try c.withArgv { (argc, argv, lengths) throws(RedisError) -> Int32 in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard rc == REDIS_OK else { throw contextError() }
        }
        var results: [R] = []
        results.reserveCapacity(commands.count)
        for i in commands.indices {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw contextError() }
            defer { freeReplyObject(raw) }
            results.append(try body(i, RedisRawReply(raw.assumingMemoryBound(to: redisReply.self))))
        }
        return results
    }

    /// Sends `command` over and over with `depth` copies always on the wire, and hands
    /// each reply, in place and in order, to `body` until `body` returns false; then
    /// sends no more and passes the replies still outstanding to `body` (whose answer no
    /// longer matters). With two or more in flight the server builds the next reply
    /// while this thread parses and decodes the last one, instead of each side waiting
    /// for the other.
    func repeatPipelined(_ command: RedisCommand, depth: Int, _ body: (RedisRawReply) throws(RedisError) -> Bool) throws(RedisError) {
        precondition(depth >= 1, "at least one command in flight")
        func send() throws(RedisError) {
            let rc = try command.withArgv { (argc, argv, lengths) throws(RedisError) -> Int32 in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard rc == REDIS_OK else { throw contextError() }
        }
        for _ in 0..<depth { try send() }
        var outstanding = depth
        var going = true
        // A failure in `body` (an error reply such as NOGROUP) is thrown only after the
        // replies still on the wire are read, so that the connection stays usable.
        var failure: RedisError?
        while outstanding > 0 {
            var raw: UnsafeMutableRawPointer?
            // redisGetReply writes the buffered commands before it reads.
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw contextError() }
            outstanding -= 1
            defer { freeReplyObject(raw) }
            var more = false
            if failure == nil {
                do throws(RedisError) {
                    more = try body(RedisRawReply(raw.assumingMemoryBound(to: redisReply.self)))
                } catch {
                    failure = error
                }
            }
            if going, more {
                try send()
                outstanding += 1
            } else {
                going = false
            }
        }
        if let failure { throw failure }
    }

    private func contextError() -> RedisError {
        let code = sluice_redis_context_error(context)
        let text = String(cString: sluice_redis_context_errstr(context))
        switch code {
        case REDIS_ERR_PROTOCOL: return RedisError(kind: .protocol, message: text)
        case REDIS_ERR_EOF: return RedisError(kind: .io, message: "connection closed by the server (\(text))")
        default: return RedisError(kind: .io, message: text.isEmpty ? "hiredis error \(code)" : text)
        }
    }

    static func timeval(_ d: Duration) -> Glibc.timeval {
        let (s, atto) = d.components
        return Glibc.timeval(tv_sec: Int(s), tv_usec: Int(atto / 1_000_000_000_000))
    }
}
