/// Reads the members of a request's JSON object, turning every problem into a `400` that
/// names the parameter, and rejecting members the API does not define (a misspelt
/// `group-by` must not silently return ungrouped data).
struct JSONObjectReader {
    let members: [(String, JSONInput)]
    let path: String

    init(_ value: JSONInput, path: String = "") throws(QueryError) {
        guard case .object(let m) = value else {
            throw QueryError.invalid(path.isEmpty ? "body" : path, "expected a JSON object, got \(value.kindName)")
        }
        members = m
        self.path = path
    }

    static func parse(body: [UInt8]) throws(QueryError) -> JSONObjectReader {
        guard body.count <= 1 << 20 else { throw QueryError.invalid("body", "the request body is larger than 1 MiB") }
        do {
            return try JSONObjectReader(JSONInput.parse(body))
        } catch let e as JSONInputError {
            throw QueryError.invalid("body", e.description)
        } catch let e as QueryError {
            throw e
        } catch {
            throw QueryError.invalid("body", "\(error)")
        }
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func rejectUnknown(_ allowed: Set<String>) throws(QueryError) {
        for (k, _) in members where !allowed.contains(k) {
            throw QueryError.invalid(name(k), "unknown parameter '\(k)'; expected one of \(allowed.sorted().joined(separator: ", "))")
        }
    }

    subscript(key: String) -> JSONInput? {
        guard let v = members.first(where: { $0.0 == key })?.1, v != .null else { return nil }
        return v
    }

    func string(_ key: String) throws(QueryError) -> String? {
        guard let v = self[key] else { return nil }
        guard case .string(let s) = v else { throw QueryError.invalid(name(key), "expected a string, got \(v.kindName)") }
        return s
    }

    func requiredString(_ key: String) throws(QueryError) -> String {
        guard let s = try string(key) else { throw QueryError.invalid(name(key), "'\(key)' is required") }
        return s
    }

    func bool(_ key: String) throws(QueryError) -> Bool? {
        guard let v = self[key] else { return nil }
        guard case .bool(let b) = v else { throw QueryError.invalid(name(key), "expected true or false, got \(v.kindName)") }
        return b
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(QueryError) -> Int? {
        guard let v = self[key] else { return nil }
        guard case .number(let text) = v, let n = Int(text), range.contains(n) else {
            throw QueryError.invalid(name(key), "expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    func strings(_ key: String, max: Int = 64) throws(QueryError) -> [String]? {
        guard let v = self[key] else { return nil }
        guard case .array(let items) = v else { throw QueryError.invalid(name(key), "expected an array of strings, got \(v.kindName)") }
        guard items.count <= max else { throw QueryError.invalid(name(key), "at most \(max) items") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw QueryError.invalid("\(name(key))[\(i)]", "expected a string, got \(item.kindName)") }
            out.append(s)
        }
        return out
    }

    func time(_ key: String) throws(QueryError) -> Int64? {
        guard let s = try string(key) else { return nil }
        guard let ms = QueryTime.parse(s) else { throw QueryError.invalid(name(key), "'\(s)' is not an RFC 3339 timestamp") }
        return ms
    }

    func object(_ key: String) throws(QueryError) -> JSONObjectReader? {
        guard let v = self[key] else { return nil }
        return try JSONObjectReader(v, path: name(key))
    }
}

extension JSONInput {
    /// The text of a scalar filter value: strings as they are, numbers as written,
    /// booleans as `true`/`false`; nil for arrays, objects and null.
    var scalarText: String? {
        switch self {
        case .string(let s): s
        case .number(let n): n
        case .bool(let b): b ? "true" : "false"
        default: nil
        }
    }
}
