import Foundation
public import Pipeline
import Yams

/// Reads dataset definitions from YAML files (the presets in `config/datasets/` and any
/// the operator adds). Errors name the file and the key inside it.
public enum DatasetCatalogLoader {
    /// Loads every `*.yaml`/`*.yml` file under the given files or directories, sorted by
    /// name so the order is stable.
    public static func load(paths: [String]) throws(ConfigurationError) -> [DatasetDefinition] {
        var files: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ConfigurationError(key: "datasets.paths", reason: "\(path) does not exist")
            }
            if isDirectory.boolValue {
                let names = (try? fm.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        var datasets: [DatasetDefinition] = []
        var routes: [String: String] = [:]
        for file in files {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(key: "datasets.paths", reason: "cannot read \(file): \(error.localizedDescription)")
            }
            let dataset = try parse(yaml: text, file: file)
            if datasets.contains(where: { $0.name == dataset.name }) {
                throw ConfigurationError(key: "\(file): name", reason: "dataset '\(dataset.name)' is defined twice")
            }
            for route in dataset.routes {
                if let other = routes[route] {
                    throw ConfigurationError(key: "\(file): routes", reason: "CloudEvent type '\(route)' is already routed to '\(other)'")
                }
                routes[route] = dataset.name
            }
            datasets.append(dataset)
        }
        return datasets
    }

    /// Parses one dataset definition.
    public static func parse(yaml: String, file: String = "<dataset>") throws(ConfigurationError) -> DatasetDefinition {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(key: file, reason: "not valid YAML: \(error)")
        }
        guard let root = node?.mapping else { throw ConfigurationError(key: file, reason: "a dataset file is a mapping") }
        let reader = NodeReader(mapping: root, path: "\(file): ")
        do {
            try reader.rejectUnknown(["name", "description", "routes", "dedup_key", "order_by", "time_column", "tenant_column", "retention_days", "fields", "rollup"])
            let name = try reader.requiredString("name")
            var fields: [FieldDefinition] = []
            let fieldNodes = try reader.mappings("fields")
            for (i, f) in fieldNodes.enumerated() {
                let fr = NodeReader(mapping: f, path: "\(file): fields[\(i)].")
                try fr.rejectUnknown(["name", "type", "from", "required", "default", "description"])
                let typeText = try fr.requiredString("type")
                let type: ColumnType
                do {
                    type = try ColumnType(parsing: typeText)
                } catch {
                    throw ConfigurationError(key: "\(file): fields[\(i)].type", reason: error.description)
                }
                var sources: [ValueSource] = []
                for s in try fr.strings("from") {
                    sources.append(try converting(key: "\(file): fields[\(i)].from") { () throws(CatalogError) in try ValueSource(parsing: s) })
                }
                fields.append(FieldDefinition(
                    name: try fr.requiredString("name"), type: type, sources: sources,
                    required: try fr.bool("required") ?? false, defaultValue: try fr.string("default"),
                    description: try fr.string("description")))
            }
            var dedup: [ValueSource] = []
            for s in try reader.strings("dedup_key") {
                dedup.append(try converting(key: "\(file): dedup_key") { () throws(CatalogError) in try ValueSource(parsing: s) })
            }
            var rollup: RollupDefinition?
            if let r = try reader.mapping("rollup") {
                let rr = NodeReader(mapping: r, path: "\(file): rollup.")
                try rr.rejectUnknown(["dimensions", "measures"])
                var dims: [RollupDimension] = []
                for (i, d) in try rr.mappings("dimensions").enumerated() {
                    let dr = NodeReader(mapping: d, path: "\(file): rollup.dimensions[\(i)].")
                    try dr.rejectUnknown(["name", "expression"])
                    dims.append(RollupDimension(name: try dr.requiredString("name"), expression: try dr.string("expression")))
                }
                var measures: [RollupMeasure] = []
                for (i, m) in try rr.mappings("measures").enumerated() {
                    let mr = NodeReader(mapping: m, path: "\(file): rollup.measures[\(i)].")
                    try mr.rejectUnknown(["name", "aggregate", "of", "condition", "levels"])
                    let aggText = try mr.requiredString("aggregate")
                    guard let agg = RollupMeasure.Aggregate(rawValue: aggText) else {
                        throw ConfigurationError(
                            key: "\(file): rollup.measures[\(i)].aggregate",
                            reason: "'\(aggText)' is not one of \(RollupMeasure.Aggregate.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    let levels = try mr.strings("levels").map { (s: String) throws(ConfigurationError) -> Double in
                        guard let v = Double(s) else { throw ConfigurationError(key: "\(file): rollup.measures[\(i)].levels", reason: "'\(s)' is not a number") }
                        return v
                    }
                    measures.append(RollupMeasure(
                        name: try mr.requiredString("name"), aggregate: agg, expression: try mr.string("of"),
                        condition: try mr.string("condition"), levels: levels))
                }
                rollup = RollupDefinition(dimensions: dims, measures: measures)
            }
            var retention: Int?
            if let r = try reader.string("retention_days") {
                guard let v = Int(r) else { throw ConfigurationError(key: "\(file): retention_days", reason: "'\(r)' is not a whole number of days") }
                retention = v
            }
            let dataset = DatasetDefinition(
                name: name, routes: try reader.strings("routes"), fields: fields, dedupKey: dedup,
                orderBy: try reader.strings("order_by"), timeColumn: try reader.requiredString("time_column"),
                tenantColumn: try reader.string("tenant_column"), retentionDays: retention, rollup: rollup)
            do {
                try dataset.validate(keyPrefix: "\(file): ")
            } catch {
                throw ConfigurationError(key: error.key, reason: error.reason)
            }
            return dataset
        }
    }

    private static func converting<T>(key: String, _ body: () throws(CatalogError) -> T) throws(ConfigurationError) -> T {
        do {
            return try body()
        } catch {
            throw ConfigurationError(key: key, reason: error.reason)
        }
    }
}

/// Reads one YAML mapping with errors that carry the full key path.
private struct NodeReader {
    let mapping: Node.Mapping
    let path: String

    func node(_ key: String) -> Node? { mapping[Node(key)] }

    func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let n = node(key) else { return nil }
        guard let s = n.scalar?.string else { throw ConfigurationError(key: path + key, reason: "must be a single value") }
        return s
    }

    func requiredString(_ key: String) throws(ConfigurationError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw ConfigurationError(key: path + key, reason: "is required") }
        return s
    }

    func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let s = try string(key) else { return nil }
        guard let b = ConfigParsers.bool(s) else { throw ConfigurationError(key: path + key, reason: "'\(s)' is not true or false") }
        return b
    }

    /// A list of values; a single value counts as a one-item list.
    func strings(_ key: String) throws(ConfigurationError) -> [String] {
        guard let n = node(key) else { return [] }
        if let s = n.scalar?.string { return [s] }
        guard let seq = n.sequence else { throw ConfigurationError(key: path + key, reason: "must be a list") }
        var out: [String] = []
        for (i, item) in seq.enumerated() {
            guard let s = item.scalar?.string else { throw ConfigurationError(key: "\(path)\(key)[\(i)]", reason: "must be a single value") }
            out.append(s)
        }
        return out
    }

    func mapping(_ key: String) throws(ConfigurationError) -> Node.Mapping? {
        guard let n = node(key) else { return nil }
        guard let m = n.mapping else { throw ConfigurationError(key: path + key, reason: "must be a mapping") }
        return m
    }

    func mappings(_ key: String) throws(ConfigurationError) -> [Node.Mapping] {
        guard let n = node(key) else { return [] }
        guard let seq = n.sequence else { throw ConfigurationError(key: path + key, reason: "must be a list of mappings") }
        var out: [Node.Mapping] = []
        for (i, item) in seq.enumerated() {
            guard let m = item.mapping else { throw ConfigurationError(key: "\(path)\(key)[\(i)]", reason: "must be a mapping") }
            out.append(m)
        }
        return out
    }

    func rejectUnknown(_ known: Set<String>) throws(ConfigurationError) {
        for (k, _) in mapping {
            guard let name = k.string else { continue }
            if !known.contains(name) {
                throw ConfigurationError(key: path + name, reason: "unknown key (expected one of: \(known.sorted().joined(separator: ", ")))")
            }
        }
    }
}
