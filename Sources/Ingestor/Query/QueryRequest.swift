/// `POST /v1/query`: the general query's request body, parsed and checked against the
/// catalog into a ``QuerySpec``.
///
/// | member | type | required | meaning |
/// |---|---|---|---|
/// | `dataset` | string | yes | `metrics`, `inference`, `gateway`, or an operator dataset (`GET /v1/catalog/datasets`) |
/// | `measures` | [string] | yes | measure names from the catalog, e.g. `count`, `avg`, `p95`, `errors_rate` |
/// | `from`, `to` | RFC 3339 | yes | the range `[from, to)`; at most `query.max_range` long |
/// | `bucket` | string | no | `1m` `5m` `15m` `1h` `1d` `1w` (epoch/Monday aligned), `N`+`m`/`h`/`d`/`w` (aligned to `from`), `1mo` `1q` `1y`, or `all` (default: one bucket) |
/// | `filters` | object | no | dimension → value (equality) or [values] (`IN`); map keys as `dimensions.region` |
/// | `group_by` | [string] | no | dimensions to group by |
/// | `top_k` | object | no | `{"n": 5, "by": "count", "order": "desc"}`: only the n groups ranked first by that measure over the whole range |
/// | `fill` | string | no | `none` (default), `zero` or `null`: emit every bucket of the range |
/// | `compare` | string | no | `previous_period` (the range shifted back by its length) or `previous_bucket`; adds `previous`, `delta`, `delta_percent` |
/// | `source` | string | no | `auto` (default: rollup when exact), `raw`, or `rollup` (400 if it cannot) |
///
/// The tenant is never a member: it comes from the request's ``QueryScope``.
public enum QueryRequest {
    static let members: Set<String> = ["dataset", "measures", "from", "to", "bucket", "filters", "group_by", "top_k", "fill", "compare", "source"]
    static let maxMeasures = 32
    static let maxFilterValues = 1000

    public static func parse(body: [UInt8], catalog: QueryCatalog) throws(QueryError) -> QuerySpec {
        let r = try JSONObjectReader.parse(body: body)
        try r.rejectUnknown(members)
        let name = try r.requiredString("dataset")
        guard let dataset = catalog.dataset(named: name) else { throw QueryError.invalid("dataset", "unknown dataset '\(name)'") }
        guard let measures = try r.strings("measures", max: maxMeasures), !measures.isEmpty else {
            throw QueryError.invalid("measures", "at least one measure is required")
        }
        for (i, m) in measures.enumerated() where dataset.measure(named: m) == nil {
            throw QueryError.invalid("measures[\(i)]", "unknown measure '\(m)' for dataset '\(name)'")
        }
        guard let from = try r.time("from") else { throw QueryError.invalid("from", "'from' is required") }
        guard let to = try r.time("to") else { throw QueryError.invalid("to", "'to' is required") }
        var bucket = TimeBucket.whole
        if let text = try r.string("bucket") {
            guard let b = TimeBucket(parsing: text) else {
                throw QueryError.invalid("bucket", "'\(text)' is not a bucket: use 1m, 5m, 15m, 1h, 1d, 1w, N plus m/h/d/w, 1mo, 1q, 1y or all")
            }
            bucket = b
        }
        let filters = try parseFilters(r.object("filters"), dataset: dataset)
        let groupBy = try r.strings("group_by", max: 8) ?? []
        for (i, g) in groupBy.enumerated() {
            guard dataset.dimension(named: g) != nil else { throw QueryError.invalid("group_by[\(i)]", "unknown dimension '\(g)' for dataset '\(name)'") }
            guard !groupBy[..<i].contains(g) else { throw QueryError.invalid("group_by[\(i)]", "'\(g)' is listed twice") }
        }
        var topK: QuerySpec.TopK?
        if let k = try r.object("top_k") {
            try k.rejectUnknown(["n", "by", "order"])
            guard let n = try k.int("n", in: 1...1_000_000) else { throw QueryError.invalid("top_k.n", "'n' is required") }
            let by = try k.string("by") ?? measures[0]
            guard dataset.measure(named: by) != nil else { throw QueryError.invalid("top_k.by", "unknown measure '\(by)'") }
            let order = try k.string("order") ?? "desc"
            guard order == "desc" || order == "asc" else { throw QueryError.invalid("top_k.order", "'\(order)' is not asc or desc") }
            guard !groupBy.isEmpty else { throw QueryError.invalid("top_k", "top_k needs group_by") }
            topK = QuerySpec.TopK(n: n, measure: by, ascending: order == "asc")
        }
        let fill = try enumValue(r, "fill", QuerySpec.GapFill.none)
        let compare = try enumValue(r, "compare", QuerySpec.Compare.none)
        let source = try enumValue(r, "source", QuerySpec.SourcePreference.auto)
        return QuerySpec(
            dataset: name, measures: measures, fromMs: from, toMs: to, bucket: bucket, filters: filters, groupBy: groupBy,
            topK: topK, fill: fill, compare: compare, source: source)
    }

    static func enumValue<E: RawRepresentable<String>>(_ r: JSONObjectReader, _ key: String, _ fallback: E) throws(QueryError) -> E {
        guard let text = try r.string(key) else { return fallback }
        guard let v = E(rawValue: text) else { throw QueryError.invalid(key, "'\(text)' is not a valid \(key)") }
        return v
    }

    /// `{"dimension": value}` or `{"dimension": [values]}`; each value is checked against
    /// the dimension's type and kept in canonical form.
    static func parseFilters(_ r: JSONObjectReader?, dataset: QueryDataset) throws(QueryError) -> [QuerySpec.Filter] {
        guard let r else { return [] }
        var out: [QuerySpec.Filter] = []
        for (key, value) in r.members {
            let parameter = r.name(key)
            guard let dim = dataset.dimension(named: key) else {
                throw QueryError.invalid(parameter, "unknown dimension '\(key)' for dataset '\(dataset.name)'")
            }
            let raw: [JSONInput]
            if case .array(let items) = value { raw = items } else { raw = [value] }
            guard !raw.isEmpty, raw.count <= maxFilterValues else {
                throw QueryError.invalid(parameter, "a filter needs 1 to \(maxFilterValues) values")
            }
            var values: [String] = []
            for item in raw {
                guard let text = item.scalarText, let canonical = QueryLiteral.canonical(text, kind: dim.kind) else {
                    throw QueryError.invalid(parameter, "\(item.scalarText.map { "'\($0)'" } ?? item.kindName) is not a valid \(dim.kind.rawValue) value")
                }
                if !values.contains(canonical) { values.append(canonical) }
            }
            out.append(QuerySpec.Filter(dimension: dim.name, values: values))
        }
        return out
    }
}
