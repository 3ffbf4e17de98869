import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback HTTP/1.1 server whose answers a test scripts per connection and request,
/// for behaviour a real ClickHouse will not produce on demand (a kept-alive connection
/// that dies, a 200 carrying an exception, a chosen error body).
public final class ScriptedHTTPServer: Sendable {
    /// What the server saw.
    public struct Request: Sendable {
        /// 0-based index of the TCP connection, in accept order.
        public let connection: Int
        /// 0-based index of the request on its connection.
        public let indexOnConnection: Int
        /// Request line, e.g. `POST /?query=... HTTP/1.1`.
        public let requestLine: String
        /// Header lines, as sent.
        public let headers: [String]
        public let body: [UInt8]

        /// The value of a header (case-insensitive name), if present.
        public func header(_ name: String) -> String? {
            for line in headers {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name.lowercased() {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    /// What to do with a request.
    public enum Action: Sendable {
        /// Answer with this status, extra header lines and body, keeping the connection open.
        case respond(status: Int, headers: [String] = [], body: String = "")
        /// Close the connection without answering (an orderly FIN).
        case close
        /// Abort the connection without answering (a TCP RST, as when a server's socket
        /// was closed with unread data): the client sees "connection reset".
        case reset
    }

    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }
    private let listener: Int32
    private let script: @Sendable (Request) -> Action
    /// `connections` counts every accepted connection; `open` holds the descriptors still
    /// owned by a serving thread. A thread removes its descriptor under the lock before
    /// closing it, so ``close()`` never shuts down a number already reused elsewhere.
    private let state = Locked<(connections: Int, open: Set<Int32>, requests: [Request], closed: Bool)>((0, [], [], false))

    public init(script: @escaping @Sendable (Request) -> Action) throws {
        self.script = script
        (listener, port) = try LoopbackSocket.bind(port: 0, listening: true)
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "scripted-http-\(port)"
        thread.start()
    }

    /// TCP connections accepted so far.
    public var connectionCount: Int { state.withLock { $0.connections } }
    /// Every request received so far.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// Stops listening and closes every connection. Descriptors are only shut down
    /// here; the threads that own them close them.
    public func close() {
        state.withLock { s in
            guard !s.closed else { return }
            s.closed = true
            LoopbackSocket.shutdown(listener)
            for fd in s.open { LoopbackSocket.shutdown(fd) }
        }
    }

    private func acceptLoop() {
        defer { closeDescriptor(listener) }
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else {
                if errno == EINTR { continue }
                return
            }
            let index = state.withLock { s -> Int? in
                guard !s.closed else { return nil }
                s.connections += 1
                s.open.insert(fd)
                return s.connections - 1
            }
            guard let index else {
                LoopbackSocket.shutdownAndClose(fd)
                return
            }
            let thread = Thread { [self] in serve(fd: fd, connection: index) }
            thread.start()
        }
    }

    private func serve(fd: Int32, connection: Int) {
        defer {
            state.withLock { _ = $0.open.remove(fd) }
            closeDescriptor(fd)
        }
        var buffer: [UInt8] = []
        var requestIndex = 0
        while true {
            guard let headerEnd = readUntilHeaderEnd(fd: fd, buffer: &buffer) else { return }
            let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
            buffer.removeFirst(headerEnd + 4)
            let lines = head.components(separatedBy: "\r\n")
            let headers = Array(lines.dropFirst())
            let partial = Request(connection: connection, indexOnConnection: requestIndex, requestLine: lines.first ?? "", headers: headers, body: [])
            let length = partial.header("Content-Length").flatMap { Int($0) } ?? 0
            while buffer.count < length {
                guard readMore(fd: fd, into: &buffer) else { return }
            }
            let request = Request(
                connection: connection, indexOnConnection: requestIndex, requestLine: partial.requestLine,
                headers: headers, body: Array(buffer.prefix(length)))
            buffer.removeFirst(length)
            requestIndex += 1
            state.withLock { $0.requests.append(request) }
            switch script(request) {
            case .close:
                return
            case .reset:
                var option = linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
                return
            case .respond(let status, let extraHeaders, let body):
                let bodyBytes = Array(body.utf8)
                var response = "HTTP/1.1 \(status) Scripted\r\nContent-Length: \(bodyBytes.count)\r\nConnection: Keep-Alive\r\n"
                for line in extraHeaders { response += line + "\r\n" }
                response += "\r\n"
                guard LoopbackSocket.writeAll(fd, Array(response.utf8) + bodyBytes) else { return }
            }
        }
    }

    /// Reads until the buffer holds `\r\n\r\n`; returns its offset, or nil at EOF.
    private func readUntilHeaderEnd(fd: Int32, buffer: inout [UInt8]) -> Int? {
        let marker: [UInt8] = [13, 10, 13, 10]
        while true {
            if buffer.count >= 4 {
                for i in 0...(buffer.count - 4) where buffer[i..<(i + 4)].elementsEqual(marker) { return i }
            }
            guard readMore(fd: fd, into: &buffer) else { return nil }
        }
    }

    private func readMore(fd: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }
}
