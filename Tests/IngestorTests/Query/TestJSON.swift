import Ingestor
import Testing

/// Reading response bodies in tests, with the API's own strict JSON parser.
extension JSONInput {
    subscript(index: Int) -> JSONInput? {
        guard case .array(let a) = self, index < a.count else { return nil }
        return a[index]
    }
    var array: [JSONInput] { if case .array(let a) = self { return a }; return [] }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var double: Double? { if case .number(let n) = self { return Double(n) }; return nil }
    var isNull: Bool { self == .null }
    var keys: [String] { if case .object(let o) = self { return o.map(\.0) }; return [] }
}

extension QueryHTTPResponse {
    var json: JSONInput { (try? JSONInput.parse(body)) ?? .null }
}

/// `|a - b| <= tolerance * max(1, |a|, |b|)`.
func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-9) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

/// The exact quantile (linear interpolation), to bound t-digest answers.
func exactQuantile(_ values: [Double], _ level: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let s = values.sorted()
    let pos = level * Double(s.count - 1)
    let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
    return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
}

/// A t-digest quantile is an interpolation between neighbouring values: accept anything
/// within a few percent of the value range around the exact one.
func quantileClose(_ got: Double?, _ values: [Double], _ level: Double) -> Bool {
    guard let got, let exact = exactQuantile(values, level), let lo = values.min(), let hi = values.max() else { return false }
    return abs(got - exact) <= 0.05 * (hi - lo) + 1e-6
}

func iso(_ ms: Int64) -> String { QueryTime.format(ms) }

func json(_ pairs: [(String, String)]) -> String {
    "{" + pairs.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}
