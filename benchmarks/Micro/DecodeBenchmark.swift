import Pipeline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of the calling thread: on a machine shared with other builds, wall time
/// measures the neighbours too; "per core" throughput is events per CPU second.
private func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Decode + route + validate throughput of ``ChunkDecoder`` on realistic structured
/// CloudEvents, single thread, in chunks of 1,000 messages (one event per message).
///
/// Run: `swift build -c release --product SluiceBenchmarks && .build/release/SluiceBenchmarks decode`
/// Results are recorded in `benchmarks/RESULTS.md (Decode section)`.
func runDecodeBenchmark(events: Int = 1_000_000, only: String? = nil, distinctChunks: Int = 50) {
    let catalog = DecodeBenchmarkPresets.catalog
    for (name, make) in [
        ("metrics", DecodeBenchmarkEvents.metric),
        ("inference", DecodeBenchmarkEvents.inference),
        ("gateway", DecodeBenchmarkEvents.gateway),
    ] as [(String, (inout DecodeBenchmarkEvents.Random, Int) -> String)] where only == nil || only == name {
        // 50 distinct chunks of 1,000 events, decoded round-robin until `events` are done:
        // enough variety to defeat caching of one chunk, without 300 MB of input.
        var random = DecodeBenchmarkEvents.Random(seed: 42)
        var chunks: [MessageChunk] = []
        var totalBytes = 0
        for c in 0..<distinctChunks {
            let chunk = MessageChunk(expectedBytes: 400_000, expectedMessages: 1000)
            for i in 0..<1000 {
                let text = make(&random, c * 1000 + i)
                let range = chunk.appendPayload(Array(text.utf8))
                totalBytes += range.count
                chunk.messages.append(InboundMessage(
                    payload: range, origin: MessageOrigin(kind: .redis, stream: "bench"),
                    receivedAtNanos: 1_736_937_000_000_000_000 + Int64(i)))
            }
            chunks.append(chunk)
        }
        let averageBytes = Double(totalBytes) / Double(distinctChunks * 1000)
        var decoder = try! ChunkDecoder(catalog: catalog)
        // Warm-up, and a correctness check: every event must become a row.
        for chunk in chunks {
            let out = decoder.decode(chunk)
            if !out.rejections.isEmpty {
                print("\(name): unexpected rejection: \(out.rejections[0].field): \(out.rejections[0].reason)")
                return
            }
        }
        let rounds = events / 1000
        var rows = 0
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = threadCPUSeconds()
        for r in 0..<rounds {
            let out = decoder.decode(chunks[r % chunks.count])
            for case let t? in out.tables { rows += t.rowCount }
        }
        let cpu = threadCPUSeconds() - cpuStart
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let perCPUSecond = Double(rows) / cpu
        print(
            "decode \(name): \(rows) events, \(format3(cpu)) s CPU (\(format3(seconds)) s wall): "
                + "\(Int(perCPUSecond)) events/s per core, \(format3(perCPUSecond * averageBytes / 1_000_000)) MB/s "
                + "(wall: \(Int(Double(rows) / seconds)) events/s; avg \(Int(averageBytes)) B/event)")
    }
}

private func format3(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return "\(scaled)"
}

/// The three preset datasets of `config/datasets/`, built in code because this target does
/// not load YAML. Keep in step with the YAML files.
enum DecodeBenchmarkPresets {
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
            field("model_id", "UUID", ["data.model_id"]),
            field("endpoint_id", "UUID", ["data.endpoint_id"]),
            field("method", "LowCardinality(String)", ["data.method"], default: "GET"),
            field("path", "String", ["data.path"], required: true),
            field("status_code", "UInt16", ["data.status_code"], required: true),
            field("response_time_ms", "Float64", ["data.response_time_ms"], required: true),
            field("total_tokens", "UInt32", ["data.total_tokens"]),
            field("cost", "Float64", ["data.cost"]),
            field("client_id", "String", ["data.client_id"]),
            field("client_ip", "String", ["data.client_ip"]),
            field("user_agent", "String", ["data.user_agent"]),
            field("device_type", "LowCardinality(String)", ["data.device_type"]),
            field("browser", "LowCardinality(String)", ["data.browser"]),
            field("os", "LowCardinality(String)", ["data.os"]),
            field("country_code", "LowCardinality(String)", ["data.country_code"]),
            field("country_name", "LowCardinality(String)", ["data.country_name"]),
            field("region", "LowCardinality(String)", ["data.region"]),
            field("city", "LowCardinality(String)", ["data.city"]),
            field("is_blocked", "Bool", ["data.is_blocked"]),
            field("block_reason", "LowCardinality(String)", ["data.block_reason"]),
            field("block_rule_id", "String", ["data.block_rule_id"]),
            field("block_rule_type", "LowCardinality(String)", ["data.block_rule_type"]),
        ],
        dedupKey: [.data(["request_id"])], orderBy: ["project_id", "timestamp"],
        timeColumn: "timestamp", tenantColumn: "project_id", retentionDays: 90)

    static let catalog = [metrics, inference, gateway]
}

/// Synthetic events shaped like the seeds' ingest traffic.
enum DecodeBenchmarkEvents {
    /// xorshift64*: deterministic, fast, good enough for picking values.
    struct Random {
        var state: UInt64
        init(seed: UInt64) { state = seed | 1 }
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick(_ values: [String]) -> String { values[below(values.count)] }
        mutating func uuid() -> String {
            let hex = Array("0123456789abcdef")
            var s = ""
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 { s.append("-") }
                s.append(hex[below(16)])
            }
            return s
        }
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    static func three(_ n: Int) -> String { n < 10 ? "00\(n)" : n < 100 ? "0\(n)" : "\(n)" }

    static func time(_ r: inout Random, fraction: Bool = true, zone: Bool = true) -> String {
        let base = "2025-01-\(two(1 + r.below(28)))T\(two(r.below(24))):\(two(r.below(60))):\(two(r.below(60)))"
        return base + (fraction ? ".\(three(r.below(1000)))" : "") + (zone ? "Z" : "")
    }

    static func metric(_ r: inout Random, _ i: Int) -> String {
        let names = ["revenue", "signups", "cpu_usage", "memory_bytes", "requests_total", "latency_ms"]
        let regions = ["us-west", "us-east", "eu-central", "ap-south"]
        let plans = ["free", "pro", "enterprise"]
        var dimensions = "\"region\":\"\(r.pick(regions))\",\"plan\":\"\(r.pick(plans))\""
        if r.below(2) == 0 { dimensions += ",\"env\":\"prod\"" }
        let metadata = r.below(2) == 0 ? "{}" : "{\"source\":\"\(r.pick(["stripe", "segment", "agent"]))\"}"
        let value = "\(r.below(100_000)).\(two(r.below(100)))"
        let t = time(&r)
        return """
            {"specversion":"1.0","id":"evt-\(i)","source":"/svc/billing-\(r.below(8))",\
            "type":"metric","time":"\(t)","datacontenttype":"application/json","tenantid":"tenant-\(three(r.below(200)))",\
            "data":{"metric_name":"\(r.pick(names))","value":\(value),"timestamp":"\(t)",\
            "dimensions":{\(dimensions)},"metadata":\(metadata)}}
            """
    }

    static func inference(_ r: inout Random, _ i: Int) -> String {
        let ok = r.below(10) != 0
        return """
            {"specversion":"1.0","id":"\(r.uuid())","source":"budserve","type":"add_request_metrics",\
            "datacontenttype":"application/json","data":{"inference_id":"\(r.uuid())","project_id":"\(r.uuid())",\
            "endpoint_id":"\(r.uuid())","model_id":"\(r.uuid())","is_success":\(ok),\
            "request_arrival_time":"\(time(&r, fraction: false, zone: false))","request_forward_time":"\(time(&r, fraction: false, zone: false))",\
            "cost":0.0\(r.below(1000)),"input_tokens":\(r.below(4000)),"output_tokens":\(r.below(2000)),\
            "response_time_ms":\(r.below(5000)).\(r.below(10)),"ttft_ms":\(r.below(500)),"error_code":\(ok ? "null" : "\"timeout\""),\
            "response_analysis":{"sentiment":"neutral","toxicity":0.0\(r.below(100)),"labels":["a","b"]}}}
            """
    }

    static func gateway(_ r: inout Random, _ i: Int) -> String {
        let blocked = r.below(50) == 0
        return """
            {"specversion":"1.0","id":"\(r.uuid())","source":"gateway-\(r.below(4))","type":"gateway_request",\
            "time":"\(time(&r))","data":{"request_id":"\(r.uuid())","timestamp":"\(time(&r))","project_id":"\(r.uuid())",\
            "model_id":"\(r.uuid())","endpoint_id":"\(r.uuid())","method":"\(r.pick(["GET", "POST"]))",\
            "path":"/v1/\(r.pick(["chat/completions", "embeddings", "models"]))","status_code":\(r.pick(["200", "200", "201", "404", "429", "500"])),\
            "response_time_ms":\(r.below(3000)).\(r.below(100)),"total_tokens":\(r.below(8000)),"cost":0.00\(r.below(1000)),\
            "client_id":"client-\(r.below(500))","client_ip":"10.\(r.below(256)).\(r.below(256)).\(r.below(256))",\
            "user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36","device_type":"\(r.pick(["desktop", "mobile"]))",\
            "browser":"\(r.pick(["Chrome", "Firefox", "Safari"]))","os":"\(r.pick(["Linux", "Windows", "macOS"]))",\
            "country_code":"\(r.pick(["US", "DE", "IN"]))","country_name":"\(r.pick(["United States", "Germany", "India"]))",\
            "region":"\(r.pick(["CA", "BE", "KA"]))","city":"\(r.pick(["San Jose", "Berlin", "Bengaluru"]))",\
            "is_blocked":\(blocked),"block_reason":\(blocked ? "\"rate_limit\"" : "null"),"block_rule_id":null,"block_rule_type":null}}
            """
    }
}
