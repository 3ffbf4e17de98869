extension ColumnBuffer {
    /// A readable rendering of one row's value, used where the original event text is no
    /// longer available (a row ClickHouse refused goes to the dead-letter table this way).
    public func describe(row: Int) -> String {
        switch layout {
        case .nullable:
            return isNull(at: row) ? "NULL" : inner!.describe(row: row)
        case .array:
            let r = range(of: row)
            return "[" + r.map { inner!.describe(row: $0) }.joined(separator: ",") + "]"
        case .map:
            let r = range(of: row)
            return "{" + r.map { "\(inner!.describe(row: $0)):\(inner2!.describe(row: $0))" }.joined(separator: ",") + "}"
        case .string:
            return "\"" + string(at: row) + "\""
        case .fixed:
            switch type.base {
            case .uint8, .bool, .enum8: return type.base == .uint8 || type.base == .bool ? String(fixedValue(at: row, as: UInt8.self)) : String(fixedValue(at: row, as: Int8.self))
            case .uint16, .date: return String(fixedValue(at: row, as: UInt16.self))
            case .uint32, .dateTime: return String(fixedValue(at: row, as: UInt32.self))
            case .uint64: return String(fixedValue(at: row, as: UInt64.self))
            case .int8: return String(fixedValue(at: row, as: Int8.self))
            case .int16, .enum16: return String(fixedValue(at: row, as: Int16.self))
            case .int32: return String(fixedValue(at: row, as: Int32.self))
            case .int64, .dateTime64: return String(fixedValue(at: row, as: Int64.self))
            case .float32: return String(float32(at: row))
            case .float64: return String(float64(at: row))
            default:
                return "0x" + stringBytes(at: row).map { b in
                    let h = String(b, radix: 16)
                    return b < 16 ? "0" + h : h
                }.joined()
            }
        }
    }
}

extension ColumnBatch {
    /// `name=value` pairs of one row.
    public func describeRow(_ row: Int) -> String {
        columns.map { "\($0.name)=\($0.buffer.describe(row: row))" }.joined(separator: " ")
    }
}
