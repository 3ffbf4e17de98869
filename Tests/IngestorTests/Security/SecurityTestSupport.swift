import Foundation
@testable import Ingestor
import TestSupport

/// Tenants and keys shared by the security suites. Tenant ids are UUIDs so the same id
/// scopes every dataset (`metrics.tenant_id` is a String, `project_id` a UUID).
enum SecurityKeys {
    static let tenantA = "11111111-1111-1111-1111-111111111111"
    static let tenantB = "22222222-2222-2222-2222-222222222222"

    /// A fresh key per run, as `sluice keys new` makes them.
    static func key() -> String { APIKeyGenerator.newKey() }

    /// The `auth:` section for `entries`, built from the YAML `sluice keys new` prints.
    static func authYAML(_ entries: [APIKeyEntry], extra: String = "") -> String {
        "auth:\n" + extra + "  keys:\n" + entries.map(\.yamlEntry).joined(separator: "\n") + "\n"
    }

    static func bearer(_ key: String) -> [(String, String)] { [("Authorization", "Bearer \(key)")] }
}

/// One CloudEvent of the `metrics` dataset.
func metricEvent(tenant: String, id: String = UUID().uuidString, metric: String = "cpu", value: Double = 1) -> String {
    #"{"specversion":"1.0","id":"\#(id)","source":"/security-test","type":"metric","tenantid":"\#(tenant)","data":{"metric_name":"\#(metric)","value":\#(value),"timestamp":"2024-01-01T00:00:00Z"}}"#
}

/// Seed 000's `/add` bulk delivery of one inference record for `project`.
func addDelivery(project: String) -> String {
    let id = UUID().uuidString.lowercased()
    let record = #"{"inference_id":"\#(id)","project_id":"\#(project)","endpoint_id":"eeeeeeee-0000-0000-0000-000000000001","model_id":"aaaaaaaa-0000-0000-0000-000000000001","is_success":true,"request_arrival_time":"2024-01-01T00:00:00Z","request_forward_time":"2024-01-01T00:00:01Z","cost":0.5,"input_tokens":10,"output_tokens":20,"response_time_ms":100}"#
    return #"{"id":"bulk-\#(id)","type":"com.dapr.event.sent.bulk","topic":"inference","pubsubname":"pubsub","entries":[{"entryId":"e-\#(id)","event":\#(record),"contentType":"application/json","metadata":{"cloudevent.type":"add_request_metrics","cloudevent.id":"\#(id)"}}]}"#
}
