public import Logging
public import Pipeline
import Synchronization

/// The pipeline's ``TableSink`` over ClickHouse: it binds each table's batches to the
/// table `DESCRIBE TABLE` reports, encodes them as sorted, compressed Native blocks, and
/// inserts them over keep-alive HTTP.
///
/// It also answers the dedup questions (which keys are already stored, which keys were
/// stored recently) with queries on the `_event_key` column that every table carries.
/// Errors are translated into what the pipeline must do next (``SinkError/Kind``).
public final class ClickHouseSink: TableSink {
    public let transport: ClickHouseHTTPTransport
    public let catalog: [DatasetDefinition]
    private let compression: CompressionMethod
    private let plans = Mutex<[SinkTarget: NativeInsertPlan]>([:])
    private let encoders = Mutex<[PooledEncoder]>([])
    private let logger: Logger

    /// Keys per lookup query; keeps each statement well under ClickHouse's query size limit.
    static let keysPerQuery = 4000

    public init(transport: ClickHouseHTTPTransport, catalog: [DatasetDefinition], compression: CompressionMethod, logger: Logger) {
        self.transport = transport
        self.catalog = catalog
        self.compression = compression
        self.logger = logger
    }

    public var database: String { transport.configuration.database }

    func tableName(_ target: SinkTarget) -> String {
        switch target {
        case .dataset(let i): catalog[i].name
        case .deadLetter: DeadLetterTable.name
        }
    }

    func logicalSchema(_ target: SinkTarget) -> [(name: String, type: ColumnType)] {
        switch target {
        case .dataset(let i): catalog[i].tableSchema
        case .deadLetter: DeadLetterSchema.schema
        }
    }

    func orderBy(_ target: SinkTarget) -> [String] {
        switch target {
        case .dataset(let i): catalog[i].orderBy
        case .deadLetter: ["received_at", "dataset"]
        }
    }

    /// Binds every table now, so a schema mismatch is reported at start-up rather than at
    /// the first insert. Tables are also bound lazily, so this is optional.
    public func prepare() async throws(SinkError) {
        for i in catalog.indices { _ = try await plan(for: .dataset(i)) }
        _ = try await plan(for: .deadLetter)
    }

    /// Forgets the bindings, e.g. after a migration changed a table.
    public func invalidatePlans() { plans.withLock { $0.removeAll() } }

    func plan(for target: SinkTarget) async throws(SinkError) -> NativeInsertPlan {
        if let p = plans.withLock({ $0[target] }) { return p }
        let table = tableName(target)
        let described: [ClickHouseColumnDescription]
        do {
            described = try await transport.describe(table: table)
        } catch {
            throw Self.translate(error, sent: false)
        }
        let physical = described.map(PhysicalColumn.init(described:))
        let plan: NativeInsertPlan
        do {
            plan = try NativeInsertPlan(logicalSchema: logicalSchema(target), table: physical, orderBy: orderBy(target))
        } catch {
            throw SinkError(kind: .configuration, message: "table \(database).\(table) does not match its dataset: \(error)")
        }
        plans.withLock { $0[target] = plan }
        logger.info("bound table", metadata: ["table": "\(table)", "columns": "\(plan.insertColumnNames.count)"])
        return plan
    }

    private func takeEncoder() throws(SinkError) -> PooledEncoder {
        if let e = encoders.withLock({ $0.popLast() }) { return e }
        do {
            return PooledEncoder(encoder: try NativeEncoder(compression: compression))
        } catch {
            throw SinkError(kind: .configuration, message: "cannot create \(compression) compressor: \(error)")
        }
    }

    private func returnEncoder(_ e: PooledEncoder) {
        encoders.withLock { if $0.count < 8 { $0.append(e) } }
    }

    // MARK: TableSink

    public func insert(into target: SinkTarget, batch: ColumnBatch) async throws(SinkError) {
        guard batch.rowCount > 0 else { return }
        let plan = try await plan(for: target)
        let encoder = try takeEncoder()
        let body: EncodedInsertBody
        do {
            body = try encoder.encoder.encodeInsertBody(batch, plan: plan)
        } catch {
            returnEncoder(encoder)
            // The batch does not fit the table: the rows, not the server, are at fault.
            throw SinkError(kind: .rejectedData, message: "cannot encode rows for \(tableName(target)): \(error)")
        }
        returnEncoder(encoder)
        do {
            try await transport.insert(
                table: tableName(target), columns: plan.insertColumnNames, body: body.body, compressed: true)
        } catch {
            if error.kind == .configuration { invalidatePlans() }
            throw Self.translate(error, sent: true)
        }
    }

    public func existingKeys(in target: SinkTarget, keys: [EventKey]) async throws(SinkError) -> Set<EventKey> {
        var found = Set<EventKey>()
        let table = ClickHouseSQL.qualifiedName(database: database, table: tableName(target))
        let column = ClickHouseSQL.quoteIdentifier(DatasetDefinition.eventKeyColumn)
        var start = 0
        while start < keys.count {
            let part = keys[start..<Swift.min(start + Self.keysPerQuery, keys.count)]
            start += part.count
            var sql = "SELECT hex(\(column)) FROM \(table) WHERE \(column) IN ("
            sql.reserveCapacity(sql.utf8.count + part.count * 44)
            var first = true
            for key in part {
                if !first { sql += "," }
                first = false
                sql += "unhex('" + Self.hex(key) + "')"
            }
            sql += ") FORMAT TabSeparated"
            let body: [UInt8]
            do {
                body = try await transport.query(sql)
            } catch {
                throw Self.translate(error, sent: false)
            }
            for line in body.split(separator: 0x0A) {
                if let key = Self.key(hex: line) { found.insert(key) }
            }
        }
        return found
    }

    public func recentKeys(in target: SinkTarget, sinceSeconds: UInt32, limit: Int) async throws(SinkError) -> [(key: EventKey, ingestedAtSeconds: UInt32)] {
        let table = ClickHouseSQL.qualifiedName(database: database, table: tableName(target))
        let key = ClickHouseSQL.quoteIdentifier(DatasetDefinition.eventKeyColumn)
        let time = ClickHouseSQL.quoteIdentifier(target == .deadLetter ? "received_at" : DatasetDefinition.ingestedAtColumn)
        let sql = """
            SELECT hex(\(key)), toUInt32(\(time)) FROM \(table)
            WHERE \(time) >= toDateTime(\(sinceSeconds))
            ORDER BY \(time) DESC LIMIT \(limit) FORMAT TabSeparated
            """
        let body: [UInt8]
        do {
            body = try await transport.query(sql)
        } catch {
            throw Self.translate(error, sent: false)
        }
        var out: [(key: EventKey, ingestedAtSeconds: UInt32)] = []
        for line in body.split(separator: 0x0A) {
            let fields = line.split(separator: 0x09)
            guard fields.count == 2, let k = Self.key(hex: fields[0]), let t = UInt32(String(decoding: fields[1], as: UTF8.self)) else { continue }
            out.append((k, t))
        }
        return out
    }

    // MARK: Helpers

    /// What the pipeline must do about a transport error.
    ///
    /// A refused connection means nothing was sent. Any failure after the request may
    /// have reached the server (a timeout, a reset, a server error during the write) is
    /// an unknown outcome for an insert: the pipeline then checks which rows arrived
    /// before retrying, which is what keeps retries from writing rows twice.
    static func translate(_ error: ClickHouseError, sent: Bool) -> SinkError {
        let kind: SinkError.Kind
        switch error.kind {
        case .network:
            // curl 6 (resolve) and 7 (connect) fail before anything is sent.
            let notSent = error.curlCode == 6 || error.curlCode == 7
            kind = sent && !notSent ? .unknownOutcome : .unavailable
        case .timeout, .server:
            kind = sent ? .unknownOutcome : .unavailable
        case .overloaded, .cancelled, .shutdown:
            kind = .unavailable
        case .data:
            kind = .rejectedData
        case .invalidRequest, .configuration:
            kind = .configuration
        }
        return SinkError(kind: kind, code: error.code, message: error.description)
    }

    static func hex(_ key: EventKey) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [key.low, key.high] {
            for i in 0..<8 {
                let b = UInt8(truncatingIfNeeded: word >> (8 * UInt64(i)))
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func key(hex: some Collection<UInt8>) -> EventKey? {
        guard hex.count == 32 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        var hi: UInt8?
        for c in hex {
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x41...0x46: v = c - 0x41 + 10
            case 0x61...0x66: v = c - 0x61 + 10
            default: return nil
            }
            if let h = hi {
                bytes.append(h << 4 | v)
                hi = nil
            } else {
                hi = v
            }
        }
        var low: UInt64 = 0
        var high: UInt64 = 0
        for i in 0..<8 {
            low |= UInt64(bytes[i]) << (8 * UInt64(i))
            high |= UInt64(bytes[8 + i]) << (8 * UInt64(i))
        }
        return EventKey(low: low, high: high)
    }
}

/// An encoder (and its compression contexts) lent to one insert at a time; the pool
/// hands each out to a single task, which is why the box may cross tasks.
final class PooledEncoder: @unchecked Sendable {
    let encoder: NativeEncoder
    init(encoder: NativeEncoder) { self.encoder = encoder }
}
