import Foundation
@testable import Ingestor
import Testing
import TestSupport

/// `sluice keys new` prints a key once and an entry that `sluice check-config` accepts;
/// a bad entry is refused naming the configuration key and the API key's name.
@Suite struct SecurityCLITests {
    @Test func keysNewPrintsAKeyOnceAndAnEntryCheckConfigAccepts() async throws {
        let made = try await ProcessRunner.run(SluiceDaemonProcess.binary, [
            "keys", "new", "--role", "ingest", "--tenant", "acme", "--expires", "2030-01-01T00:00:00Z", "--rate-limit", "10/s",
        ])
        let lines = made.stdout.split(separator: "\n").map(String.init)
        let key = try #require(lines.first)
        #expect(key.hasPrefix("slk_") && key.count == 47)
        let entry = lines.dropFirst().filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        #expect(entry.contains("hash: \"sha256:\(SHA256.hex(key))\""), "\(entry)")
        #expect(entry.contains("role: ingest") && entry.contains("tenant: \"acme\"") && entry.contains("rate_limit: 10/s"))
        #expect(lines.filter { $0.contains(key) }.count == 1, "the key is printed exactly once")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-cli-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = """
            clickhouse: {url: "http://127.0.0.1:1"}
            datasets: {paths: [\(RepositoryRoot.file("config/datasets"))]}
            auth:
              keys:

            """
        let good = directory + "/good.yaml"
        try (base + entry + "\n").write(toFile: good, atomically: true, encoding: .utf8)
        let checked = try await ProcessRunner.run(SluiceDaemonProcess.binary, ["check-config", "--config", good])
        #expect(checked.stdout.contains("role: ingest, tenant: \"acme\", expires: 2030-01-01T00:00:00Z, rate_limit: 10/s"), "\(checked.stdout)")
        #expect(!checked.stdout.contains(key))

        let bad = directory + "/bad.yaml"
        try (base + entry.replacingOccurrences(of: "role: ingest", with: "role: superuser") + "\n").write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await ProcessRunner.run(SluiceDaemonProcess.binary, ["check-config", "--config", bad], checked: false)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("auth.keys[0].role") && refused.stderr.contains("key 'ingest-acme-"), "\(refused.stderr)")
    }
}
