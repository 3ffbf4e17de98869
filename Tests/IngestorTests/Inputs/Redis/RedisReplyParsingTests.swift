import Foundation
import Ingestor
import Pipeline
import Testing

/// Replies are parsed by hiredis's own reader from RESP bytes, exactly as on a live
/// connection, then decoded by the code the reader thread runs.
@Suite struct RedisReplyParsingTests {
    /// RESP2 encoding helpers for building replies by hand.
    enum RESP {
        static func bulk(_ s: String) -> String { "$\(s.utf8.count)\r\n\(s)\r\n" }
        static func array(_ items: [String]) -> String { "*\(items.count)\r\n" + items.joined() }
        static let null = "*-1\r\n"
        static let nullBulk = "$-1\r\n"
        static func integer(_ n: Int) -> String { ":\(n)\r\n" }
        static func entry(_ id: String, _ fields: [(String, String)]?) -> String {
            guard let fields else { return array([bulk(id), null]) }
            return array([bulk(id), array(fields.flatMap { [bulk($0.0), bulk($0.1)] })])
        }
        static func parse(_ text: String) throws -> RedisReply {
            try #require(try RedisReply.parse(resp: Array(text.utf8)))
        }
    }

    static let event = #"{"specversion":"1.0","id":"e1","source":"s","type":"metric","data":{"metric_name":"cpu","value":1}}"#

    func noneInFlight(_ keys: [(stream: Int, id: RedisEntryID)]) -> [Bool] { Array(repeating: false, count: keys.count) }

    @Test func scalarRepliesParse() throws {
        #expect(try RESP.parse("+OK\r\n") == .status("OK"))
        #expect(try RESP.parse(":42\r\n") == .integer(42))
        #expect(try RESP.parse("$-1\r\n") == .null)
        #expect(try RESP.parse("*-1\r\n") == .null)
        #expect(try RESP.parse("-NOGROUP No such key\r\n") == .error("NOGROUP No such key"))
        #expect(try RESP.parse(RESP.array([RESP.bulk("a"), RESP.integer(1)])) == .array([.string(Array("a".utf8)), .integer(1)]))
        #expect(try RedisReply.parse(resp: Array("$5\r\nab".utf8)) == nil, "an incomplete reply is not a reply")
    }

    @Test func errorRepliesBecomeTypedErrors() {
        let nogroup = RedisError(serverReply: "NOGROUP No such key 'x' or consumer group 'g'")
        #expect(nogroup.code == "NOGROUP")
        #expect(nogroup.isMissingGroup && nogroup.isRetryable && !nogroup.dropsConnection)
        let loading = RedisError(serverReply: "LOADING Redis is loading the dataset in memory")
        #expect(loading.isRetryable && loading.dropsConnection)
        let wrongType = RedisError(serverReply: "WRONGTYPE Operation against a key holding the wrong kind of value")
        #expect(!wrongType.isRetryable)
        #expect(RedisError(kind: .io, message: "reset").dropsConnection)
        #expect(!RedisError(kind: .unexpectedReply, message: "?").isRetryable)
    }

    @Test func entryIDsRoundTrip() throws {
        let id = try #require(RedisEntryID("1718000000000-17"))
        #expect(id == RedisEntryID(ms: 1_718_000_000_000, seq: 17))
        #expect(id.description == "1718000000000-17")
        var bytes: [UInt8] = []
        RedisEntryID(ms: 0, seq: 0).write(to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "0-0")
        #expect(RedisEntryID("5") == RedisEntryID(ms: 5, seq: 0))
        #expect(RedisEntryID("") == nil)
        #expect(RedisEntryID("1-2-3") == nil)
        #expect(RedisEntryID("x-1") == nil)
        #expect(RedisEntryID("99999999999999999999-0") == nil, "overflow")
        #expect(RedisEntryID(ms: 1, seq: 9) < RedisEntryID(ms: 2, seq: 0))
    }

    @Test func urlsParse() throws {
        let plain = try RedisEndpoint(url: "redis://127.0.0.1:16379")
        #expect(plain.host == "127.0.0.1" && plain.port == 16379 && plain.password == nil && plain.database == 0)
        let full = try RedisEndpoint(url: "redis://:s%40cret/x@redis.local:7000/3")
        #expect(full.host == "redis.local" && full.port == 7000 && full.password == "s@cret/x" && full.username == nil && full.database == 3)
        let acl = try RedisEndpoint(url: "redis://ingest:pw@h")
        #expect(acl.username == "ingest" && acl.password == "pw" && acl.port == 6379)
        #expect(throws: RedisError.self) { try RedisEndpoint(url: "http://h:1") }
        #expect(throws: RedisError.self) { try RedisEndpoint(url: "redis://h:1/events") }
        #expect(throws: RedisError.self) { try RedisEndpoint(url: "redis://h:99999") }
        #expect(RedisEndpoint.redacting("redis://:pw@h:1/2") == "redis://<redacted>@h:1/2")
        let target = try RedisPublishTarget(url: "redis://127.0.0.1:6379/events")
        #expect(target.stream == "events" && target.endpoint.port == 6379)
        #expect(throws: RedisError.self) { try RedisPublishTarget(url: "redis://127.0.0.1:6379") }
    }

    @Test func structuredEntriesBecomeStructuredMessages() throws {
        let reply = try RESP.parse(RESP.array([
            RESP.array([RESP.bulk("s1"), RESP.array([
                RESP.entry("1-0", [("data", Self.event)]),
                RESP.entry("1-1", [("data", Self.event), ("metadata", #"{"ttlInSeconds":"60"}"#)]),
            ])]),
        ]))
        let decoder = RedisEntryDecoder(streams: ["s0", "s1"])
        let batch = try decoder.decodeRead(reply, redelivered: [false, false], receivedAtNanos: 7, inFlight: noneInFlight)
        #expect(batch.chunk.messages.count == 2)
        #expect(batch.ids == [RedisEntryID(ms: 1, seq: 0), RedisEntryID(ms: 1, seq: 1)])
        #expect(batch.streams == [1, 1])
        let m = batch.chunk.messages[1]
        #expect(m.format == .structured)
        #expect(m.origin == MessageOrigin(kind: .redis, stream: "s1", offset: "1-1"))
        #expect(!m.mayBeRedelivered)
        #expect(m.receivedAtNanos == 7)
        #expect(String(decoding: batch.chunk.bytes.bytes(in: m.payload), as: UTF8.self) == Self.event)
        #expect(batch.perStream[0] == nil)
        #expect(batch.perStream[1]?.count == 2 && batch.perStream[1]?.last == RedisEntryID(ms: 1, seq: 1))
    }

    @Test func binaryEntriesCarryTheirAttributes() throws {
        let reply = try RESP.parse(RESP.array([RESP.array([RESP.bulk("s"), RESP.array([
            RESP.entry("2-0", [
                ("ce_specversion", "1.0"), ("ce_id", "b1"), ("ce_source", "src"), ("ce_type", "metric"),
                ("ce_tenantid", "t1"), ("content-type", "application/json"), ("data", #"{"metric_name":"m","value":2}"#),
            ]),
        ])])]))
        let batch = try RedisEntryDecoder(streams: ["s"]).decodeRead(reply, redelivered: [true], receivedAtNanos: 0, inFlight: noneInFlight)
        let m = try #require(batch.chunk.messages.first)
        #expect(m.format == .binary(attributes: [
            "specversion": "1.0", "id": "b1", "source": "src", "type": "metric", "tenantid": "t1", "datacontenttype": "application/json",
        ]))
        #expect(m.mayBeRedelivered, "entries read from the pending list may have been processed before")
        #expect(String(decoding: batch.chunk.bytes.bytes(in: m.payload), as: UTF8.self) == #"{"metric_name":"m","value":2}"#)
    }

    @Test func entriesWithoutDataAreRenderedForTheDeadLetterTable() throws {
        let reply = try RESP.parse(RESP.array([RESP.array([RESP.bulk("s"), RESP.array([
            RESP.entry("3-0", [("foo", "bar"), ("ce_id", "x")]),
        ])])]))
        let batch = try RedisEntryDecoder(streams: ["s"]).decodeRead(reply, redelivered: [false], receivedAtNanos: 0, inFlight: noneInFlight)
        let m = try #require(batch.chunk.messages.first)
        #expect(m.format == .structured)
        #expect(batch.unreadable == [1])
        let text = String(decoding: batch.chunk.bytes.bytes(in: m.payload), as: UTF8.self)
        #expect(text == "redis entry without a data field: foo=bar ce_id=x")
    }

    @Test func trimmedPendingEntriesAreReportedNotIngested() throws {
        let reply = try RESP.parse(RESP.array([RESP.array([RESP.bulk("s"), RESP.array([
            RESP.entry("4-0", nil), RESP.entry("4-1", [("data", Self.event)]),
        ])])]))
        let batch = try RedisEntryDecoder(streams: ["s"]).decodeRead(reply, redelivered: [true], receivedAtNanos: 0, inFlight: noneInFlight)
        #expect(batch.deleted.map(\.id) == [RedisEntryID(ms: 4, seq: 0)])
        #expect(batch.ids == [RedisEntryID(ms: 4, seq: 1)])
        #expect(batch.perStream[0]?.count == 2, "the cursor moves past trimmed entries too")
    }

    @Test func entriesAlreadyInFlightAreLeftOut() throws {
        let reply = try RESP.parse(RESP.array([RESP.array([RESP.bulk("s"), RESP.array([
            RESP.entry("5-0", [("data", Self.event)]), RESP.entry("5-1", [("data", Self.event)]), RESP.entry("5-2", [("data", Self.event)]),
        ])])]))
        var asked: [RedisEntryID] = []
        let batch = try RedisEntryDecoder(streams: ["s"]).decodeRead(reply, redelivered: [true], receivedAtNanos: 0) { keys in
            asked = keys.map(\.id)
            return keys.map { $0.id.seq == 1 }
        }
        #expect(asked.count == 3)
        #expect(batch.ids == [RedisEntryID(ms: 5, seq: 0), RedisEntryID(ms: 5, seq: 2)])
        #expect(batch.skippedInFlight == 1)
        #expect(batch.perStream[0]?.last == RedisEntryID(ms: 5, seq: 2))
    }

    @Test func timedOutBlockingReadIsEmpty() throws {
        let batch = try RedisEntryDecoder(streams: ["a", "b"]).decodeRead(
            try RESP.parse(RESP.null), redelivered: [false, false], receivedAtNanos: 0, inFlight: noneInFlight)
        #expect(batch.isEmpty)
        #expect(batch.perStream.allSatisfy { $0 == nil })
    }

    @Test func malformedRepliesAreUnexpectedNotCrashes() throws {
        let decoder = RedisEntryDecoder(streams: ["s"])
        for text in [
            ":1\r\n",
            RESP.array([RESP.bulk("other"), RESP.array([])]),
            RESP.array([RESP.array([RESP.bulk("other"), RESP.array([])])]),
            RESP.array([RESP.array([RESP.bulk("s"), RESP.array([RESP.array([RESP.bulk("not-an-id"), RESP.null])])])]),
        ] {
            #expect(throws: RedisError.self) {
                try decoder.decodeRead(try RESP.parse(text), redelivered: [false], receivedAtNanos: 0, inFlight: noneInFlight)
            }
        }
        do {
            _ = try decoder.decodeRead(try RESP.parse("-NOGROUP gone\r\n"), redelivered: [false], receivedAtNanos: 0, inFlight: noneInFlight)
            Issue.record("expected NOGROUP")
        } catch let error as RedisError {
            #expect(error.isMissingGroup)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func autoclaimRepliesOfRedis7AndRedis62() throws {
        let decoder = RedisEntryDecoder(streams: ["a", "b"])
        let seven = try RESP.parse(RESP.array([
            RESP.bulk("9-3"),
            RESP.array([RESP.entry("9-1", [("data", Self.event)])]),
            RESP.array([RESP.bulk("9-2")]),
        ]))
        let (batch, next, purged) = try decoder.decodeClaim(seven, stream: 1, receivedAtNanos: 0, inFlight: noneInFlight)
        #expect(next == RedisEntryID(ms: 9, seq: 3))
        #expect(purged == 1)
        #expect(batch.ids == [RedisEntryID(ms: 9, seq: 1)])
        #expect(batch.chunk.messages.first?.mayBeRedelivered == true, "claimed entries are checked against ClickHouse")
        #expect(batch.chunk.messages.first?.origin.stream == "b")
        let sixTwo = try RESP.parse(RESP.array([RESP.bulk("0-0"), RESP.array([])]))
        let (empty, wrapped, _) = try decoder.decodeClaim(sixTwo, stream: 0, receivedAtNanos: 0, inFlight: noneInFlight)
        #expect(empty.isEmpty && wrapped == .zero)
    }

    @Test func xinfoGroupsGivesLagAndPending() throws {
        func group(_ name: String, pending: Int, lag: String) -> String {
            RESP.array([
                RESP.bulk("name"), RESP.bulk(name), RESP.bulk("consumers"), RESP.integer(2), RESP.bulk("pending"), RESP.integer(pending),
                RESP.bulk("last-delivered-id"), RESP.bulk("5-0"), RESP.bulk("entries-read"), RESP.integer(5), RESP.bulk("lag"), lag,
            ])
        }
        let reply = try RESP.parse(RESP.array([group("other", pending: 1, lag: RESP.integer(0)), group("sluice", pending: 12, lag: RESP.integer(340))]))
        let info = try #require(RedisStreamInput.groupInfo(reply, group: "sluice"))
        #expect(info.pending == 12 && info.lag == 340)
        let unknownLag = try RESP.parse(RESP.array([group("sluice", pending: 3, lag: RESP.nullBulk)]))
        #expect(RedisStreamInput.groupInfo(unknownLag, group: "sluice")?.lag == nil)
        #expect(RedisStreamInput.groupInfo(reply, group: "missing") == nil)
    }

    @Test func commandsKeepBinaryArguments() {
        var c = RedisCommand("XACK", "s", "g")
        c.append(RedisEntryID(ms: 12, seq: 3))
        c.append(bytes: [0, 255])
        #expect(c.count == 5)
        #expect(c.arguments.prefix(4) == ["XACK", "s", "g", "12-3"])
        #expect(c.bytes.suffix(2) == [0, 255])
    }
}
