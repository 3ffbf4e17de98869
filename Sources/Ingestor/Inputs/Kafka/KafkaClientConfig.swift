import CRdkafka

/// Builds an `rd_kafka_conf_t` from properties, turning librdkafka's refusals into
/// ``KafkaError``s that name the property.
///
/// Owns the conf until ``release()`` hands it to `rd_kafka_new` (which takes ownership
/// only on success); otherwise it is destroyed with this object.
final class KafkaClientConfig {
    private(set) var handle: OpaquePointer?

    init(_ properties: [(String, String)]) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(kind: .fatal, operation: "rd_kafka_conf_new", message: "out of memory")
        }
        handle = conf
        var errstr = [CChar](repeating: 0, count: 512)
        for (name, value) in properties {
            let rc = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
            guard rc == RD_KAFKA_CONF_OK else {
                throw KafkaError(kind: .configuration, operation: "set property \(name)", message: Self.string(errstr))
            }
        }
    }

    deinit {
        if let handle { rd_kafka_conf_destroy(handle) }
    }

    /// Gives the conf away (to `rd_kafka_new`).
    func release() -> OpaquePointer? {
        defer { handle = nil }
        return handle
    }

    /// Creates a client of `type`; the conf is consumed on success.
    func makeClient(_ type: rd_kafka_type_t, operation: String) throws(KafkaError) -> OpaquePointer {
        guard let conf = handle else {
            throw KafkaError(kind: .fatal, operation: operation, message: "configuration already used")
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            throw KafkaError(kind: .configuration, operation: operation, message: Self.string(errstr))
        }
        handle = nil
        return rk
    }

    static func string(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

extension KafkaError {
    /// Wraps a librdkafka response code, classifying it by what retrying can achieve.
    init(_ err: rd_kafka_resp_err_t, operation: String, detail: String? = nil) {
        let name = String(cString: rd_kafka_err2name(err))
        let text = String(cString: rd_kafka_err2str(err))
        self.init(
            kind: Self.kind(of: err), operation: operation, code: err.rawValue,
            message: "\(name): \(text)" + (detail.map { " (\($0))" } ?? ""))
    }

    /// Wraps an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, operation: String) {
        let code = rd_kafka_error_code(error)
        let text = String(cString: rd_kafka_error_string(error))
        let fatal = rd_kafka_error_is_fatal(error) != 0
        rd_kafka_error_destroy(error)
        self.init(kind: fatal ? .fatal : Self.kind(of: code), operation: operation, code: code.rawValue, message: text)
    }

    static func kind(of err: rd_kafka_resp_err_t) -> Kind {
        switch err {
        case RD_KAFKA_RESP_ERR__FATAL:
            return .fatal
        case RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
             RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR__SSL, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
             RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
             RD_KAFKA_RESP_ERR_INVALID_CONFIG, RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
            return .configuration
        default:
            return .transient
        }
    }
}
