import Pipeline
import Testing

/// The preset datasets of `config/datasets/` built in code (this target has no YAML
/// loader); `presetsMatchTheYAMLFiles` in IngestorTests-style checks are left to the
/// loader's own tests. Keep in step with the YAML.
enum Presets {
    static func field(_ name: String, _ type: String, _ from: [String], required: Bool = false, default value: String? = nil) -> FieldDefinition {
        FieldDefinition(
            name: name, type: try! ColumnType(parsing: type), sources: from.map { try! ValueSource(parsing: $0) },
            required: required, defaultValue: value)
    }

    static let metrics = DatasetDefinition(
        name: "metrics", routes: ["metric"],
        fields: [
            field("tenant_id", "LowCardinality(String)", ["ce.tenantid"], required: true),
            field("metric_name", "LowCardinality(String)", ["data.metric_name"], required: true),
            field("value", "Float64", ["data.value"], required: true),
            field("timestamp", "DateTime64(3, 'UTC')", ["data.timestamp", "ce.time", "received_at"], required: true),
            field("dimensions", "Map(String, String)", ["data.dimensions"]),
            field("metadata", "Map(String, String)", ["data.metadata"]),
        ],
        dedupKey: [.attribute("source"), .attribute("id")], orderBy: ["tenant_id", "metric_name", "timestamp"],
        timeColumn: "timestamp", tenantColumn: "tenant_id", retentionDays: 90)

    static let inference = DatasetDefinition(
        name: "inference", routes: ["add_request_metrics"],
        fields: [
            field("inference_id", "UUID", ["data.inference_id"], required: true),
            field("project_id", "UUID", ["data.project_id"], required: true),
            field("endpoint_id", "UUID", ["data.endpoint_id"], required: true),
            field("model_id", "UUID", ["data.model_id"], required: true),
            field("is_success", "Bool", ["data.is_success"], required: true),
            field("request_arrival_time", "DateTime64(3, 'UTC')", ["data.request_arrival_time"], required: true),
            field("request_forward_time", "DateTime64(3, 'UTC')", ["data.request_forward_time"], required: true),
            field("cost", "Nullable(Float64)", ["data.cost"]),
            field("input_tokens", "UInt32", ["data.input_tokens"]),
            field("output_tokens", "UInt32", ["data.output_tokens"]),
            field("response_time_ms", "Nullable(Float64)", ["data.response_time_ms"]),
            field("ttft_ms", "Nullable(Float64)", ["data.ttft_ms"]),
            field("error_code", "LowCardinality(String)", ["data.error_code"]),
            field("response_analysis", "String", ["data.response_analysis"]),
        ],
        dedupKey: [.data(["inference_id"])], orderBy: ["project_id", "model_id", "request_arrival_time"],
        timeColumn: "request_arrival_time", tenantColumn: "project_id", retentionDays: 365)

    static let gateway = DatasetDefinition(
        name: "gateway", routes: ["gateway_request"],
        fields: [
            field("request_id", "UUID", ["data.request_id"], required: true),
            field("timestamp", "DateTime64(3, 'UTC')", ["data.timestamp", "ce.time", "received_at"], required: true),
            field("project_id", "UUID", ["data.project_id"], required: true),
            field("method", "LowCardinality(String)", ["data.method"], default: "GET"),
            field("path", "String", ["data.path"], required: true),
            field("status_code", "UInt16", ["data.status_code"], required: true),
            field("response_time_ms", "Float64", ["data.response_time_ms"], required: true),
            field("is_blocked", "Bool", ["data.is_blocked"]),
        ],
        dedupKey: [.data(["request_id"])], orderBy: ["project_id", "timestamp"],
        timeColumn: "timestamp", tenantColumn: "project_id", retentionDays: 90)

    /// Dapr's example envelope (`com.dapr.event.sent`) routed to a small dataset.
    static let orders = DatasetDefinition(
        name: "orders", routes: ["com.dapr.event.sent"],
        fields: [
            field("order_id", "Int64", ["data.orderId"], required: true),
            field("topic", "String", ["ce.topic"]),
            field("traceparent", "String", ["ce.traceparent"]),
            field("sent_at", "DateTime", ["ce.time"], required: true),
        ],
        dedupKey: [.attribute("source"), .attribute("id")], orderBy: ["order_id"], timeColumn: "sent_at")

    static let catalog = [metrics, inference, gateway, orders]
}

/// Builds chunks and runs a ``ChunkDecoder`` over them.
struct Harness {
    var catalog: [DatasetDefinition] = Presets.catalog
    var limits: DecodeLimits = .default

    static let receivedAt: Int64 = 1_736_937_000_123_456_789 // 2025-01-15T10:30:00.123456789Z

    struct Message {
        var body: String
        var format: MessageFormat = .structured
        var tenant: TenantScope = .none
    }

    func decode(_ messages: [Message]) -> DecodedChunk {
        let chunk = MessageChunk()
        for m in messages {
            let range = chunk.appendPayload(Array(m.body.utf8))
            chunk.messages.append(InboundMessage(
                payload: range, format: m.format, origin: MessageOrigin(kind: .http, stream: "/v1/events"),
                tenant: m.tenant, receivedAtNanos: Self.receivedAt))
        }
        var decoder = try! ChunkDecoder(catalog: catalog, limits: limits)
        return decoder.decode(chunk)
    }

    func decode(_ body: String, format: MessageFormat = .structured, tenant: TenantScope = .none) -> DecodedChunk {
        decode([Message(body: body, format: format, tenant: tenant)])
    }
}

extension DecodedChunk {
    func rows(_ dataset: String, in catalog: [DatasetDefinition] = Presets.catalog) -> TableRows? {
        guard let i = catalog.firstIndex(where: { $0.name == dataset }) else { return nil }
        return tables[i]
    }

    func column(_ dataset: String, _ name: String, in catalog: [DatasetDefinition] = Presets.catalog) -> ColumnBuffer? {
        rows(dataset, in: catalog)?.batch[name]
    }

    var reasons: [String] { rejections.map { $0.field.isEmpty ? $0.reason : "\($0.field): \($0.reason)" } }
}

/// A structured CloudEvent's JSON text with the given attributes and data.
func cloudEvent(
    id: String = "e-1", source: String = "/test", type: String = "metric", extra: String = "",
    data: String? = #"{"metric_name":"cpu","value":0.5,"timestamp":"2025-01-15T10:30:00.123Z"}"#
) -> String {
    var members = [#""specversion":"1.0""#, #""id":"\#(id)""#, #""source":"\#(source)""#, #""type":"\#(type)""#]
    if !extra.isEmpty { members.append(extra) }
    if let data { members.append(#""data":\#(data)"#) }
    return "{" + members.joined(separator: ",") + "}"
}

/// Canonical text of a UUID column row (reverses ClickHouse's wire order).
func uuidText(_ column: ColumnBuffer, _ row: Int) -> String {
    let b = column.stringBytes(at: row)
    let canonical = Array(b[0..<8].reversed()) + Array(b[8..<16].reversed())
    let hex = canonical.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    let c = Array(hex)
    return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
}

/// Keys and values of a Map(String, String) row.
func mapRow(_ column: ColumnBuffer, _ row: Int) -> [String: String] {
    var out: [String: String] = [:]
    for i in column.range(of: row) { out[column.inner!.string(at: i)] = column.inner2!.string(at: i) }
    return out
}
