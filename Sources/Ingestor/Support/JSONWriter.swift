/// Writes JSON text straight into a byte array.
///
/// Responses are small and their shapes fixed (statuses, counts, query results), so a
/// writer that appends bytes is simpler and much faster than building dictionaries for
/// Foundation's encoder.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { bytes.append(0x2C) }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject() {
        separate()
        bytes.append(0x7B)
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        bytes.append(0x7D)
    }

    public mutating func beginArray() {
        separate()
        bytes.append(0x5B)
        needsComma.append(false)
    }

    public mutating func endArray() {
        needsComma.removeLast()
        bytes.append(0x5D)
    }

    /// Writes an object key; the next value call writes its value.
    public mutating func key(_ k: String) {
        separate()
        appendQuoted(k)
        bytes.append(0x3A)
        needsComma[needsComma.count - 1] = false
    }

    public mutating func string(_ s: String) {
        separate()
        appendQuoted(s)
    }

    public mutating func int(_ v: Int) {
        separate()
        bytes += Array(String(v).utf8)
    }

    /// Doubles as JSON numbers; NaN and infinities, which JSON cannot express, as null.
    public mutating func double(_ v: Double) {
        separate()
        if v.isFinite {
            if v == v.rounded(), abs(v) < 1e15 {
                bytes += Array(String(Int64(v)).utf8)
            } else {
                bytes += Array(String(v).utf8)
            }
        } else {
            bytes += Array("null".utf8)
        }
    }

    public mutating func bool(_ v: Bool) {
        separate()
        bytes += Array((v ? "true" : "false").utf8)
    }

    public mutating func null() {
        separate()
        bytes += Array("null".utf8)
    }

    /// Writes already-valid JSON text as a value.
    public mutating func raw(_ json: some Sequence<UInt8>) {
        separate()
        bytes += json
    }

    public mutating func field(_ k: String, _ v: String) { key(k); string(v) }
    public mutating func field(_ k: String, _ v: Int) { key(k); int(v) }
    public mutating func field(_ k: String, _ v: Double) { key(k); double(v) }
    public mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(0x22)
        for b in s.utf8 {
            switch b {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            case 0x09: bytes += [0x5C, 0x74]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }

    /// Builds a JSON object in one expression.
    public static func object(_ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        body(&w)
        w.endObject()
        return w.bytes
    }
}
