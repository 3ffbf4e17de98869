/// The logical schema of the `dead_letter` table and how a ``DeadLetterRow`` fills it.
///
/// Dead letters travel through the same table writer as dataset rows (batching,
/// deduplication, retries), so a poison message is acknowledged only once its
/// dead-letter row is durable, and a redelivered poison message is stored once.
public enum DeadLetterSchema {
    public static let schema: [(name: String, type: ColumnType)] = [
        ("received_at", .dateTime(timezone: nil)),
        ("dataset", .lowCardinality(.string)),
        ("source", .lowCardinality(.string)),
        ("stream", .string),
        ("partition", .int32),
        ("offset", .string),
        ("event_id", .string),
        ("event_source", .string),
        ("event_type", .string),
        ("field", .string),
        ("reason", .string),
        ("raw_event", .string),
        (DatasetDefinition.eventKeyColumn, .fixedString(16)),
    ]

    /// Largest raw event kept in a dead-letter row; longer ones are cut and say so.
    public static let maxRawEventBytes = 256 * 1024

    public static func makeBatch(expectedRows: Int = 0) -> ColumnBatch {
        ColumnBatch(schema: schema, expectedRows: expectedRows)
    }

    /// Appends one row; the columns are in ``schema`` order.
    public static func append(_ row: DeadLetterRow, to batch: ColumnBatch) {
        let c = batch.columns
        c[0].buffer.append(row.receivedAtSeconds)
        c[1].buffer.append(string: row.dataset)
        c[2].buffer.append(string: row.origin.kind.rawValue)
        c[3].buffer.append(string: row.origin.stream)
        c[4].buffer.append(row.origin.partition)
        c[5].buffer.append(string: row.origin.offset)
        c[6].buffer.append(string: row.eventID)
        c[7].buffer.append(string: row.eventSource)
        c[8].buffer.append(string: row.eventType)
        c[9].buffer.append(string: row.field)
        c[10].buffer.append(string: row.reason)
        if row.rawEvent.count > maxRawEventBytes {
            c[11].buffer.append(string: String(decoding: row.rawEvent.prefix(maxRawEventBytes), as: UTF8.self) + "…[truncated]")
        } else {
            row.rawEvent.withUnsafeBytes { c[11].buffer.append(bytes: $0) }
        }
        row.key.write(to: c[12].buffer)
    }
}
