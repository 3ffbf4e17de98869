/// One dataset compiled for validation: where every column's value comes from and how
/// it is coerced, resolved once so that validating an event never looks at names,
/// strings or the ``ColumnType`` enum again.
///
/// Everything the per-event loop reads lives in flat, reference-free memory (fields,
/// source steps, path segments); the only references are the dataset's default values,
/// each precomputed as a one-row column and copied with `append(row:of:)`.
final class DatasetPlan: @unchecked Sendable {
    struct Field {
        var column: Int
        var firstStep: Int
        var stepCount: Int
        var required: Bool
        var coercion: Int
        /// Index into ``defaults``, or -1 for the type's default.
        var defaultIndex: Int
        /// The column is DateTime64: a source whose text equals the `time` attribute's
        /// takes the instant the envelope check already parsed.
        var isDateTime64: Bool = false
        /// Which direct path the validator may take for a value of the expected JSON kind.
        var direct: Coercer.Direct = .none
    }

    struct Step {
        enum Kind: UInt8 { case attribute, data, wholeData, receivedAt }
        var kind: Kind
        /// Attribute slot, or the slot of the first `data` path segment.
        var slot: Int
        /// Further path segments, as a range of ``segments``.
        var restStart: Int
        var restCount: Int
    }

    /// Everything the per-event loop reads, as one reference-free value: copying it into
    /// a local costs no reference counting, unlike reading the plan's properties.
    struct Core {
        let fields: UnsafeMutablePointer<Field>
        let fieldCount: Int
        let steps: UnsafeMutablePointer<Step>
        let segmentBytes: UnsafeMutablePointer<UInt8>
        let segmentRanges: UnsafeMutablePointer<(start: Int, count: Int)>
        let dedupStart: Int
        let dedupCount: Int
        let dataSlotCount: Int
        let eventKeyColumn: Int
        let ingestedAtColumn: Int
        let coercer: Coercer
        let dataKeys: KeyTable.View

        /// A path segment's bytes.
        @inline(__always)
        func segment(_ i: Int) -> UnsafeRawBufferPointer {
            let r = segmentRanges[i]
            return UnsafeRawBufferPointer(start: segmentBytes + r.start, count: r.count)
        }
    }

    var core: Core {
        Core(
            fields: fields, fieldCount: fieldCount, steps: steps, segmentBytes: segmentBytes, segmentRanges: segmentRanges,
            dedupStart: dedupStart, dedupCount: dedupCount, dataSlotCount: dataSlotCount, eventKeyColumn: eventKeyColumn,
            ingestedAtColumn: ingestedAtColumn, coercer: program.coercer, dataKeys: dataKeys.view)
    }

    let index: Int
    let definition: DatasetDefinition
    let schema: [(name: String, type: ColumnType)]
    let program: CoercionProgram
    let fieldCount: Int
    let fields: UnsafeMutablePointer<Field>
    let steps: UnsafeMutablePointer<Step>
    /// `ce.id`, `data.value` ... per step, for rejection messages.
    let stepLabels: [String]
    let dedupStart: Int
    let dedupCount: Int
    /// First-level `data` member names the dataset reads, by slot.
    let dataKeys: KeyTable
    var dataSlotCount: Int { dataKeys.names.count }
    private let segmentBytes: UnsafeMutablePointer<UInt8>
    private let segmentRanges: UnsafeMutablePointer<(start: Int, count: Int)>
    let defaults: [ColumnBuffer]
    /// Field index of the tenant column, or -1.
    let tenantField: Int
    let eventKeyColumn: Int
    let ingestedAtColumn: Int

    /// `attributeSlot` maps an attribute name to its slot in the CloudEvents decoder.
    init(definition: DatasetDefinition, index: Int, attributeSlot: (String) -> Int) throws(CatalogError) {
        self.index = index
        self.definition = definition
        schema = definition.tableSchema
        let key = "datasets.\(definition.name)"
        var builder = CoercionProgramBuilder()
        var fields: [Field] = []
        var steps: [Step] = []
        var labels: [String] = []
        var dataNames: [String] = []
        var segments: [[UInt8]] = []
        var defaults: [ColumnBuffer] = []

        func addStep(_ source: ValueSource, key: String) throws(CatalogError) {
            labels.append(source.description)
            switch source {
            case .attribute(let name):
                let slot = attributeSlot(name)
                guard slot >= 0 else { throw CatalogError(key: key, reason: "unknown attribute '\(name)'") }
                steps.append(Step(kind: .attribute, slot: slot, restStart: 0, restCount: 0))
            case .data(let path):
                guard let first = path.first else {
                    steps.append(Step(kind: .wholeData, slot: 0, restStart: 0, restCount: 0))
                    return
                }
                var slot = dataNames.firstIndex(of: first) ?? -1
                if slot < 0 {
                    slot = dataNames.count
                    dataNames.append(first)
                }
                let restStart = segments.count
                for segment in path.dropFirst() { segments.append(Array(segment.utf8)) }
                steps.append(Step(kind: .data, slot: slot, restStart: restStart, restCount: path.count - 1))
            case .receivedAt:
                steps.append(Step(kind: .receivedAt, slot: 0, restStart: 0, restCount: 0))
            }
        }

        // All coercions first: defaults below are coerced with the frozen program.
        var coercions: [Int] = []
        for f in definition.fields { coercions.append(builder.compile(f.type)) }
        let program = builder.build()
        var tenantField = -1
        for (i, f) in definition.fields.enumerated() {
            let fieldKey = "\(key).fields[\(i)]"
            let coercion = coercions[i]
            let firstStep = steps.count
            for source in f.sources {
                if case .receivedAt = source, !program.acceptsReceivedAt(coercion) {
                    throw CatalogError(key: "\(fieldKey).from", reason: "received_at can only fill Date, DateTime, DateTime64, Int64 or UInt64 columns, not \(f.type)")
                }
                try addStep(source, key: "\(fieldKey).from")
            }
            var defaultIndex = -1
            if let text = f.defaultValue {
                let column = ColumnBuffer(type: f.type, expectedRows: 1)
                do {
                    try Self.coerceDefault(text, program: program, step: coercion, into: column)
                } catch {
                    throw CatalogError(key: "\(fieldKey).default", reason: "'\(text)' is not a valid \(f.type): \(error.reason)")
                }
                defaultIndex = defaults.count
                defaults.append(column)
            }
            if f.name == definition.tenantColumn { tenantField = i }
            fields.append(Field(
                column: i, firstStep: firstStep, stepCount: f.sources.count, required: f.required, coercion: coercion, defaultIndex: defaultIndex,
                isDateTime64: program.coercer.isDateTime64(coercion), direct: program.coercer.direct(coercion)))
        }
        dedupStart = steps.count
        for source in definition.dedupKey { try addStep(source, key: "\(key).dedup_key") }
        dedupCount = definition.dedupKey.count

        self.program = program
        fieldCount = fields.count
        self.fields = .allocate(capacity: Swift.max(1, fields.count))
        self.fields.initialize(from: fields, count: fields.count)
        self.steps = .allocate(capacity: Swift.max(1, steps.count))
        self.steps.initialize(from: steps, count: steps.count)
        stepLabels = labels
        dataKeys = KeyTable(dataNames)
        let totalBytes = segments.reduce(0) { $0 + $1.count }
        segmentBytes = .allocate(capacity: Swift.max(1, totalBytes))
        segmentRanges = .allocate(capacity: Swift.max(1, segments.count))
        var offset = 0
        for (i, s) in segments.enumerated() {
            segmentRanges[i] = (offset, s.count)
            for b in s {
                segmentBytes[offset] = b
                offset += 1
            }
        }
        self.defaults = defaults
        self.tenantField = tenantField
        eventKeyColumn = definition.fields.count
        ingestedAtColumn = definition.fields.count + 1
    }

    deinit {
        fields.deallocate()
        steps.deallocate()
        segmentBytes.deallocate()
        segmentRanges.deallocate()
    }

    /// A path segment's bytes.
    @inline(__always)
    func segment(_ i: Int) -> UnsafeRawBufferPointer {
        let r = segmentRanges[i]
        return UnsafeRawBufferPointer(start: segmentBytes + r.start, count: r.count)
    }

    /// A default's text is coerced like an input value: as the JSON value it spells when it
    /// is valid JSON (`0`, `true`, `{}`, `null`), else as a string (`GET`, `2024-01-01`).
    static func coerceDefault(_ text: String, program: CoercionProgram, step: Int, into column: ColumnBuffer) throws(CoercionFailure) {
        let bytes = Array(text.utf8) + [0]
        let failure: CoercionFailure? = bytes.withUnsafeBytes { (all: UnsafeRawBufferPointer) -> CoercionFailure? in
            let body = UnsafeRawBufferPointer(rebasing: all[0..<(all.count - 1)])
            var scanner = JSONScanner()
            var scratch = GrowableBuffer()
            var tape = JSONTape(capacity: 1)
            let value: JSONValue
            if (try? scanner.parse(body)) != nil {
                value = scanner.root
            } else {
                let node = tape.appendExternalString(start: 0, end: body.count)
                value = JSONValue(nodes: tape.nodes, base: all.baseAddress!.assumingMemoryBound(to: UInt8.self), index: node)
            }
            do throws(CoercionFailure) {
                try program.coercer.coerce(value, step, into: column, scratch: &scratch)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }
}
