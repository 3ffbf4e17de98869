internal import CLZ4
public import Pipeline

/// How the body of a ClickHouse compressed frame is encoded (`clickhouse.compression`).
public enum CompressionMethod: String, Sendable, Hashable, CaseIterable {
    case none
    case lz4
    case zstd

    /// The method byte at offset 16 of a frame (spec §5).
    public var methodByte: UInt8 {
        switch self {
        case .none: 0x02
        case .lz4: 0x82
        case .zstd: 0x90
        }
    }

    /// The method for a frame's method byte; nil for codecs Sluice does not read.
    public init?(methodByte: UInt8) {
        switch methodByte {
        case 0x02: self = .none
        case 0x82: self = .lz4
        case 0x90: self = .zstd
        default: return nil
        }
    }
}

/// Compresses frame bodies with one method.
///
/// A compressor owns its C state (a zstd context is allocated once and reused for every
/// frame, which saves ~100 µs and a few hundred KiB of allocation per frame at level 1).
/// It is deliberately not `Sendable`: one task uses it at a time, typically the sink's
/// encoder, and region-based isolation lets it move between tasks but never be shared.
public final class Compressor {
    public let method: CompressionMethod
    /// zstd level; ignored by the other methods.
    public let zstdLevel: Int
    private let zstd: ZstdCompressionContext?

    /// - Parameter zstdLevel: zstd compression level, 1 by default: level 1 already halves
    ///   typical metric blocks compared to LZ4 and costs about twice LZ4's CPU time.
    public init(method: CompressionMethod, zstdLevel: Int = 1) throws(CompressionError) {
        self.method = method
        self.zstdLevel = zstdLevel
        self.zstd = method == .zstd ? try ZstdCompressionContext() : nil
    }

    /// The most bytes `compress` can write for `inputBytes` bytes of input.
    public func maxCompressedSize(inputBytes n: Int) -> Int {
        switch method {
        case .none: n
        case .lz4: Int(sluice_lz4_compress_bound(Int32(clamping: n)))
        case .zstd: ZstdCompressionContext.bound(n)
        }
    }

    /// Compresses `input` into `output`, which must hold `maxCompressedSize(inputBytes:)`
    /// bytes, and returns the number of bytes written.
    public func compress(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer, capacity: Int
    ) throws(CompressionError) -> Int {
        guard let src = input.baseAddress, input.count > 0 else { return 0 }
        switch method {
        case .none:
            guard capacity >= input.count else { throw .inputTooLarge(bytes: input.count) }
            output.copyMemory(from: src, byteCount: input.count)
            return input.count
        case .lz4:
            guard input.count <= Int(LZ4_MAX_INPUT_SIZE) else { throw .inputTooLarge(bytes: input.count) }
            let written = LZ4_compress_default(
                src.assumingMemoryBound(to: CChar.self), output.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(clamping: capacity))
            guard written > 0 else { throw .lz4CompressionFailed(inputBytes: input.count) }
            return Int(written)
        case .zstd:
            guard let zstd else { throw .contextAllocationFailed }
            return try zstd.compress(input, into: output, capacity: capacity, level: zstdLevel)
        }
    }

    /// Appends the compressed form of `input` to `buffer`; returns the bytes appended.
    @discardableResult
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo buffer: inout GrowableBuffer) throws(CompressionError) -> Int {
        let bound = maxCompressedSize(inputBytes: input.count)
        var written = 0
        try buffer.appendUnsafe(maxCount: bound) { (p) throws(CompressionError) -> Int in
            written = try compress(input, into: p, capacity: bound)
            return written
        }
        return written
    }
}
