import Foundation

/// Writes each send as a CloudEvents batch body (`application/cloudevents-batch+json`)
/// to `DIR/batch-<first index>.json` instead of sending it.
///
/// Why: a load test should measure Sluice, not the generator. Generating JSON costs about
/// as much CPU as ingesting it, so benchmarks write the bodies first and replay them with
/// curl (`benchmarks/http/run.sh`). The files also make a reproducible replay set.
public struct FilePublishTarget: PublishTarget {
    let directory: URL

    public init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    public func send(_ events: SyntheticEvents, range: Range<Int>) async throws -> Int {
        let body = "[" + range.map { events.cloudEvent($0) }.joined(separator: ",") + "]"
        // Zero-padded so that a sorted listing replays in generation order.
        let name = "batch-" + String(repeating: "0", count: max(0, 10 - String(range.lowerBound).count)) + String(range.lowerBound) + ".json"
        try Data(body.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
        return range.count
    }

    public func finish() async throws {}
}
