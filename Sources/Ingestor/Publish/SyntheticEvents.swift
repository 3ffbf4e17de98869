/// Deterministic synthetic CloudEvents for the three preset datasets, used by
/// `sluice publish` (load generation and demo seeding) and by tests and benchmarks.
///
/// The same seed gives the same events, so a test can compute expected answers from
/// the generator instead of trusting what ClickHouse returns.
public struct SyntheticEvents: Sendable {
    public enum Dataset: String, Sendable, CaseIterable {
        case metrics, inference, gateway

        /// The CloudEvent `type` routed to the dataset by the presets.
        public var eventType: String {
            switch self {
            case .metrics: "metric"
            case .inference: "add_request_metrics"
            case .gateway: "gateway_request"
            }
        }
    }

    public let dataset: Dataset
    public let tenants: Int
    /// Event times are spread evenly from `startMillis` over `spanMillis`.
    public let startMillis: Int64
    public let spanMillis: Int64
    public let source: String
    public let total: Int
    private let seed: UInt64

    public init(dataset: Dataset, total: Int, tenants: Int = 10, startMillis: Int64, spanMillis: Int64, seed: UInt64 = 42, source: String = "sluice-publish") {
        self.dataset = dataset
        self.total = Swift.max(total, 1)
        self.tenants = Swift.max(tenants, 1)
        self.startMillis = startMillis
        self.spanMillis = Swift.max(spanMillis, 0)
        self.seed = seed
        self.source = source
    }

    /// Deterministic per-event randomness (SplitMix64 of seed and index).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    }

    public func eventID(_ index: Int) -> String { "\(dataset.rawValue)-\(seed)-\(index)" }

    public func timestampMillis(_ index: Int) -> Int64 {
        total <= 1 ? startMillis : startMillis + spanMillis * Int64(index) / Int64(total)
    }

    public func tenant(_ index: Int) -> String { "tenant-\(index % tenants)" }

    /// A UUID derived from a label and a number, so ids are stable across runs.
    static func uuid(_ label: UInt64, _ n: Int) -> String {
        var r = Random(state: label &* 31 &+ UInt64(n))
        let a = r.next(), b = r.next()
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: Swift.max(0, digits - s.count)) + s.suffix(digits)
        }
        return "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xFFFF, 4))-4\(hex(a & 0xFFF, 3))-\(hex(0x8000 | (b >> 48) & 0x3FFF, 4))-\(hex(b & 0xFFFF_FFFF_FFFF, 12))"
    }

    static func rfc3339(_ millis: Int64) -> String {
        let (days, msOfDay) = millis.quotientAndRemainder(dividingBy: 86_400_000)
        let d = msOfDay < 0 ? days - 1 : days
        let ms = msOfDay < 0 ? msOfDay + 86_400_000 : msOfDay
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = d + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func p(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: Swift.max(0, w - s.count)) + s
        }
        return "\(p(year, 4))-\(p(month, 2))-\(p(day, 2))T\(p(ms / 3_600_000, 2)):\(p(ms / 60000 % 60, 2)):\(p(ms / 1000 % 60, 2)).\(p(ms % 1000, 3))Z"
    }

    static let metricNames = ["cpu_usage", "memory_bytes", "requests", "revenue", "signups", "latency_ms", "queue_depth", "errors"]
    static let regions = ["us-west", "us-east", "eu-central", "ap-south"]
    static let countries = [("US", "United States"), ("DE", "Germany"), ("IN", "India"), ("BR", "Brazil"), ("JP", "Japan"), ("FR", "France")]
    static let paths = ["/api/v1/inference", "/api/v1/embeddings", "/api/v1/models", "/api/v1/chat", "/health"]

    /// The `data` object of event `index`, as JSON text.
    public func data(_ index: Int) -> String {
        var r = Random(state: seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(index))
        let ts = Self.rfc3339(timestampMillis(index))
        switch dataset {
        case .metrics:
            let name = Self.metricNames[r.below(Self.metricNames.count)]
            let value = (r.unit() * 1000).rounded() / 10
            let region = Self.regions[r.below(Self.regions.count)]
            let host = "host-\(r.below(50))"
            return #"{"metric_name":"\#(name)","value":\#(value),"timestamp":"\#(ts)","dimensions":{"region":"\#(region)","host":"\#(host)"},"metadata":{"source":"synthetic"}}"#
        case .inference:
            let project = Self.uuid(1, index % tenants)
            let model = Self.uuid(2, r.below(5))
            let endpoint = Self.uuid(3, r.below(8))
            let ok = r.below(100) < 95
            let arrival = timestampMillis(index)
            let forward = arrival + Int64(r.below(200))
            let cost = (r.unit() * 100).rounded() / 1000
            return #"{"inference_id":"\#(Self.uuid(4 ^ (seed &* 0x9E37_79B9_7F4A_7C15), index))","project_id":"\#(project)","endpoint_id":"\#(endpoint)","model_id":"\#(model)","is_success":\#(ok),"request_arrival_time":"\#(Self.rfc3339(arrival))","request_forward_time":"\#(Self.rfc3339(forward))","cost":\#(cost),"input_tokens":\#(r.below(2000)),"output_tokens":\#(r.below(1000)),"response_time_ms":\#(50 + r.below(950)),"response_analysis":{"sentiment":"neutral"}}"#
        case .gateway:
            let project = Self.uuid(1, index % tenants)
            let (cc, cn) = Self.countries[r.below(Self.countries.count)]
            let status = [200, 200, 200, 200, 201, 400, 404, 429, 500][r.below(9)]
            let blocked = status == 429
            return #"{"request_id":"\#(Self.uuid(5 ^ (seed &* 0x9E37_79B9_7F4A_7C15), index))","timestamp":"\#(ts)","project_id":"\#(project)","model_id":"\#(Self.uuid(2, r.below(5)))","endpoint_id":"\#(Self.uuid(3, r.below(8)))","method":"POST","path":"\#(Self.paths[r.below(Self.paths.count)])","status_code":\#(status),"response_time_ms":\#(5 + r.below(995)),"total_tokens":\#(r.below(4000)),"cost":\#((r.unit() * 100).rounded() / 1000),"client_id":"client-\#(r.below(40))","client_ip":"10.0.\#(r.below(4)).\#(r.below(250))","user_agent":"python-requests/2.31","device_type":"server","browser":"none","os":"linux","country_code":"\#(cc)","country_name":"\#(cn)","region":"r\#(r.below(3))","city":"c\#(r.below(5))","is_blocked":\#(blocked),"block_reason":"\#(blocked ? "rate_limit" : "")"}"#
        }
    }

    /// The structured-mode CloudEvent of event `index`.
    public func cloudEvent(_ index: Int) -> String {
        let tenantAttr = dataset == .metrics ? #","tenantid":"\#(tenant(index))""# : ""
        return #"{"specversion":"1.0","id":"\#(eventID(index))","source":"\#(source)","type":"\#(dataset.eventType)","time":"\#(Self.rfc3339(timestampMillis(index)))","datacontenttype":"application/json"\#(tenantAttr),"data":\#(data(index))}"#
    }

    /// Binary-mode attributes of event `index` (without the `ce-`/`ce_` prefix).
    public func attributes(_ index: Int) -> [(String, String)] {
        var a = [("specversion", "1.0"), ("id", eventID(index)), ("source", source), ("type", dataset.eventType), ("time", Self.rfc3339(timestampMillis(index)))]
        if dataset == .metrics { a.append(("tenantid", tenant(index))) }
        return a
    }
}
