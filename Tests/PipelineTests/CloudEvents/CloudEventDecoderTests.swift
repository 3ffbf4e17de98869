import Pipeline
import Testing

@Suite struct CloudEventDecoderTests {
    let harness = Harness()

    @Test func structuredEventBecomesARow() {
        let out = harness.decode(cloudEvent(extra: #""tenantid":"acme""#))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(out.rows("metrics")?.rowCount == 1)
        #expect(out.eventsPerMessage == [1])
    }

    @Test func batchYieldsEveryEventAndEmptyBatchYieldsNone() {
        let a = cloudEvent(id: "a", extra: #""tenantid":"t""#)
        let b = cloudEvent(id: "b", extra: #""tenantid":"t""#)
        let out = harness.decode([.init(body: "[\(a),\(b)]"), .init(body: " [ ] ")])
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(out.rows("metrics")?.rowCount == 2)
        #expect(out.rows("metrics")?.messageIndex == [0, 0])
        #expect(out.eventsPerMessage == [2, 0])
    }

    @Test func aBadEventInABatchIsRejectedAloneWithItsOwnBytes() {
        let good = cloudEvent(id: "good", extra: #""tenantid":"t""#)
        let bad = cloudEvent(id: "bad", extra: #""tenantid":"t""#, data: #"{"metric_name":"x","value":"abc"}"#)
        let out = harness.decode("[\(good), \(bad), 42, \(cloudEvent(id: "good2", extra: #""tenantid":"t""#))]")
        #expect(out.rows("metrics")?.rowCount == 2)
        #expect(out.eventsPerMessage == [4])
        #expect(out.reasons == [#"data.value: expected Float64, got string "abc""#, "a CloudEvent is a JSON object, got number 42"])
        #expect(out.rejections[0].rawEvent == Array(bad.utf8))
        #expect(out.rejections[0].eventID == "bad")
        #expect(out.rejections[0].eventSource == "/test")
        #expect(out.rejections[0].eventType == "metric")
        #expect(out.rejections[0].dataset == "metrics")
        #expect(out.rejections[1].rawEvent == Array("42".utf8))
    }

    @Test func aBodyThatIsNotJSONIsOneRejectionForTheMessage() {
        let out = harness.decode([.init(body: "[{\"id\":1},"), .init(body: cloudEvent(extra: #""tenantid":"t""#))])
        #expect(out.eventsPerMessage == [1, 1])
        #expect(out.rejections.count == 1)
        #expect(out.rejections[0].message == 0)
        #expect(out.rejections[0].field == "")
        #expect(out.rejections[0].reason == "body is not valid JSON: unexpected end of input, expected a value at byte 10")
        #expect(out.rows("metrics")?.messageIndex == [1])
    }

    @Test func aStructuredMessageMustBeAnObjectOrArray() {
        let out = harness.decode("\"hello\"")
        #expect(out.reasons == ["a structured message is a CloudEvent object or an array of them, got string"])
    }

    @Test(arguments: [
        (#"{"id":"1","source":"s","type":"metric"}"#, "specversion: missing"),
        (#"{"specversion":"0.3","id":"1","source":"s","type":"metric"}"#, #"specversion: expected "1.0", got string "0.3""#),
        (#"{"specversion":1.0,"id":"1","source":"s","type":"metric"}"#, #"specversion: expected "1.0", got number 1.0"#),
        (#"{"specversion":"1.0","source":"s","type":"metric"}"#, "id: missing"),
        (#"{"specversion":"1.0","id":null,"source":"s","type":"metric"}"#, "id: missing"),
        (#"{"specversion":"1.0","id":"","source":"s","type":"metric"}"#, "id: must not be empty"),
        (#"{"specversion":"1.0","id":7,"source":"s","type":"metric"}"#, "id: expected a non-empty string, got number 7"),
        (#"{"specversion":"1.0","id":"1","type":"metric"}"#, "source: missing"),
        (#"{"specversion":"1.0","id":"1","source":"s"}"#, "type: missing"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":""}"#, "type: must not be empty"),
        (#"{"specversion":"1.0","id":"a\u0000b","source":"s","type":"metric"}"#, "id: control character U+0 is not allowed"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","time":"yesterday"}"#, #"time: not an RFC 3339 timestamp: string "yesterday""#),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","time":"2025-01-15T10:30:00"}"#, #"time: not an RFC 3339 timestamp: string "2025-01-15T10:30:00""#),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","subject":""}"#, "subject: must not be empty when present"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","dataschema":5}"#, "dataschema: expected a string, got number 5"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","TenantId":"x"}"#, "TenantId: attribute names may only contain lowercase letters a-z and digits 0-9"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","trace_id":"x"}"#, "trace_id: attribute names may only contain lowercase letters a-z and digits 0-9"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","ext":{"a":1}}"#, "ext: extension attribute values are strings, numbers or booleans, got object"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","tenantid":["a"]}"#, "tenantid: extension attribute values are strings, numbers or booleans, got array"),
        (#"{"specversion":"1.0","id":"1","id":"2","source":"s","type":"metric"}"#, "id: duplicate member"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","data":{},"data_base64":"e30="}"#, "data_base64: data and data_base64 are mutually exclusive"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","data_base64":"e30*"}"#, "data_base64: invalid base64 at offset 3"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","data_base64":"bm90IGpzb24="}"#, "data_base64: decoded bytes are not JSON: invalid literal, expected 'null' at byte 0"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"metric","datacontenttype":"text/plain","data":{"a":1}}"#, "data: expected a string for a non-JSON datacontenttype, got object"),
        (#"{"specversion":"1.0","id":"1","source":"s","type":"nope"}"#, "type: no dataset is routed for 'nope'"),
    ])
    func envelopeViolationsNameTheAttribute(_ body: String, _ reason: String) {
        let out = harness.decode(body)
        #expect(out.reasons == [reason])
        #expect(out.eventsPerMessage == [1])
    }

    @Test func nullAttributesAreAbsentAndUnknownExtensionsAreKept() {
        let out = harness.decode(cloudEvent(extra: #""subject":null,"tenantid":"t","comexampleothervalue":5,"flag":true,"dataschema":null"#))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
    }

    @Test func daprEnvelopeFromTheSpecDecodes() {
        let envelope = """
            {
              "topic": "orders",
              "pubsubname": "order_pub_sub",
              "traceid": "00-113ad9c4e42b27583ae98ba698d54255-e3743e35ff56f219-01",
              "tracestate": "",
              "data": { "orderId": 1 },
              "id": "5929aaac-a5e2-4ca1-859c-edfe73f11565",
              "specversion": "1.0",
              "datacontenttype": "application/json; charset=utf-8",
              "source": "checkout",
              "type": "com.dapr.event.sent",
              "time": "2020-09-23T06:23:21Z",
              "traceparent": "00-113ad9c4e42b27583ae98ba698d54255-e3743e35ff56f219-01"
            }
            """
        let out = harness.decode(envelope)
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(out.column("orders", "order_id")?.fixedValue(at: 0, as: Int64.self) == 1)
        #expect(out.column("orders", "topic")?.string(at: 0) == "orders")
        #expect(out.column("orders", "traceparent")?.string(at: 0) == "00-113ad9c4e42b27583ae98ba698d54255-e3743e35ff56f219-01")
        #expect(out.column("orders", "sent_at")?.fixedValue(at: 0, as: UInt32.self) == 1_600_842_201)
    }

    @Test func dataBase64WithJSONContentIsParsed() {
        // {"orderId":42}
        let body = cloudEvent(type: "com.dapr.event.sent", extra: #""time":"2020-09-23T06:23:21Z","datacontenttype":"application/json""#, data: nil)
            .dropLast() + #","data_base64":"eyJvcmRlcklkIjo0Mn0="}"#
        let out = harness.decode(String(body))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(out.column("orders", "order_id")?.fixedValue(at: 0, as: Int64.self) == 42)
    }

    @Test func nonJSONDataIsAStringThatPathsCannotEnter() {
        var catalog = Presets.catalog
        catalog.append(DatasetDefinition(
            name: "notes", routes: ["note"],
            fields: [Presets.field("text", "String", ["data"], required: true), Presets.field("at", "DateTime", ["received_at"])],
            dedupKey: [.attribute("id")], orderBy: ["at"], timeColumn: "at"))
        let h = Harness(catalog: catalog)
        let xml = h.decode(cloudEvent(type: "note", extra: #""datacontenttype":"text/xml""#, data: #""<much wow=\"xml\"/>""#))
        #expect(xml.rejections.isEmpty, "\(xml.reasons)")
        #expect(xml.column("notes", "text", in: catalog)?.string(at: 0) == #"<much wow="xml"/>"#)
        // data_base64 with a binary content type: the decoded bytes as a string.
        let b64 = h.decode(cloudEvent(type: "note", extra: #""datacontenttype":"text/plain","data_base64":"aGVsbG8="#, data: nil).dropLast() + "\"}")
        #expect(b64.rejections.isEmpty, "\(b64.reasons)")
        #expect(b64.column("notes", "text", in: catalog)?.string(at: 0) == "hello")
    }

    // MARK: Binary modes

    static let binaryAttributes = ["specversion": "1.0", "id": "b-1", "source": "/kafka/metrics", "type": "metric", "tenantid": "acme", "datacontenttype": "application/json"]

    @Test func binaryModeTakesAttributesFromHeadersAndDataFromTheBody() {
        let out = harness.decode(#"{"metric_name":"cpu","value":"0.75","timestamp":1736937000123}"#, format: .binary(attributes: Self.binaryAttributes))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(out.column("metrics", "tenant_id")?.string(at: 0) == "acme")
        #expect(out.column("metrics", "value")?.float64(at: 0) == 0.75)
        #expect(out.column("metrics", "timestamp")?.fixedValue(at: 0, as: Int64.self) == 1_736_937_000_123)
    }

    @Test func binaryModeRequiresTheSameAttributes() {
        var attributes = Self.binaryAttributes
        attributes["specversion"] = nil
        #expect(harness.decode("{}", format: .binary(attributes: attributes)).reasons == ["specversion: missing"])
        attributes = Self.binaryAttributes
        attributes["Bad-Name"] = "x"
        #expect(harness.decode("{}", format: .binary(attributes: attributes)).reasons == ["Bad-Name: attribute names may only contain lowercase letters a-z and digits 0-9"])
    }

    @Test func binaryBodyThatIsNotJSONIsRejectedWithItsAttributes() {
        let out = harness.decode("not json", format: .binary(attributes: Self.binaryAttributes))
        #expect(out.reasons == ["body is not valid JSON: invalid literal, expected 'null' at byte 0"])
        #expect(out.rejections[0].eventID == "b-1")
        #expect(out.eventsPerMessage == [1])
    }

    @Test func seed004SingleShapeAsABinaryMessage() {
        let body = #"""
            {
              "metric_name": "revenue",
              "value": 1250.50,
              "timestamp": "2025-01-15T10:30:00Z",
              "dimensions": {"region": "us-west", "plan": "pro"},
              "metadata": {"source": "stripe"}
            }
            """#
        let attributes = ["specversion": "1.0", "id": "req-1", "source": "/api/v1/metrics/ingest", "type": "metric"]
        let out = harness.decode(body, format: .binary(attributes: attributes), tenant: TenantScope(defaultTenant: "tenant-uuid"))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(out.column("metrics", "tenant_id")?.string(at: 0) == "tenant-uuid")
        #expect(out.column("metrics", "value")?.float64(at: 0) == 1250.5)
        #expect(out.column("metrics", "timestamp")?.fixedValue(at: 0, as: Int64.self) == 1_736_937_000_000)
        #expect(mapRow(out.column("metrics", "dimensions")!, 0) == ["region": "us-west", "plan": "pro"])
        #expect(mapRow(out.column("metrics", "metadata")!, 0) == ["source": "stripe"])
    }

    static let seed004Batch = #"""
        {
          "metrics": [
            {"metric_name": "signups", "value": 12, "timestamp": "2025-01-15T10:30:00Z"},
            {"metric_name": "revenue", "value": 5000, "timestamp": "2025-01-15T10:30:00Z"}
          ]
        }
        """#

    static let itemAttributes = ["specversion": "1.0", "source": "/api/v1/metrics/ingest/batch", "type": "metric"]

    @Test func seed004BatchShapeYieldsOneEventPerItem() {
        let out = harness.decode(Self.seed004Batch, format: .binaryItems(attributes: Self.itemAttributes, itemsKey: "metrics"), tenant: TenantScope(defaultTenant: "t1"))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(out.eventsPerMessage == [2])
        let names = out.column("metrics", "metric_name")!
        #expect([names.string(at: 0), names.string(at: 1)] == ["signups", "revenue"])
        #expect(out.column("metrics", "value")?.float64(at: 1) == 5000)
        #expect(mapRow(out.column("metrics", "dimensions")!, 0).isEmpty)
    }

    @Test func itemIDsAreDeterministicSoARetryDeduplicates() {
        let format = MessageFormat.binaryItems(attributes: Self.itemAttributes, itemsKey: "metrics")
        let first = harness.decode(Self.seed004Batch, format: format, tenant: TenantScope(defaultTenant: "t1"))
        let retry = harness.decode(Self.seed004Batch, format: format, tenant: TenantScope(defaultTenant: "t1"))
        #expect(first.rows("metrics")!.keys == retry.rows("metrics")!.keys)
        #expect(first.rows("metrics")!.keys[0] != first.rows("metrics")!.keys[1])
        // Two identical items stay two events.
        let twins = #"{"metrics":[{"metric_name":"a","value":1},{"metric_name":"a","value":1}]}"#
        let out = harness.decode(twins, format: format, tenant: TenantScope(defaultTenant: "t1"))
        #expect(out.rows("metrics")?.rowCount == 2)
        #expect(Set(out.rows("metrics")!.keys).count == 2)
    }

    @Test func itemsWithAnIDAttributeGetPositionSuffixes() {
        var attributes = Self.itemAttributes
        attributes["id"] = "req-9"
        let out = harness.decode(#"{"metrics":[{"metric_name":"a","value":1},{"metric_name":"b"}]}"#, format: .binaryItems(attributes: attributes, itemsKey: "metrics"), tenant: TenantScope(defaultTenant: "t"))
        #expect(out.reasons == ["data.value: missing (required by column value)"])
        #expect(out.rejections[0].eventID == "req-9-1")
        #expect(out.rejections[0].rawEvent == Array(#"{"metric_name":"b"}"#.utf8))
    }

    @Test func itemsBodyProblemsRejectTheMessage() {
        let format = MessageFormat.binaryItems(attributes: Self.itemAttributes, itemsKey: "metrics")
        #expect(harness.decode(#"{"items":[]}"#, format: format).reasons == ["metrics: missing: expected an array of items"])
        #expect(harness.decode(#"{"metrics":{}}"#, format: format).reasons == ["metrics: expected an array of items, got object"])
        #expect(harness.decode(#"[]"#, format: format).reasons == ["expected an object with an array member 'metrics', got array"])
        let empty = harness.decode(#"{"metrics":[]}"#, format: format)
        #expect(empty.rejections.isEmpty)
        #expect(empty.eventsPerMessage == [0])
    }

    @Test func seed000AddEntryValidatesIntoAnInferenceRow() {
        // What the HTTP layer makes of one `entries[]` element of seed 000's /add body:
        // `event` is the data, `metadata.cloudevent.*` the attributes.
        let event = #"""
            {
                "inference_id": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
                "project_id": "550e8400-e29b-41d4-a716-446655440000",
                "endpoint_id": "550e8400-e29b-41d4-a716-446655440001",
                "model_id": "550e8400-e29b-41d4-a716-446655440002",
                "is_success": true,
                "request_arrival_time": "2024-01-01T00:00:00",
                "request_forward_time": "2024-01-01T00:00:01",
                "cost": 0.025,
                "response_analysis": {"sentiment": "positive", "scores": [0.1, 0.9]}
            }
            """#
        let attributes = ["specversion": "1.0", "id": "event-id", "type": "add_request_metrics", "source": "dapr/pubsub/observability-metrics"]
        let out = harness.decode(event, format: .binary(attributes: attributes))
        #expect(out.rejections.isEmpty, "\(out.reasons)")
        #expect(uuidText(out.column("inference", "inference_id")!, 0) == "6f9619ff-8b86-d011-b42d-00c04fc964ff")
        #expect(out.column("inference", "is_success")?.fixedValue(at: 0, as: UInt8.self) == 1)
        #expect(out.column("inference", "request_arrival_time")?.fixedValue(at: 0, as: Int64.self) == 1_704_067_200_000)
        #expect(out.column("inference", "request_forward_time")?.fixedValue(at: 0, as: Int64.self) == 1_704_067_201_000)
        #expect(out.column("inference", "cost")?.inner?.float64(at: 0) == 0.025)
        #expect(out.column("inference", "response_time_ms")?.isNull(at: 0) == true)
        #expect(out.column("inference", "error_code")?.string(at: 0) == "")
        #expect(out.column("inference", "response_analysis")?.string(at: 0) == #"{"sentiment": "positive", "scores": [0.1, 0.9]}"#)
    }

    // MARK: Limits

    @Test func limitsRejectAndNameTheLimit() {
        var h = harness
        h.limits = DecodeLimits(maxDepth: 4, maxStringBytes: 30, maxEventsPerMessage: 2, maxEventBytes: 180, maxRawEventBytes: 10)
        let e = cloudEvent(extra: #""tenantid":"t""#)
        #expect(h.decode("[\(e),\(e),\(e)]").reasons == ["message holds 3 events, more than the limit of 2 (limits.max_events_per_batch)"])
        let big = cloudEvent(extra: #""tenantid":"t","pad":"\#(String(repeating: "x", count: 10))","pad2":"\#(String(repeating: "y", count: 10))""#)
        let tooBig = h.decode(big)
        #expect(big.utf8.count > 180)
        #expect(tooBig.reasons == ["event of \(big.utf8.count) bytes is larger than the limit of 180 bytes (limits.max_event_bytes)"])
        #expect(tooBig.rejections[0].rawEvent.count == 10)
        let deep = cloudEvent(extra: #""tenantid":"t""#, data: #"{"a":{"b":{"c":{"d":1}}}}"#)
        let deepReason = h.decode(deep).reasons.first ?? ""
        #expect(deepReason.hasPrefix("body is not valid JSON: nested deeper than 4 levels at byte "))
        #expect(deepReason.hasSuffix(" (limit limits.max_json_depth)"))
        let long = cloudEvent(extra: #""tenantid":"\#(String(repeating: "z", count: 31))""#)
        #expect(h.decode(long).reasons.first?.hasSuffix("(limit limits.max_string_bytes)") == true)
    }

    @Test func payloadRangeOutsideTheChunkIsRejectedNotACrash() {
        let chunk = MessageChunk()
        chunk.messages.append(InboundMessage(payload: 0..<50, origin: MessageOrigin(kind: .kafka, stream: "t"), receivedAtNanos: 0))
        var decoder = try! ChunkDecoder(catalog: Presets.catalog)
        let out = decoder.decode(chunk)
        #expect(out.rejections.count == 1)
        #expect(out.eventsPerMessage == [1])
    }
}
