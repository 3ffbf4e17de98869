/// Turns one ``InboundMessage`` into CloudEvents (CloudEvents 1.0.2, JSON format and the
/// binary content mode) and hands each to a sink, without allocating per event.
///
/// - `.structured`: one event object, or a JSON array of them (batch; `[]` yields none).
/// - `.binary(attributes:)`: attributes from headers; the payload is `data`, parsed as
///   JSON when `datacontenttype` is absent or JSON (`*/json`, `*/*+json`, parameters
///   ignored), else kept as a string of its bytes. An empty payload means no data.
/// - `.binaryItems(attributes:itemsKey:)`: seed 004's `{"metrics":[...]}`; every item is
///   one event's data with the message's attributes. Item ids are derived (see
///   ``itemID``) so that a retried request deduplicates.
///
/// Envelope rules enforced: `specversion` is exactly `"1.0"`; `id`, `source`, `type` are
/// non-empty strings; `datacontenttype`, `dataschema`, `subject`, `time` are strings when
/// present (`dataschema`/`subject` non-empty, `time` RFC 3339 with a zone); member names
/// other than `data`/`data_base64` are attribute names (`[a-z0-9]+`); extension values are
/// strings, numbers or booleans; `null` means absent; `data` and `data_base64` exclude each
/// other; `data_base64` must decode, and decodes to JSON when the content type is JSON;
/// with a non-JSON content type, `data` must be a string. Dapr's `topic`, `pubsubname`,
/// `traceid`, `traceparent`, `tracestate`, `expiration` are ordinary extensions.
///
/// A message that is not JSON at all is one rejection for the whole message; inside a
/// batch, each bad event is rejected alone and never affects its neighbours.
struct CloudEventDecoder: ~Copyable {
    let table: KeyTable
    let tableView: KeyTable.View
    let slotCount: Int
    let limits: DecodeLimits
    var scanner: JSONScanner
    /// Second document for JSON decoded from `data_base64`, which must not overwrite the
    /// event's own tape.
    var dataScanner: JSONScanner
    let attributes: UnsafeMutablePointer<JSONValue?>
    /// Node index in `externalTape` per slot, for attributes that arrived beside the payload.
    let templateNodes: UnsafeMutablePointer<Int>
    /// Bytes of attribute values that are not inside a JSON document: headers, the default
    /// tenant, derived item ids.
    var external: GrowableBuffer
    var externalTape: JSONTape
    /// One node over non-JSON payload bytes (a binary body, decoded `data_base64`).
    var payloadTape: JSONTape
    var decoded: GrowableBuffer
    var scratch: GrowableBuffer

    /// `extensions`: the attribute names, beyond the standard ones, that datasets read.
    /// The attribute table for the standard attributes plus `extensions`.
    static func attributeTable(extensions: [String]) -> KeyTable {
        var names = AttributeSlot.fixedNames
        for e in extensions where !names.contains(e) { names.append(e) }
        return KeyTable(names)
    }

    /// `table`: from ``attributeTable(extensions:)``, with the extensions datasets read.
    init(table: KeyTable, limits: DecodeLimits) {
        self.table = table
        tableView = table.view
        let names = table.names
        slotCount = names.count
        self.limits = limits
        scanner = JSONScanner(maxDepth: limits.maxDepth, maxStringBytes: limits.maxStringBytes)
        dataScanner = JSONScanner(maxDepth: limits.maxDepth, maxStringBytes: limits.maxStringBytes)
        attributes = .allocate(capacity: names.count)
        attributes.initialize(repeating: nil, count: names.count)
        templateNodes = .allocate(capacity: names.count)
        templateNodes.initialize(repeating: -1, count: names.count)
        external = GrowableBuffer(capacity: 1024)
        externalTape = JSONTape(capacity: 64)
        payloadTape = JSONTape(capacity: 16)
        decoded = GrowableBuffer(capacity: 1024)
        scratch = GrowableBuffer(capacity: 256)
    }

    deinit {
        attributes.deallocate()
        templateNodes.deallocate()
    }

    /// Decodes one message and returns how many events it held, accepted or rejected (an
    /// undecodable message counts as one).
    ///
    /// The message is passed by address: passed by value (even `borrowing`, from an array
    /// element) it was copied per message, retaining its strings.
    mutating func decode<S: CloudEventSink & ~Copyable>(
        _ message: UnsafePointer<InboundMessage>, index: Int, payload: UnsafeRawBufferPointer, sink: inout S
    ) -> Int32 {
        external.truncate(to: 0)
        externalTape.removeAll()
        // Structured first, without binding: the switch below copies the format's payload.
        if case .structured = message.pointee.format {
            return decodeStructured(defaultTenant: message.pointee.tenant.defaultTenant, index: index, payload: payload, sink: &sink)
        }
        switch message.pointee.format {
        case .structured:
            return decodeStructured(defaultTenant: message.pointee.tenant.defaultTenant, index: index, payload: payload, sink: &sink)
        case .binary(let headerAttributes):
            return decodeBinary(headerAttributes, message.pointee, index: index, payload: payload, sink: &sink)
        case .binaryItems(let headerAttributes, let itemsKey):
            return decodeItems(headerAttributes, itemsKey: itemsKey, message.pointee, index: index, payload: payload, sink: &sink)
        }
    }

    // MARK: Structured and batch

    private mutating func decodeStructured<S: CloudEventSink & ~Copyable>(
        defaultTenant tenant: String?, index: Int, payload: UnsafeRawBufferPointer, sink: inout S
    ) -> Int32 {
        let root: JSONValue
        do {
            root = try scanner.parse(payload)
        } catch {
            sink.reject(messageRejection(index, payload, field: "", reason: notJSON(error)))
            return 1
        }
        // The default tenant is the only external value in structured mode; append it
        // before taking pointers.
        var tenantNode = -1
        if let tenant {
            tenantNode = appendExternal(tenant)
        }
        let defaultTenant = tenantNode >= 0 ? externalValue(tenantNode) : nil
        switch root.kind {
        case .object:
            decodeEvent(root, raw: payload, message: index, defaultTenant: defaultTenant, sink: &sink)
            return 1
        case .array:
            let count = root.count
            guard count <= limits.maxEventsPerMessage else {
                sink.reject(messageRejection(index, payload, field: "", reason: tooManyEvents(count)))
                return 1
            }
            for element in root.elements {
                decodeEvent(element, raw: element.rawBytes, message: index, defaultTenant: defaultTenant, sink: &sink)
            }
            return Int32(count)
        default:
            sink.reject(messageRejection(
                index, payload, field: "",
                reason: "a structured message is a CloudEvent object or an array of them, got \(root.kind.name)"))
            return 1
        }
    }

    private mutating func decodeEvent<S: CloudEventSink & ~Copyable>(
        _ event: JSONValue, raw: UnsafeRawBufferPointer, message: Int, defaultTenant: JSONValue?, sink: inout S
    ) {
        clearAttributes()
        guard event.kind == .object else {
            sink.reject(rejection(message, raw, field: "", reason: "a CloudEvent is a JSON object, got \(ValueDescription.describe(event))"))
            return
        }
        guard raw.count <= limits.maxEventBytes else {
            sink.reject(rejection(message, raw, field: "", reason: tooLarge(raw.count)))
            return
        }
        let table = tableView
        var members = event.members
        while let (key, value) = members.next() {
            let slot = table.slot(of: key, scratch: &scratch)
            if slot < 0 {
                if let problem = checkUnknownMember(key, value) {
                    sink.reject(rejection(message, raw, field: problem.field, reason: problem.reason, attributes: true))
                    return
                }
                continue
            }
            if attributes[slot] != nil {
                sink.reject(rejection(message, raw, field: key.string, reason: "duplicate member", attributes: true))
                return
            }
            if !value.isNull { attributes[slot] = value }
        }
        if attributes[AttributeSlot.tenantid] == nil, let defaultTenant {
            attributes[AttributeSlot.tenantid] = defaultTenant
        }
        var time: TimestampParser.Instant?
        if let problem = Self.checkEnvelope(attributes, slotCount, self.table, &time) {
            sink.reject(rejection(message, raw, field: problem.field, reason: problem.reason, attributes: true))
            return
        }
        let data: JSONValue?
        switch structuredData() {
        case .success(let d): data = d
        case .failure(let problem):
            sink.reject(rejection(message, raw, field: problem.field, reason: problem.reason, attributes: true))
            return
        }
        sink.accept(CloudEventView(attributes: attributes, data: data, raw: raw, message: message, time: time))
    }

    /// A member that is not one of the slotted names: an extension nobody reads.
    private mutating func checkUnknownMember(_ key: JSONValue, _ value: JSONValue) -> Problem? {
        let valid: Bool
        if key.hasEscapes {
            scratch.truncate(to: 0)
            key.appendDecoded(to: &scratch)
            valid = scratch.withUnsafeBytes { AttributeSlot.isValidName($0) }
        } else {
            valid = AttributeSlot.isValidName(key.bytes)
        }
        guard valid else {
            return Problem(key.string, "attribute names may only contain lowercase letters a-z and digits 0-9")
        }
        if value.kind == .object || value.kind == .array {
            return Problem(key.string, "extension attribute values are strings, numbers or booleans, got \(value.kind.name)")
        }
        return nil
    }

    /// The payload of a structured event per the JSON format's data rules.
    private mutating func structuredData() -> Result<JSONValue?, Problem> {
        let member = attributes[AttributeSlot.data]
        let base64 = attributes[AttributeSlot.dataBase64]
        if member != nil, base64 != nil {
            return .failure(Problem("data_base64", "data and data_base64 are mutually exclusive"))
        }
        let json = Self.contentTypeIsJSON(attributes)
        if let base64 {
            guard base64.kind == .string else {
                return .failure(Problem("data_base64", "expected a base64 string, got \(ValueDescription.describe(base64))"))
            }
            decoded.truncate(to: 0)
            let bad: Int?
            if base64.hasEscapes {
                scratch.truncate(to: 0)
                base64.appendDecoded(to: &scratch)
                bad = scratch.withUnsafeBytes { Base64.decode($0, into: &decoded) }
            } else {
                bad = Base64.decode(base64.bytes, into: &decoded)
            }
            if let bad { return .failure(Problem("data_base64", "invalid base64 at offset \(bad)")) }
            return decodedPayload(json: json, field: "data_base64")
        }
        guard let member else { return .success(nil) }
        if !json, member.kind != .string {
            return .failure(Problem("data", "expected a string for a non-JSON datacontenttype, got \(ValueDescription.describe(member))"))
        }
        return .success(member)
    }

    /// `decoded` as the payload: parsed when JSON, else a string over its bytes.
    private mutating func decodedPayload(json: Bool, field: String) -> Result<JSONValue?, Problem> {
        let bytes = decoded.withUnsafeBytes { $0 }
        if json {
            do {
                let root = try dataScanner.parse(bytes)
                return .success(root.isNull ? nil : root)
            } catch {
                return .failure(Problem(field, "decoded bytes are not JSON: \(error)\(limitNote(error))"))
            }
        }
        return .success(rawString(bytes))
    }

    /// A string value over bytes outside any JSON document.
    private mutating func rawString(_ bytes: UnsafeRawBufferPointer) -> JSONValue {
        payloadTape.removeAll()
        let node = payloadTape.appendExternalString(start: 0, end: bytes.count)
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 0x10)!
        return JSONValue(nodes: payloadTape.nodes, base: base, index: node)
    }

    private static func contentTypeIsJSON(_ attributes: UnsafeMutablePointer<JSONValue?>) -> Bool {
        guard let ct = attributes[AttributeSlot.datacontenttype], ct.kind == .string else { return true }
        if ct.hasEscapes { return MediaType.isJSON(ct.string) }
        return MediaType.isJSON(ct.bytes)
    }

    // MARK: Envelope

    struct Problem: Error {
        var field: String
        var reason: String
        init(_ field: String, _ reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    // The per-event checks are static over the attribute slots: called as methods from the
    // decoder's mutating methods, each call copied the whole decoder (352 bytes) for its
    // `self` argument.
    /// `parsedTime`: set to the `time` attribute's instant when it is present and valid.
    private static func checkEnvelope(
        _ attributes: UnsafeMutablePointer<JSONValue?>, _ slotCount: Int, _ table: KeyTable, _ parsedTime: inout TimestampParser.Instant?
    ) -> Problem? {
        parsedTime = nil
        guard let version = attributes[AttributeSlot.specversion] else { return Problem("specversion", "missing") }
        guard Self.isSpecVersion10(version) else {
            return Problem("specversion", "expected \"1.0\", got \(ValueDescription.describe(version))")
        }
        if let problem = checkRequiredString(attributes, AttributeSlot.id, "id") { return problem }
        if let problem = checkRequiredString(attributes, AttributeSlot.source, "source") { return problem }
        if let problem = checkRequiredString(attributes, AttributeSlot.type, "type") { return problem }
        if let problem = checkOptionalString(attributes, AttributeSlot.datacontenttype, "datacontenttype", allowEmpty: true) { return problem }
        if let problem = checkOptionalString(attributes, AttributeSlot.dataschema, "dataschema", allowEmpty: false) { return problem }
        if let problem = checkOptionalString(attributes, AttributeSlot.subject, "subject", allowEmpty: false) { return problem }
        if let time = attributes[AttributeSlot.time] {
            guard time.kind == .string else { return Problem("time", "expected an RFC 3339 timestamp string, got \(ValueDescription.describe(time))") }
            parsedTime = time.hasEscapes
                ? Array(time.string.utf8).withUnsafeBytes { TimestampParser.parse($0, requireZone: true) }
                : TimestampParser.parse(time.bytes, requireZone: true)
            guard parsedTime != nil else { return Problem("time", "not an RFC 3339 timestamp: \(ValueDescription.describe(time))") }
        }
        var slot = AttributeSlot.tenantid
        while slot < slotCount {
            if let v = attributes[slot], v.kind == .object || v.kind == .array {
                return Problem(String(decoding: table.names[slot], as: UTF8.self), "extension attribute values are strings, numbers or booleans, got \(v.kind.name)")
            }
            slot += 1
        }
        return nil
    }

    @inline(__always)
    private static func checkRequiredString(_ attributes: UnsafeMutablePointer<JSONValue?>, _ slot: Int, _ name: StaticString) -> Problem? {
        guard let v = attributes[slot] else { return Problem("\(name)", "missing") }
        guard v.kind == .string else { return Problem("\(name)", "expected a non-empty string, got \(ValueDescription.describe(v))") }
        guard v.bytes.count > 0 else { return Problem("\(name)", "must not be empty") }
        return v.hasEscapes ? checkControlCharacters(v, name) : nil
    }

    @inline(__always)
    private static func checkOptionalString(_ attributes: UnsafeMutablePointer<JSONValue?>, _ slot: Int, _ name: StaticString, allowEmpty: Bool) -> Problem? {
        guard let v = attributes[slot] else { return nil }
        guard v.kind == .string else { return Problem("\(name)", "expected a string, got \(ValueDescription.describe(v))") }
        if !allowEmpty, v.bytes.count == 0 { return Problem("\(name)", "must not be empty when present") }
        return nil
    }

    @inline(__always)
    private static func isSpecVersion10(_ v: JSONValue) -> Bool {
        guard v.kind == .string else { return false }
        if v.hasEscapes { return v.string == "1.0" }
        let b = v.bytes
        return b.count == 3 && b[0] == 0x31 && b[1] == 0x2E && b[2] == 0x30
    }

    /// CloudEvents strings exclude control characters; raw ones are already JSON errors,
    /// so only escaped ones (`\u0000`) need a look.
    @inline(never)
    private static func checkControlCharacters(_ v: JSONValue, _ name: StaticString) -> Problem? {
        guard v.hasEscapes else { return nil }
        for scalar in v.string.unicodeScalars where scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F) {
            return Problem("\(name)", "control character U+\(String(scalar.value, radix: 16, uppercase: true)) is not allowed")
        }
        return nil
    }

    @inline(__always)
    private func clearAttributes() {
        var i = 0
        while i < slotCount {
            attributes[i] = nil
            i += 1
        }
    }

    // MARK: Binary modes

    /// Writes header attributes into the external store and records their nodes per slot.
    /// `reserveBytes` stays free after them for values written per event (item ids).
    private mutating func loadHeaderAttributes(_ headers: [String: String], _ message: borrowing InboundMessage, reserveBytes: Int) -> Problem? {
        var i = 0
        while i < slotCount {
            templateNodes[i] = -1
            i += 1
        }
        for (name, value) in headers {
            var name = name
            let (valid, slot) = name.withUTF8 { n in
                (AttributeSlot.isValidName(UnsafeRawBufferPointer(n)), table.slot(UnsafeRawBufferPointer(n)))
            }
            guard valid else { return Problem(name, "attribute names may only contain lowercase letters a-z and digits 0-9") }
            guard slot >= 0, slot != AttributeSlot.data, slot != AttributeSlot.dataBase64 else { continue }
            templateNodes[slot] = appendExternal(value)
        }
        if templateNodes[AttributeSlot.tenantid] < 0, let tenant = message.tenant.defaultTenant {
            templateNodes[AttributeSlot.tenantid] = appendExternal(tenant)
        }
        external.reserve(reserveBytes)
        externalTape.reserve(2)
        return nil
    }

    private mutating func applyTemplate() {
        var i = 0
        while i < slotCount {
            let node = templateNodes[i]
            attributes[i] = node >= 0 ? externalValue(node) : nil
            i += 1
        }
    }

    private mutating func decodeBinary<S: CloudEventSink & ~Copyable>(
        _ headers: [String: String], _ message: borrowing InboundMessage, index: Int, payload: UnsafeRawBufferPointer, sink: inout S
    ) -> Int32 {
        clearAttributes()
        if let problem = loadHeaderAttributes(headers, message, reserveBytes: 0) {
            sink.reject(messageRejection(index, payload, field: problem.field, reason: problem.reason))
            return 1
        }
        applyTemplate()
        var time: TimestampParser.Instant?
        if let problem = Self.checkEnvelope(attributes, slotCount, table, &time) {
            sink.reject(rejection(index, payload, field: problem.field, reason: problem.reason, attributes: true))
            return 1
        }
        guard payload.count <= limits.maxEventBytes else {
            sink.reject(rejection(index, payload, field: "", reason: tooLarge(payload.count), attributes: true))
            return 1
        }
        var data: JSONValue?
        if payload.count > 0 {
            if Self.contentTypeIsJSON(attributes) {
                do {
                    let root = try scanner.parse(payload)
                    data = root.isNull ? nil : root
                } catch {
                    sink.reject(rejection(index, payload, field: "", reason: notJSON(error), attributes: true))
                    return 1
                }
            } else {
                data = rawString(payload)
            }
        }
        sink.accept(CloudEventView(attributes: attributes, data: data, raw: payload, message: index, time: time))
        return 1
    }

    private mutating func decodeItems<S: CloudEventSink & ~Copyable>(
        _ headers: [String: String], itemsKey: String, _ message: borrowing InboundMessage, index: Int,
        payload: UnsafeRawBufferPointer, sink: inout S
    ) -> Int32 {
        clearAttributes()
        let root: JSONValue
        do {
            root = try scanner.parse(payload)
        } catch {
            sink.reject(messageRejection(index, payload, field: "", reason: notJSON(error)))
            return 1
        }
        guard root.kind == .object else {
            sink.reject(messageRejection(index, payload, field: "", reason: "expected an object with an array member '\(itemsKey)', got \(root.kind.name)"))
            return 1
        }
        guard let items = root.member(itemsKey) else {
            sink.reject(messageRejection(index, payload, field: itemsKey, reason: "missing: expected an array of items"))
            return 1
        }
        guard items.kind == .array else {
            sink.reject(messageRejection(index, payload, field: itemsKey, reason: "expected an array of items, got \(items.kind.name)"))
            return 1
        }
        let count = items.count
        guard count <= limits.maxEventsPerMessage else {
            sink.reject(messageRejection(index, payload, field: itemsKey, reason: tooManyEvents(count)))
            return 1
        }
        let givenID = headers["id"]
        let idCapacity = (givenID?.utf8.count ?? 0) + 24 + 32
        if let problem = loadHeaderAttributes(headers, message, reserveBytes: idCapacity) {
            sink.reject(messageRejection(index, payload, field: problem.field, reason: problem.reason))
            return 1
        }
        let givenNode = templateNodes[AttributeSlot.id]
        let mark = external.count
        let idNode = externalTape.appendExternalString(start: mark, end: mark)
        templateNodes[AttributeSlot.id] = idNode
        var position = 0
        for item in items.elements {
            external.truncate(to: mark)
            writeItemID(item: item.rawBytes, position: position, given: givenNode)
            externalTape.nodes[idNode].end = UInt32(external.count)
            applyTemplate()
            defer { position += 1 }
            let raw = item.rawBytes
            var time: TimestampParser.Instant?
            if let problem = Self.checkEnvelope(attributes, slotCount, table, &time) {
                sink.reject(rejection(index, raw, field: problem.field, reason: problem.reason, attributes: true))
                continue
            }
            guard raw.count <= limits.maxEventBytes else {
                sink.reject(rejection(index, raw, field: "", reason: tooLarge(raw.count), attributes: true))
                continue
            }
            sink.accept(CloudEventView(attributes: attributes, data: item.isNull ? nil : item, raw: raw, message: index, time: time))
        }
        return Int32(count)
    }

    /// The id of item `position` of an items body.
    ///
    /// With an `id` attribute on the message: `<id>-<position>`. Without one: 32 hex digits
    /// of a 128-bit hash of the item's JSON text and its position. Either way a retried
    /// request (same bytes, same order) gives every item the same id as before, so dedup
    /// on `source`+`id` drops the retry, while two identical items in one request stay two
    /// events. A client that reorders or reformats items on retry gets new ids.
    private mutating func writeItemID(item: UnsafeRawBufferPointer, position: Int, given: Int) {
        if given >= 0 {
            let n = externalTape.nodes[given]
            let src = external.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[Int(n.start)..<Int(n.end)]) }
            external.append(bytes: src)
            external.append(UInt8(0x2D))
            appendDecimal(position)
            return
        }
        let (high, low) = ContentDerivedID.halves(item, position: position)
        appendHex(high)
        appendHex(low)
    }

    private mutating func appendHex(_ v: UInt64) {
        var shift = 60
        while shift >= 0 {
            let d = UInt8((v >> UInt64(shift)) & 15)
            external.append(d < 10 ? 0x30 + d : 0x57 + d)
            shift -= 4
        }
    }

    private mutating func appendDecimal(_ v: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        var v = v
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[23 - n] = UInt8(0x30 + v % 10)
                v /= 10
                n += 1
            } while v > 0 && n < 24
            external.append(bytes: UnsafeRawBufferPointer(rebasing: buf[(24 - n)...]))
        }
    }

    // MARK: External values

    private mutating func appendExternal(_ text: String) -> Int {
        let start = external.count
        var text = text
        text.withUTF8 { external.append(bytes: UnsafeRawBufferPointer($0)) }
        return externalTape.appendExternalString(start: start, end: external.count)
    }

    /// A view of an external node. Valid until the external store grows, which the
    /// callers prevent by appending everything (or reserving room) before taking views.
    private func externalValue(_ node: Int) -> JSONValue {
        let base = external.withUnsafeBytes { $0.baseAddress! }.assumingMemoryBound(to: UInt8.self)
        return JSONValue(nodes: externalTape.nodes, base: base, index: node)
    }

    // MARK: Rejections

    private func rawCopy(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        Array(raw.count > limits.maxRawEventBytes ? UnsafeRawBufferPointer(rebasing: raw[0..<limits.maxRawEventBytes]) : raw)
    }

    private func messageRejection(_ message: Int, _ raw: UnsafeRawBufferPointer, field: String, reason: String) -> Rejection {
        Rejection(message: message, field: field, reason: reason, rawEvent: rawCopy(raw))
    }

    private func rejection(_ message: Int, _ raw: UnsafeRawBufferPointer, field: String, reason: String, attributes withAttributes: Bool = false) -> Rejection {
        var r = Rejection(message: message, field: field, reason: reason, rawEvent: rawCopy(raw))
        if withAttributes {
            let view = CloudEventView(attributes: attributes, data: nil, raw: raw, message: message)
            r.eventID = view.text(AttributeSlot.id)
            r.eventSource = view.text(AttributeSlot.source)
            r.eventType = view.text(AttributeSlot.type)
        }
        return r
    }

    private func notJSON(_ error: JSONError) -> String {
        "body is not valid JSON: \(error)\(limitNote(error))"
    }

    private func limitNote(_ error: JSONError) -> String {
        switch error.code {
        case .tooDeep: " (limit limits.max_json_depth)"
        case .stringTooLong: " (limit limits.max_string_bytes)"
        default: ""
        }
    }

    private func tooManyEvents(_ count: Int) -> String {
        "message holds \(count) events, more than the limit of \(limits.maxEventsPerMessage) (limits.max_events_per_batch)"
    }

    private func tooLarge(_ count: Int) -> String {
        "event of \(count) bytes is larger than the limit of \(limits.maxEventBytes) bytes (limits.max_event_bytes)"
    }
}
