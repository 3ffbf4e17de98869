/// The decode → route → validate stage: turns a ``MessageChunk`` into per-dataset rows
/// and rejections.
///
/// Build one per worker from the catalog (each dataset is compiled into a plan once),
/// then call ``decode(_:)`` for every chunk. The decoder keeps its scanning and scratch
/// memory between chunks, so steady-state decoding does no per-event heap allocation;
/// per chunk it allocates the output batches. It is `~Copyable` because that memory has
/// exactly one user; move it into the worker (actor or thread) that owns it.
///
/// Output contract (``DecodedChunk``):
/// - `tables[d]`: rows for dataset `d` (nil when none), every column filled, including
///   `_event_key` (the dedup key, also in `keys`) and `_ingested_at` (the second the
///   source received the message; a writer wanting the flush time overwrites it in place).
///   `messageIndex[r]` says which message row `r` came from.
/// - `rejections`: one per rejected event (or per undecodable message), with the
///   message index, the dataset when routing succeeded, `id`/`source`/`type` when known,
///   the field at fault, the reason, and the event's own bytes truncated to
///   ``DecodeLimits/maxRawEventBytes``.
/// - `eventsPerMessage[m]`: events decoded from message `m`, accepted plus rejected (an
///   undecodable message counts 1, an empty batch 0), so acknowledgement knows how many
///   outcomes to wait for.
public struct ChunkDecoder: ~Copyable {
    public let catalog: [DatasetDefinition]
    public let limits: DecodeLimits
    private var events: CloudEventDecoder
    private var rows: RowValidator

    /// Compiles the catalog. Throws when a default value does not coerce to its column
    /// type, a `received_at` source feeds a non-time column, or two datasets claim the same
    /// CloudEvent type.
    public init(catalog: [DatasetDefinition], limits: DecodeLimits = .default) throws(CatalogError) {
        self.catalog = catalog
        self.limits = limits
        var extensions: [String] = []
        for d in catalog {
            for source in d.fields.flatMap(\.sources) + d.dedupKey {
                if case .attribute(let name) = source, !extensions.contains(name) { extensions.append(name) }
            }
        }
        let table = CloudEventDecoder.attributeTable(extensions: extensions)
        var plans: [DatasetPlan] = []
        for (i, d) in catalog.enumerated() {
            plans.append(try DatasetPlan(definition: d, index: i, attributeSlot: { name in
                Array(name.utf8).withUnsafeBytes { table.slot($0) }
            }))
        }
        let validator = try RowValidator(plans: plans, limits: limits)
        events = CloudEventDecoder(table: table, limits: limits)
        rows = validator
    }

    /// Decodes every message of `chunk`. The chunk must not be changed while this runs.
    public mutating func decode(_ chunk: MessageChunk) -> DecodedChunk {
        let out = DecodedChunk(chunk: chunk, datasetCount: catalog.count)
        rows.begin(expectedRows: chunk.messages.count)
        let all = chunk.bytes.withUnsafeBytes { $0 }
        // Messages are read in place by address: subscripting the array copied each
        // message (retaining its strings).
        chunk.messages.withUnsafeBufferPointer { messages in
            out.eventsPerMessage.withUnsafeMutableBufferPointer { counts in
                guard let first = messages.baseAddress else { return }
                for index in 0..<messages.count {
                    let message = first + index
                    let range = message.pointee.payload
                    guard range.lowerBound >= 0, range.upperBound <= all.count else {
                        rows.reject(Rejection(message: index, field: "", reason: "payload range \(range) lies outside the chunk's \(all.count) bytes", rawEvent: []))
                        counts[index] = 1
                        continue
                    }
                    rows.receivedAtNanos = message.pointee.receivedAtNanos
                    rows.requiredTenant = message.pointee.tenant.requiredTenant
                    let payload = UnsafeRawBufferPointer(rebasing: all[range])
                    counts[index] = events.decode(message, index: index, payload: payload, sink: &rows)
                }
            }
        }
        out.tables = rows.tables
        out.rejections = rows.rejections
        rows.begin(expectedRows: 0)
        return out
    }
}

/// A decoder has exactly one owner (it is `~Copyable`), and moving it to another task
/// moves all of its memory with it; nothing in it is shared with another decoder except
/// immutable compiled plans.
extension ChunkDecoder: @unchecked Sendable {}
