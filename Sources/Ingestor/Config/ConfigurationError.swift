/// A configuration value that cannot be used, naming the key at fault.
///
/// `sluice check-config` prints it and exits non-zero; `sluice run` refuses to start; a
/// reload keeps the old values and logs it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The dotted key path, e.g. `pipeline.batch.max_rows`.
    public let key: String
    public let reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(key): \(reason)" }
}
