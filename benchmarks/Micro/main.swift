// Micro-benchmarks: `SluiceBenchmarks [events] [metrics|inference|gateway] [chunks=N]` runs
// the decode benchmark (all three datasets, 50 distinct chunks by default).
let arguments = CommandLine.arguments.dropFirst()
runDecodeBenchmark(
    events: arguments.compactMap { Int($0) }.first ?? 1_000_000,
    only: arguments.first { Int($0) == nil && !$0.hasPrefix("chunks=") },
    distinctChunks: arguments.first { $0.hasPrefix("chunks=") }.flatMap { Int($0.dropFirst(7)) } ?? 50)
