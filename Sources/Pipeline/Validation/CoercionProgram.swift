/// JSON → column-type coercions, compiled once per dataset column.
///
/// A column type becomes a few flat ``Coercion`` steps (one per type node, children by
/// index), so coercing a value is a `switch` on a byte-sized kind with no existential,
/// closure or allocation, and the hot path never re-reads the ``ColumnType`` enum.
///
/// | column type | accepted JSON | notes |
/// |---|---|---|
/// | (U)Int8…64 | integer literal in range; string holding one (`"42"`) | `1.0`, `1e3` are not integers |
/// | Float32/64 | number; numeric string (JSON number syntax) | `NaN`/`Infinity` text and out-of-range values are rejected |
/// | Bool | `true`/`false`; `0`/`1`; `"true"`/`"false"`/`"0"`/`"1"` | |
/// | String, LowCardinality(String) | string (unescaped); numbers and booleans as their JSON text; objects and arrays as their raw JSON text | |
/// | FixedString(N) | like String, at most N bytes | zero-padded to N |
/// | UUID | canonical `8-4-4-4-12` hex, either case | stored in ClickHouse wire order (each 8-byte half little-endian) |
/// | Date | `YYYY-MM-DD`, 1970-01-01…2149-06-06 | |
/// | DateTime | RFC 3339 (`Z`/`±hh:mm`, optional fraction), or `YYYY-MM-DD[T ]HH:MM:SS` without zone = UTC; or a number of epoch seconds | 1970-01-01 00:00:00…2106-02-07 06:28:15 UTC; fractions truncated |
/// | DateTime64(p) | the same texts, fraction kept to p digits (truncated); a number read by magnitude: \|n\| ≤ 1e11 seconds, ≤ 1e14 milliseconds, ≤ 1e17 microseconds, else nanoseconds | stored as Int64 ticks of 10^-p s; 1900-01-01…2299-12-31 (and Int64 range) |
/// | Enum8/16 | an element name, or its numeric value (number or numeric string) | anything else is rejected |
/// | Nullable(T) | `null` → NULL, else as T | |
/// | Array(T) | array of T | an element that fails names its index: `data.tags[2]` |
/// | Map(K, V) | object; keys coerced as K from their text, values as V | a `null` value drops the pair unless V is Nullable |
///
/// At the top level of a field, `null` means "absent" (the next source, then the default,
/// is used), matching CloudEvents' rule for attributes; only inside arrays and maps does a
/// `null` reach a non-Nullable coercion, where it is rejected.
struct Coercion {
    enum Kind: UInt8 {
        case int8, int16, int32, int64, uint8, uint16, uint32, uint64
        case float32, float64, bool, string, fixedString, date, dateTime, dateTime64, uuid
        case enum8, enum16, nullable, array, map
    }

    var kind: Kind
    /// FixedString: N. DateTime64: precision. Enum: index of its table.
    var parameter: Int = 0
    /// DateTime64: 10^precision (ticks per second).
    var scale: Int64 = 1
    /// Nullable/Array element, Map key.
    var child: Int = -1
    /// Map value.
    var child2: Int = -1
}

/// A coercion that failed: where inside the value (`[2]`, `.region`; empty at the top)
/// and why. Built only on failure.
struct CoercionFailure: Error {
    var path: String
    var reason: String

    func nested(_ step: String) -> CoercionFailure {
        CoercionFailure(path: step + path, reason: reason)
    }
}

/// Collects the coercion steps of a dataset's column types; ``build()`` freezes them.
struct CoercionProgramBuilder {
    private(set) var steps: [Coercion] = []
    private(set) var typeNames: [String] = []
    private(set) var enumTables: [(names: [[UInt8]], values: [Int])] = []

    /// Adds the steps for `type` and returns the index of its root step.
    mutating func compile(_ type: ColumnType) -> Int {
        let index = steps.count
        steps.append(Coercion(kind: .string))
        typeNames.append(type.name)
        var step: Coercion
        switch type {
        case .int8: step = Coercion(kind: .int8)
        case .int16: step = Coercion(kind: .int16)
        case .int32: step = Coercion(kind: .int32)
        case .int64: step = Coercion(kind: .int64)
        case .uint8: step = Coercion(kind: .uint8)
        case .uint16: step = Coercion(kind: .uint16)
        case .uint32: step = Coercion(kind: .uint32)
        case .uint64: step = Coercion(kind: .uint64)
        case .float32: step = Coercion(kind: .float32)
        case .float64: step = Coercion(kind: .float64)
        case .bool: step = Coercion(kind: .bool)
        case .string: step = Coercion(kind: .string)
        case .fixedString(let n): step = Coercion(kind: .fixedString, parameter: n)
        case .date: step = Coercion(kind: .date)
        case .dateTime: step = Coercion(kind: .dateTime)
        case .dateTime64(let p, _):
            var scale: Int64 = 1
            for _ in 0..<p { scale *= 10 }
            step = Coercion(kind: .dateTime64, parameter: p, scale: scale)
        case .uuid: step = Coercion(kind: .uuid)
        case .enum8(let cases), .enum16(let cases):
            enumTables.append((cases.map { Array($0.name.utf8) }, cases.map(\.value)))
            if case .enum8 = type {
                step = Coercion(kind: .enum8, parameter: enumTables.count - 1)
            } else {
                step = Coercion(kind: .enum16, parameter: enumTables.count - 1)
            }
        case .lowCardinality(let inner):
            // LowCardinality is an encoding; rows are coerced like the inner type.
            let root = compile(inner)
            steps[index] = steps[root]
            typeNames[index] = type.name
            return index
        case .nullable(let inner):
            step = Coercion(kind: .nullable)
            step.child = compile(inner)
        case .array(let inner):
            step = Coercion(kind: .array)
            step.child = compile(inner)
        case .map(let key, let value):
            step = Coercion(kind: .map)
            step.child = compile(key)
            step.child2 = compile(value)
        }
        steps[index] = step
        return index
    }

    func build() -> CoercionProgram { CoercionProgram(self) }
}

/// The compiled coercions of one dataset's columns. Immutable, so the hot path reads
/// its steps without any synchronisation.
final class CoercionProgram: @unchecked Sendable {
    fileprivate let stepPointer: UnsafeMutablePointer<Coercion>
    let typeNames: [String]
    fileprivate let enumTables: [(names: [[UInt8]], values: [Int])]

    /// The coercions as a reference-free value for the hot path (see ``Coercer``).
    var coercer: Coercer { Coercer(stepPointer: stepPointer, program: self) }

    init(_ builder: CoercionProgramBuilder) {
        stepPointer = .allocate(capacity: Swift.max(1, builder.steps.count))
        stepPointer.initialize(from: builder.steps, count: builder.steps.count)
        typeNames = builder.typeNames
        enumTables = builder.enumTables
    }

    deinit { stepPointer.deallocate() }

    /// Whether a `received_at` source can feed this step's type.
    func acceptsReceivedAt(_ step: Int) -> Bool {
        switch stepPointer[step].kind {
        case .dateTime64, .dateTime, .date, .int64, .uint64: true
        case .nullable: acceptsReceivedAt(stepPointer[step].child)
        default: false
        }
    }

}

/// Runs a ``CoercionProgram``. A plain value of a pointer and an unowned reference, so
/// copying it or calling it costs no reference counting; the program must outlive it
/// (the dataset plan owns both).
struct Coercer {
    let stepPointer: UnsafeMutablePointer<Coercion>
    unowned(unsafe) let program: CoercionProgram

    private var typeNames: [String] { program.typeNames }
    private var enumTables: [(names: [[UInt8]], values: [Int])] { program.enumTables }

    // MARK: Coercing

    /// Appends `value` coerced by `step` as one row of `column`.
    func coerce(_ value: JSONValue, _ step: Int, into column: ColumnBuffer, scratch: inout GrowableBuffer) throws(CoercionFailure) {
        let c = stepPointer[step]
        switch c.kind {
        case .int8: column.append(Int8(try signed(value, step, min: Int64(Int8.min), max: Int64(Int8.max), &scratch)))
        case .int16: column.append(Int16(try signed(value, step, min: Int64(Int16.min), max: Int64(Int16.max), &scratch)))
        case .int32: column.append(Int32(try signed(value, step, min: Int64(Int32.min), max: Int64(Int32.max), &scratch)))
        case .int64: column.append(try signed(value, step, min: Int64.min, max: Int64.max, &scratch))
        case .uint8: column.append(UInt8(try unsigned(value, step, max: UInt64(UInt8.max), &scratch)))
        case .uint16: column.append(UInt16(try unsigned(value, step, max: UInt64(UInt16.max), &scratch)))
        case .uint32: column.append(UInt32(try unsigned(value, step, max: UInt64(UInt32.max), &scratch)))
        case .uint64: column.append(try unsigned(value, step, max: UInt64.max, &scratch))
        case .float64: column.append(try double(value, step, &scratch))
        case .float32:
            let d = try double(value, step, &scratch)
            let f = Float32(d)
            guard f.isFinite else { throw failure(value, step, " (out of range)") }
            column.append(f)
        case .bool: column.append(try bool(value, step, &scratch) ? UInt8(1) : UInt8(0))
        case .string:
            switch value.kind {
            case .string:
                value.appendDecoded(to: &column.values)
                column.finishStringRow()
            case .null: throw failure(value, step)
            default: column.append(bytes: value.rawBytes)
            }
        case .fixedString:
            let bytes: UnsafeRawBufferPointer
            switch value.kind {
            case .string: bytes = Self.decoded(value, &scratch)
            case .null, .object, .array: throw failure(value, step)
            default: bytes = value.bytes
            }
            guard bytes.count <= c.parameter else {
                throw failure(value, step, " (\(bytes.count) bytes, more than \(c.parameter))")
            }
            column.values.append(bytes: bytes)
            column.values.appendZeros(c.parameter - bytes.count)
        case .uuid:
            guard value.kind == .string, let (high, low) = UUIDText.parse(Self.decoded(value, &scratch)) else {
                throw failure(value, step, value.kind == .string ? " (not a canonical 8-4-4-4-12 UUID)" : "")
            }
            column.values.append(high)
            column.values.append(low)
        case .date:
            guard value.kind == .string, let days = TimestampParser.parseDate(Self.decoded(value, &scratch)) else {
                throw failure(value, step, value.kind == .string ? " (not a YYYY-MM-DD date)" : "")
            }
            guard days >= 0, days <= Int64(UInt16.max) else { throw failure(value, step, " (outside 1970-01-01...2149-06-06)") }
            column.append(UInt16(days))
        case .dateTime:
            let seconds = try dateTimeSeconds(value, step, &scratch)
            guard seconds >= 0, seconds <= Int64(UInt32.max) else {
                throw failure(value, step, " (outside 1970-01-01 00:00:00...2106-02-07 06:28:15 UTC)")
            }
            column.append(UInt32(seconds))
        case .dateTime64:
            column.append(try dateTime64Ticks(value, c, step, &scratch))
        case .enum8, .enum16:
            let v = try enumValue(value, c.parameter, step, &scratch)
            if c.kind == .enum8 { column.append(Int8(truncatingIfNeeded: v)) } else { column.append(Int16(truncatingIfNeeded: v)) }
        case .nullable:
            if value.isNull {
                column.appendNull()
            } else {
                try coerce(value, c.child, into: column.appendNotNull(), scratch: &scratch)
            }
        case .array:
            guard value.kind == .array else { throw failure(value, step) }
            let inner = Unmanaged.passUnretained(column.inner.unsafelyUnwrapped)
            var position = 0
            var elements = value.elements
            while let element = elements.next() {
                let failure = inner._withUnsafeGuaranteedRef { inner in Self.capture { () throws(CoercionFailure) in
                    try coerce(element, c.child, into: inner, scratch: &scratch)
                } }
                if let failure { throw failure.nested("[\(position)]") }
                position += 1
            }
            column.finishCollectionRow()
        case .map:
            guard value.kind == .object else { throw failure(value, step) }
            // Unretained: the map column owns its inner columns for as long as this runs.
            let keys = Unmanaged.passUnretained(column.inner.unsafelyUnwrapped)
            let values = Unmanaged.passUnretained(column.inner2.unsafelyUnwrapped)
            if stepPointer[c.child].kind == .string, stepPointer[c.child2].kind == .string {
                Self.appendStringMap(value, into: column)
                return
            }
            let nullableValues = stepPointer[c.child2].kind == .nullable
            var members = value.members
            while let (key, element) = members.next() {
                if element.isNull, !nullableValues { continue }
                let failure = keys._withUnsafeGuaranteedRef { keys in
                    values._withUnsafeGuaranteedRef { values in
                        Self.capture { () throws(CoercionFailure) in
                            try coerce(key, c.child, into: keys, scratch: &scratch)
                            try coerce(element, c.child2, into: values, scratch: &scratch)
                        }
                    }
                }
                if let failure { throw failure.nested(".\(key.string)") }
            }
            column.finishCollectionRow()
        }
    }

    /// Column types whose common case the validator appends inline, without a call to
    /// ``coerce(_:_:into:scratch:)`` and its failure plumbing. Each direct path covers
    /// only inputs that cannot fail; anything else goes through `coerce`, so rows and
    /// failures are the same either way.
    enum Direct: UInt8 {
        case none
        /// String or LowCardinality(String), for a JSON string.
        case string
        /// Float64, for a JSON number.
        case float64
        /// Map(String, String) (also LowCardinality keys or values), for a JSON object.
        case stringMap
    }

    func direct(_ step: Int) -> Direct {
        let c = stepPointer[step]
        switch c.kind {
        case .string: return .string
        case .float64: return .float64
        case .map where stepPointer[c.child].kind == .string && stepPointer[c.child2].kind == .string: return .stringMap
        default: return .none
        }
    }

    /// Appends an object as one Map(String, String) row. No member can fail (keys are
    /// strings, values of any kind have a text), so there is no failure to capture, and
    /// rows end without the generic `finishStringRow`/`finishCollectionRow` calls.
    /// `null` values drop their pair, as in the general map path.
    @inline(__always)
    static func appendStringMap(_ value: JSONValue, into column: ColumnBuffer) {
        // Unretained: the map column owns its inner columns for as long as this runs.
        let keys = Unmanaged.passUnretained(column.inner.unsafelyUnwrapped)
        let values = Unmanaged.passUnretained(column.inner2.unsafelyUnwrapped)
        keys._withUnsafeGuaranteedRef { keys in
            values._withUnsafeGuaranteedRef { values in
                var members = value.members
                while let (key, element) = members.next() {
                    let kind = element.kind
                    if kind == .null { continue }
                    key.appendDecoded(to: &keys.values)
                    keys.ends.append(UInt64(keys.values.count))
                    if kind == .string {
                        element.appendDecoded(to: &values.values)
                    } else {
                        values.values.append(bytes: element.rawBytes)
                    }
                    values.ends.append(UInt64(values.values.count))
                }
                // The keys are a String column: its row count is its number of ends.
                column.ends.append(UInt64(keys.ends.count &>> 3))
            }
        }
    }

    /// Appends the time the message was received (nanoseconds since the epoch) as one row.
    /// Only time and 64-bit integer columns accept it; ``DatasetPlan`` checks that up front.
    func appendReceivedAt(_ nanos: Int64, _ step: Int, into column: ColumnBuffer) throws(CoercionFailure) {
        let c = stepPointer[step]
        switch c.kind {
        case .dateTime64:
            let divisor = 1_000_000_000 / c.scale
            column.append(Self.floorDiv(nanos, divisor))
        case .dateTime:
            column.append(UInt32(clamping: Self.floorDiv(nanos, 1_000_000_000)))
        case .date:
            column.append(UInt16(clamping: Self.floorDiv(nanos, 86_400 * 1_000_000_000)))
        case .int64:
            column.append(nanos)
        case .uint64:
            column.append(UInt64(clamping: nanos))
        case .nullable:
            try appendReceivedAt(nanos, c.child, into: column.appendNotNull())
        default:
            throw CoercionFailure(path: "", reason: "received_at cannot fill a \(typeNames[step]) column")
        }
    }

    // MARK: Scalar helpers

    /// Runs `body` and returns its failure, for closures whose signature cannot carry a
    /// typed throw.
    @inline(__always)
    static func capture(_ body: () throws(CoercionFailure) -> Void) -> CoercionFailure? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// A string's decoded bytes (in `scratch` when it has escapes; valid until `scratch`
    /// changes), or the JSON text of any other value.
    @inline(__always)
    static func decoded(_ value: JSONValue, _ scratch: inout GrowableBuffer) -> UnsafeRawBufferPointer {
        guard value.hasEscapes else { return value.bytes }
        scratch.truncate(to: 0)
        value.appendDecoded(to: &scratch)
        return scratch.withUnsafeBytes { $0 }
    }

    private func failure(_ value: JSONValue, _ step: Int, _ detail: String = "") -> CoercionFailure {
        CoercionFailure(path: "", reason: "expected \(typeNames[step]), got \(ValueDescription.describe(value))\(detail)")
    }

    @inline(__always)
    private func signed(_ value: JSONValue, _ step: Int, min: Int64, max: Int64, _ scratch: inout GrowableBuffer) throws(CoercionFailure) -> Int64 {
        let bytes: UnsafeRawBufferPointer
        switch value.kind {
        case .number:
            guard value.isIntegerLiteral else { throw failure(value, step, " (not an integer)") }
            bytes = value.bytes
        case .string:
            bytes = Self.decoded(value, &scratch)
            guard let syntax = JSONNumber.syntax(bytes), syntax.isInteger else { throw failure(value, step) }
        default:
            throw failure(value, step)
        }
        guard let x = JSONNumber.parseInt64(bytes), x >= min, x <= max else { throw failure(value, step, " (out of range)") }
        return x
    }

    @inline(__always)
    private func unsigned(_ value: JSONValue, _ step: Int, max: UInt64, _ scratch: inout GrowableBuffer) throws(CoercionFailure) -> UInt64 {
        let bytes: UnsafeRawBufferPointer
        switch value.kind {
        case .number:
            guard value.isIntegerLiteral else { throw failure(value, step, " (not an integer)") }
            bytes = value.bytes
        case .string:
            bytes = Self.decoded(value, &scratch)
            guard let syntax = JSONNumber.syntax(bytes), syntax.isInteger else { throw failure(value, step) }
        default:
            throw failure(value, step)
        }
        guard let x = JSONNumber.parseUInt64(bytes), x <= max else { throw failure(value, step, " (out of range)") }
        return x
    }

    @inline(__always)
    private func double(_ value: JSONValue, _ step: Int, _ scratch: inout GrowableBuffer) throws(CoercionFailure) -> Double {
        let d: Double
        switch value.kind {
        case .number:
            d = JSONNumber.parseDouble(value.bytes)
        case .string:
            let bytes = Self.decoded(value, &scratch)
            guard JSONNumber.syntax(bytes) != nil else { throw failure(value, step) }
            d = JSONNumber.parseDouble(bytes)
        default:
            throw failure(value, step)
        }
        guard d.isFinite else { throw failure(value, step, " (out of range)") }
        return d
    }

    private func bool(_ value: JSONValue, _ step: Int, _ scratch: inout GrowableBuffer) throws(CoercionFailure) -> Bool {
        switch value.kind {
        case .true: return true
        case .false: return false
        case .number, .string:
            let b = Self.decoded(value, &scratch)
            if b.count == 1, b[0] == 0x30 { return false }
            if b.count == 1, b[0] == 0x31 { return true }
            if value.kind == .string {
                if b.count == 4, b[0] == 0x74, b[1] == 0x72, b[2] == 0x75, b[3] == 0x65 { return true }
                if b.count == 5, b[0] == 0x66, b[1] == 0x61, b[2] == 0x6C, b[3] == 0x73, b[4] == 0x65 { return false }
            }
            throw failure(value, step)
        default:
            throw failure(value, step)
        }
    }

    private func dateTimeSeconds(_ value: JSONValue, _ step: Int, _ scratch: inout GrowableBuffer) throws(CoercionFailure) -> Int64 {
        switch value.kind {
        case .string:
            guard let instant = TimestampParser.parse(Self.decoded(value, &scratch), requireZone: false) else {
                throw failure(value, step, " (not an RFC 3339 or YYYY-MM-DD HH:MM:SS time)")
            }
            return instant.seconds
        case .number:
            if value.isIntegerLiteral {
                guard let s = JSONNumber.parseInt64(value.bytes) else { throw failure(value, step, " (out of range)") }
                return s
            }
            let d = JSONNumber.parseDouble(value.bytes).rounded(.down)
            guard d.isFinite, abs(d) < 1e15 else { throw failure(value, step, " (out of range)") }
            return Int64(d)
        default:
            throw failure(value, step)
        }
    }

    /// 1900-01-01 00:00:00 and 2299-12-31 23:59:59 UTC, ClickHouse's DateTime64 range.
    private static let dateTime64MinSeconds: Int64 = -2_208_988_800
    private static let dateTime64MaxSeconds: Int64 = 10_413_791_999

    private func dateTime64Ticks(_ value: JSONValue, _ c: Coercion, _ step: Int, _ scratch: inout GrowableBuffer) throws(CoercionFailure) -> Int64 {
        func outOfRange() -> String { " (outside 1900-01-01...2299-12-31 or the Int64 range of DateTime64(\(c.parameter)))" }
        switch value.kind {
        case .string:
            guard let instant = TimestampParser.parse(Self.decoded(value, &scratch), requireZone: false) else {
                throw failure(value, step, " (not an RFC 3339 or YYYY-MM-DD HH:MM:SS time)")
            }
            return try dateTime64Ticks(instant, of: value, c, step)
        case .number:
            guard let nanos = Self.numberAsNanoseconds(value.bytes, integer: value.isIntegerLiteral) else {
                throw failure(value, step, outOfRange())
            }
            let divisor = Int128(1_000_000_000 / c.scale)
            var ticks = nanos / divisor
            if nanos % divisor != 0, nanos < 0 { ticks -= 1 }
            var seconds = nanos / 1_000_000_000
            if nanos % 1_000_000_000 != 0, nanos < 0 { seconds -= 1 }
            guard seconds >= Int128(Self.dateTime64MinSeconds), seconds <= Int128(Self.dateTime64MaxSeconds),
                  let t = Int64(exactly: ticks)
            else { throw failure(value, step, outOfRange()) }
            return t
        default:
            throw failure(value, step)
        }
    }

    /// The ticks of an instant parsed from the string `value` (which failures name).
    @inline(__always)
    private func dateTime64Ticks(_ instant: TimestampParser.Instant, of value: JSONValue, _ c: Coercion, _ step: Int) throws(CoercionFailure) -> Int64 {
        guard instant.seconds >= Self.dateTime64MinSeconds, instant.seconds <= Self.dateTime64MaxSeconds else {
            throw failure(value, step, " (outside 1900-01-01...2299-12-31 or the Int64 range of DateTime64(\(c.parameter)))")
        }
        let (whole, o1) = instant.seconds.multipliedReportingOverflow(by: c.scale)
        let (ticks, o2) = whole.addingReportingOverflow(instant.nanoseconds / (1_000_000_000 / c.scale))
        guard !o1, !o2 else { throw failure(value, step, " (outside 1900-01-01...2299-12-31 or the Int64 range of DateTime64(\(c.parameter)))") }
        return ticks
    }

    /// Whether `step` is a DateTime64 coercion, which ``appendDateTime64(_:of:_:into:)``
    /// can fill from an already parsed instant.
    func isDateTime64(_ step: Int) -> Bool { stepPointer[step].kind == .dateTime64 }

    /// Appends the string `value`, already parsed into `instant` (with a zone), to a
    /// DateTime64 column: the same row and the same failures as ``coerce(_:_:into:scratch:)``.
    @inline(__always)
    func appendDateTime64(_ instant: TimestampParser.Instant, of value: JSONValue, _ step: Int, into column: ColumnBuffer) throws(CoercionFailure) {
        column.append(try dateTime64Ticks(instant, of: value, stepPointer[step], step))
    }

    /// A number read by magnitude as an epoch time, in nanoseconds: |n| ≤ 1e11 seconds,
    /// ≤ 1e14 milliseconds, ≤ 1e17 microseconds, else nanoseconds. Exact for decimal
    /// literals without exponent; exponent forms go through Double.
    static func numberAsNanoseconds(_ bytes: UnsafeRawBufferPointer, integer: Bool) -> Int128? {
        @inline(__always) func unit(_ magnitude: Double) -> Int128 {
            magnitude <= 1e11 ? 1_000_000_000 : magnitude <= 1e14 ? 1_000_000 : magnitude <= 1e17 ? 1_000 : 1
        }
        let n = bytes.count
        var p = 0
        let negative = n > 0 && bytes[0] == 0x2D
        if negative { p = 1 }
        var whole: Int128 = 0
        while p < n, bytes[p] &- 0x30 < 10 {
            whole = whole * 10 + Int128(bytes[p] &- 0x30)
            guard whole < 1_000_000_000_000_000_000_000 else { return nil }
            p += 1
        }
        var fraction: Int128 = 0
        var fractionDigits = 0
        if p < n, bytes[p] == 0x2E {
            p += 1
            while p < n, bytes[p] &- 0x30 < 10 {
                if fractionDigits < 9 {
                    fraction = fraction * 10 + Int128(bytes[p] &- 0x30)
                    fractionDigits += 1
                }
                p += 1
            }
        }
        if p < n {
            // Exponent form.
            let d = JSONNumber.parseDouble(bytes)
            guard d.isFinite, abs(d) < 1e26 else { return nil }
            let u = unit(abs(d))
            return Int128((d * Double(u)).rounded(.down))
        }
        while fractionDigits < 9 {
            fraction *= 10
            fractionDigits += 1
        }
        let u = unit(Double(whole) + (fraction > 0 ? 0.5 : 0))
        let magnitude = whole * u + fraction * u / 1_000_000_000
        return negative ? -magnitude : magnitude
    }

    private func enumValue(_ value: JSONValue, _ table: Int, _ step: Int, _ scratch: inout GrowableBuffer) throws(CoercionFailure) -> Int {
        let (names, values) = enumTables[table]
        var number: Int64?
        switch value.kind {
        case .string:
            let b = Self.decoded(value, &scratch)
            for (i, name) in names.enumerated() where name.count == b.count && name.withUnsafeBytes({ $0.elementsEqual(b) }) {
                return values[i]
            }
            if let syntax = JSONNumber.syntax(b), syntax.isInteger { number = JSONNumber.parseInt64(b) }
        case .number:
            if value.isIntegerLiteral { number = JSONNumber.parseInt64(value.bytes) }
        default:
            break
        }
        if let number, let i = values.firstIndex(of: Int(number)) { return values[i] }
        throw failure(value, step, " (not an element of the enum)")
    }
}
