import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Ingestor
import Testing
import TestSupport

/// Oversized and over-deep inputs are refused with an error naming the configured limit,
/// on both ports, and a flood of them leaves the daemon's memory where it was.
@Suite(.serialized) struct SecurityLimitsTests {
    /// Resident memory of a process, from /proc.
    static func rssBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1) * 1024
    }

    /// Sends a chunked body of `bytes` without Content-Length over a raw socket, so the
    /// server cannot refuse it up front and must stop reading at the limit; returns the
    /// status line and body of the answer.
    static func chunkedPost(port: Int, path: String, bytes: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "socket failed" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "connect failed" }
        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        _ = send(Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cloudevents+json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        let chunk = [UInt8](repeating: 0x20, count: 64 << 10)
        let frame = Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10]
        var sent = 0
        // The server may answer and stop reading before the end; then sending fails.
        while sent < bytes, send(frame) { sent += chunk.count }
        _ = send(Array("0\r\n\r\n".utf8))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while answer.count < 64 << 10 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += buffer[0..<n]
            if String(decoding: answer, as: UTF8.self).contains("}") { break }
        }
        return String(decoding: answer, as: UTF8.self)
    }

    @Test func oversizedAndOverDeepInputsAreRefusedNamingTheLimitWithBoundedMemory() async throws {
        let started = ContinuousClock.now
        let ch = try await ClickHouseServer.shared()
        let db = try await ch.makeDatabase(prefix: "seclim")
        let daemon = try SluiceDaemonProcess(
            clickhouseURL: ch.url, database: db, extraYAML: """
                limits:
                  max_json_depth: 32
                  max_string_bytes: 4KiB
                  max_events_per_batch: 100
                  max_event_bytes: 16KiB
                """,
            pipelineYAML: """
                pipeline:
                  batch: {max_rows: 20000, max_bytes: 8MiB, max_age: 100ms}
                  memory_budget: 32MiB
                """,
            httpYAML: "max_body_bytes: 4MiB", queryYAML: "max_body_bytes: 4KiB\nmax_range: 7d\nmax_rows: 100")
        try await daemon.migrate()
        try await daemon.start()
        defer { Task { _ = await daemon.terminate() } }
        let events = daemon.ingestURL + "/v1/events"
        let ce = [("Content-Type", "application/cloudevents+json")]
        let batch = [("Content-Type", "application/cloudevents-batch+json")]

        // App port: each limit by name.
        let big = try await HTTPTestClient.exchange("POST", events, body: [UInt8](repeating: 0x20, count: 6 << 20), headers: ce)
        #expect(big.status == 413 && big.text.contains("http.max_body_bytes"), "\(big.status) \(big.text)")
        let chunked = Self.chunkedPost(port: daemon.httpPort, path: "/v1/events", bytes: 6 << 20)
        #expect(chunked.hasPrefix("HTTP/1.1 413") && chunked.contains("http.max_body_bytes"), "\(chunked.prefix(300))")
        let deepBody = Array(String(repeating: "[", count: 200_000).utf8) + Array(String(repeating: "]", count: 200_000).utf8)
        let deep = try await HTTPTestClient.exchange("POST", events, body: deepBody, headers: ce)
        #expect(deep.status == 400 && deep.text.contains("limits.max_json_depth"), "\(deep.text.prefix(300))")
        let longString = try await HTTPTestClient.exchange("POST", events, body: Array(metricEvent(tenant: "t", metric: String(repeating: "x", count: 8000)).utf8), headers: ce)
        #expect(longString.status == 400 && longString.text.contains("limits.max_string_bytes"), "\(longString.text.prefix(300))")
        let many = try await HTTPTestClient.exchange("POST", events, body: Array(("[" + (0..<101).map { _ in metricEvent(tenant: "t") }.joined(separator: ",") + "]").utf8), headers: batch)
        #expect(many.status == 400 && many.text.contains("limits.max_events_per_batch"), "\(many.text.prefix(300))")
        let fields = (0..<400).map { #""f\#($0)":"\#(String(repeating: "v", count: 40))""# }.joined(separator: ",")
        let wide = #"{"specversion":"1.0","id":"wide","source":"/t","type":"metric","tenantid":"t","data":{"metric_name":"m","value":1,"dimensions":{\#(fields)}}}"#
        let wideAnswer = try await HTTPTestClient.exchange("POST", events, body: Array(wide.utf8), headers: ce)
        #expect(wideAnswer.status == 400 && wideAnswer.text.contains("limits.max_event_bytes"), "\(wideAnswer.text.prefix(300))")

        // Side-port: body, range, result size, depth.
        let query = daemon.sideURL + "/v1/query"
        let padded = #"{"dataset":"metrics","measures":["count"],"from":"2024-01-01T00:00:00Z","to":"2024-01-02T00:00:00Z","filters":{"metric_name":"\#(String(repeating: "x", count: 8000))"}}"#
        let bigQuery = try await HTTPTestClient.exchange("POST", query, body: Array(padded.utf8))
        #expect(bigQuery.status == 400 && bigQuery.text.contains(#""limit":"query.max_body_bytes""#), "\(bigQuery.text)")
        let longRange = try await HTTPTestClient.exchange("POST", query, body: Array(#"{"dataset":"metrics","measures":["count"],"from":"2024-01-01T00:00:00Z","to":"2024-02-01T00:00:00Z"}"#.utf8))
        #expect(longRange.status == 400 && longRange.text.contains(#""limit":"query.max_range""#), "\(longRange.text)")
        let manyRows = try await HTTPTestClient.exchange("POST", query, body: Array(#"{"dataset":"metrics","measures":["count"],"from":"2024-01-01T00:00:00Z","to":"2024-01-02T00:00:00Z","bucket":"1m","fill":"zero"}"#.utf8))
        #expect(manyRows.status == 400 && manyRows.text.contains(#""limit":"query.max_rows""#), "\(manyRows.text)")
        let deepQuery = try await HTTPTestClient.exchange("POST", query, body: Array((String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)).utf8))
        #expect(deepQuery.status == 400, "\(deepQuery.text)")

        // A flood of refused inputs leaves memory where it was.
        let pid = try #require(daemon.process?.pid)
        let before = Self.rssBytes(pid)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<48 {
                group.addTask {
                    switch i % 3 {
                    case 0: _ = try? await HTTPTestClient.exchange("POST", events, body: [UInt8](repeating: 0x20, count: 6 << 20), headers: ce)
                    case 1: _ = Self.chunkedPost(port: daemon.httpPort, path: "/v1/events", bytes: 6 << 20)
                    default: _ = try await HTTPTestClient.exchange("POST", events, body: deepBody, headers: ce)
                    }
                }
            }
            try await group.waitForAll()
        }
        let after = Self.rssBytes(pid)
        #expect(before > 0 && after > 0)
        // Chunked bodies hold up to http.max_body_bytes of the 32 MiB budget each while they
        // upload, so the budget, not the number of connections, bounds them.
        #expect(after - before < 48 << 20, "RSS grew from \(before >> 20) MiB to \(after >> 20) MiB")
        // Still serving, and nothing of the refused inputs was written.
        let ok = try await HTTPTestClient.exchange("POST", events, body: Array(metricEvent(tenant: "t").utf8), headers: ce)
        #expect(ok.status == 200)
        #expect(Int(try await ch.query("SELECT count() FROM \(db).metrics").trimmingCharacters(in: .whitespacesAndNewlines)) == 1)
        #expect(await daemon.terminate() == 0)
        print("limits: RSS \(before >> 20) MiB before, \(after >> 20) MiB after 48 refused oversized or deep requests; \(ContinuousClock.now - started)")
    }
}
