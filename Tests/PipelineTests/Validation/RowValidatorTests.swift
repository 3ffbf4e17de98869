import Pipeline
import Testing

@Suite struct RowValidatorTests {
    let harness = Harness()

    @Test func metricsRowFillsEveryColumnIncludingEventKeyAndIngestedAt() throws {
        let out = harness.decode(cloudEvent(
            id: "m-1", source: "/svc", extra: #""tenantid":"acme","time":"2025-01-15T10:00:00Z""#,
            data: #"{"metric_name":"revenue","value":1250.50,"timestamp":"2025-01-15T10:30:00.123Z","dimensions":{"region":"us-west","plan":"pro"},"metadata":{}}"#))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        let rows = try #require(out.rows("metrics"))
        #expect(rows.batch.isConsistent)
        #expect(rows.batch.rowCount == 1)
        #expect(rows.batch["tenant_id"]?.string(at: 0) == "acme")
        #expect(rows.batch["metric_name"]?.string(at: 0) == "revenue")
        #expect(rows.batch["value"]?.float64(at: 0) == 1250.5)
        #expect(rows.batch["timestamp"]?.fixedValue(at: 0, as: Int64.self) == 1_736_937_000_123)
        #expect(mapRow(rows.batch["dimensions"]!, 0) == ["region": "us-west", "plan": "pro"])
        #expect(mapRow(rows.batch["metadata"]!, 0).isEmpty)
        let key = EventKeyHasher.key(Array("/svc".utf8) + [0] + Array("m-1".utf8))
        #expect(rows.keys == [key])
        let stored = rows.batch["_event_key"]!.stringBytes(at: 0)
        #expect(stored == withUnsafeBytes(of: key.low.littleEndian, Array.init) + withUnsafeBytes(of: key.high.littleEndian, Array.init))
        #expect(rows.batch["_ingested_at"]?.fixedValue(at: 0, as: UInt32.self) == 1_736_937_000)
    }

    @Test func sourcesFallBackInOrderToTheTimeAttributeAndReceivedAt() {
        let withTime = harness.decode(cloudEvent(extra: #""tenantid":"t","time":"2025-01-15T10:00:00Z""#, data: #"{"metric_name":"a","value":1}"#))
        #expect(withTime.column("metrics", "timestamp")?.fixedValue(at: 0, as: Int64.self) == 1_736_935_200_000)
        let withNeither = harness.decode(cloudEvent(extra: #""tenantid":"t""#, data: #"{"metric_name":"a","value":1,"timestamp":null}"#))
        #expect(withNeither.column("metrics", "timestamp")?.fixedValue(at: 0, as: Int64.self) == Harness.receivedAt / 1_000_000)
    }

    /// A time column whose source text equals the `time` attribute takes the instant the
    /// envelope check parsed; any other text (different, escaped) is parsed as usual, and
    /// both give the same rows and the same failures.
    @Test func timeColumnsReuseTheParsedTimeAttributeOnlyForTheSameText() {
        func timestamp(time: String, data: String) -> (Int64?, [String]) {
            let out = harness.decode(cloudEvent(
                extra: #""tenantid":"t","time":"\#(time)""#, data: #"{"metric_name":"a","value":1,"timestamp":"\#(data)"}"#))
            guard out.rows("metrics")?.batch.rowCount == 1 else { return (nil, out.reasons) }
            return (out.column("metrics", "timestamp")?.fixedValue(at: 0, as: Int64.self), out.reasons)
        }
        #expect(timestamp(time: "2025-01-15T10:30:00.123Z", data: "2025-01-15T10:30:00.123Z").0 == 1_736_937_000_123)
        #expect(timestamp(time: "2025-01-15T12:30:00.123+02:00", data: "2025-01-15T12:30:00.123+02:00").0 == 1_736_937_000_123)
        #expect(timestamp(time: "2025-01-15T10:00:00Z", data: "2025-01-15T10:30:00.123Z").0 == 1_736_937_000_123)
        #expect(timestamp(time: "2025-01-15T10:30:00.123Z", data: "2025-01-15T10:30:00.124Z").0 == 1_736_937_000_124)
        #expect(timestamp(time: "2025-01-15T10:30:00.123Z", data: #"2025-01-15T10:30:00.123\u005A"#).0 == 1_736_937_000_123)
        // Out of DateTime64's range: the same rejection whether or not the text is the time attribute's.
        let reused = timestamp(time: "1800-01-01T00:00:00Z", data: "1800-01-01T00:00:00Z")
        let parsed = harness.decode(cloudEvent(
            extra: #""tenantid":"t""#, data: #"{"metric_name":"a","value":1,"timestamp":"1800-01-01T00:00:00Z"}"#)).reasons
        #expect(reused.0 == nil)
        #expect(reused.1 == parsed)
        #expect(parsed.count == 1 && parsed[0].hasPrefix("data.timestamp: expected DateTime64") && parsed[0].contains("outside 1900-01-01"), "\(parsed)")
    }

    @Test func missingRequiredFieldRejectsAndNamesTheSource() {
        let out = harness.decode(cloudEvent(extra: #""tenantid":"t""#, data: #"{"value":1}"#))
        #expect(out.reasons == ["data.metric_name: missing (required by column metric_name)"])
        #expect(out.rejections[0].dataset == "metrics")
        let noTenant = harness.decode(cloudEvent())
        #expect(noTenant.reasons == ["ce.tenantid: missing (required by column tenant_id)"])
    }

    @Test func fieldDefaultsAreUsedWhenEverySourceIsMissing() {
        let event = cloudEvent(type: "gateway_request", data: #"""
            {"request_id":"550e8400-e29b-41d4-a716-446655440000","timestamp":"2025-01-15T10:30:00Z",
             "project_id":"550e8400-e29b-41d4-a716-446655440001","path":"/v1/chat","status_code":200,"response_time_ms":12.5}
            """#)
        let out = harness.decode([.init(body: event), .init(body: event.replacingFirst(#""path""#, with: #""method":"POST","path""#))])
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        let method = out.column("gateway", "method")!
        #expect([method.string(at: 0), method.string(at: 1)] == ["GET", "POST"])
        #expect(out.column("gateway", "is_blocked")?.fixedValue(at: 0, as: UInt8.self) == 0)
    }

    @Test func invalidDefaultIsACatalogError() {
        let bad = DatasetDefinition(
            name: "t", routes: ["t"], fields: [Presets.field("n", "UInt8", ["data.n"], default: "300"), Presets.field("at", "DateTime", ["received_at"])],
            dedupKey: [.attribute("id")], orderBy: ["at"], timeColumn: "at")
        #expect(throws: CatalogError.self) { _ = try ChunkDecoder(catalog: [bad]) }
        let receivedIntoString = DatasetDefinition(
            name: "t", routes: ["t"], fields: [Presets.field("at", "String", ["received_at"])],
            dedupKey: [.attribute("id")], orderBy: ["at"], timeColumn: "at")
        #expect(throws: CatalogError.self) { _ = try ChunkDecoder(catalog: [receivedIntoString]) }
        #expect(throws: CatalogError.self) { _ = try ChunkDecoder(catalog: [Presets.metrics, Presets.metrics]) }
    }

    @Test func nestedDataPathsReachIntoObjects() {
        let catalog = [DatasetDefinition(
            name: "t", routes: ["t"],
            fields: [
                Presets.field("region", "String", ["data.dimensions.region"], required: true),
                Presets.field("deep", "Int32", ["data.a.b.c", "data.fallback"]),
                Presets.field("at", "DateTime", ["received_at"]),
            ],
            dedupKey: [.data(["dimensions", "region"]), .attribute("id")], orderBy: ["at"], timeColumn: "at")]
        let h = Harness(catalog: catalog)
        let out = h.decode([
            .init(body: cloudEvent(type: "t", data: #"{"dimensions":{"plan":"pro","region":"eu"},"a":{"b":{"c":7}}}"#)),
            .init(body: cloudEvent(type: "t", data: #"{"dimensions":{"region":"us"},"a":{"b":"flat"},"fallback":9}"#)),
            .init(body: cloudEvent(type: "t", data: #"{"dimensions":"us"}"#)),
        ])
        #expect(out.reasons == ["data.dimensions.region: missing (part of the dedup key)"])
        let region = out.column("t", "region", in: catalog)!
        #expect([region.string(at: 0), region.string(at: 1)] == ["eu", "us"])
        let deep = out.column("t", "deep", in: catalog)!
        #expect([deep.fixedValue(at: 0, as: Int32.self), deep.fixedValue(at: 1, as: Int32.self)] == [7, 9])
    }

    /// String, Float64 and Map(String, String) fields take a direct path for a value of
    /// the expected JSON kind; every other value goes through the general coercion. Both
    /// must give the same rows, and failures must still name the source and the reason.
    @Test func directPathsAndTheirFallbacksGiveTheGeneralCoercionsRows() throws {
        let catalog = [DatasetDefinition(
            name: "t", routes: ["t"],
            fields: [
                Presets.field("s", "String", ["data.s"], required: true),
                Presets.field("lc", "LowCardinality(String)", ["data.lc", "ce.id"]),
                Presets.field("f", "Float64", ["data.f"], required: true),
                Presets.field("m", "Map(String, String)", ["data.m"]),
                Presets.field("lm", "Map(LowCardinality(String), LowCardinality(String))", ["data.lm"]),
                Presets.field("at", "DateTime", ["received_at"]),
            ],
            dedupKey: [.attribute("id")], orderBy: ["at"], timeColumn: "at")]
        let out = Harness(catalog: catalog).decode([
            // Direct paths: a string (with an escape), a number, objects.
            .init(body: cloudEvent(id: "1", type: "t", data: #"{"s":"a\u0062","lc":"x","f":-1.5e2,"m":{"k":"v","n":1,"z":null,"o":{"x":[1]},"e":"\n"},"lm":{"a":"b"}}"#)),
            // Fallbacks that succeed: a number and a boolean as text, a numeric string,
            // a null map (absent: the type's default), a missing lc (the next source).
            .init(body: cloudEvent(id: "2", type: "t", data: #"{"s":12.50,"f":"2.5","m":null,"lm":{}}"#)),
            .init(body: cloudEvent(id: "3", type: "t", data: #"{"s":true,"f":7}"#)),
            // Fallbacks that fail.
            .init(body: cloudEvent(id: "4", type: "t", data: #"{"s":"x","f":1e999}"#)),
            .init(body: cloudEvent(id: "5", type: "t", data: #"{"s":"x","f":"abc"}"#)),
            .init(body: cloudEvent(id: "6", type: "t", data: #"{"s":"x","f":true}"#)),
            .init(body: cloudEvent(id: "7", type: "t", data: #"{"s":"x","f":1,"m":["k"]}"#)),
            .init(body: cloudEvent(id: "8", type: "t", data: #"{"s":"x","f":1,"lm":"k"}"#)),
            .init(body: cloudEvent(id: "9", type: "t", data: #"{"s":{"a":1},"f":1}"#)),
            .init(body: cloudEvent(id: "10", type: "t", data: #"{"f":1}"#)),
        ])
        #expect(out.reasons == [
            "data.f: expected Float64, got number 1e999 (out of range)",
            "data.f: expected Float64, got string \"abc\"",
            "data.f: expected Float64, got boolean true",
            "data.m: expected Map(String, String), got array",
            "data.lm: expected Map(LowCardinality(String), LowCardinality(String)), got string \"k\"",
            "data.s: missing (required by column s)",
        ])
        let rows = try #require(out.rows("t", in: catalog))
        #expect(rows.batch.isConsistent)
        #expect(rows.rowCount == 4)
        let s = rows.batch["s"]!, lc = rows.batch["lc"]!, f = rows.batch["f"]!, m = rows.batch["m"]!, lm = rows.batch["lm"]!
        #expect((0..<4).map { s.string(at: $0) } == ["ab", "12.50", "true", #"{"a":1}"#])
        #expect((0..<4).map { lc.string(at: $0) } == ["x", "2", "3", "9"])
        #expect((0..<4).map { f.float64(at: $0) } == [-150, 2.5, 7, 1])
        #expect(mapRow(m, 0) == ["k": "v", "n": "1", "o": #"{"x":[1]}"#, "e": "\n"])
        #expect(m.range(of: 0).count == 4)
        #expect((1..<4).map { m.range(of: $0).count } == [0, 0, 0])
        #expect(m.inner!.rowCount == 4 && m.inner2!.rowCount == 4)
        #expect(mapRow(lm, 0) == ["a": "b"])
        #expect((1..<4).map { lm.range(of: $0).count } == [0, 0, 0])
    }

    @Test func aRowThatFailsHalfWayIsRolledBackCompletely() throws {
        // Map and Array columns are filled before the failing column, so a partial row
        // would leave elements behind in their inner columns.
        let catalog = [DatasetDefinition(
            name: "t", routes: ["t"],
            fields: [
                Presets.field("name", "String", ["data.name"]),
                Presets.field("tags", "Array(String)", ["data.tags"]),
                Presets.field("labels", "Map(String, String)", ["data.labels"]),
                Presets.field("maybe", "Nullable(String)", ["data.maybe"]),
                Presets.field("n", "UInt8", ["data.n"], required: true),
                Presets.field("at", "DateTime", ["received_at"]),
            ],
            dedupKey: [.attribute("id")], orderBy: ["at"], timeColumn: "at")]
        let good1 = cloudEvent(id: "1", type: "t", data: #"{"name":"first","tags":["a"],"labels":{"k":"v"},"maybe":"m","n":1}"#)
        let bad = cloudEvent(id: "2", type: "t", data: #"{"name":"second-is-long","tags":["b","c","d"],"labels":{"x":"y","z":"w"},"maybe":"q","n":999}"#)
        let badInArray = cloudEvent(id: "3", type: "t", data: #"{"name":"third","tags":["e",{"no":1},null],"n":1}"#)
        let badInMap = cloudEvent(id: "4", type: "t", data: #"{"name":"fourth","tags":["f"],"labels":{"a":"b","c":[1]},"n":1}"#)
        let good2 = cloudEvent(id: "5", type: "t", data: #"{"name":"fifth","tags":["g","h"],"labels":{"k2":"v2"},"n":2}"#)
        let out = Harness(catalog: catalog).decode("[\(good1),\(bad),\(badInArray),\(badInMap),\(good2)]")
        #expect(out.reasons == [
            "data.n: expected UInt8, got number 999 (out of range)",
            "data.tags[2]: expected String, got null",
        ], "a Map(String, String) keeps non-string values as text, so event 4 is valid")
        let rows = try #require(out.rows("t", in: catalog))
        #expect(rows.batch.isConsistent)
        #expect(rows.rowCount == 3)
        let names = rows.batch["name"]!
        #expect((0..<3).map { names.string(at: $0) } == ["first", "fourth", "fifth"])
        let tags = rows.batch["tags"]!
        #expect(tags.inner!.rowCount == 4)
        #expect(tags.range(of: 2).map { tags.inner!.string(at: $0) } == ["g", "h"])
        let labels = rows.batch["labels"]!
        #expect(labels.inner!.rowCount == labels.inner2!.rowCount)
        #expect(mapRow(labels, 1) == ["a": "b", "c": "[1]"])
        #expect(mapRow(labels, 2) == ["k2": "v2"])
        #expect(rows.batch["maybe"]!.isNull(at: 2))
        #expect(rows.messageIndex == [0, 0, 0])
    }

    @Test func defaultTenantFillsOnlyEventsWithoutOne() {
        let scope = TenantScope(defaultTenant: "header-tenant")
        let out = harness.decode([
            .init(body: cloudEvent(id: "1"), tenant: scope),
            .init(body: cloudEvent(id: "2", extra: #""tenantid":"own""#), tenant: scope),
        ])
        let tenant = out.column("metrics", "tenant_id")!
        #expect([tenant.string(at: 0), tenant.string(at: 1)] == ["header-tenant", "own"])
    }

    @Test func requiredTenantRejectsOtherTenantsWithoutRewriting() {
        let scope = TenantScope(defaultTenant: "acme", requiredTenant: "acme")
        let out = harness.decode([
            .init(body: "[\(cloudEvent(id: "1")),\(cloudEvent(id: "2", extra: #""tenantid":"evil""#)),\(cloudEvent(id: "3", extra: #""tenantid":"acme""#))]", tenant: scope),
        ])
        #expect(out.reasons == ["tenant_id: tenant 'evil' does not match the tenant this request is scoped to ('acme')"])
        #expect(out.rejections[0].eventID == "2")
        let tenant = out.column("metrics", "tenant_id")!
        #expect(tenant.rowCount == 2)
        #expect([tenant.string(at: 0), tenant.string(at: 1)] == ["acme", "acme"])
        #expect(out.rows("metrics")!.batch.isConsistent)
    }

    @Test func requiredTenantComparesUUIDColumnsByValue() {
        let project = "550E8400-E29B-41D4-A716-446655440001"
        let event = cloudEvent(type: "gateway_request", data: #"""
            {"request_id":"550e8400-e29b-41d4-a716-446655440000","project_id":"550e8400-e29b-41d4-a716-446655440001",
             "path":"/","status_code":200,"response_time_ms":1}
            """#)
        #expect(harness.decode(event, tenant: TenantScope(requiredTenant: project)).rejections.isEmpty)
        let other = harness.decode(event, tenant: TenantScope(requiredTenant: "00000000-0000-0000-0000-000000000000"))
        #expect(other.reasons == ["project_id: tenant '550e8400-e29b-41d4-a716-446655440001' does not match the tenant this request is scoped to ('00000000-0000-0000-0000-000000000000')"])
        let noTenantColumn = harness.decode(
            cloudEvent(type: "com.dapr.event.sent", extra: #""time":"2020-09-23T06:23:21Z""#, data: #"{"orderId":1}"#),
            tenant: TenantScope(requiredTenant: "acme"))
        #expect(noTenantColumn.rejections.count == 1)
        #expect(noTenantColumn.reasons[0].contains("has no tenant column"))
    }

    @Test func dedupKeysAreEqualForTheSameEventAndDifferOtherwise() {
        let a = cloudEvent(id: "x", source: "/s", extra: #""tenantid":"t""#)
        let sameKeyOtherBody = cloudEvent(id: "x", source: "/s", extra: #""tenantid":"t2""#, data: #"{"metric_name":"other","value":2}"#)
        let otherID = cloudEvent(id: "y", source: "/s", extra: #""tenantid":"t""#)
        let otherSource = cloudEvent(id: "x", source: "/s2", extra: #""tenantid":"t""#)
        // "a\0bc" vs "ab\0c": the separator keeps component boundaries apart.
        let shifted1 = cloudEvent(id: "bc", source: "a", extra: #""tenantid":"t""#)
        let shifted2 = cloudEvent(id: "c", source: "ab", extra: #""tenantid":"t""#)
        let keys = harness.decode("[\(a),\(sameKeyOtherBody),\(otherID),\(otherSource),\(shifted1),\(shifted2)]").rows("metrics")!.keys
        #expect(keys.count == 6)
        #expect(keys[0] == keys[1])
        #expect(Set(keys).count == 5)
        // Dataset keys from data: inference_id, the same in two different envelopes.
        let inference = #"{"inference_id":"6f9619ff-8b86-d011-b42d-00c04fc964ff","project_id":"550e8400-e29b-41d4-a716-446655440000","endpoint_id":"550e8400-e29b-41d4-a716-446655440000","model_id":"550e8400-e29b-41d4-a716-446655440000","is_success":false,"request_arrival_time":"2024-01-01T00:00:00","request_forward_time":"2024-01-01T00:00:00"}"#
        let i1 = cloudEvent(id: "1", type: "add_request_metrics", data: inference)
        let i2 = cloudEvent(id: "2", source: "/other", type: "add_request_metrics", data: inference)
        let ikeys = harness.decode("[\(i1),\(i2)]").rows("inference")!.keys
        #expect(ikeys.count == 2)
        #expect(ikeys[0] == ikeys[1])
        #expect(ikeys[0] == EventKeyHasher.key(Array("6f9619ff-8b86-d011-b42d-00c04fc964ff".utf8)))
    }

    @Test func eventsOfDifferentDatasetsInOneChunkGoToTheirOwnTables() {
        let metric = cloudEvent(extra: #""tenantid":"t""#)
        let order = cloudEvent(type: "com.dapr.event.sent", extra: #""time":"2020-09-23T06:23:21Z""#, data: #"{"orderId":5}"#)
        let out = harness.decode([.init(body: order), .init(body: metric), .init(body: order)])
        #expect(out.rows("metrics")?.messageIndex == [1])
        #expect(out.rows("orders")?.messageIndex == [0, 2])
        #expect(out.rows("inference") == nil)
        #expect(out.eventsPerMessage == [1, 1, 1])
    }

    @Test func decoderIsReusableAcrossChunks() {
        var decoder = try! ChunkDecoder(catalog: Presets.catalog)
        for round in 0..<3 {
            let chunk = MessageChunk()
            for i in 0..<(round + 1) * 10 {
                let range = chunk.appendPayload(Array(cloudEvent(id: "\(round)-\(i)", extra: #""tenantid":"t""#).utf8))
                chunk.messages.append(InboundMessage(payload: range, origin: MessageOrigin(kind: .redis, stream: "s"), receivedAtNanos: 0))
            }
            let out = decoder.decode(chunk)
            #expect(out.rows("metrics")?.rowCount == (round + 1) * 10)
            #expect(out.rejections.isEmpty)
        }
    }

    @Test func eventKeyHasherIsDeterministicAndSpreadsInputs() {
        var seen = Set<EventKey>()
        for n in 0..<2000 {
            let material = Array("event-\(n)".utf8) + Array(repeating: UInt8(n % 7), count: n % 70)
            let key = EventKeyHasher.key(material)
            #expect(key == EventKeyHasher.key(material))
            seen.insert(key)
        }
        #expect(seen.count == 2000)
        #expect(EventKeyHasher.key([]) != EventKeyHasher.key([0]))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let r = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(r, with: replacement)
        return copy
    }
}
