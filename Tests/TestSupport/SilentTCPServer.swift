import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback TCP listener that accepts connections and never answers: the simplest
/// server that makes a client time out. Close it with ``close()``.
public final class SilentTCPServer: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let listener: Int32
    private let state = Locked<(accepted: [Int32], closed: Bool)>(([], false))

    public init() throws {
        (listener, port) = try LoopbackSocket.bind(port: 0, listening: true)
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "silent-tcp-\(port)"
        thread.start()
    }

    /// Connections accepted so far.
    public var acceptedConnections: Int { state.withLock { $0.accepted.count } }

    /// Stops listening and drops every accepted connection.
    ///
    /// The listening socket is only shut down here (which wakes `accept`); the accept
    /// thread closes it. Closing it here could let the descriptor number be reused by
    /// another test's socket while the thread is about to call `accept` on it.
    public func close() {
        let fds = state.withLock { s -> [Int32] in
            guard !s.closed else { return [] }
            s.closed = true
            LoopbackSocket.shutdown(listener)
            let accepted = s.accepted
            s.accepted = []
            return accepted
        }
        for fd in fds { LoopbackSocket.shutdownAndClose(fd) }
    }

    private func acceptLoop() {
        defer { closeDescriptor(listener) }
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                if errno == EINTR { continue }
                return
            }
            let keep = state.withLock { s -> Bool in
                guard !s.closed else { return false }
                s.accepted.append(fd)
                return true
            }
            if !keep {
                LoopbackSocket.shutdownAndClose(fd)
                return
            }
        }
    }
}
