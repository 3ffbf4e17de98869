/// A compressor or decompressor failure.
///
/// None of these is cured by retrying the same bytes: compression of valid input only
/// fails when the library cannot allocate its context or the input exceeds the codec's
/// limits, and decompression fails on corrupt input.
public enum CompressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// liblz4 returned 0 (output did not fit or input too large).
    case lz4CompressionFailed(inputBytes: Int)
    /// The LZ4 body is malformed or does not expand to the announced size.
    case lz4DecompressionFailed(expectedBytes: Int)
    /// libzstd reported an error; `name` is `ZSTD_getErrorName`.
    case zstd(operation: String, name: String)
    /// The body expanded to a different size than the frame header announced.
    case sizeMismatch(method: CompressionMethod, expected: Int, actual: Int)
    /// libzstd could not allocate a context.
    case contextAllocationFailed
    /// The input is larger than the codec (or a frame) can carry.
    case inputTooLarge(bytes: Int)

    /// Always false: the same input fails the same way again.
    public var isRetryable: Bool { false }

    public var description: String {
        switch self {
        case .lz4CompressionFailed(let n): "LZ4 compression of \(n) bytes failed"
        case .lz4DecompressionFailed(let n): "LZ4 body does not decompress to \(n) bytes"
        case .zstd(let op, let name): "zstd \(op) failed: \(name)"
        case .sizeMismatch(let m, let e, let a): "\(m.rawValue) body expands to \(a) bytes, header says \(e)"
        case .contextAllocationFailed: "could not allocate a zstd context"
        case .inputTooLarge(let n): "input of \(n) bytes is too large to compress in one frame"
        }
    }
}
