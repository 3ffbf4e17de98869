/// Routes each decoded CloudEvent to its dataset and turns it into one row of that
/// dataset's ``ColumnBatch``, or into a ``Rejection``.
///
/// For every field the sources are tried in order (`ce.<attr>`, `data.<path>`,
/// `received_at`); the first present, non-null value is coerced to the column type (see
/// ``CoercionProgram``). With none, the field's precomputed default is used, else a
/// required field rejects the event, else the type's default is appended. Then the
/// tenant scope is checked, the dedup key hashed into `_event_key`, and `_ingested_at`
/// set to the message's receive second.
///
/// A row that fails half-way is rolled back with ``ColumnBatch/truncate(toRows:)``, so a
/// rejected event leaves no trace in the batch and never affects its neighbours.
struct RowValidator: ~Copyable, CloudEventSink {
    let plans: [DatasetPlan]
    /// Routed CloudEvent `type` → dataset index.
    let routes: KeyTable
    private let routeView: KeyTable.View
    let limits: DecodeLimits
    var tables: [TableRows?]
    var rejections: [Rejection] = []
    let dataSlots: UnsafeMutablePointer<JSONValue?>
    var scratch = GrowableBuffer(capacity: 256)
    var material = GrowableBuffer(capacity: 256)
    var expectedRows = 0

    // The message being decoded.
    var receivedAtNanos: Int64 = 0
    var requiredTenant: String?
    /// Per dataset: the tenant the cache was built for and its column bytes (nil when the
    /// tenant cannot be a value of that column, so nothing matches).
    private var tenantCache: [(tenant: String, bytes: [UInt8]?)?]

    init(plans: [DatasetPlan], limits: DecodeLimits) throws(CatalogError) {
        self.plans = plans
        self.limits = limits
        var names: [String] = []
        var owners: [Int] = []
        for plan in plans {
            for route in plan.definition.routes {
                if let other = names.firstIndex(of: route) {
                    throw CatalogError(
                        key: "datasets.\(plan.definition.name).routes",
                        reason: "CloudEvent type '\(route)' is already routed to '\(plans[owners[other]].definition.name)'")
                }
                names.append(route)
                owners.append(plan.index)
            }
        }
        // Slots of a KeyTable are name positions; map them back to datasets.
        routes = KeyTable(names)
        routeView = routes.view
        routeOwners = .allocate(capacity: Swift.max(1, owners.count))
        routeOwners.initialize(from: owners, count: owners.count)
        tables = Array(repeating: nil, count: plans.count)
        let count = Swift.max(1, plans.count)
        columnRefs = .allocate(capacity: count)
        planCores = .allocate(capacity: count)
        tableRefs = .allocate(capacity: count)
        tableRefs.initialize(repeating: nil, count: count)
        rowCounts = .allocate(capacity: count)
        rowCounts.initialize(repeating: 0, count: count)
        for (i, plan) in plans.enumerated() {
            (columnRefs + i).initialize(to: .allocate(capacity: plan.schema.count))
            (planCores + i).initialize(to: plan.core)
        }
        tenantCache = Array(repeating: nil, count: plans.count)
        let capacity = Swift.max(1, plans.map(\.dataSlotCount).max() ?? 1)
        dataSlots = .allocate(capacity: capacity)
        dataSlots.initialize(repeating: nil, count: capacity)
    }

    private let routeOwners: UnsafeMutablePointer<Int>
    /// Per dataset, the columns of this chunk's batch, unretained: `tables` keeps them alive.
    private let columnRefs: UnsafeMutablePointer<UnsafeMutablePointer<Unmanaged<ColumnBuffer>>>
    private let planCores: UnsafeMutablePointer<DatasetPlan.Core>
    /// Per dataset, this chunk's rows, unretained (`tables` keeps them alive).
    private let tableRefs: UnsafeMutablePointer<Unmanaged<TableRows>?>
    /// Rows in each dataset's batch of this chunk.
    private let rowCounts: UnsafeMutablePointer<Int>

    deinit {
        dataSlots.deallocate()
        for i in plans.indices { columnRefs[i].deallocate() }
        columnRefs.deallocate()
        planCores.deallocate()
        tableRefs.deallocate()
        rowCounts.deallocate()
        routeOwners.deallocate()
    }

    mutating func begin(expectedRows: Int) {
        self.expectedRows = expectedRows
        for i in tables.indices {
            tables[i] = nil
            tableRefs[i] = nil
            rowCounts[i] = 0
        }
        rejections = []
    }

    private mutating func startTable(_ plan: DatasetPlan) {
        let rows = TableRows(datasetIndex: plan.index, batch: ColumnBatch(schema: plan.schema, expectedRows: expectedRows))
        rows.keys.reserveCapacity(expectedRows)
        rows.messageIndex.reserveCapacity(expectedRows)
        for (i, c) in rows.batch.columns.enumerated() { columnRefs[plan.index][i] = Unmanaged.passUnretained(c.buffer) }
        tables[plan.index] = rows
        tableRefs[plan.index] = Unmanaged.passUnretained(rows)
    }

    mutating func reject(_ rejection: Rejection) {
        rejections.append(rejection)
    }

    mutating func accept(_ event: CloudEventView) {
        let type = event.attribute(AttributeSlot.type)!
        let route = routeView.slot(of: type, scratch: &scratch)
        guard route >= 0 else {
            reject(event, plan: nil, field: "type", reason: "no dataset is routed for '\(event.text(AttributeSlot.type))'")
            return
        }
        let datasetIndex = routeOwners[route]
        if tableRefs[datasetIndex] == nil { startTable(plans[datasetIndex]) }
        // Reference-free views of the plan and of this chunk's columns: the loop below
        // runs per field per event, and every strong reference read there would cost a
        // retain and a release.
        let core = planCores[datasetIndex]
        let columns = columnRefs[datasetIndex]

        // First-level data members the dataset reads, in one pass over `data`.
        var i = 0
        while i < core.dataSlotCount {
            dataSlots[i] = nil
            i += 1
        }
        if core.dataSlotCount > 0, let data = event.data, data.kind == .object {
            var members = data.members
            while let (key, value) = members.next() {
                let slot = core.dataKeys.slot(of: key, scratch: &scratch)
                guard slot >= 0 else { continue }
                if dataSlots[slot] != nil {
                    reject(event, plan: plans[datasetIndex], field: "data.\(key.string)", reason: "duplicate member")
                    return
                }
                dataSlots[slot] = value
            }
        }

        // The dedup key first: an event without one is rejected before any column changes.
        material.truncate(to: 0)
        var k = 0
        while k < core.dedupCount {
            let step = core.dedupStart + k
            if k > 0 { material.append(UInt8(0)) }
            if let v = resolve(core.steps[step], core, event) {
                v.appendDecoded(to: &material)
            } else if core.steps[step].kind == .receivedAt {
                material.append(receivedAtNanos)
            } else {
                reject(event, plan: plans[datasetIndex], field: plans[datasetIndex].stepLabels[step], reason: "missing (part of the dedup key)")
                return
            }
            k += 1
        }
        let key = material.withUnsafeBytes { EventKeyHasher.key($0) }

        let mark = rowCounts[datasetIndex]
        var f = 0
        while f < core.fieldCount {
            let field = core.fields[f]
            let failedStep = appendField(field, core, datasetIndex, event, into: columns[field.column])
            if failedStep != Self.appended {
                rollback(datasetIndex, to: mark)
                reject(event, plan: plans[datasetIndex], failedStep: failedStep, field: field, fieldIndex: f)
                return
            }
            f += 1
        }

        if let tenant = requiredTenant {
            if let problem = checkTenant(tenant, plans[datasetIndex], columns, row: mark) {
                rollback(datasetIndex, to: mark)
                reject(event, plan: plans[datasetIndex], field: problem.field, reason: problem.reason)
                return
            }
        }

        columns[core.eventKeyColumn]._withUnsafeGuaranteedRef { key.write(to: $0) }
        let second = UInt32(clamping: Coercer.floorDiv(receivedAtNanos, 1_000_000_000))
        columns[core.ingestedAtColumn]._withUnsafeGuaranteedRef { $0.append(second) }
        rowCounts[datasetIndex] = mark + 1
        tableRefs[datasetIndex].unsafelyUnwrapped._withUnsafeGuaranteedRef { rows in
            rows.keys.append(key)
            rows.messageIndex.append(Int32(truncatingIfNeeded: event.message))
        }
    }

    /// ``appendField`` filled the field; any other result is the step at fault, or -1 when
    /// the field is missing.
    private static let appended = -2

    /// Appends one field's value for this event to `column`, or returns why it cannot
    /// (a coercion failure's detail is left in ``fieldFailure``).
    ///
    /// Inlined into the field loop, with the direct paths of ``Coercer/Direct``: a call
    /// per field, the closure around it and a failure result carried back through it
    /// cost about 100 instructions a field, as much as the coercion of a short string.
    @inline(__always)
    private mutating func appendField(
        _ field: DatasetPlan.Field, _ core: DatasetPlan.Core, _ datasetIndex: Int, _ event: CloudEventView, into column: Unmanaged<ColumnBuffer>
    ) -> Int {
        var s = 0
        while s < field.stepCount {
            let stepIndex = field.firstStep + s
            let step = core.steps[stepIndex]
            s += 1
            if step.kind == .receivedAt {
                return column._withUnsafeGuaranteedRef { coerceField(nil, field, core, event, stepIndex, into: $0) }
            }
            guard let value = resolve(step, core, event) else { continue }
            switch field.direct {
            case .string where value.kind == .string:
                column._withUnsafeGuaranteedRef { column in
                    value.appendDecoded(to: &column.values)
                    column.ends.append(UInt64(column.values.count))
                }
                return Self.appended
            case .float64 where value.kind == .number:
                // A non-finite result is rejected by `coerce`, which re-parses it.
                let d = JSONNumber.parseDouble(value.bytes)
                if d.isFinite {
                    column._withUnsafeGuaranteedRef { $0.values.append(d) }
                    return Self.appended
                }
            case .stringMap where value.kind == .object:
                column._withUnsafeGuaranteedRef { Coercer.appendStringMap(value, into: $0) }
                return Self.appended
            default:
                break
            }
            return column._withUnsafeGuaranteedRef { coerceField(value, field, core, event, stepIndex, into: $0) }
        }
        if field.defaultIndex >= 0 {
            column._withUnsafeGuaranteedRef { $0.append(row: 0, of: plans[datasetIndex].defaults[field.defaultIndex]) }
        } else if field.required {
            return -1
        } else {
            column._withUnsafeGuaranteedRef { $0.appendDefault() }
        }
        return Self.appended
    }

    /// Why the last field that failed in ``appendField`` could not be coerced.
    private var fieldFailure: CoercionFailure?

    /// The general coercion of one source value (nil: `received_at`) into a field's
    /// column; returns `stepIndex` with the reason in ``fieldFailure`` when it fails.
    @inline(never)
    private mutating func coerceField(
        _ value: JSONValue?, _ field: DatasetPlan.Field, _ core: DatasetPlan.Core, _ event: CloudEventView, _ stepIndex: Int,
        into column: ColumnBuffer
    ) -> Int {
        do throws(CoercionFailure) {
            if let value {
                if field.isDateTime64, let time = event.time, Self.isTimeAttributeText(value, event) {
                    try core.coercer.appendDateTime64(time, of: value, field.coercion, into: column)
                } else {
                    try core.coercer.coerce(value, field.coercion, into: column, scratch: &scratch)
                }
            } else {
                try core.coercer.appendReceivedAt(receivedAtNanos, field.coercion, into: column)
            }
        } catch {
            fieldFailure = error
            return stepIndex
        }
        return Self.appended
    }

    /// `value` is a string without escapes whose bytes are those of the `time` attribute
    /// (also when it is that attribute), so the instant parsed for the envelope applies.
    @inline(__always)
    private static func isTimeAttributeText(_ value: JSONValue, _ event: CloudEventView) -> Bool {
        guard value.kind == .string, !value.hasEscapes, let time = event.attribute(AttributeSlot.time), !time.hasEscapes else { return false }
        let a = value.bytes, b = time.bytes
        return a.count == b.count && JSONBytes.equal(a.baseAddress!.assumingMemoryBound(to: UInt8.self), b, count: a.count)
    }

    private mutating func rollback(_ datasetIndex: Int, to rows: Int) {
        tables[datasetIndex].unsafelyUnwrapped.batch.truncate(toRows: rows)
    }

    /// The non-null value a source step points at in this event, if any.
    @inline(__always)
    private func resolve(_ step: DatasetPlan.Step, _ core: DatasetPlan.Core, _ event: CloudEventView) -> JSONValue? {
        switch step.kind {
        case .attribute:
            return event.attribute(step.slot)
        case .data:
            guard var v = dataSlots[step.slot] else { return nil }
            var r = 0
            while r < step.restCount {
                guard v.kind == .object, let next = v.member(key: core.segment(step.restStart + r)) else { return nil }
                v = next
                r += 1
            }
            return v.isNull ? nil : v
        case .wholeData:
            return event.data
        case .receivedAt:
            return nil
        }
    }

    // MARK: Tenant scope

    private struct Problem {
        var field: String
        var reason: String
    }

    /// A tenant-scoped request may only write rows whose tenant column equals its tenant;
    /// the event is rejected, never rewritten.
    private mutating func checkTenant(_ tenant: String, _ plan: DatasetPlan, _ columns: UnsafeMutablePointer<Unmanaged<ColumnBuffer>>, row: Int) -> Problem? {
        guard plan.tenantField >= 0 else {
            return Problem(field: "", reason: "dataset '\(plan.definition.name)' has no tenant column, so a request scoped to tenant '\(tenant)' cannot write to it")
        }
        if tenantCache[plan.index]?.tenant != tenant {
            let column = ColumnBuffer(type: plan.definition.fields[plan.tenantField].type, expectedRows: 1)
            do {
                try DatasetPlan.coerceDefault(tenant, program: plan.program, step: plan.fields[plan.tenantField].coercion, into: column)
                tenantCache[plan.index] = (tenant, Self.rowBytes(column, 0))
            } catch {
                tenantCache[plan.index] = (tenant, nil)
            }
        }
        let column = columns[plan.fields[plan.tenantField].column].takeUnretainedValue()
        let actual = Self.rowBytes(column, row)
        if let expected = tenantCache[plan.index]!.bytes, actual == expected { return nil }
        let name = plan.definition.fields[plan.tenantField].name
        let shown = actual.map { Self.showTenant($0, column.type) } ?? "NULL"
        return Problem(field: name, reason: "tenant '\(shown)' does not match the tenant this request is scoped to ('\(tenant)')")
    }

    /// The stored bytes of one row of a String, FixedString or UUID column (through
    /// Nullable and LowCardinality); nil for NULL.
    private static func rowBytes(_ column: ColumnBuffer, _ row: Int) -> [UInt8]? {
        switch column.layout {
        case .nullable:
            return column.isNull(at: row) ? nil : rowBytes(column.inner!, row)
        case .string, .fixed:
            return column.stringBytes(at: row)
        case .array, .map:
            return nil
        }
    }

    private static func showTenant(_ bytes: [UInt8], _ type: ColumnType) -> String {
        if case .uuid = type.base, bytes.count == 16 {
            let canonical = Array(bytes[0..<8].reversed()) + Array(bytes[8..<16].reversed())
            let hex = canonical.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
            let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
            return parts.joined(separator: "-")
        }
        var end = bytes.count
        if case .fixedString = type.base { while end > 0, bytes[end - 1] == 0 { end -= 1 } }
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }

    // MARK: Rejections

    private mutating func reject(_ event: CloudEventView, plan: DatasetPlan, failedStep: Int, field: DatasetPlan.Field, fieldIndex: Int) {
        let name = plan.definition.fields[fieldIndex].name
        if failedStep < 0 {
            let label = field.stepCount > 0 ? plan.stepLabels[field.firstStep] : name
            reject(event, plan: plan, field: label, reason: "missing (required by column \(name))")
        } else {
            let failure = fieldFailure
            fieldFailure = nil
            let reason = failure?.reason ?? "invalid"
            reject(event, plan: plan, field: plan.stepLabels[failedStep] + (failure?.path ?? ""), reason: reason)
        }
    }

    private mutating func reject(_ event: CloudEventView, plan: DatasetPlan?, field: String, reason: String) {
        let raw = event.raw
        rejections.append(Rejection(
            message: event.message, dataset: plan?.definition.name ?? "",
            eventID: event.text(AttributeSlot.id), eventSource: event.text(AttributeSlot.source), eventType: event.text(AttributeSlot.type),
            field: field, reason: reason,
            rawEvent: Array(raw.count > limits.maxRawEventBytes ? UnsafeRawBufferPointer(rebasing: raw[0..<limits.maxRawEventBytes]) : raw)))
    }
}
