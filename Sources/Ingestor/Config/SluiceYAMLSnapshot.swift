public import Configuration
import Foundation
import Yams

/// A YAML configuration snapshot that also understands lists of mappings.
///
/// swift-configuration's own `YAMLSnapshot` rejects a sequence of mappings, but Sluice's
/// contract has one (`auth.keys: [{name, hash, role, ...}]`). This snapshot flattens such
/// a list by index (`auth.keys.0.name`), keeps scalar lists as arrays, and remembers
/// every key it saw so the loader can reject keys it does not know (a typo such as
/// `pipeline.batch.max_row` must not be silently ignored).
public final class SluiceYAMLSnapshot: Sendable {
    public struct ParsingOptions: FileParsingOptions {
        public init() {}
        public static var `default`: Self { .init() }
    }

    enum Entry: Sendable {
        case scalar(String)
        case list([String])
    }

    public let providerName: String
    let entries: [String: Entry]
    /// For each list of mappings, how many items it has.
    let listCounts: [String: Int]

    init(entries: [String: Entry], listCounts: [String: Int], providerName: String) {
        self.entries = entries
        self.listCounts = listCounts
        self.providerName = providerName
    }

    /// Every leaf key present in the file, dot-separated.
    public var keys: [String] { entries.keys.sorted() }

    /// The number of items of a list of mappings such as `auth.keys`, or 0.
    public func itemCount(of key: String) -> Int { listCounts[key] ?? 0 }

    /// Parses YAML text; an error names the offending key path.
    public convenience init(yaml: String, providerName: String = "yaml") throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(key: "<file>", reason: "not valid YAML: \(error)")
        }
        var entries: [String: Entry] = [:]
        var counts: [String: Int] = [:]
        if let root {
            guard let mapping = root.mapping else {
                throw ConfigurationError(key: "<file>", reason: "the top level must be a mapping of keys")
            }
            try Self.flatten(mapping, prefix: [], into: &entries, counts: &counts)
        }
        self.init(entries: entries, listCounts: counts, providerName: providerName)
    }

    private static func flatten(
        _ mapping: Node.Mapping, prefix: [String], into entries: inout [String: Entry], counts: inout [String: Int]
    ) throws(ConfigurationError) {
        for (keyNode, value) in mapping {
            // librdkafka property names contain dots (`session.timeout.ms`); under
            // `inputs.kafka.properties` a key is such a name, not a path.
            let passThrough = prefix == ["inputs", "kafka", "properties"]
            guard let key = keyNode.string, !key.isEmpty, passThrough || !key.contains(".") else {
                throw ConfigurationError(key: (prefix + ["?"]).joined(separator: "."), reason: "keys must be non-empty strings without dots")
            }
            try flatten(value, path: prefix + [key], into: &entries, counts: &counts)
        }
    }

    private static func flatten(
        _ node: Node, path: [String], into entries: inout [String: Entry], counts: inout [String: Int]
    ) throws(ConfigurationError) {
        let key = path.joined(separator: ".")
        switch node {
        case .scalar(let scalar):
            // `key: ~` and `key:` both mean "not set", as for the library's own snapshot.
            if scalar.tag == Tag(.null) || (scalar.style == .plain && (scalar.string == "~" || scalar.string == "null")) {
                return
            }
            entries[key] = .scalar(scalar.string)
        case .mapping(let mapping):
            try flatten(mapping, prefix: path, into: &entries, counts: &counts)
        case .sequence(let sequence):
            if sequence.allSatisfy({ $0.scalar != nil }) {
                entries[key] = .list(sequence.compactMap { $0.scalar?.string })
            } else if sequence.allSatisfy({ $0.mapping != nil }) {
                counts[key] = sequence.count
                for (i, item) in sequence.enumerated() {
                    try flatten(item, path: path + [String(i)], into: &entries, counts: &counts)
                }
            } else {
                throw ConfigurationError(key: key, reason: "a list must hold only values or only mappings")
            }
        case .alias:
            throw ConfigurationError(key: key, reason: "YAML aliases are not supported")
        }
    }
}

extension SluiceYAMLSnapshot: FileConfigSnapshot {
    public convenience init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        let text = data.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        try self.init(yaml: text, providerName: providerName)
    }

    public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let encoded = key.components.joined(separator: ".")
        guard let entry = entries[encoded] else { return LookupResult(encodedKey: encoded, value: nil) }
        let content: ConfigContent
        switch (entry, type) {
        case (.scalar(let s), .string):
            content = .string(s)
        case (.scalar(let s), .int):
            guard let v = Int(s) else { throw ConfigurationError(key: encoded, reason: "'\(s)' is not an integer") }
            content = .int(v)
        case (.scalar(let s), .double):
            guard let v = Double(s) else { throw ConfigurationError(key: encoded, reason: "'\(s)' is not a number") }
            content = .double(v)
        case (.scalar(let s), .bool):
            guard let v = ConfigParsers.bool(s) else { throw ConfigurationError(key: encoded, reason: "'\(s)' is not true or false") }
            content = .bool(v)
        case (.scalar(let s), .stringArray):
            // A single value where a list is expected is a one-item list.
            content = .stringArray([s])
        case (.list(let items), .stringArray):
            content = .stringArray(items)
        case (.list, _):
            throw ConfigurationError(key: encoded, reason: "a list is not allowed here")
        default:
            throw ConfigurationError(key: encoded, reason: "this value cannot be read as \(type.rawValue)")
        }
        return LookupResult(encodedKey: encoded, value: ConfigValue(content, isSecret: encoded.hasSuffix("password") || encoded.hasSuffix("token")))
    }

    public var description: String { "\(providerName)[\(entries.count) values]" }
    public var debugDescription: String { description }
}
