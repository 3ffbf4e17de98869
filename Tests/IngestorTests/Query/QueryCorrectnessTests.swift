import Ingestor
import Testing

/// `/v1/query` answers match the numbers computed here from the generated events (never
/// read back from ClickHouse): buckets, custom alignment, gap filling, comparisons,
/// top-k, filters and group-by, on the real ClickHouse 18.16.
@Suite struct QueryCorrectnessTests {
    static let base = QueryFixture.base
    static let hour = QueryFixture.hour
    static let day = QueryFixture.day

    func post(_ api: QueryAPI, _ body: String, tenant: String? = nil) async -> QueryHTTPResponse {
        await api.handle(.post("/v1/query", json: body, headers: tenant.map { [("X-Tenant-ID", $0)] } ?? []))
    }

    func time(_ p: JSONInput) -> Int64 { QueryTime.parse(p["time"]?.string ?? "") ?? -1 }

    @Test func hourlyAggregatesPerMetricMatchTheEvents() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let r = await post(api, """
            {"dataset":"metrics","measures":["count","sum","min","max","avg"],"from":"\(iso(Self.base))","to":"\(iso(Self.base + 3 * Self.day))",
             "bucket":"1h","group_by":["metric_name"]}
            """, tenant: "t1")
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["source"]?.string == "rollup")
        var expected: [String: [Int64: [Double]]] = [:]
        for e in f.metrics where e.tenant == "t1" { expected[e.metric, default: [:]][e.ms / Self.hour * Self.hour, default: []].append(e.value) }
        let series = r.json["series"]?.array ?? []
        #expect(series.count == expected.count)
        var checked = 0
        for s in series {
            let buckets = expected[s["group"]?["metric_name"]?.string ?? ""] ?? [:]
            let points = s["points"]?.array ?? []
            #expect(points.count == buckets.count)
            for p in points {
                let values = buckets[time(p)] ?? []
                #expect(p["values"]?["count"]?.double == Double(values.count))
                #expect(close(p["values"]?["sum"]?.double, values.reduce(0, +)))
                #expect(p["values"]?["min"]?.double == values.min())
                #expect(p["values"]?["max"]?.double == values.max())
                #expect(close(p["values"]?["avg"]?.double, values.reduce(0, +) / Double(values.count)))
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    @Test func customBucketsAlignToFrom() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let from = Self.base + 90 * 60_000, to = Self.base + 2 * Self.day + 30 * 60_000, step = 7 * Self.hour
        let r = await post(api, """
            {"dataset":"metrics","measures":["count"],"from":"\(iso(from))","to":"\(iso(to))","bucket":"7h","filters":{"metric_name":"cpu"}}
            """, tenant: "t2")
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["source"]?.string == "raw")
        var expected: [Int64: Int] = [:]
        for e in f.metrics where e.tenant == "t2" && e.metric == "cpu" && e.ms >= from && e.ms < to {
            expected[from + (e.ms - from) / step * step, default: 0] += 1
        }
        let points = r.json["series"]?[0]?["points"]?.array ?? []
        #expect(points.count == expected.count)
        #expect(points.first.map(time) == from)
        for p in points {
            #expect((time(p) - from) % step == 0)
            #expect(p["values"]?["count"]?.double == Double(expected[time(p)] ?? -1))
        }
    }

    @Test func standardBucketsAlignToTheEpochAndWeeksToMonday() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let from = Self.base + 6 * Self.hour, to = Self.base + 3 * Self.day
        let r = await post(api, """
            {"dataset":"metrics","measures":["count"],"from":"\(iso(from))","to":"\(iso(to))","bucket":"1d"}
            """)
        #expect(r.status == 200, "\(r.text)")
        var expected: [Int64: Int] = [:]
        for e in f.metrics where e.ms >= from && e.ms < to { expected[e.ms / Self.day * Self.day, default: 0] += 1 }
        let points = r.json["series"]?[0]?["points"]?.array ?? []
        #expect(points.map(time) == expected.keys.sorted())
        for p in points { #expect(p["values"]?["count"]?.double == Double(expected[time(p)] ?? -1)) }

        let w = await post(api, """
            {"dataset":"metrics","measures":["count"],"from":"\(iso(Self.base - 3 * Self.day))","to":"\(iso(to))","bucket":"1w","fill":"zero"}
            """)
        // 2024-01-01 is a Monday: the week bucket starts there, and the range's first
        // days fall into the week before (2023-12-25).
        #expect(w.json["series"]?[0]?["points"]?.array.map(time) == [Self.base - 7 * Self.day, Self.base])
        #expect(w.json["series"]?[0]?["points"]?[1]?["values"]?["count"]?.double == Double(f.metrics.filter { $0.ms < to }.count))
    }

    @Test func gapFillingEmitsEveryBucketWithZerosOrNulls() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let from = Self.base, to = Self.base + 6 * Self.hour, step: Int64 = 15 * 60_000
        var expected = [Int](repeating: 0, count: 24)
        for e in f.metrics where e.tenant == "t2" && e.metric == "disk" && e.label("region") == "ap" && e.ms >= from && e.ms < to {
            expected[Int((e.ms - from) / step)] += 1
        }
        #expect(expected.contains(0) && expected.contains { $0 > 0 }, "the data must have gaps for this test to mean anything")
        for fill in ["zero", "null"] {
            let r = await post(api, """
                {"dataset":"metrics","measures":["count","max"],"from":"\(iso(from))","to":"\(iso(to))","bucket":"15m","fill":"\(fill)",
                 "filters":{"metric_name":"disk","dimensions.region":"ap"}}
                """, tenant: "t2")
            #expect(r.status == 200, "\(r.text)")
            let points = r.json["series"]?[0]?["points"]?.array ?? []
            #expect(points.map(time) == (0..<24).map { from + Int64($0) * step })
            for (i, p) in points.enumerated() {
                if expected[i] == 0 {
                    #expect(fill == "zero" ? p["values"]?["count"]?.double == 0 : p["values"]?["count"]?.isNull == true)
                } else {
                    #expect(p["values"]?["count"]?.double == Double(expected[i]))
                }
            }
        }
    }

    @Test func previousPeriodComparisonGivesDeltas() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let from = Self.base + 2 * Self.day, to = Self.base + 3 * Self.day, step = 12 * Self.hour
        let p0 = QueryFixture.projects[0]
        let r = await post(api, """
            {"dataset":"inference","measures":["requests","cost"],"from":"\(iso(from))","to":"\(iso(to))","bucket":"12h","compare":"previous_period"}
            """, tenant: p0)
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["source"]?.string == "rollup")
        func stats(_ lo: Int64) -> (Double, Double) {
            let es = f.inference.filter { $0.project == p0 && $0.ms >= lo && $0.ms < lo + step }
            return (Double(es.count), es.reduce(0) { $0 + ($1.cost ?? 0) })
        }
        let points = r.json["series"]?[0]?["points"]?.array ?? []
        #expect(points.count == 2)
        for p in points {
            let (count, cost) = stats(time(p))
            let (prevCount, prevCost) = stats(time(p) - Self.day)
            #expect(p["values"]?["requests"]?.double == count)
            #expect(close(p["values"]?["cost"]?.double, cost))
            #expect(p["previous"]?["requests"]?.double == prevCount)
            #expect(p["delta"]?["requests"]?.double == count - prevCount)
            #expect(close(p["delta_percent"]?["requests"]?.double, (count - prevCount) / prevCount * 100))
            #expect(close(p["delta"]?["cost"]?.double, cost - prevCost, 1e-6))
        }
    }

    @Test func topKKeepsTheGroupsRankedFirstOverTheWholeRange() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        var totals: [String: Int] = [:]
        for e in f.inference { totals[e.project, default: 0] += 1 }
        let ranked = totals.sorted { $0.value > $1.value }.map(\.key)
        for (order, want) in [("desc", Array(ranked.prefix(2))), ("asc", [ranked[2]])] {
            let n = want.count
            let r = await post(api, """
                {"dataset":"inference","measures":["requests"],"from":"\(iso(Self.base))","to":"\(iso(Self.base + 3 * Self.day))","bucket":"1d",
                 "group_by":["project_id"],"top_k":{"n":\(n),"by":"requests","order":"\(order)"}}
                """)
            #expect(r.status == 200, "\(r.text)")
            let series = r.json["series"]?.array ?? []
            #expect(Set(series.compactMap { $0["group"]?["project_id"]?.string }) == Set(want))
            for s in series {
                let project = s["group"]?["project_id"]?.string ?? ""
                for p in s["points"]?.array ?? [] {
                    let count = f.inference.filter { $0.project == project && $0.ms / Self.day * Self.day == time(p) }.count
                    #expect(p["values"]?["requests"]?.double == Double(count))
                }
            }
        }
    }

    @Test func equalityAndInFiltersWithSeveralGroups() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let m0 = QueryFixture.models[0], p = QueryFixture.projects
        let r = await post(api, """
            {"dataset":"inference","measures":["requests","successes","failures_rate","input_tokens"],
             "from":"\(iso(Self.base))","to":"\(iso(Self.base + 3 * Self.day))",
             "filters":{"model_id":"\(m0)","project_id":["\(p[0])","\(p[2])"]},"group_by":["project_id","endpoint_id"]}
            """)
        #expect(r.status == 200, "\(r.text)")
        var expected: [String: [InferenceEvent]] = [:]
        for e in f.inference where e.model == m0 && (e.project == p[0] || e.project == p[2]) {
            expected["\(e.project)/\(e.endpoint)", default: []].append(e)
        }
        let series = r.json["series"]?.array ?? []
        #expect(series.count == expected.count)
        for s in series {
            let key = "\(s["group"]?["project_id"]?.string ?? "")/\(s["group"]?["endpoint_id"]?.string ?? "")"
            let es = expected[key] ?? []
            let v = s["points"]?[0]?["values"]
            #expect(v?["requests"]?.double == Double(es.count))
            #expect(v?["successes"]?.double == Double(es.filter(\.success).count))
            #expect(close(v?["failures_rate"]?.double, Double(es.filter { !$0.success }.count) / Double(es.count)))
            #expect(v?["input_tokens"]?.double == Double(es.reduce(0) { $0 + $1.input }))
        }
    }

    /// The same question from the rollup and from the raw table: counts and sums equal,
    /// quantiles within t-digest tolerance.
    @Test(arguments: [
        ("metrics", ["count", "sum", "min", "max", "avg", "p50", "p95", "p99"], ["metric_name"], "t1"),
        ("inference", ["requests", "successes", "failures", "cost", "input_tokens", "output_tokens", "latency_ms_p50", "latency_ms_p99"], ["project_id", "model_id"], nil),
        ("gateway", ["requests", "errors", "blocked", "total_tokens", "cost", "unique_clients", "response_time_ms_avg", "response_time_ms_p95"], ["country_code", "status_class"], nil),
    ])
    func rollupAgreesWithRaw(dataset: String, measures: [String], groups: [String], tenant: String?) async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        func ask(_ source: String) async -> JSONInput {
            let measureList = measures.map { "\"\($0)\"" }.joined(separator: ",")
            let groupList = groups.map { "\"\($0)\"" }.joined(separator: ",")
            let r = await post(api, """
                {"dataset":"\(dataset)","measures":[\(measureList)],"from":"\(iso(Self.base))","to":"\(iso(Self.base + 3 * Self.day))",
                 "bucket":"6h","group_by":[\(groupList)],"source":"\(source)"}
                """, tenant: tenant)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json["source"]?.string == source)
            return r.json
        }
        let rollup = await ask("rollup"), raw = await ask("raw")
        let a = rollup["series"]?.array ?? [], b = raw["series"]?.array ?? []
        #expect(a.count == b.count && !a.isEmpty)
        var compared = 0
        for (x, y) in zip(a, b) {
            #expect(x["group"] == y["group"])
            for (p, q) in zip(x["points"]?.array ?? [], y["points"]?.array ?? []) {
                #expect(p["time"] == q["time"])
                for m in measures {
                    let u = p["values"]?[m]?.double, v = q["values"]?[m]?.double
                    if m.contains("_p") || ["p50", "p95", "p99"].contains(m) {
                        #expect(close(u, v, 0.05), "\(m): rollup \(String(describing: u)), raw \(String(describing: v))")
                    } else {
                        #expect(close(u, v, 1e-9), "\(m): rollup \(String(describing: u)), raw \(String(describing: v))")
                    }
                    compared += 1
                }
            }
        }
        #expect(compared > 50)
    }

    @Test func quantilesAreCloseToTheExactOnes() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let r = await post(api, """
            {"dataset":"metrics","measures":["p50","p95","p99"],"from":"\(iso(Self.base))","to":"\(iso(Self.base + 3 * Self.day))",
             "group_by":["metric_name"]}
            """, tenant: "t1")
        #expect(r.status == 200, "\(r.text)")
        for s in r.json["series"]?.array ?? [] {
            let name = s["group"]?["metric_name"]?.string ?? ""
            let values = f.metrics.filter { $0.tenant == "t1" && $0.metric == name }.map(\.value)
            for (m, level) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
                #expect(quantileClose(s["points"]?[0]?["values"]?[m]?.double, values, level), "\(name) \(m)")
            }
        }
    }

    @Test func forcingTheRollupWhenItCannotAnswerNamesTheObstacle() async throws {
        let f = try await QueryFixture.shared()
        let (api, _) = f.api()
        let r = await post(api, """
            {"dataset":"metrics","measures":["count"],"from":"\(iso(Self.base))","to":"\(iso(Self.base + Self.day))","bucket":"1h",
             "group_by":["dimensions.region"],"source":"rollup"}
            """)
        #expect(r.status == 400)
        #expect(r.json["parameter"]?.string == "group_by[0]")
    }
}
