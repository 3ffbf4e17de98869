/// An immutable run of bytes that can be shared across tasks.
///
/// The encoder builds a request body in a ``GrowableBuffer`` and freezes it into a blob,
/// so the transport thread can read it while the pipeline keeps the same bytes for a
/// retry, with no copy in between.
public final class ByteBlob: Sendable {
    private nonisolated(unsafe) let base: UnsafeMutableRawPointer
    public let count: Int

    init(adopting base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    public convenience init(_ bytes: some Collection<UInt8>) {
        let base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes.count, 1), alignment: 16)
        var i = 0
        for b in bytes {
            base.storeBytes(of: b, toByteOffset: i, as: UInt8.self)
            i += 1
        }
        self.init(adopting: base, count: bytes.count)
    }

    deinit { base.deallocate() }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
