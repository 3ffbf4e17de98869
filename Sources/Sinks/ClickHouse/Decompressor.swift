internal import CLZ4

/// Expands frame bodies of any method Sluice writes.
///
/// Used by tests and debugging tools to read back what the encoder produced (the server
/// does this for real). Like ``Compressor`` it owns C state and is used by one task at a
/// time.
public final class Decompressor {
    private var zstd: ZstdDecompressionContext?

    public init() {}

    /// Expands `body` into `output`, which has exactly `uncompressedSize` bytes of room,
    /// and fails unless the body expands to exactly that many bytes.
    public func decompress(
        _ body: UnsafeRawBufferPointer, method: CompressionMethod,
        into output: UnsafeMutableRawPointer, uncompressedSize: Int
    ) throws(CompressionError) {
        switch method {
        case .none:
            guard body.count == uncompressedSize else {
                throw .sizeMismatch(method: .none, expected: uncompressedSize, actual: body.count)
            }
            if let src = body.baseAddress, uncompressedSize > 0 { output.copyMemory(from: src, byteCount: uncompressedSize) }
        case .lz4:
            guard let src = body.baseAddress, body.count <= Int(Int32.max), uncompressedSize <= Int(Int32.max) else {
                throw .lz4DecompressionFailed(expectedBytes: uncompressedSize)
            }
            let n = LZ4_decompress_safe(
                src.assumingMemoryBound(to: CChar.self), output.assumingMemoryBound(to: CChar.self),
                Int32(body.count), Int32(uncompressedSize))
            guard n == Int32(uncompressedSize) else { throw .lz4DecompressionFailed(expectedBytes: uncompressedSize) }
        case .zstd:
            if zstd == nil { zstd = try ZstdDecompressionContext() }
            guard let zstd else { throw .contextAllocationFailed }
            let n = try zstd.decompress(body, into: output, capacity: uncompressedSize)
            guard n == uncompressedSize else { throw .sizeMismatch(method: .zstd, expected: uncompressedSize, actual: n) }
        }
    }
}
