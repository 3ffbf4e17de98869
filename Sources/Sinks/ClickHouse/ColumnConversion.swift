internal import Pipeline

/// A fixed-width number type the encoder can read or write.
enum NumericKind: Sendable, Hashable {
    case u8, u16, u32, u64, i8, i16, i32, i64, f32, f64

    init?(_ type: ColumnType) {
        switch type {
        case .uint8, .bool: self = .u8
        case .uint16: self = .u16
        case .uint32: self = .u32
        case .uint64: self = .u64
        case .int8: self = .i8
        case .int16: self = .i16
        case .int32: self = .i32
        case .int64: self = .i64
        case .float32: self = .f32
        case .float64: self = .f64
        default: return nil
        }
    }

    var width: Int {
        switch self {
        case .u8, .i8: 1
        case .u16, .i16: 2
        case .u32, .i32, .f32: 4
        case .u64, .i64, .f64: 8
        }
    }

    var isFloat: Bool { self == .f32 || self == .f64 }
    var isSigned: Bool { [.i8, .i16, .i32, .i64].contains(self) }

    /// Bits of integer precision (the mantissa for floats).
    private var precisionBits: Int {
        switch self {
        case .f32: 24
        case .f64: 53
        default: width * 8 - (isSigned ? 1 : 0)
        }
    }

    /// Whether every value of `self` is exactly representable as `target`.
    func widensLosslessly(to target: NumericKind) -> Bool {
        if self == target { return true }
        switch (isFloat, target.isFloat) {
        case (true, true): return self == .f32 && target == .f64
        case (true, false): return false
        case (false, true): return precisionBits <= target.precisionBits
        case (false, false):
            if isSigned && !target.isSigned { return false }
            return target.width > width
        }
    }

    /// The largest value of an integer kind (for sub-second companions).
    var maxInteger: UInt64 {
        switch self {
        case .u8: UInt64(UInt8.max)
        case .u16: UInt64(UInt16.max)
        case .u32: UInt64(UInt32.max)
        case .u64: UInt64.max
        case .i8: UInt64(Int8.max)
        case .i16: UInt64(Int16.max)
        case .i32: UInt64(Int32.max)
        case .i64: UInt64(Int64.max)
        case .f32, .f64: 0
        }
    }
}

/// How one logical column's stored bytes become one physical column's Native data.
///
/// Built once per plan from the two types; the writer switches on it once per column
/// (and per nesting level), never per value.
indirect enum ColumnConversion: Sendable, Hashable {
    /// Same byte layout, `width` bytes per row, copied or gathered.
    case fixed(width: Int)
    /// String rows: VarUInt length + bytes.
    case string
    /// Lossless numeric widening (also Bool stored as UInt8 into a wider integer).
    case numeric(from: NumericKind, to: NumericKind)
    /// DateTime64(p) ticks to DateTime seconds (floor, clamped to UInt32).
    case dateTime64Seconds(precision: Int)
    /// DateTime64(p) ticks to the sub-second part in 10^-digits seconds (`_ms`, `_us`, `_ns`).
    case dateTime64Fraction(precision: Int, digits: Int, to: NumericKind)
    /// DateTime64(p) to DateTime64(q).
    case rescaleDateTime64(from: Int, to: Int)
    /// Nullable into Nullable: null map, then the inner conversion.
    case nullable(ColumnConversion)
    /// A non-Nullable column into a Nullable one: an all-zero null map, then the values.
    case addNullMap(ColumnConversion)
    case array(ColumnConversion)
    case map(key: ColumnConversion, value: ColumnConversion)
    /// A Map's keys as the `<name>.key` Array column of a Nested structure.
    case mapKeys(ColumnConversion)
    /// A Map's values as the `<name>.value` Array column.
    case mapValues(ColumnConversion)
    /// Dictionary encoding of a String-like column (spec §3 LowCardinality).
    case lowCardinality(nullable: Bool)

    /// A short human-readable form for logs, e.g. `Map keys as Array(copy)`.
    var summary: String {
        switch self {
        case .fixed(let w): "copy \(w)-byte values"
        case .string: "copy strings"
        case .numeric(let f, let t): "widen \(f) to \(t)"
        case .dateTime64Seconds(let p): "DateTime64(\(p)) to whole seconds"
        case .dateTime64Fraction(let p, let d, _): "DateTime64(\(p)) sub-second part in 10^-\(d) s"
        case .rescaleDateTime64(let p, let q): "rescale DateTime64(\(p)) to DateTime64(\(q))"
        case .nullable(let c): "Nullable(\(c.summary))"
        case .addNullMap(let c): "add null map to \(c.summary)"
        case .array(let c): "Array(\(c.summary))"
        case .map(let k, let v): "Map(\(k.summary), \(v.summary))"
        case .mapKeys(let c): "Map keys as Array(\(c.summary))"
        case .mapValues(let c): "Map values as Array(\(c.summary))"
        case .lowCardinality(let n): n ? "LowCardinality dictionary, key 0 = NULL" : "LowCardinality dictionary"
        }
    }

    /// Whether this is a plain copy of the stored bytes (used to describe plans).
    var isIdentity: Bool {
        switch self {
        case .fixed, .string: true
        case .nullable(let c), .array(let c): c.isIdentity
        case .map(let k, let v): k.isIdentity && v.isIdentity
        default: false
        }
    }

    /// Builds the conversion from a logical to a physical type, or explains why none exists.
    static func make(from logical: ColumnType, to physical: ColumnType) -> Result<ColumnConversion, ConversionFailure> {
        // LowCardinality is only an encoding: a logical LowCardinality column stores its
        // rows exactly like the inner type.
        if case .lowCardinality(let inner) = logical {
            if case .lowCardinality = physical {} else { return make(from: inner, to: physical) }
        }
        switch physical {
        case .lowCardinality(let pInner):
            var l = logical
            if case .lowCardinality(let i) = l { l = i }
            let lNullable: Bool
            let lBase: ColumnType
            if case .nullable(let i) = l { lNullable = true; lBase = i } else { lNullable = false; lBase = l }
            let pNullable: Bool
            let pBase: ColumnType
            if case .nullable(let i) = pInner { pNullable = true; pBase = i } else { pNullable = false; pBase = pInner }
            guard sameStringLike(lBase, pBase) else {
                return .failure(.init("LowCardinality needs the same String or FixedString type on both sides"))
            }
            guard !lNullable || pNullable else { return .failure(.nullIntoNonNullable) }
            return .success(.lowCardinality(nullable: pNullable))

        case .nullable(let pInner):
            if case .nullable(let lInner) = logical {
                return make(from: lInner, to: pInner).map { .nullable($0) }
            }
            return make(from: logical, to: pInner).map { .addNullMap($0) }

        case .array(let pInner):
            guard case .array(let lInner) = logical else { return .failure(.init("only an Array can fill an Array")) }
            return make(from: lInner, to: pInner).map { .array($0) }

        case .map(let pk, let pv):
            guard case .map(let lk, let lv) = logical else { return .failure(.init("only a Map can fill a Map")) }
            switch (make(from: lk, to: pk), make(from: lv, to: pv)) {
            case (.success(let k), .success(let v)): return .success(.map(key: k, value: v))
            case (.failure(let e), _), (_, .failure(let e)): return .failure(e)
            }

        default:
            return makeScalar(from: logical, to: physical)
        }
    }

    private static func makeScalar(from logical: ColumnType, to physical: ColumnType) -> Result<ColumnConversion, ConversionFailure> {
        switch logical {
        case .nullable: return .failure(.nullIntoNonNullable)
        case .array, .map: return .failure(.init("a collection cannot fill a scalar column"))
        default: break
        }
        switch (logical, physical) {
        case (.string, .string): return .success(.string)
        case (.fixedString(let a), .fixedString(let b)) where a == b: return .success(.fixed(width: a))
        case (.uuid, .uuid): return .success(.fixed(width: 16))
        case (.date, .date): return .success(.fixed(width: 2))
        case (.dateTime, .dateTime): return .success(.fixed(width: 4))
        case (.bool, .bool): return .success(.fixed(width: 1))
        case (.dateTime64(let p, _), .dateTime64(let q, _)):
            return .success(p == q ? .fixed(width: 8) : .rescaleDateTime64(from: p, to: q))
        case (.dateTime64(let p, _), .dateTime):
            return .success(.dateTime64Seconds(precision: p))
        case (.enum8(let a), .enum8(let b)), (.enum16(let a), .enum16(let b)):
            guard enumFits(a, into: b) else { return .failure(.init("the table's enum lacks some of the dataset's values")) }
            return .success(.fixed(width: logical.fixedWidth ?? 1))
        case (.enum8(let a), .enum16(let b)):
            guard enumFits(a, into: b) else { return .failure(.init("the table's enum lacks some of the dataset's values")) }
            return .success(.numeric(from: .i8, to: .i16))
        default: break
        }
        if let from = NumericKind(logical), let to = NumericKind(physical) {
            if from == to { return .success(.fixed(width: from.width)) }
            guard from.widensLosslessly(to: to) else { return .failure(.init("narrowing or sign-changing conversion")) }
            return .success(.numeric(from: from, to: to))
        }
        return .failure(.init("no lossless conversion"))
    }

    /// The conversion feeding a `<name>_ms/_us/_ns` companion from DateTime64(p).
    static func fraction(precision p: Int, into physical: ColumnType) -> Result<ColumnConversion, ConversionFailure> {
        let digits = companionDigits(precision: p)
        let isBool = physical == .bool
        guard let kind = NumericKind(physical), !kind.isFloat, !isBool else {
            return .failure(.init("the sub-second column must be an integer type"))
        }
        var limit: UInt64 = 1
        for _ in 0..<digits { limit *= 10 }
        guard kind.maxInteger >= limit - 1 else { return .failure(.init("too narrow for values up to \(limit - 1)")) }
        return .success(.dateTime64Fraction(precision: p, digits: digits, to: kind))
    }

    /// 3 (`_ms`) for precision 0...3, 6 (`_us`) for 4...6, 9 (`_ns`) for 7...9.
    static func companionDigits(precision p: Int) -> Int { p <= 3 ? 3 : (p <= 6 ? 6 : 9) }

    static func companionSuffix(precision p: Int) -> String {
        switch companionDigits(precision: p) {
        case 3: "_ms"
        case 6: "_us"
        default: "_ns"
        }
    }

    private static func sameStringLike(_ a: ColumnType, _ b: ColumnType) -> Bool {
        switch (a, b) {
        case (.string, .string): true
        case (.fixedString(let x), .fixedString(let y)): x == y
        default: false
        }
    }

    private static func enumFits(_ cases: [ColumnType.EnumCase], into target: [ColumnType.EnumCase]) -> Bool {
        let values = Set(target.map { "\($0.value)=\($0.name)" })
        return cases.allSatisfy { values.contains("\($0.value)=\($0.name)") }
    }
}

/// Why a logical type cannot fill a physical one.
struct ConversionFailure: Error, Sendable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    static let nullIntoNonNullable = ConversionFailure("a Nullable value cannot go into a non-Nullable column without losing NULLs")
}
