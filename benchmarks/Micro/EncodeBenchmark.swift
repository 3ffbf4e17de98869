// Micro-benchmarks of the ClickHouse Native encoder: sort + encode + compress of a
// metrics-shaped batch, for the ClickHouse 18.16 table layout and the modern one.
//
//   swift build -c release --product SluiceBenchmarks && .build/release/SluiceBenchmarks [rows] [repeats]
//
// Single-threaded, so every figure is per core. Throughput in MB/s counts the
// uncompressed Native bytes produced.
#if canImport(Glibc)
import Glibc
#endif
import Pipeline
import Sinks

func runEncodeBenchmark(rows: Int, repeats: Int, only: String, writeNativeTo directory: String? = nil) {

    /// Deterministic pseudo-random numbers, so runs are comparable.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    let logicalSchema: [(name: String, type: ColumnType)] = [
        ("tenant_id", .lowCardinality(.string)),
        ("metric_name", .lowCardinality(.string)),
        ("value", .float64),
        ("timestamp", .dateTime64(precision: 3, timezone: "UTC")),
        ("dimensions", .map(key: .string, value: .string)),
        ("metadata", .map(key: .string, value: .string)),
        ("_event_key", .fixedString(16)),
        ("_ingested_at", .dateTime(timezone: nil)),
    ]
    let orderBy = ["tenant_id", "metric_name", "timestamp"]

    /// What `sluice migrate` creates on a modern server: the logical types as they are.
    let modernTable = [
        PhysicalColumn(name: "tenant_id", typeName: "LowCardinality(String)"),
        PhysicalColumn(name: "metric_name", typeName: "LowCardinality(String)"),
        PhysicalColumn(name: "value", typeName: "Float64"),
        PhysicalColumn(name: "timestamp", typeName: "DateTime64(3, 'UTC')"),
        PhysicalColumn(name: "dimensions", typeName: "Map(String, String)"),
        PhysicalColumn(name: "metadata", typeName: "Map(String, String)"),
        PhysicalColumn(name: "_event_key", typeName: "FixedString(16)"),
        PhysicalColumn(name: "_ingested_at", typeName: "DateTime"),
    ]

    /// ClickHouse 18.16: no LowCardinality, DateTime64 or Map.
    let legacyTable = [
        PhysicalColumn(name: "tenant_id", typeName: "String"),
        PhysicalColumn(name: "metric_name", typeName: "String"),
        PhysicalColumn(name: "value", typeName: "Float64"),
        PhysicalColumn(name: "timestamp", typeName: "DateTime('UTC')"),
        PhysicalColumn(name: "timestamp_ms", typeName: "UInt16"),
        PhysicalColumn(name: "dimensions.key", typeName: "Array(String)"),
        PhysicalColumn(name: "dimensions.value", typeName: "Array(String)"),
        PhysicalColumn(name: "metadata.key", typeName: "Array(String)"),
        PhysicalColumn(name: "metadata.value", typeName: "Array(String)"),
        PhysicalColumn(name: "_event_key", typeName: "FixedString(16)"),
        PhysicalColumn(name: "_ingested_at", typeName: "DateTime"),
    ]

    /// 1M metric samples arriving in time order over about a minute, tenants and metrics
    /// interleaved, as a real stream delivers them.
    func makeBatch(rows: Int) -> ColumnBatch {
        var rng = SplitMix(state: 2024)
        let tenants = (0..<20).map { "tenant-\(String($0 * 7919 % 10007, radix: 16))" }
        let metrics = (0..<200).map { i in
            ["http.server.duration", "cpu.usage", "memory.rss", "queue.depth", "disk.io"][i % 5] + ".\(i)"
        }
        let regions = ["us-east-1", "us-west-2", "eu-central-1", "ap-south-1"]
        let envs = ["prod", "staging"]
        let batch = ColumnBatch(schema: logicalSchema, expectedRows: rows)
        let c = batch.columns.map(\.buffer)
        let start: Int64 = 1_732_500_000_000
        for i in 0..<rows {
            c[0].append(string: tenants[rng.below(tenants.count)])
            c[1].append(string: metrics[rng.below(metrics.count)])
            c[2].append(Float64(rng.next() % 1_000_000) / 100)
            c[3].append(start + Int64(i) * 60_000 / Int64(rows) + Int64(rng.below(50)))
            let dims = c[4]
            dims.inner?.append(string: "region")
            dims.inner2?.append(string: regions[rng.below(regions.count)])
            dims.inner?.append(string: "host")
            dims.inner2?.append(string: "host-\(rng.below(500))")
            if rng.below(2) == 0 {
                dims.inner?.append(string: "env")
                dims.inner2?.append(string: envs[rng.below(envs.count)])
            }
            dims.finishCollectionRow()
            let meta = c[5]
            if rng.below(3) == 0 {
                meta.inner?.append(string: "source")
                meta.inner2?.append(string: "agent-\(rng.below(50))")
            }
            meta.finishCollectionRow()
            var key = (rng.next(), rng.next())
            withUnsafeBytes(of: &key) { c[6].append(bytes: $0) }
            c[7].append(UInt32(truncatingIfNeeded: start / 1000 + Int64(i) * 60 / Int64(rows)))
        }
        precondition(batch.isConsistent)
        return batch
    }

    /// CPU time of this thread: on a machine shared with compilers, wall time measures the
    /// neighbours as much as the code, CPU time much less so.
    func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    struct Measurement {
        var seconds: [Double] = []
        var cpu: [Double] = []
        var bytes = 0
        var outputBytes = 0
        var best: Double { seconds.min() ?? 0 }
        var bestCPU: Double { cpu.min() ?? 0 }
        var median: Double { seconds.sorted()[seconds.count / 2] }
    }

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func wanted(_ name: String) -> Bool { only.isEmpty || name.contains(only) }

    func measure(_ body: () throws -> (uncompressed: Int, output: Int)) rethrows -> Measurement {
        var m = Measurement()
        let clock = ContinuousClock()
        for _ in 0..<repeats {
            var result = (uncompressed: 0, output: 0)
            let cpuStart = threadCPUSeconds()
            let elapsed = try clock.measure { result = try body() }
            m.cpu.append(threadCPUSeconds() - cpuStart)
            m.seconds.append(seconds(elapsed))
            m.bytes = result.uncompressed
            m.outputBytes = result.output
        }
        return m
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    func fmt(_ v: Double, _ digits: Int = 2) -> String {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (v * p).rounded() / p
        return "\(r)"
    }

    func report(_ name: String, _ m: Measurement) {
        guard !m.seconds.isEmpty else { return }
        let rowsPerSecond = Double(rows) / m.bestCPU
        let mbPerSecond = Double(m.bytes) / m.bestCPU / 1e6
        var line = pad(name, 30) + pad(fmt(m.best * 1000, 1) + " ms", 11) + pad("(median " + fmt(m.median * 1000, 1) + ")", 17)
        line += pad(fmt(m.bestCPU * 1000, 1) + " ms", 11)
        line += pad(fmt(rowsPerSecond / 1e6, 2) + " M rows/s", 16) + pad(m.bytes > 0 ? fmt(mbPerSecond, 0) + " MB/s" : "", 12)
        if m.outputBytes > 0, m.outputBytes != m.bytes {
            line += "ratio " + fmt(Double(m.bytes) / Double(m.outputBytes), 2)
        }
        print(line)
    }

    print("Building \(rows) metric rows...")
    let batch = makeBatch(rows: rows)
    if let directory {
        // For benchmarks/server-sort: the same rows as Native blocks for the 18.16 table,
        // once in arrival order and once sorted by the ORDER BY key, so the server's CPU
        // per row can be compared on identical data.
        do {
            let plan = try NativeInsertPlan(logicalSchema: logicalSchema, table: legacyTable, orderBy: orderBy)
            for (name, sorted) in [("unsorted", false), ("sorted", true)] {
                let blob = try NativeEncoder.encodeBlock(batch, plan: plan, sorted: sorted)
                let path = directory + "/" + name + ".native"
                guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
                _ = blob.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
                print("\(path): \(blob.count) bytes, columns \(plan.insertColumnList)")
            }
        } catch {
            fatalError("\(error)")
        }
        return
    }
    print("batch: \(batch.byteCount / 1_000_000) MB in column buffers; best of \(repeats) runs, one core")
    print("columns: step, best wall time (median), best thread CPU time, rows/s and uncompressed MB/s per CPU second\n")

    do {
        // The frame checksum alone: CityHash128 over 1 MiB frames.
        let frame = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        var sink: UInt64 = 0
        let hashRounds = 200
        let hash = !wanted("CityHash") ? Measurement() : measure {
            frame.withUnsafeBytes { p in for _ in 0..<hashRounds { sink &+= CityHash128.hash(p).low } }
            return (hashRounds << 20, 0)
        }
        if !hash.cpu.isEmpty { print(pad("CityHash128, 1 MiB frames", 30) + fmt(Double(hash.bytes) / hash.bestCPU / 1e9, 2) + " GB/s per core"
            + (sink == 42 ? " " : "")) }
        print("")

        for (label, table) in [("ClickHouse 18.16 table", legacyTable), ("modern table", modernTable)] {
            let plan = try NativeInsertPlan(logicalSchema: logicalSchema, table: table, orderBy: orderBy)
            print("== \(label): \(plan.insertColumnList)")
            let sortOnly = !wanted("sort only") ? Measurement() : try measure {
                let order = try NativeEncoder.sortedRowOrder(of: batch, plan: plan)
                return (order.count, 0)
            }
            report("sort only (row order)", Measurement(seconds: sortOnly.seconds, cpu: sortOnly.cpu, bytes: 0, outputBytes: 0))
            let encodeOnly = !wanted("encode (no sort") ? Measurement() : try measure {
                let blob = try NativeEncoder.encodeBlock(batch, plan: plan, sorted: false)
                return (blob.count, blob.count)
            }
            report("encode (no sort, no frames)", encodeOnly)
            let sortEncode = !wanted("sort + encode") ? Measurement() : try measure {
                let blob = try NativeEncoder.encodeBlock(batch, plan: plan, sorted: true)
                return (blob.count, blob.count)
            }
            report("sort + encode", sortEncode)
            for (name, method) in [("sort + encode + NONE frames", CompressionMethod.none), ("sort + encode + LZ4", .lz4),
                                   ("sort + encode + ZSTD(1)", .zstd)] {
                let encoder = try NativeEncoder(compression: method)
                let m = !wanted(name) ? Measurement() : try measure {
                    let body = try encoder.encodeInsertBody(batch, plan: plan)
                    return (body.uncompressedBytes, body.body.count)
                }
                report(name, m)
            }
            print("")
        }
    } catch {
        print("benchmark failed: \(error)")
    }

}
