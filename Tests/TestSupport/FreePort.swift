import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Free loopback TCP ports for servers that tests start.
///
/// Ports come from below the kernel's ephemeral range (`ip_local_port_range`), never
/// from it. A port the kernel hands out for `bind(0)` is also what it hands out as the
/// local port of outgoing connections, and the suite opens thousands of those (HTTP
/// clients, libcurl to ClickHouse, Redis and Kafka clients). A server told to listen on
/// such a port could find it taken by somebody's connection by the time it binds: CI
/// once saw the daemon's side-port fail that way.
///
/// Each port is handed out once per test process (a counter from a random start, so
/// two test processes on one box rarely walk the same ports), and it is checked with a
/// bind before it is returned. Another process can still take it in between, so
/// fixtures check that the server they started is the one answering.
public enum FreePort {
    /// One free port.
    public static func next() throws -> Int {
        try next(count: 1)[0]
    }

    /// `count` distinct free ports.
    public static func next(count: Int) throws -> [Int] {
        var ports: [Int] = []
        var attempts = 0
        while ports.count < count {
            let candidate = cursor.withLock { c -> Int in
                let port = c
                c = c + 1 >= range.upperBound ? range.lowerBound : c + 1
                return port
            }
            attempts += 1
            if let (fd, _) = try? LoopbackSocket.bind(port: candidate, listening: false) {
                _ = close(fd)
                ports.append(candidate)
            } else if attempts > range.count {
                throw LoopbackSocket.Failure(call: "bind (no free port below the ephemeral range)", code: EADDRINUSE)
            }
        }
        return ports
    }

    /// From 10000 up to just below the first ephemeral port.
    public static let range: Range<Int> = {
        let low = ephemeralLowerBound() ?? 32768
        return 10000..<Swift.max(low, 20000)
    }()

    private static let cursor = Locked(Int.random(in: range))

    private static func ephemeralLowerBound() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else { return nil }
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) }
    }
}
