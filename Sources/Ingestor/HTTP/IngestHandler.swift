public import Pipeline

/// A reply to an ingest request, independent of the HTTP framework.
public struct IngestReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ status: Int, _ body: [UInt8], headers: [(String, String)] = []) -> IngestReply {
        IngestReply(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> IngestReply {
        json(status, JSONWriter.object { $0.field("error", message) }, headers: headers)
    }
}

/// The request facts the ingest routes use.
public struct IngestRequest: Sendable {
    /// Header names lowercased.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Budget taken before the body was read (from Content-Length), handed on to the
    /// chunk so a flood of large bodies is refused before it is buffered.
    public var reservation: BudgetReservation?
    /// The caller's API key when access control is on; a tenant-scoped key makes every
    /// event of the request carry that tenant or be rejected (never rewritten).
    public var grant: AccessGrant?

    public init(headers: [(String, String)], body: [UInt8], reservation: BudgetReservation? = nil, grant: AccessGrant? = nil) {
        self.headers = headers
        self.body = body
        self.reservation = reservation
        self.grant = grant
    }

    /// The tenant scope of the request's events: the key's tenant is required of every
    /// event, and supplies the tenant where neither the event nor `X-Tenant-ID` does.
    var tenantScope: TenantScope {
        TenantScope(defaultTenant: tenantHeader ?? grant?.tenant, requiredTenant: grant?.tenant)
    }

    /// A refusal when `X-Tenant-ID` names another tenant than the key is scoped to (the
    /// access middleware refuses this first; this keeps the handler safe on its own).
    var tenantConflict: IngestReply? {
        guard let scoped = grant?.tenant, let asked = tenantHeader, asked != scoped else { return nil }
        return .json(403, JSONWriter.object {
            $0.field("error", "wrong_tenant")
            $0.field("message", "key '\(grant?.keyName ?? "")' is scoped to another tenant than X-Tenant-ID names")
        })
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0 == name }?.1
    }

    var contentType: String? { header("content-type") }
    var tenantHeader: String? { header("x-tenant-id").flatMap { $0.isEmpty ? nil : $0 } }
}

/// The app port's ingest logic: `POST /v1/events`, seed 004's metric routes, and the
/// Dapr subscriber routes. Every route answers only once its rows are durable (inserted,
/// dead-lettered or known duplicates), so a `200`/`SUCCESS` is a promise.
///
/// Under back-pressure (memory budget full) requests are refused at once with `429` or
/// Dapr `RETRY` rather than queued; when ClickHouse is down they wait up to
/// `http.ack_timeout` and are then answered `503`/`RETRY`. Their rows stay in the
/// pipeline, and the client's retry is deduplicated.
public final class IngestHandler: Sendable {
    let pipeline: IngestPipeline
    let configuration: HTTPIngestConfiguration
    let dapr: DaprConfiguration
    let gate: ReadinessGate

    public init(pipeline: IngestPipeline, configuration: HTTPIngestConfiguration, dapr: DaprConfiguration, gate: ReadinessGate) {
        self.pipeline = pipeline
        self.configuration = configuration
        self.dapr = dapr
        self.gate = gate
    }

    enum SubmitOutcome {
        case overloaded
        case notReady
        case done(SettlementWaiter.Result, [Rejection])
    }

    var retryAfter: [(String, String)] { [("Retry-After", String(configuration.retryAfterSeconds))] }

    /// Charges the budget, submits, and waits for settlement or the ack timeout.
    func submit(_ chunk: MessageChunk, reservation: BudgetReservation?) async -> SubmitOutcome {
        let reserved = reservation?.take() ?? 0
        guard gate.isOpen else {
            pipeline.budget.release(reserved)
            return .notReady
        }
        // Decoded rows take about as much memory as the JSON they came from.
        let needed = Swift.max(chunk.byteCount * 2, 4096)
        if needed > reserved, !pipeline.budget.tryAcquire(needed - reserved) {
            pipeline.budget.release(reserved)
            return .overloaded
        }
        let charge = Swift.max(needed, reserved)
        let waiter = SettlementWaiter(messageCount: chunk.messages.count)
        guard await pipeline.submit(chunk, charge: charge, onDecoded: waiter.decoded, onResolved: waiter.resolved) else {
            return .notReady
        }
        let result = await waiter.wait(timeout: configuration.ackTimeout)
        return .done(result, waiter.rejections)
    }

    /// The refusal under back-pressure: 429 for HTTP ingest, RETRY for Dapr.
    func overloadedReply(_ path: String) -> IngestReply {
        if path.hasPrefix("/dapr/") || path == "/add" {
            return .json(429, JSONWriter.object { $0.field("status", "RETRY") }, headers: retryAfter)
        }
        return .error(429, "overloaded: the in-flight memory budget is full, retry later", headers: retryAfter)
    }

    // MARK: POST /v1/events

    public func postEvents(_ request: IngestRequest, route: String = "/v1/events") async -> IngestReply {
        if let conflict = request.tenantConflict { return conflict }
        let chunk = MessageChunk(expectedBytes: request.body.count, expectedMessages: 1)
        let payload = chunk.appendPayload(request.body)
        let format: MessageFormat
        switch Self.httpFormat(request) {
        case .failure(let reason):
            return .error(400, reason.reason)
        case .success(let f):
            format = f
        }
        chunk.messages.append(InboundMessage(
            payload: payload, format: format, origin: MessageOrigin(kind: .http, stream: route),
            tenant: request.tenantScope, receivedAtNanos: WallClock.nowNanos()))
        return eventsReply(await submit(chunk, reservation: request.reservation))
    }

    /// Structured or batch mode by Content-Type; binary mode when `ce-` headers carry
    /// the attributes (CloudEvents HTTP binding §3).
    static func httpFormat(_ request: IngestRequest) -> Result<MessageFormat, FormatError> {
        let contentType = request.contentType?.lowercased() ?? ""
        if contentType.hasPrefix("application/cloudevents") { return .success(.structured) }
        var attributes: [String: String] = [:]
        for (name, value) in request.headers where name.hasPrefix("ce-") {
            let attribute = String(name.dropFirst(3))
            guard let decoded = percentDecode(value) else {
                return .failure(FormatError(reason: "header \(name): invalid percent-encoding or UTF-8"))
            }
            attributes[attribute] = decoded
        }
        if attributes.isEmpty { return .success(.structured) }
        if let ct = request.contentType { attributes["datacontenttype"] = ct }
        return .success(.binary(attributes: attributes))
    }

    struct FormatError: Error { let reason: String }

    /// Percent-decodes a `ce-` header value; nil if the escapes or the UTF-8 are invalid.
    static func percentDecode(_ value: String) -> String? {
        var text = Substring(value)
        // RFC 7230 quoted-string: undo the quoting first.
        if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
        var bytes: [UInt8] = []
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            if b == 0x25 {
                guard it.count >= 2, let h = hexValue(it[it.startIndex]), let l = hexValue(it[it.startIndex + 1]) else { return nil }
                bytes.append(h << 4 | l)
                it = it.dropFirst(2)
            } else if b == 0x5C, let next = it.first {
                bytes.append(next)
                it = it.dropFirst()
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    /// The `/v1/events` answer: `200 {"accepted","duplicates","rejected":[{"id","reason"}]}`;
    /// `400` when nothing was accepted because every event was rejected.
    func eventsReply(_ outcome: SubmitOutcome) -> IngestReply {
        switch outcome {
        case .overloaded:
            return .error(429, "overloaded: the in-flight memory budget is full, retry later", headers: retryAfter)
        case .notReady:
            return .error(503, "not ready: Sluice is starting or stopping", headers: retryAfter)
        case .done(.timedOut, _):
            return .error(503, "ClickHouse has not confirmed the write within http.ack_timeout; retry (duplicates are dropped)", headers: retryAfter)
        case .done(.settled(let resolutions), let rejections):
            let accepted = resolutions.reduce(0) { $0 + Int($1.inserted) }
            let duplicates = resolutions.reduce(0) { $0 + Int($1.duplicates) }
            let body = JSONWriter.object { w in
                w.field("accepted", accepted)
                w.field("duplicates", duplicates)
                w.key("rejected")
                w.beginArray()
                for r in rejections {
                    w.beginObject()
                    w.field("id", r.eventID)
                    w.field("reason", r.field.isEmpty ? r.reason : "\(r.field): \(r.reason)")
                    w.endObject()
                }
                w.endArray()
            }
            return .json(accepted + duplicates == 0 && !rejections.isEmpty ? 400 : 200, body)
        }
    }

    // MARK: Seed 004: POST /api/v1/metrics/ingest[/batch]

    static let metricAttributes = ["specversion": "1.0", "type": "metric"]

    public func metricsIngest(_ request: IngestRequest) async -> IngestReply {
        if let conflict = request.tenantConflict { return conflict }
        guard let tenant = request.tenantHeader ?? request.grant?.tenant else { return .error(400, "X-Tenant-ID header is required") }
        let chunk = MessageChunk(expectedBytes: request.body.count, expectedMessages: 1)
        let payload = chunk.appendPayload(request.body)
        var attributes = Self.metricAttributes
        attributes["source"] = "/api/v1/metrics/ingest"
        // Seed 004 sends no event id; the body's own hash makes a retry a duplicate.
        attributes["id"] = ContentDerivedID.make(request.body)
        attributes["datacontenttype"] = "application/json"
        chunk.messages.append(InboundMessage(
            payload: payload, format: .binary(attributes: attributes),
            origin: MessageOrigin(kind: .http, stream: "/api/v1/metrics/ingest"),
            tenant: TenantScope(defaultTenant: tenant, requiredTenant: request.grant?.tenant), receivedAtNanos: WallClock.nowNanos()))
        return eventsReply(await submit(chunk, reservation: request.reservation))
    }

    public func metricsIngestBatch(_ request: IngestRequest) async -> IngestReply {
        if let conflict = request.tenantConflict { return conflict }
        guard let tenant = request.tenantHeader ?? request.grant?.tenant else { return .error(400, "X-Tenant-ID header is required") }
        let chunk = MessageChunk(expectedBytes: request.body.count, expectedMessages: 1)
        let payload = chunk.appendPayload(request.body)
        var attributes = Self.metricAttributes
        attributes["source"] = "/api/v1/metrics/ingest/batch"
        attributes["datacontenttype"] = "application/json"
        chunk.messages.append(InboundMessage(
            payload: payload, format: .binaryItems(attributes: attributes, itemsKey: "metrics"),
            origin: MessageOrigin(kind: .http, stream: "/api/v1/metrics/ingest/batch"),
            tenant: TenantScope(defaultTenant: tenant, requiredTenant: request.grant?.tenant), receivedAtNanos: WallClock.nowNanos()))
        return eventsReply(await submit(chunk, reservation: request.reservation))
    }
}
