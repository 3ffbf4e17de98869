import Foundation
import Testing
import TestSupport

/// The real-server fixtures other suites build on. They live here because SinksTests is
/// the first test target that uses them.
@Suite("Test server fixtures")
struct ServerFixtureTests {
    @Test func sharedClickHouseIsStartedOnceAndIsOurs() async throws {
        let first = try await ClickHouseServer.shared()
        let second = try await ClickHouseServer.shared()
        #expect(first === second)
        #expect(first.directory.contains("sluice-test-clickhouse-\(ProcessInfo.processInfo.processIdentifier)-"))
        #expect(try await first.query("SELECT version()") == "18.16.1\n")
    }

    @Test func eachTestGetsItsOwnDatabase() async throws {
        let server = try await ClickHouseServer.shared()
        let a = try await server.makeDatabase(prefix: "Fixture Test")
        let b = try await server.makeDatabase(prefix: "Fixture Test")
        #expect(a != b)
        #expect(a.hasPrefix("fixture_test_"))
        let names = try await server.query("SELECT name FROM system.databases WHERE name IN ('\(a)', '\(b)') ORDER BY name")
        #expect(names == [a, b].sorted().joined(separator: "\n") + "\n")
    }

    @Test func freePortsAreDistinctAndBindable() throws {
        let ports = try FreePort.next(count: 4)
        #expect(Set(ports).count == 4)
        #expect(ports.allSatisfy { (1024...65535).contains($0) })
        // Never from the kernel's ephemeral range, where outgoing connections take
        // their local ports.
        #expect(ports.allSatisfy { FreePort.range.contains($0) })
        if let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
           let low = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap({ Int($0) }) {
            #expect(ports.allSatisfy { $0 < low })
        }
    }

    @Test func sharedRedisAnswers() async throws {
        let redis = try await RedisServer.shared()
        #expect(try await redis.cli("PING") == "PONG")
        #expect(redis.url == "redis://127.0.0.1:\(redis.port)")
    }

    @Test func privateRedisWithAppendOnlyKeepsDataAcrossARestart() async throws {
        let redis = try await RedisServer.startPrivate(appendOnly: true)
        do {
            try await redis.cli("SET", "fixture:key", "kept")
            // appendfsync everysec: ask for the AOF to be written before stopping.
            try await redis.cli("BGREWRITEAOF")
            try await Task.sleep(for: .milliseconds(500))
            try await redis.stop()
            let refused = try await ProcessRunner.run(
                "/usr/bin/env", ["redis-cli", "-p", "\(redis.port)", "PING"], checked: false)
            #expect(!refused.stdout.contains("PONG"))
            try await redis.start()
            #expect(try await redis.cli("GET", "fixture:key") == "kept")
        } catch {
            await redis.destroy()
            throw error
        }
        await redis.destroy()
        #expect(!FileManager.default.fileExists(atPath: redis.directory))
    }
}
