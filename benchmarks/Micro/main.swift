// Micro-benchmarks (single thread, so every figure is per core):
//
//   SluiceBenchmarks encode [rows] [repeats] [step filter]
//       sort + encode + compress of a metrics-shaped batch (18.16 and modern tables)
//   SluiceBenchmarks decode [events] [metrics|inference|gateway] [chunks=N]
//       decode + route + validate of CloudEvents
//   SluiceBenchmarks native-files DIR [rows]
//       writes DIR/{sorted,unsorted}.native for benchmarks/server-sort/run.sh
//
// Build with `swift build -c release --product SluiceBenchmarks`.
var arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first.map { ["encode", "decode", "native-files"].contains($0) ? arguments.removeFirst() : "all" } ?? "all"

if mode == "native-files" {
    guard let directory = arguments.first else { fatalError("usage: SluiceBenchmarks native-files DIR [rows]") }
    runEncodeBenchmark(rows: arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000, repeats: 1, only: "", writeNativeTo: directory)
}

if mode == "encode" || mode == "all" {
    runEncodeBenchmark(
        rows: arguments.first.flatMap { Int($0) } ?? 1_000_000,
        repeats: arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5,
        only: mode == "encode" && arguments.count > 2 ? arguments[2] : "")
}
if mode == "decode" || mode == "all" {
    runDecodeBenchmark(
        events: arguments.compactMap { Int($0) }.first ?? 1_000_000,
        only: mode == "decode" ? arguments.first { Int($0) == nil && !$0.hasPrefix("chunks=") } : nil,
        distinctChunks: arguments.first { $0.hasPrefix("chunks=") }.flatMap { Int($0.dropFirst(7)) } ?? 50)
}
