import Configuration
import Foundation
import Synchronization

/// Typed access to Sluice's configuration: the YAML file, overridden by `SLUICE_*`
/// environment variables (`clickhouse.url` → `SLUICE_CLICKHOUSE_URL`).
///
/// Every accessor parses the value itself, so a bad value fails with an error that names
/// the key instead of quietly falling back to a default. It also records which keys were
/// read, so keys in the file that nothing reads can be reported as unknown.
public final class ConfigSource: Sendable {
    let reader: ConfigReader
    /// The file's own values, for lists of mappings and the unknown-key check.
    public let file: SluiceYAMLSnapshot
    /// The directory of the config file; relative paths in the config resolve against it.
    public let baseDirectory: String
    private let environment: [String: String]
    private let accessed = Mutex<Set<String>>([])

    /// Loads a config file with environment overrides.
    public static func load(path: String) throws(ConfigurationError) -> ConfigSource {
        try load(path: path, environment: ProcessInfo.processInfo.environment)
    }

    public static func load(path: String, environment: [String: String]) throws(ConfigurationError) -> ConfigSource {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(key: "--config", reason: "cannot read \(path): \(error.localizedDescription)")
        }
        let snapshot = try SluiceYAMLSnapshot(yaml: text, providerName: path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return ConfigSource(file: snapshot, environment: environment, baseDirectory: base)
    }

    public init(file: SluiceYAMLSnapshot, environment: [String: String], baseDirectory: String) {
        self.file = file
        self.environment = environment
        self.baseDirectory = baseDirectory
        let env = EnvironmentVariablesProvider(
            environmentVariables: environment.filter { $0.key.hasPrefix("SLUICE_") },
            secretsSpecifier: .dynamic { key, _ in key.hasSuffix("PASSWORD") || key.hasSuffix("TOKEN") }
        ).prefixKeys(with: "sluice")
        reader = ConfigReader(providers: [env, SnapshotProvider(fixed: file)])
    }

    private func note(_ key: String) {
        _ = accessed.withLock { $0.insert(key) }
    }

    private func configKey(_ key: String) -> ConfigKey { ConfigKey(key.split(separator: ".").map(String.init)) }

    /// The raw text of a value, or nil when it is not set anywhere.
    public func string(_ key: String) -> String? {
        note(key)
        return reader.string(forKey: configKey(key))
    }

    public func string(_ key: String, default value: String) -> String {
        string(key) ?? value
    }

    /// A value that must be set and non-empty.
    public func requiredString(_ key: String) throws(ConfigurationError) -> String {
        guard let s = string(key), !s.isEmpty else { throw ConfigurationError(key: key, reason: "is required") }
        return s
    }

    public func int(_ key: String, default value: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigurationError) -> Int {
        guard let s = string(key) else { return value }
        guard let v = Int(s.trimmingCharacters(in: " ")) else { throw ConfigurationError(key: key, reason: "'\(s)' is not an integer") }
        guard range.contains(v) else { throw ConfigurationError(key: key, reason: "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    public func double(_ key: String, default value: Double, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let s = string(key) else { return value }
        guard let v = Double(s.trimmingCharacters(in: " ")), v.isFinite else { throw ConfigurationError(key: key, reason: "'\(s)' is not a number") }
        guard range.contains(v) else { throw ConfigurationError(key: key, reason: "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    public func bool(_ key: String, default value: Bool) throws(ConfigurationError) -> Bool {
        guard let s = string(key) else { return value }
        guard let v = ConfigParsers.bool(s) else { throw ConfigurationError(key: key, reason: "'\(s)' is not true or false") }
        return v
    }

    /// A duration such as `500ms`, `2s` or `10m`.
    public func duration(_ key: String, default value: Duration, minimum: Duration = .zero) throws(ConfigurationError) -> Duration {
        guard let s = string(key) else { return value }
        guard let v = ConfigParsers.duration(s) else {
            throw ConfigurationError(key: key, reason: "'\(s)' is not a duration (for example 500ms, 2s, 10m, 1h)")
        }
        guard v >= minimum else { throw ConfigurationError(key: key, reason: "must be at least \(minimum)") }
        return v
    }

    /// A size such as `64MiB` or `1GB`.
    public func byteSize(_ key: String, default value: Int, minimum: Int = 0) throws(ConfigurationError) -> Int {
        guard let s = string(key) else { return value }
        guard let v = ConfigParsers.byteSize(s) else {
            throw ConfigurationError(key: key, reason: "'\(s)' is not a size (for example 512KiB, 64MiB, 1GiB)")
        }
        guard v >= minimum else { throw ConfigurationError(key: key, reason: "must be at least \(minimum) bytes") }
        return v
    }

    /// A list of strings; an environment override is comma-separated.
    public func stringList(_ key: String) -> [String]? {
        note(key)
        return reader.stringArray(forKey: configKey(key)).map { $0.map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty } }
    }

    /// The number of items in a list of mappings such as `auth.keys`.
    public func itemCount(_ key: String) -> Int {
        note(key)
        return file.itemCount(of: key)
    }

    /// True when the file has any key under `prefix`, or an environment variable
    /// overrides one. An input is enabled by the presence of its section.
    public func hasSection(_ prefix: String) -> Bool {
        if file.keys.contains(where: { $0.hasPrefix(prefix + ".") }) { return true }
        let envPrefix = "SLUICE_" + prefix.uppercased().replacingOccurrences(of: ".", with: "_") + "_"
        return environment.keys.contains { $0.hasPrefix(envPrefix) }
    }

    /// A path from the config, resolved against the config file's directory.
    public func path(_ key: String, default value: String) -> String {
        let p = string(key) ?? value
        return p.hasPrefix("/") ? p : URL(fileURLWithPath: baseDirectory).appendingPathComponent(p).path
    }

    /// Keys in the file that no part of Sluice read: almost always typos.
    public func unknownKeys() -> [String] {
        let read = accessed.withLock { $0 }
        return file.keys.filter { key in
            if read.contains(key) { return false }
            // List items: `auth.keys.0.name` is known when `auth.keys.N.name` was read.
            let generic = key.split(separator: ".").map { $0.allSatisfy(\.isNumber) ? "N" : String($0) }.joined(separator: ".")
            return !read.contains(generic)
        }
    }

    /// Records a key that is read generically through list items (`auth.keys.N.name`).
    public func noteListItemKey(_ key: String) { note(key) }
}

/// Serves a fixed snapshot to a `ConfigReader`.
///
/// The daemon re-reads the whole file on reload and builds a new `ConfigSource`, so the
/// provider itself never changes.
struct SnapshotProvider: ConfigProvider {
    let fixed: SluiceYAMLSnapshot

    var providerName: String { fixed.providerName }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try fixed.value(forKey: key, type: type)
    }

    func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try fixed.value(forKey: key, type: type)
    }

    func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey, type: ConfigType,
        updatesHandler: nonisolated(nonsending) (ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot { fixed }

    func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
