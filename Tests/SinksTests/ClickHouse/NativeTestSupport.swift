import Pipeline
import Sinks

/// Hex and batch-building helpers for the ClickHouse encoder tests.
enum Hex {
    static func string(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes {
            s.append(digits[Int(b >> 4)])
            s.append(digits[Int(b & 15)])
        }
        return s
    }

    /// Parses hex, ignoring spaces and newlines.
    static func bytes(_ text: String) -> [UInt8] {
        let clean = text.filter { $0.isHexDigit }
        var out: [UInt8] = []
        var i = clean.startIndex
        while i < clean.endIndex {
            let j = clean.index(i, offsetBy: 2)
            out.append(UInt8(clean[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }
}

/// One column of a test batch: logical type, table type (same by default), and rows.
struct TestColumn {
    var name: String
    var type: ColumnType
    var tableType: String
    var fill: (ColumnBuffer) -> Void

    init(_ name: String, _ type: ColumnType, table: String? = nil, _ fill: @escaping (ColumnBuffer) -> Void) {
        self.name = name
        self.type = type
        self.tableType = table ?? type.name
        self.fill = fill
    }
}

func makeBatch(_ columns: [TestColumn]) -> ColumnBatch {
    let batch = ColumnBatch(schema: columns.map { ($0.name, $0.type) })
    for (c, spec) in zip(batch.columns, columns) { spec.fill(c.buffer) }
    return batch
}

func makePlan(_ columns: [TestColumn], orderBy: [String] = []) throws -> NativeInsertPlan {
    try NativeInsertPlan(
        logicalSchema: columns.map { ($0.name, $0.type) },
        table: columns.map { PhysicalColumn(name: $0.name, typeName: $0.tableType) }, orderBy: orderBy)
}

/// The plain Native block of `columns` in the given row order, as hex.
func blockHex(_ columns: [TestColumn], orderBy: [String] = [], sorted: Bool = false) throws -> String {
    let batch = makeBatch(columns)
    let plan = try makePlan(columns, orderBy: orderBy)
    return Hex.string(try NativeEncoder.encodeBlock(batch, plan: plan, sorted: sorted).bytes)
}

extension ColumnBuffer {
    func append(strings: [String]) {
        for s in strings { append(string: s) }
    }

    /// A FixedString value, right-padded with zero bytes.
    func append(fixed s: String, width: Int) {
        var bytes = Array(s.utf8.prefix(width))
        bytes += [UInt8](repeating: 0, count: width - bytes.count)
        bytes.withUnsafeBytes { append(bytes: $0) }
    }

    /// A UUID from its text form, stored in wire order (each 8-byte half reversed).
    func append(uuid text: String) {
        append(bytes: uuidWireBytes(text))
    }

    func append(bytes: [UInt8]) {
        bytes.withUnsafeBytes { append(bytes: $0) }
    }

    /// One Array row; `body` appends the elements to the element column.
    func appendArrayRow(_ body: (ColumnBuffer) -> Void) {
        if let inner { body(inner) }
        finishCollectionRow()
    }

    /// One Map row of String keys and values.
    func appendMapRow(_ pairs: [(String, String)]) {
        for (k, v) in pairs {
            inner?.append(string: k)
            inner2?.append(string: v)
        }
        finishCollectionRow()
    }

    func appendNullable(_ body: (ColumnBuffer) -> Void) {
        body(appendNotNull())
    }
}

func uuidWireBytes(_ text: String) -> [UInt8] {
    let canonical = Hex.bytes(text.filter { $0 != "-" })
    return Array(canonical[0..<8].reversed()) + Array(canonical[8..<16].reversed())
}
