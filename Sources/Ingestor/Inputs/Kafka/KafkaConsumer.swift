import CRdkafka
import Logging

/// What librdkafka's consumer callbacks report. Every method is called on the thread
/// that is inside `rd_kafka_consumer_poll` or `rd_kafka_consumer_close`, that is, the
/// poll thread.
protocol KafkaConsumerDelegate: AnyObject {
    /// The group assigned or revoked partitions. The delegate must call
    /// ``KafkaConsumer/assign(_:incremental:)`` or ``KafkaConsumer/unassign(_:incremental:)``
    /// before it returns.
    func consumer(_ consumer: KafkaConsumer, rebalance: KafkaConsumer.Rebalance)
    /// librdkafka's statistics JSON; only valid during the call.
    func consumer(_ consumer: KafkaConsumer, statistics json: UnsafeRawBufferPointer)
    /// The result of a commit (per partition; `error` when the request failed as a whole).
    func consumer(_ consumer: KafkaConsumer, committed offsets: [KafkaConsumer.OffsetResult], error: KafkaError?)
    /// A client-level error (brokers down, authentication, fatal).
    func consumer(_ consumer: KafkaConsumer, error: KafkaError)
}

/// The librdkafka high-level consumer: one `rd_kafka_t` in a consumer group.
///
/// Owns the handle and destroys it (closing the consumer first if needed) in `deinit`.
/// Not thread-safe by design: after `init`, every method is called from one dedicated
/// poll thread, because librdkafka runs the rebalance, commit and statistics callbacks
/// inside `rd_kafka_consumer_poll`, and several calls (`consumer_close`, synchronous
/// commits, watermark queries) block. No C type leaves this file's internal API.
final class KafkaConsumer {
    enum Rebalance {
        case assign([KafkaPartition])
        case revoke([KafkaPartition])
        /// The group failed to assign (librdkafka asks to drop the whole assignment).
        case failed(KafkaError, [KafkaPartition])
    }

    struct OffsetResult {
        let partition: KafkaPartition
        let offset: Int64
        let error: KafkaError?
    }

    /// The state the C callbacks reach through librdkafka's opaque pointer.
    fileprivate final class CallbackContext {
        let logger: Logger
        weak var consumer: KafkaConsumer?
        weak var delegate: (any KafkaConsumerDelegate)?
        init(logger: Logger) { self.logger = logger }
    }

    private var rk: OpaquePointer?
    private let context: CallbackContext
    private var topicNames: [OpaquePointer: String] = [:]
    private var lastTopic: (handle: OpaquePointer, name: String)?
    private var closed = false
    let logger: Logger

    /// Creates the consumer (no network I/O yet). `properties` are applied in order, so
    /// later entries win.
    init(properties: [(String, String)], logger: Logger) throws(KafkaError) {
        self.logger = logger
        context = CallbackContext(logger: logger)
        let conf = try KafkaClientConfig(properties)
        guard let c = conf.handle else { throw KafkaError(kind: .fatal, operation: "rd_kafka_conf_new", message: "no conf") }
        rd_kafka_conf_set_opaque(c, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_rebalance_cb(c, kafkaRebalanceCallback)
        rd_kafka_conf_set_offset_commit_cb(c, kafkaCommitCallback)
        rd_kafka_conf_set_stats_cb(c, kafkaStatisticsCallback)
        rd_kafka_conf_set_error_cb(c, kafkaErrorCallback)
        rd_kafka_conf_set_log_cb(c, kafkaLogCallback)
        rk = try conf.makeClient(RD_KAFKA_CONSUMER, operation: "rd_kafka_new (consumer)")
        context.consumer = self
        // Serve errors, statistics and logs from the consumer queue, i.e. on the poll
        // thread, instead of a queue nobody polls.
        _ = rd_kafka_poll_set_consumer(rk)
    }

    deinit {
        close()
    }

    var delegate: (any KafkaConsumerDelegate)? {
        get { context.delegate }
        set { context.delegate = newValue }
    }

    // MARK: Group membership

    func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for t in topics { rd_kafka_topic_partition_list_add(list, t, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(rk, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "subscribe") }
    }

    /// `EAGER`, `COOPERATIVE`, or `NONE` before the first rebalance.
    var rebalanceProtocol: String {
        guard let p = rd_kafka_rebalance_protocol(rk) else { return "NONE" }
        return String(cString: p)
    }

    var isCooperative: Bool { rebalanceProtocol == "COOPERATIVE" }

    /// True while handling a revoke whose partitions were lost involuntarily (session
    /// timeout, `max.poll.interval.ms`): another member may own them already.
    var assignmentLost: Bool { rd_kafka_assignment_lost(rk) != 0 }

    /// Applies an assignment: the whole new set (EAGER) or a delta (COOPERATIVE).
    func assign(_ partitions: [KafkaPartition], incremental: Bool) throws(KafkaError) {
        let list = Self.makeList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if incremental {
            if let error = rd_kafka_incremental_assign(rk, list) { throw KafkaError(consuming: error, operation: "incremental_assign") }
        } else {
            let err = rd_kafka_assign(rk, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "assign") }
        }
    }

    /// Gives partitions back: the delta (COOPERATIVE) or everything (EAGER).
    func unassign(_ partitions: [KafkaPartition], incremental: Bool) throws(KafkaError) {
        if incremental {
            let list = Self.makeList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_incremental_unassign(rk, list) { throw KafkaError(consuming: error, operation: "incremental_unassign") }
        } else {
            let err = rd_kafka_assign(rk, nil)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, operation: "unassign") }
        }
    }

    /// The partitions librdkafka currently has assigned.
    func assignment() -> [KafkaPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(rk, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return Self.read(list).map(\.partition)
    }

    // MARK: Consuming

    /// Waits up to `timeoutMs` for one record (or a consumer error carried as a record);
    /// serves callbacks meanwhile.
    func poll(timeoutMs: Int32) -> KafkaRecord? {
        guard let message = rd_kafka_consumer_poll(rk, timeoutMs) else { return nil }
        return KafkaRecord(message: message)
    }

    /// The record's topic name, cached per topic handle (a C string copy per record
    /// would cost more than the rest of the bookkeeping).
    func topicName(of record: KafkaRecord) -> String {
        guard let rkt = record.topicHandle else { return "" }
        // Records come in runs of one topic: the last handle is checked before hashing.
        if rkt == lastTopic?.handle, let name = lastTopic?.name { return name }
        if let name = topicNames[rkt] {
            lastTopic = (rkt, name)
            return name
        }
        let name = String(cString: rd_kafka_topic_name(rkt))
        topicNames[rkt] = name
        return name
    }

    /// Stops fetching for `partitions`; librdkafka drops what it prefetched for them and
    /// resumes at the next offset not yet handed to the application.
    func pause(_ partitions: [KafkaPartition]) -> KafkaError? {
        guard !partitions.isEmpty else { return nil }
        let list = Self.makeList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_pause_partitions(rk, list)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, operation: "pause_partitions")
    }

    func resume(_ partitions: [KafkaPartition]) -> KafkaError? {
        guard !partitions.isEmpty else { return nil }
        let list = Self.makeList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_resume_partitions(rk, list)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, operation: "resume_partitions")
    }

    // MARK: Offsets

    /// Stores and commits `offsets` (each the next offset to consume, i.e. last durable
    /// + 1). Storing too keeps librdkafka's `stored_offset`, and so the statistics'
    /// `consumer_lag_stored`, in step with what is durable.
    ///
    /// `async`: the result arrives through the delegate during a later poll; otherwise
    /// this blocks until the coordinator answers and returns per-partition results.
    @discardableResult
    func commit(_ offsets: [(KafkaPartition, Int64)], async: Bool) -> [OffsetResult] {
        guard !offsets.isEmpty else { return [] }
        let list = Self.makeList(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        // A partition revoked meanwhile fails to store with __STATE; the commit below
        // carries explicit offsets and does not depend on the store.
        _ = rd_kafka_offsets_store(rk, list)
        let err = rd_kafka_commit(rk, list, async ? 1 : 0)
        if async {
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let e = KafkaError(err, operation: "commit")
                return offsets.map { OffsetResult(partition: $0.0, offset: $0.1, error: e) }
            }
            return []
        }
        let whole = err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, operation: "commit")
        return Self.read(list).map { r in
            OffsetResult(partition: r.partition, offset: r.offset, error: whole ?? r.error.map { KafkaError($0, operation: "commit") })
        }
    }

    /// The high watermark of each partition, asked from the partition leaders (blocks
    /// up to `timeoutMs` per partition, and `budgetMs` in all). Partitions whose
    /// leader did not answer are missing from the result.
    func queryHighWatermarks(_ partitions: [KafkaPartition], timeoutMs: Int32, budgetMs: Int) -> [KafkaPartition: Int64] {
        var out: [KafkaPartition: Int64] = [:]
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(budgetMs)
        for p in partitions {
            guard clock.now < deadline else { break }
            var lo: Int64 = -1
            var hi: Int64 = -1
            if rd_kafka_query_watermark_offsets(rk, p.topic, p.partition, &lo, &hi, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR, hi >= 0 {
                out[p] = hi
            }
        }
        return out
    }

    /// The high watermark librdkafka learnt from its last fetch response, without any
    /// I/O; nil until a fetch for the partition has completed.
    func cachedHighWatermark(_ partition: KafkaPartition) -> Int64? {
        var lo: Int64 = -1
        var hi: Int64 = -1
        guard rd_kafka_get_watermark_offsets(rk, partition.topic, partition.partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR,
              hi >= 0 else { return nil }
        return hi
    }

    /// librdkafka's fatal error, if one was raised; the client is then unusable.
    var fatalError: KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(rk, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(kind: .fatal, operation: "consumer", code: err.rawValue, message: KafkaClientConfig.string(errstr))
    }

    /// Leaves the group (running the final revoke through the delegate) and destroys
    /// the handle. Blocks; idempotent.
    func close() {
        guard let handle = rk, !closed else { return }
        closed = true
        let err = rd_kafka_consumer_close(handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("kafka consumer close reported an error", metadata: ["error": "\(KafkaError(err, operation: "consumer_close"))"])
        }
        rd_kafka_destroy(handle)
        rk = nil
    }

    // MARK: Partition lists

    static func makeList(_ offsets: [(KafkaPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(Swift.max(offsets.count, 1)))!
        for (p, offset) in offsets {
            let element = rd_kafka_topic_partition_list_add(list, p.topic, p.partition)!
            element.pointee.offset = offset
        }
        return list
    }

    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(partition: KafkaPartition, offset: Int64, error: rd_kafka_resp_err_t?)] {
        let n = Int(list.pointee.cnt)
        guard n > 0, let elems = list.pointee.elems else { return [] }
        return (0..<n).map { i in
            let e = elems[i]
            return (KafkaPartition(topic: String(cString: e.topic), partition: e.partition), e.offset,
                    e.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : e.err)
        }
    }

    // MARK: Callback plumbing

    fileprivate static func context(_ opaque: UnsafeMutableRawPointer?) -> CallbackContext? {
        opaque.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Without a delegate the assignment is still applied, so a rebalance never stalls.
    fileprivate func handleRebalance(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let partitions = list.map { Self.read($0).map(\.partition) } ?? []
        let event: Rebalance = switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: .assign(partitions)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS: .revoke(partitions)
        default: .failed(KafkaError(err, operation: "rebalance"), partitions)
        }
        if let delegate = context.delegate {
            delegate.consumer(self, rebalance: event)
            return
        }
        do {
            switch event {
            case .assign(let p): try assign(p, incremental: isCooperative)
            case .revoke(let p): try unassign(p, incremental: isCooperative)
            case .failed: try unassign([], incremental: false)
            }
        } catch {
            logger.error("kafka rebalance could not be applied", metadata: ["error": "\(error)"])
        }
    }
}

// librdkafka calls these C function pointers; each finds its consumer through the
// opaque pointer set on the conf.

private func kafkaRebalanceCallback(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let consumer = KafkaConsumer.context(opaque)?.consumer else {
        // The Swift object is gone (destroy in progress): apply the default so
        // librdkafka's state machine is not left waiting.
        if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            if String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE" {
                if let e = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(e) }
            } else {
                _ = rd_kafka_assign(rk, partitions)
            }
        } else if String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE" {
            if let e = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(e) }
        } else {
            _ = rd_kafka_assign(rk, nil)
        }
        return
    }
    consumer.handleRebalance(err, partitions)
}

private func kafkaCommitCallback(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t, _ offsets: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let ctx = KafkaConsumer.context(opaque), let consumer = ctx.consumer, let delegate = ctx.delegate else { return }
    let whole: KafkaError? = err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET ? nil : KafkaError(err, operation: "commit")
    let results = offsets.map { list in
        KafkaConsumer.read(list).map { r in
            KafkaConsumer.OffsetResult(partition: r.partition, offset: r.offset, error: whole ?? r.error.map { KafkaError($0, operation: "commit") })
        }
    } ?? []
    delegate.consumer(consumer, committed: results, error: whole)
}

private func kafkaStatisticsCallback(
    _ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int, _ opaque: UnsafeMutableRawPointer?
) -> Int32 {
    guard let json, let ctx = KafkaConsumer.context(opaque), let consumer = ctx.consumer, let delegate = ctx.delegate else { return 0 }
    delegate.consumer(consumer, statistics: UnsafeRawBufferPointer(start: json, count: length))
    return 0  // librdkafka frees the JSON
}

private func kafkaErrorCallback(_ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let ctx = KafkaConsumer.context(opaque) else { return }
    let code = rd_kafka_resp_err_t(rawValue: err)
    let error = KafkaError(code, operation: "client", detail: reason.map { String(cString: $0) })
    guard let consumer = ctx.consumer, let delegate = ctx.delegate else {
        ctx.logger.warning("kafka client error", metadata: ["error": "\(error)"])
        return
    }
    delegate.consumer(consumer, error: error)
}

/// librdkafka's own log lines, at their syslog level, into Sluice's logger.
private func kafkaLogCallback(_ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ line: UnsafePointer<CChar>?) {
    guard let rk, let ctx = KafkaConsumer.context(rd_kafka_opaque(rk)) else { return }
    let message = line.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    let swiftLevel: Logger.Level = switch level {
    case ...2: .critical
    case 3: .error
    case 4: .warning
    case 5: .notice
    case 6: .info
    default: .debug
    }
    ctx.logger.log(level: swiftLevel, "librdkafka: \(message)", metadata: ["facility": "\(fac)"])
}
