import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// librdkafka's mock Kafka cluster, in its own process (`sluice-kafka-mock`), for tests
/// that need a broker over TCP: it runs consumer groups and offset commits, and can take
/// a broker down and bring it back.
///
/// Known limits (librdkafka 2.0.2): each partition keeps only about its last 10,000
/// records (5 MiB), so tests keep every partition's backlog well below that; taking a
/// broker down does not move partition leadership.
///
/// The cluster lives in a child process so a test can SIGKILL the daemon under test
/// without losing the broker. It exits when ``stop()`` is called, when its stdin closes
/// (the test process died), or at the latest when the test process exits.
public final class KafkaMockCluster: Sendable {
    /// `host:port,host:port,...` of every broker.
    public let bootstrap: String
    public let brokers: Int
    public var pid: Int32 { process.pid }

    private let process: BackgroundProcess
    private let replies = Locked(0)

    private init(process: BackgroundProcess, bootstrap: String, brokers: Int) {
        self.process = process
        self.bootstrap = bootstrap
        self.brokers = brokers
    }

    /// The helper binary: `$SLUICE_BIN_DIR/sluice-kafka-mock`, or the release build in
    /// this repository.
    public static var executable: String {
        let dir = ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? RepositoryRoot.file(".build/release")
        return URL(fileURLWithPath: dir).appendingPathComponent("sluice-kafka-mock").path
    }

    /// Starts a cluster of `brokers` brokers with the given topics (name, partitions).
    public static func start(brokers: Int = 3, topics: [(String, Int)] = []) async throws -> KafkaMockCluster {
        let exe = executable
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw ProcessRunner.Failure(command: exe, result: nil, reason: "not built (swift build -c release builds sluice-kafka-mock)")
        }
        var args = ["--brokers", "\(brokers)"]
        for (name, partitions) in topics { args += ["--topic", "\(name):\(partitions)"] }
        let process = try BackgroundProcess(exe, args, stdinPipe: true)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let line = process.standardOutput.split(separator: "\n").first(where: { $0.hasPrefix("bootstrap ") }) {
                return KafkaMockCluster(process: process, bootstrap: String(line.dropFirst("bootstrap ".count)), brokers: brokers)
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await process.kill9()
        throw ProcessRunner.Failure(command: process.command, result: nil, reason: "no bootstrap address: \(process.standardError)")
    }

    /// Disconnects broker `id` (1-based) and refuses new connections.
    public func setBrokerDown(_ id: Int) async throws { try await command("down \(id)") }
    /// Lets broker `id` accept connections again.
    public func setBrokerUp(_ id: Int) async throws { try await command("up \(id)") }
    /// Creates a topic (existing ones are kept).
    public func createTopic(_ name: String, partitions: Int) async throws { try await command("topic \(name) \(partitions)") }

    /// Sends a command and waits for its `ok`.
    public func command(_ line: String) async throws {
        let expected = replies.withLock { n -> Int in
            n += 1
            return n
        }
        try process.send(line)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let answers = process.standardOutput.split(separator: "\n").dropFirst()
            if answers.count >= expected {
                let answer = answers[answers.startIndex + expected - 1]
                guard answer == "ok" else {
                    throw ProcessRunner.Failure(command: "sluice-kafka-mock \(line)", result: nil, reason: String(answer))
                }
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ProcessRunner.Failure(command: "sluice-kafka-mock \(line)", result: nil, reason: "no answer")
    }

    /// Stops the cluster (by PID, SIGKILL if it does not quit).
    public func stop() async {
        try? process.send("quit")
        if await process.waitForExit(timeout: .seconds(3)) { return }
        await process.kill9()
    }
}
