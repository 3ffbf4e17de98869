import Pipeline
import Sinks

/// Discovery: what can be queried.
///
/// - `GET /v1/catalog/datasets` → `{"datasets": [{"name", "time_column", "tenant_column",
///   "fields": [{"name", "type"}], "dimensions": [{"name", "type", "rollup"}],
///   "label_maps": ["dimensions"], "measures": [{"name", "type", "rollup", "description"}],
///   "rollup": {"table", "dimensions", "measures"} | null}]}`. No ClickHouse access.
/// - `GET /v1/catalog/metrics[?dataset=metrics&from=&to=]` → `{"dataset", "metrics": [...]}`:
///   the distinct `metric_name`s the caller's tenant has (from the rollup when there is one).
/// - `GET /v1/catalog/labels[?dataset=metrics&metric_name=&from=&to=]` →
///   `{"dataset", "labels": [...]}`: the keys of the dataset's map field (`dimensions`).
/// - `GET /v1/catalog/labels/{name}/values[?...]` → `{"dataset", "label", "values": [...]}`:
///   the values of a map key, or of a catalog dimension such as `country_code`.
///
/// Label queries scan raw rows, so their range defaults to the last day and is bounded by
/// `query.max_range`; every answer is tenant-scoped and capped at `query.max_rows`.
extension QueryAPI {
    func catalogDatasets() -> [UInt8] {
        JSONWriter.object { w in
            w.key("datasets")
            w.beginArray()
            for d in service.catalog.datasets {
                let def = d.definition
                w.beginObject()
                w.field("name", d.name)
                w.field("time_column", def.timeColumn)
                w.key("tenant_column")
                if let t = def.tenantColumn { w.string(t) } else { w.null() }
                w.key("fields")
                w.beginArray()
                for f in def.fields {
                    w.beginObject()
                    w.field("name", f.name)
                    w.field("type", f.type.name)
                    if let description = f.description { w.field("description", description) }
                    w.endObject()
                }
                w.endArray()
                w.key("dimensions")
                w.beginArray()
                for dim in d.dimensions {
                    w.beginObject()
                    w.field("name", dim.name)
                    w.field("type", dim.kind.rawValue)
                    w.field("rollup", dim.inRollup)
                    w.endObject()
                }
                w.endArray()
                w.key("label_maps")
                w.beginArray()
                for m in d.mapFields { w.string(m) }
                w.endArray()
                w.key("measures")
                w.beginArray()
                for m in d.measures {
                    w.beginObject()
                    w.field("name", m.name)
                    w.field("type", m.valueType.rawValue)
                    w.field("rollup", m.inRollup)
                    w.field("description", m.description)
                    w.endObject()
                }
                w.endArray()
                w.key("rollup")
                if let rollup = def.rollup {
                    w.beginObject()
                    w.field("table", def.rollupTableName)
                    w.key("dimensions")
                    w.beginArray()
                    for x in rollup.dimensions { w.string(x.name) }
                    w.endArray()
                    w.key("measures")
                    w.beginArray()
                    for x in rollup.measures { w.string(x.name) }
                    w.endArray()
                    w.endObject()
                } else {
                    w.null()
                }
                w.endObject()
            }
            w.endArray()
        }
    }

    /// The dataset named by `?dataset=`, or the first with the field the route needs.
    func catalogDataset(_ r: QueryHTTPRequest, needing predicate: (QueryDataset) -> Bool, what: String) throws(QueryError) -> QueryDataset {
        if let name = r.parameter("dataset") {
            let d = try service.dataset(name)
            guard predicate(d) else { throw QueryError.invalid("dataset", "dataset '\(name)' has no \(what)") }
            return d
        }
        guard let d = service.catalog.datasets.first(where: predicate) else {
            throw QueryError(kind: .notFound, message: "no dataset has \(what)")
        }
        return d
    }

    /// `from`/`to` query parameters, defaulting to the last `defaultSpan`.
    func catalogRange(_ r: QueryHTTPRequest, defaultSpan: Int64) throws(QueryError) -> (Int64, Int64) {
        let to = try timeParameter(r, "to", default: Self.nowMs())
        let from = try timeParameter(r, "from", default: to - min(defaultSpan, Int64(service.configuration.maxRange.components.seconds) * 1000))
        try service.checkRange(fromMs: from, toMs: to)
        return (from, to)
    }

    func distinct(
        _ dataset: QueryDataset, expression: (QuerySQLBuilder, QuerySource) -> String, extra: (QuerySQLBuilder, QuerySource) -> [String],
        filters: [QuerySpec.Filter], range: (Int64, Int64)?, preferRollup: Bool, scope: QueryScope
    ) async throws(QueryError) -> [String] {
        let builder = try await service.builder(dataset, scope: scope)
        let (from, to) = range ?? (0, 0)
        var source = QuerySource.raw
        if preferRollup, dataset.hasRollup, range == nil || (from % 3_600_000 == 0 && to % 3_600_000 == 0) { source = .rollup }
        let spec = QuerySpec(dataset: dataset.name, measures: [], fromMs: from, toMs: to, filters: filters)
        var conds = try builder.conditions(spec, source, fromMs: from, toMs: to)
        if range == nil { conds.removeFirst() }
        conds += extra(builder, source)
        let expr = expression(builder, source)
        let sql = """
            SELECT DISTINCT \(expr) AS \(ClickHouseSQL.quoteIdentifier("_v")) FROM \(builder.table(source))
            \(conds.isEmpty ? "" : "WHERE " + conds.joined(separator: " AND "))
            ORDER BY \(ClickHouseSQL.quoteIdentifier("_v")) LIMIT \(service.maxRows + 1) FORMAT TabSeparated
            """
        let rows = try await service.cachedRows(sql, scope: scope)
        guard rows.count <= service.maxRows else { throw service.rowLimitError() }
        return rows.compactMap { $0.first ?? nil }.filter { !$0.isEmpty }
    }

    func catalogMetrics(_ r: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let dataset = try catalogDataset(r, needing: { $0.dimension(named: "metric_name") != nil }, what: "metric_name")
        var range: (Int64, Int64)?
        if r.parameter("from") != nil || r.parameter("to") != nil { range = try catalogRange(r, defaultSpan: 86_400_000) }
        let dim = dataset.dimension(named: "metric_name")
        let names = try await distinct(
            dataset, expression: { b, s in dim?.sql(rollup: s == .rollup, dialect: b.dialect) ?? "''" }, extra: { _, _ in [] },
            filters: [], range: range, preferRollup: dim?.inRollup == true, scope: scope)
        return JSONWriter.object { w in
            w.field("dataset", dataset.name)
            w.key("metrics")
            w.beginArray()
            for n in names { w.string(n) }
            w.endArray()
        }
    }

    func labelFilters(_ r: QueryHTTPRequest, dataset: QueryDataset) throws(QueryError) -> [QuerySpec.Filter] {
        guard let metric = r.parameter("metric_name") else { return [] }
        guard let f = try filter(dataset.name, "metric_name", [metric], parameter: "metric_name") else { return [] }
        return [f]
    }

    func catalogLabels(_ r: QueryHTTPRequest, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let dataset = try catalogDataset(r, needing: { !$0.mapFields.isEmpty }, what: "label map")
        let map = dataset.mapFields[0]
        let range = try catalogRange(r, defaultSpan: 86_400_000)
        let filters = try labelFilters(r, dataset: dataset)
        let keys = try await distinct(
            dataset,
            expression: { b, _ in
                b.dialect.map ? "arrayJoin(mapKeys(\(ClickHouseSQL.quoteIdentifier(map))))" : "arrayJoin(\(ClickHouseSQL.quoteIdentifier("\(map).key")))"
            },
            extra: { _, _ in [] }, filters: filters, range: range, preferRollup: false, scope: scope)
        return JSONWriter.object { w in
            w.field("dataset", dataset.name)
            w.key("labels")
            w.beginArray()
            for k in keys { w.string(k) }
            w.endArray()
        }
    }

    func catalogLabelValues(_ r: QueryHTTPRequest, name: String, scope: QueryScope) async throws(QueryError) -> [UInt8] {
        let explicit = r.parameter("dataset") != nil
        let dataset = try catalogDataset(r, needing: { explicit || !$0.mapFields.isEmpty }, what: "label map")
        let dimension: QueryDimension
        var extra: (QuerySQLBuilder, QuerySource) -> [String] = { _, _ in [] }
        if let plain = dataset.dimensions.first(where: { $0.name == name }) {
            dimension = plain
        } else {
            guard let map = dataset.mapFields.first, QueryDataset.isValidLabelKey(name), let d = dataset.dimension(named: "\(map).\(name)") else {
                throw QueryError.invalid("name", "'\(name)' is not a label or dimension of dataset '\(dataset.name)'")
            }
            dimension = d
            let key = ClickHouseSQL.quoteString(name)
            extra = { b, _ in
                [b.dialect.map ? "mapContains(\(ClickHouseSQL.quoteIdentifier(map)), \(key))" : "has(\(ClickHouseSQL.quoteIdentifier("\(map).key")), \(key))"]
            }
        }
        let range = try catalogRange(r, defaultSpan: 86_400_000)
        let filters = try labelFilters(r, dataset: dataset)
        let values = try await distinct(
            dataset, expression: { b, s in dimension.sql(rollup: s == .rollup, dialect: b.dialect) }, extra: extra,
            filters: filters, range: range, preferRollup: false, scope: scope)
        return JSONWriter.object { w in
            w.field("dataset", dataset.name)
            w.field("label", name)
            w.key("values")
            w.beginArray()
            for v in values { w.string(v) }
            w.endArray()
        }
    }
}
