/// Reads ClickHouse's `TabSeparated` output: rows split on `\n`, cells on `\t`, with
/// backslash escapes, `\N` for NULL, and arrays printed as `[1,2]` or `['a','b']`.
enum TabSeparated {
    /// Every row's cells, unescaped; nil for `\N`. Escapes never produce a raw tab or
    /// newline, so splitting first and unescaping each cell after is exact.
    static func rows(_ body: [UInt8]) -> [[String?]] {
        var lines = body.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.map { line in
            line.split(separator: 0x09, omittingEmptySubsequences: false).map(unescape)
        }
    }

    static func unescape(_ cell: ArraySlice<UInt8>) -> String? {
        if cell.count == 2, cell.first == 0x5C, cell.last == UInt8(ascii: "N") { return nil }
        guard cell.contains(0x5C) else { return String(decoding: cell, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(cell.count)
        var i = cell.startIndex
        while i < cell.endIndex {
            let b = cell[i]
            if b == 0x5C, i + 1 < cell.endIndex {
                i += 1
                switch cell[i] {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "0"): out.append(0x00)
                default: out.append(cell[i])
                }
            } else {
                out.append(b)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A number cell: integers, floats, `inf`, `-inf`, `nan`.
    static func number(_ cell: String?) -> Double? {
        guard let cell else { return nil }
        if let d = Double(cell) { return d }
        switch cell {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default: return nil
        }
    }

    /// `[1,2.5,nan]` as numbers.
    static func numberArray(_ cell: String?) -> [Double?]? {
        guard let cell, cell.hasPrefix("["), cell.hasSuffix("]") else { return nil }
        let inner = cell.dropFirst().dropLast()
        if inner.isEmpty { return [] }
        return inner.split(separator: ",", omittingEmptySubsequences: false).map { number(String($0)) }
    }

    /// `['a','b\'c']` as strings (the cell is already TSV-unescaped once; array elements
    /// carry their own quoting and escapes).
    static func stringArray(_ cell: String?) -> [String]? {
        guard let cell else { return nil }
        let b = Array(cell.utf8)
        guard b.first == UInt8(ascii: "["), b.last == UInt8(ascii: "]") else { return nil }
        var out: [String] = []
        var i = 1
        while i < b.count - 1 {
            guard b[i] == UInt8(ascii: "'") else {
                i += 1
                continue
            }
            i += 1
            var s: [UInt8] = []
            while i < b.count - 1, b[i] != UInt8(ascii: "'") {
                if b[i] == 0x5C, i + 1 < b.count - 1 {
                    i += 1
                    switch b[i] {
                    case UInt8(ascii: "n"): s.append(0x0A)
                    case UInt8(ascii: "t"): s.append(0x09)
                    case UInt8(ascii: "r"): s.append(0x0D)
                    case UInt8(ascii: "0"): s.append(0x00)
                    case UInt8(ascii: "b"): s.append(0x08)
                    case UInt8(ascii: "f"): s.append(0x0C)
                    default: s.append(b[i])
                    }
                } else {
                    s.append(b[i])
                }
                i += 1
            }
            out.append(String(decoding: s, as: UTF8.self))
            i += 1
        }
        return out
    }
}
