import Synchronization

/// `sluice publish --to redis://[:password@]HOST:PORT/STREAM`: appends each synthetic event
/// to a stream as Dapr's Redis pub/sub does, `XADD <stream> * data <CloudEvent JSON>`
/// (structured mode), so both Sluice and Dapr subscribers can read it.
///
/// A send is one pipelined round trip of `XADD`s on a dedicated worker thread; sends
/// in flight at once (the publisher's concurrency) are spread over a few connections.
public final class RedisPublishTarget: PublishTarget, Sendable {
    public let stream: String
    public let endpoint: RedisEndpoint
    private let workers: [RedisWorker]
    private let next = Atomic<Int>(0)

    /// Parses `redis://[[user]:password@]HOST[:PORT]/STREAM`; the path names the stream
    /// (not a database, unlike `inputs.redis.url`).
    public init(url: String, connections: Int = 4) throws(RedisError) {
        let (authority, path) = try RedisEndpoint.split(url)
        guard !path.isEmpty else {
            throw RedisError(kind: .configuration, message: "'\(url)': name the stream, as in redis://127.0.0.1:6379/events")
        }
        stream = RedisEndpoint.percentDecoded(path)
        let endpoint = try RedisEndpoint.parseAuthority(authority, url: url)
        self.endpoint = endpoint
        workers = (0..<Swift.max(1, connections)).map { RedisWorker(name: "sluice-pub-\($0)", endpoint: endpoint) }
    }

    public func send(_ events: SyntheticEvents, range: Range<Int>) async throws -> Int {
        var commands: [RedisCommand] = []
        commands.reserveCapacity(range.count)
        for i in range {
            var c = RedisCommand("XADD", stream, "*", "data")
            c.append(bytes: events.cloudEvent(i).utf8)
            commands.append(c)
        }
        let worker = workers[next.wrappingAdd(1, ordering: .relaxed).oldValue % workers.count]
        return try await worker.perform { [commands] session throws(RedisError) in
            let replies = try session.connection().pipeline(commands) { _, reply in reply.kind == .string }
            return replies.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    public func finish() async throws {
        for w in workers { w.shutdown() }
    }
}
