public import Pipeline

/// What one `XREADGROUP` or `XAUTOCLAIM` call produced.
public struct RedisReadBatch: @unchecked Sendable {
    // @unchecked: `chunk` is a class filled on the worker thread and then handed over
    // whole; nothing touches it on the worker side after the hand-over.

    /// The messages for the pipeline (entries already in flight are left out).
    public let chunk: MessageChunk
    /// Per message of `chunk`: its stream index and entry id.
    public var streams: [Int32] = []
    public var ids: [RedisEntryID] = []
    /// Entries whose payload was trimmed while pending: acknowledged without ingesting.
    public var deleted: [(stream: Int, id: RedisEntryID)] = []
    /// Per configured stream: entries the reply held for it (in flight, deleted and
    /// new alike) and the last id, or nil when the reply did not mention the stream.
    public var perStream: [(count: Int, last: RedisEntryID?)?]
    /// Entries left out because this process is already working on them.
    public var skippedInFlight = 0
    /// Per configured stream: entries without a `data` field, rendered for the
    /// dead-letter table.
    public var unreadable: [Int]

    init(streamCount: Int, expectedBytes: Int, expectedMessages: Int) {
        chunk = MessageChunk(expectedBytes: Swift.max(expectedBytes, 64), expectedMessages: expectedMessages)
        perStream = Array(repeating: nil, count: streamCount)
        unreadable = Array(repeating: 0, count: streamCount)
    }

    public var isEmpty: Bool { chunk.messages.isEmpty && deleted.isEmpty }
}

/// Turns stream replies into chunks for the pipeline, following ``RedisEntryLayout``.
///
/// It runs on the reader's worker thread, straight on hiredis's reply tree: payload
/// bytes are copied once, into the chunk's shared buffer, and no String is made per
/// field. A first pass collects the entry ids so the caller can say, under one lock,
/// which are already in flight in this process (a pending-list re-read after a
/// reconnect, or an XAUTOCLAIM of our own slow entries); those are left out rather than
/// decoded, stored and written twice.
public struct RedisEntryDecoder: Sendable {
    public let streams: [String]
    private let streamBytes: [[UInt8]]

    public init(streams: [String]) {
        self.streams = streams
        self.streamBytes = streams.map { Array($0.utf8) }
    }

    /// Decodes an `XREADGROUP` reply: `[[stream, [[id, fields|nil], ...]], ...]` or nil.
    /// - Parameters:
    ///   - redelivered: per stream, whether this read served the consumer's own pending
    ///     list (so every entry may have been processed before).
    ///   - inFlight: given every (stream, id) of the reply, returns for each whether it is
    ///     already being worked on; called once.
    public func decodeRead<N: RedisReplyNode>(
        _ reply: N, redelivered: [Bool], receivedAtNanos: Int64,
        inFlight: ([(stream: Int, id: RedisEntryID)]) -> [Bool]
    ) throws(RedisError) -> RedisReadBatch {
        if reply.kind == .null { return RedisReadBatch(streamCount: streams.count, expectedBytes: 0, expectedMessages: 0) }
        if reply.kind == .error { throw RedisError(serverReply: reply.textValue) }
        guard reply.kind == .array else { throw unexpected("XREADGROUP", reply) }
        var groups: [(stream: Int, entries: N)] = []
        for i in 0..<reply.elementCount {
            let pair = reply.element(i)
            guard pair.kind == .array, pair.elementCount == 2 else { throw unexpected("XREADGROUP stream", pair) }
            let name = pair.element(0)
            guard let index = streamIndex(name) else {
                throw RedisError(kind: .unexpectedReply, message: "XREADGROUP returned stream '\(name.textValue)' that was not asked for")
            }
            let entries = pair.element(1)
            guard entries.kind == .array || entries.kind == .null else { throw unexpected("XREADGROUP entries", entries) }
            groups.append((index, entries))
        }
        return try decode(groups, redelivered: { redelivered[$0] }, receivedAtNanos: receivedAtNanos, inFlight: inFlight)
    }

    /// Decodes an `XAUTOCLAIM` reply (Redis 7: `[next-cursor, [entries...], [deleted ids...]]`;
    /// 6.2's two-element form is accepted too). Claimed entries are always marked as
    /// possible redeliveries. Ids in the third element were deleted from the stream and
    /// already removed from the pending list by Redis; they are only counted.
    public func decodeClaim<N: RedisReplyNode>(
        _ reply: N, stream: Int, receivedAtNanos: Int64,
        inFlight: ([(stream: Int, id: RedisEntryID)]) -> [Bool]
    ) throws(RedisError) -> (batch: RedisReadBatch, next: RedisEntryID, purged: Int) {
        if reply.kind == .error { throw RedisError(serverReply: reply.textValue) }
        guard reply.kind == .array, reply.elementCount >= 2 else { throw unexpected("XAUTOCLAIM", reply) }
        guard let next = reply.element(0).withBytes({ RedisEntryID($0) }) else { throw unexpected("XAUTOCLAIM cursor", reply.element(0)) }
        let entries = reply.element(1)
        guard entries.kind == .array else { throw unexpected("XAUTOCLAIM entries", entries) }
        let purged = reply.elementCount >= 3 ? reply.element(2).elementCount : 0
        let batch = try decode([(stream, entries)], redelivered: { _ in true }, receivedAtNanos: receivedAtNanos, inFlight: inFlight)
        return (batch, next, purged)
    }

    private func decode<N: RedisReplyNode>(
        _ groups: [(stream: Int, entries: N)], redelivered: (Int) -> Bool, receivedAtNanos: Int64,
        inFlight: ([(stream: Int, id: RedisEntryID)]) -> [Bool]
    ) throws(RedisError) -> RedisReadBatch {
        // Pass 1: ids, sizes, and which entries are already in flight.
        var keys: [(stream: Int, id: RedisEntryID)] = []
        var payloadBytes = 0
        for (stream, entries) in groups {
            for j in 0..<entries.elementCount {
                let entry = entries.element(j)
                guard entry.kind == .array, entry.elementCount == 2 else { throw unexpected("stream entry", entry) }
                guard let id = entry.element(0).withBytes({ RedisEntryID($0) }) else { throw unexpected("entry id", entry.element(0)) }
                keys.append((stream, id))
                let fields = entry.element(1)
                for f in 0..<fields.elementCount { payloadBytes += fields.element(f).withBytes { $0.count } }
            }
        }
        var batch = RedisReadBatch(streamCount: streams.count, expectedBytes: payloadBytes, expectedMessages: keys.count)
        let skip = keys.isEmpty ? [] : inFlight(keys)
        precondition(skip.count == keys.count, "one in-flight answer per entry")

        // Pass 2: the chunk.
        var k = 0
        var scratch: [UInt8] = []
        for (stream, entries) in groups {
            let count = entries.elementCount
            batch.perStream[stream] = (count, count > 0 ? keys[k + count - 1].id : nil)
            let mayBeRedelivered = redelivered(stream)
            for j in 0..<count {
                defer { k += 1 }
                let id = keys[k].id
                if skip[k] {
                    batch.skippedInFlight += 1
                    continue
                }
                let entry = entries.element(j)
                let fields = entry.element(1)
                let layout = RedisEntryLayout.classify(fields: fields)
                let range: Range<Int>
                let format: MessageFormat
                switch layout {
                case .deleted:
                    batch.deleted.append((stream, id))
                    continue
                case .structured(let data):
                    range = fields.element(data).withBytes { batch.chunk.appendPayload($0) }
                    format = .structured
                case .binary(let data, let attributes):
                    range = fields.element(data).withBytes { batch.chunk.appendPayload($0) }
                    format = .binary(attributes: attributes)
                case .unreadable:
                    scratch.removeAll(keepingCapacity: true)
                    RedisEntryLayout.renderUnreadable(fields: fields, into: &scratch)
                    range = batch.chunk.appendPayload(scratch)
                    format = .structured
                    batch.unreadable[stream] += 1
                }
                let origin = MessageOrigin(kind: .redis, stream: streams[stream], offset: entry.element(0).textValue)
                batch.chunk.messages.append(InboundMessage(
                    payload: range, format: format, origin: origin, mayBeRedelivered: mayBeRedelivered,
                    receivedAtNanos: receivedAtNanos))
                batch.streams.append(Int32(stream))
                batch.ids.append(id)
            }
        }
        return batch
    }

    private func streamIndex<N: RedisReplyNode>(_ name: N) -> Int? {
        name.withBytes { b in streamBytes.firstIndex { $0.elementsEqual(b) } }
    }

    private func unexpected<N: RedisReplyNode>(_ what: String, _ node: N) -> RedisError {
        RedisError(kind: .unexpectedReply, message: "\(what): unexpected reply of kind \(node.kind)" + (node.kind == .error || node.kind == .string ? " '\(node.textValue.prefix(200))'" : ""))
    }
}
