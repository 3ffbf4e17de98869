#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal POSIX socket helpers for loopback test fixtures.
enum LoopbackSocket {
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
    }

    /// Opens a TCP socket bound to 127.0.0.1:`port` (0 = any free port) and returns it
    /// with the bound port. `listening` also calls `listen`.
    static func bind(port: Int = 0, listening: Bool) throws(Failure) -> (fd: Int32, port: Int) {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemBind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            _ = close(fd)
            throw Failure(call: "bind", code: code)
        }
        if listening, listen(fd, 128) != 0 {
            let code = errno
            _ = close(fd)
            throw Failure(call: "listen", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let code = errno
            _ = close(fd)
            throw Failure(call: "getsockname", code: code)
        }
        return (fd, Int(UInt16(bigEndian: actual.sin_port)))
    }

    /// Wakes a thread blocked in `accept` or `recv` on `fd` without closing it, so the
    /// descriptor number cannot be reused while that thread still holds it.
    static func shutdown(_ fd: Int32) {
        #if canImport(Glibc)
        _ = systemShutdown(fd, Int32(SHUT_RDWR))
        #else
        _ = systemShutdown(fd, SHUT_RDWR)
        #endif
    }

    /// Shuts down and closes a descriptor no other thread uses.
    static func shutdownAndClose(_ fd: Int32) {
        shutdown(fd)
        _ = close(fd)
    }

    /// Writes all of `bytes`; false when the peer went away.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}

/// `shutdown` is shadowed by the static method above; this reaches the C function.
private func systemShutdown(_ fd: Int32, _ how: Int32) -> Int32 {
    shutdown(fd, how)
}

/// `bind` is shadowed by the static method above; this reaches the C function.
private func systemBind(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    bind(fd, address, length)
}

/// `close(2)`, callable from types that have a `close()` method of their own.
func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
