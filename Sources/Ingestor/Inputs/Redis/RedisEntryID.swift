public import Pipeline

/// A stream entry id, `<ms>-<seq>`, as two numbers: cheap to hash, compare and keep in
/// the in-flight set, and formatted back to text only for `XACK`.
public struct RedisEntryID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var ms: UInt64
    public var seq: UInt64

    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// The in-flight set inserts and removes every entry once (two hashes per entry on
    /// the read and ack paths); SipHash over two words showed as ~6% of the daemon's
    /// CPU. Ids are not secret and not chosen by publishers (Redis assigns them), so a
    /// seeded multiply-xorshift spreads them well enough.
    @inlinable
    public func _rawHashValue(seed: Int) -> Int {
        Int(truncatingIfNeeded: TwoWordMixer.mix(ms, seq, seed: UInt64(UInt(bitPattern: seed))))
    }

    /// `0-0`: before every entry; the start of a pending-list or XAUTOCLAIM scan.
    public static let zero = RedisEntryID(ms: 0, seq: 0)

    /// Parses `<ms>-<seq>` (or a bare `<ms>`, which Redis reads as `<ms>-0`).
    public init?(_ bytes: UnsafeRawBufferPointer) {
        var ms: UInt64 = 0
        var seq: UInt64 = 0
        var sawDash = false
        var digits = 0
        for b in bytes {
            if b == UInt8(ascii: "-") {
                guard !sawDash, digits > 0 else { return nil }
                sawDash = true
                digits = 0
                continue
            }
            guard b >= 0x30, b <= 0x39 else { return nil }
            let d = UInt64(b - 0x30)
            if sawDash {
                let (m, o1) = seq.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(d)
                guard !o1, !o2 else { return nil }
                seq = a
            } else {
                let (m, o1) = ms.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(d)
                guard !o1, !o2 else { return nil }
                ms = a
            }
            digits += 1
        }
        guard digits > 0 else { return nil }
        self.ms = ms
        self.seq = seq
    }

    public init?(_ text: String) {
        var copy = text
        guard let parsed = copy.withUTF8({ RedisEntryID(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    public static func < (a: RedisEntryID, b: RedisEntryID) -> Bool {
        a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq
    }

    public var description: String { "\(ms)-\(seq)" }

    /// Appends the text form to `out` without building a String.
    public func write(to out: inout [UInt8]) {
        Self.writeDecimal(ms, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.writeDecimal(seq, to: &out)
    }

    static func writeDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value == 0 {
            out.append(0x30)
            return
        }
        var v = value
        let start = out.count
        while v > 0 {
            out.append(UInt8(truncatingIfNeeded: v % 10) + 0x30)
            v /= 10
        }
        out[start...].reverse()
    }
}
