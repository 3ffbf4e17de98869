extension QueryResult {
    /// The `/v1/query` response body:
    ///
    /// ```json
    /// {"dataset": "metrics", "source": "rollup", "from": "...", "to": "...", "bucket": "1h",
    ///  "measures": ["count", "p95"], "group_by": ["metric_name"], "compare": "previous_period",
    ///  "series": [{"group": {"metric_name": "cpu"},
    ///              "points": [{"time": "2024-01-01T00:00:00Z", "values": {"count": 3, "p95": 0.9},
    ///                          "previous": {...}, "delta": {...}, "delta_percent": {...}}]}]}
    /// ```
    /// `previous`, `delta` and `delta_percent` appear only when the query compares.
    public var jsonBody: [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.field("dataset", dataset)
        w.field("source", source.rawValue)
        w.field("from", QueryTime.format(fromMs))
        w.field("to", QueryTime.format(toMs))
        w.field("bucket", bucket.description)
        w.key("measures")
        w.beginArray()
        for m in measures { w.string(m.name) }
        w.endArray()
        w.key("group_by")
        w.beginArray()
        for g in groupBy { w.string(g.name) }
        w.endArray()
        if compare != .none { w.field("compare", compare.rawValue) }
        w.key("series")
        w.beginArray()
        for s in series {
            w.beginObject()
            w.key("group")
            writeGroup(s.group, into: &w)
            w.key("points")
            w.beginArray()
            for p in s.points {
                w.beginObject()
                w.field("time", QueryTime.format(p.start * 1000))
                w.key("values")
                writeValues(p.values, into: &w)
                if let previous = p.previous {
                    w.key("previous")
                    writeValues(previous, into: &w)
                    w.key("delta")
                    w.beginObject()
                    for (i, m) in measures.enumerated() { w.key(m.name); Self.write(p.delta(i), into: &w) }
                    w.endObject()
                    w.key("delta_percent")
                    w.beginObject()
                    for (i, m) in measures.enumerated() { w.key(m.name); Self.write(p.deltaPercent(i), into: &w) }
                    w.endObject()
                }
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    func writeGroup(_ group: [String?], into w: inout JSONWriter) {
        w.beginObject()
        for (d, v) in zip(groupBy, group) {
            w.key(d.name)
            Self.writeDimensionValue(v, kind: d.kind, into: &w)
        }
        w.endObject()
    }

    func writeValues(_ values: [Value?], into w: inout JSONWriter) {
        w.beginObject()
        for (m, v) in zip(measures, values) {
            w.key(m.name)
            Self.write(v, into: &w)
        }
        w.endObject()
    }

    static func write(_ v: Value?, into w: inout JSONWriter) {
        switch v {
        case nil: w.null()
        case .number(let d)?: w.double(d)
        case .time(let ms)?: w.string(QueryTime.format(ms))
        case .text(let s)?: w.string(s)
        }
    }

    static func write(_ d: Double?, into w: inout JSONWriter) {
        if let d { w.double(d) } else { w.null() }
    }

    /// Numbers as JSON numbers, booleans as JSON booleans, the rest as strings.
    static func writeDimensionValue(_ v: String?, kind: QueryValueKind, into w: inout JSONWriter) {
        guard let v else { return w.null() }
        switch kind {
        case .int, .uint:
            if let i = Int(v) { w.int(i) } else { w.string(v) }
        case .float:
            if let d = Double(v) { w.double(d) } else { w.string(v) }
        case .bool:
            w.bool(v == "1" || v == "true")
        case .string, .uuid:
            w.string(v)
        }
    }
}
