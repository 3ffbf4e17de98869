#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Free loopback TCP ports for servers that tests start.
///
/// The kernel picks the port (bind to port 0 on 127.0.0.1), and the socket is closed
/// before the port is returned, so another process can still take it in between;
/// fixtures therefore check that the server they started is the one answering.
public enum FreePort {
    /// One free port.
    public static func next() throws -> Int {
        try next(count: 1)[0]
    }

    /// `count` distinct free ports. All sockets stay open until every port has been
    /// found, so the kernel cannot hand out the same port twice.
    public static func next(count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for fd in sockets { _ = close(fd) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let (fd, port) = try LoopbackSocket.bind(port: 0, listening: false)
            sockets.append(fd)
            ports.append(port)
        }
        return ports
    }
}
