import Pipeline

/// Dapr's subscriber contract (specs/dapr-pubsub.md): programmatic subscription, single
/// and bulk deliveries, and seed 000's `/add` route.
extension IngestHandler {
    // MARK: GET /dapr/subscribe

    public func daprSubscribe() -> IngestReply {
        var w = JSONWriter()
        w.beginArray()
        for topic in dapr.topics {
            w.beginObject()
            w.field("pubsubname", dapr.pubsubName)
            w.field("topic", topic)
            w.field("route", "/dapr/events/\(topic)")
            w.key("bulkSubscribe")
            w.beginObject()
            w.field("enabled", true)
            w.field("maxMessagesCount", dapr.maxBulkMessages)
            w.field("maxAwaitDurationMs", Int(dapr.maxBulkAwait.nanoseconds / 1_000_000))
            w.endObject()
            w.endObject()
        }
        w.endArray()
        return .json(200, w.bytes)
    }

    // MARK: POST /dapr/events/{topic} and POST /add

    /// One delivery: a single CloudEvent (`application/cloudevents+json`) or a bulk
    /// envelope with `entries[]`, answered with one status per `entryId`.
    public func daprEvents(_ request: IngestRequest, topic: String) async -> IngestReply {
        await dapr(request, topic: topic, route: "/dapr/events/\(topic)")
    }

    /// Seed 000's `/add`: Dapr bulk deliveries whose entries carry the inference record
    /// itself as `event`, with the CloudEvent id and type in the entry metadata.
    public func add(_ request: IngestRequest) async -> IngestReply {
        await dapr(request, topic: nil, route: "/add")
    }

    private func dapr(_ request: IngestRequest, topic: String?, route: String) async -> IngestReply {
        if let conflict = request.tenantConflict { return conflict }
        let parsed: DaprDelivery
        do {
            parsed = try DaprDelivery(body: request.body, contentType: request.contentType, topic: topic, route: route)
        } catch {
            // Not even an envelope: Dapr retries non-2xx answers, and a body that cannot
            // be read will not improve, so say why loudly.
            return .error(400, error.reason)
        }
        if let scoped = request.grant?.tenant {
            // A tenant-scoped key: events of another tenant are rejected (and dead-lettered,
            // so Dapr gets DROP), events without a tenant get the key's.
            for i in parsed.chunk.messages.indices {
                parsed.chunk.messages[i].tenant = TenantScope(defaultTenant: scoped, requiredTenant: scoped)
            }
        }
        switch parsed.kind {
        case .single:
            return daprSingleReply(await submit(parsed.chunk, reservation: request.reservation))
        case .bulk(let entryIDs, let invalid):
            return daprBulkReply(await submit(parsed.chunk, reservation: request.reservation), entryIDs: entryIDs, invalid: invalid)
        }
    }

    /// `{"status": "SUCCESS" | "RETRY" | "DROP"}`. DROP only for an event that is durable
    /// in the dead-letter table (DESIGN §2).
    func daprSingleReply(_ outcome: SubmitOutcome) -> IngestReply {
        let status: String
        switch outcome {
        case .overloaded, .notReady, .done(.timedOut, _):
            status = "RETRY"
        case .done(.settled(let r), _):
            status = r.first.map { $0.deadLettered > 0 ? "DROP" : "SUCCESS" } ?? "SUCCESS"
        }
        return .json(200, JSONWriter.object { $0.field("status", status) })
    }

    func daprBulkReply(_ outcome: SubmitOutcome, entryIDs: [String], invalid: [String]) -> IngestReply {
        var statuses = Array(repeating: "RETRY", count: entryIDs.count)
        var inserted = 0
        var duplicates = 0
        var rejected = 0
        if case .done(let result, _) = outcome {
            let resolutions: [MessageResolution?]
            switch result {
            case .settled(let r): resolutions = r
            case .timedOut(let r): resolutions = r
            }
            for (i, r) in resolutions.enumerated() {
                guard let r else { continue }
                statuses[i] = r.deadLettered > 0 ? "DROP" : "SUCCESS"
                inserted += Int(r.inserted)
                duplicates += Int(r.duplicates)
                rejected += Int(r.deadLettered)
            }
        }
        let body = JSONWriter.object { w in
            w.key("statuses")
            w.beginArray()
            for (id, status) in zip(entryIDs, statuses) {
                w.beginObject()
                w.field("entryId", id)
                w.field("status", status)
                w.endObject()
            }
            // Entries Dapr sent that carried no usable event: dropping them is all a
            // retry could ever do, and they never reach the dead-letter table because
            // there is nothing to store.
            for id in invalid {
                w.beginObject()
                w.field("entryId", id)
                w.field("status", "DROP")
                w.endObject()
            }
            w.endArray()
            w.field("inserted", inserted)
            w.field("duplicates", duplicates)
            w.field("rejected", rejected)
        }
        return .json(200, body)
    }
}

/// A Dapr delivery turned into a chunk: one message for a single event, one message per
/// entry for a bulk delivery (so each entry gets its own status).
struct DaprDelivery {
    enum Kind {
        case single
        /// Entry ids in message order, and ids of entries without a usable event.
        case bulk(entryIDs: [String], invalid: [String])
    }

    struct Invalid: Error { let reason: String }

    let chunk: MessageChunk
    let kind: Kind

    init(body: [UInt8], contentType: String?, topic: String?, route: String) throws(Invalid) {
        let received = WallClock.nowNanos()
        let stream = topic ?? route
        var scanner = JSONScanner()
        let chunk = MessageChunk(expectedBytes: body.count, expectedMessages: 16)
        self.chunk = chunk
        // Parse once to see whether this is a bulk envelope; a single CloudEvent is
        // passed to the decoder untouched.
        let result: Result<Kind, Invalid> = body.withUnsafeBytes { raw in
            let root: JSONValue
            do {
                root = try scanner.parse(raw)
            } catch {
                return .failure(Invalid(reason: "body is not JSON: \(error)"))
            }
            guard root.kind == .object, let entries = root.member("entries") else {
                let payload = chunk.appendPayload(raw)
                chunk.messages.append(InboundMessage(
                    payload: payload, format: .structured, origin: MessageOrigin(kind: .dapr, stream: stream), receivedAtNanos: received))
                return .success(.single)
            }
            guard entries.kind == .array else { return .failure(Invalid(reason: "entries: expected an array")) }
            let envelopeType = root.member("type").flatMap { $0.kind == .string ? $0.string : nil }
            let pubsub = root.member("pubsubname").flatMap { $0.kind == .string ? $0.string : nil } ?? "dapr"
            let envelopeTopic = root.member("topic").flatMap { $0.kind == .string ? $0.string : nil } ?? stream
            var ids: [String] = []
            var invalid: [String] = []
            for entry in entries.elements {
                guard entry.kind == .object, let idValue = entry.member("entryId"), idValue.kind == .string else {
                    // Without an entryId no status can name it; Dapr treats a missing
                    // status as RETRY, which is all that can be offered.
                    continue
                }
                let entryID = idValue.string
                guard let event = entry.member("event") else {
                    invalid.append(entryID)
                    continue
                }
                var metadata: [String: String] = [:]
                if let m = entry.member("metadata"), m.kind == .object {
                    for (k, v) in m.members where v.kind == .string { metadata[k.string] = v.string }
                }
                let origin = MessageOrigin(kind: .dapr, stream: envelopeTopic, partition: Int32(metadata["__partition"] ?? "") ?? -1, offset: entryID)
                let entryContentType = entry.member("contentType").flatMap { $0.kind == .string ? $0.string : nil }
                let payload: Range<Int>
                var isCloudEvent: Bool
                switch event.kind {
                case .object:
                    payload = chunk.appendPayload(event.rawBytes)
                    isCloudEvent = event.member("specversion") != nil
                case .string:
                    // rawPayload: the broker bytes, base64-encoded.
                    let start = chunk.bytes.count
                    guard Base64.decode(event.bytes, into: &chunk.bytes) != nil else {
                        invalid.append(entryID)
                        continue
                    }
                    payload = start..<chunk.bytes.count
                    isCloudEvent = entryContentType?.lowercased().hasPrefix("application/cloudevents") ?? false
                default:
                    invalid.append(entryID)
                    continue
                }
                let format: MessageFormat
                if isCloudEvent {
                    format = .structured
                } else {
                    // The entry carries the event's data; its CloudEvent attributes are
                    // in the metadata (seed 000's /add) or default to the envelope's.
                    var attributes: [String: String] = ["specversion": "1.0"]
                    attributes["id"] = metadata["cloudevent.id"] ?? entryID
                    attributes["type"] = metadata["cloudevent.type"] ?? envelopeType ?? entryContentType ?? ""
                    attributes["source"] = metadata["cloudevent.source"] ?? "\(pubsub)/\(envelopeTopic)"
                    attributes["datacontenttype"] = "application/json"
                    format = .binary(attributes: attributes)
                }
                chunk.messages.append(InboundMessage(payload: payload, format: format, origin: origin, receivedAtNanos: received))
                ids.append(entryID)
            }
            return .success(.bulk(entryIDs: ids, invalid: invalid))
        }
        switch result {
        case .success(let k): kind = k
        case .failure(let e): throw e
        }
    }
}
