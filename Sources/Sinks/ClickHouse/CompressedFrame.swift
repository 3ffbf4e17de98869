public import Pipeline

/// ClickHouse's compressed-frame format (`decompress=1` request bodies), spec §5.
///
/// ```
/// 16 bytes  CityHash128 v1.0.2 of everything after it (low half LE, then high half LE)
///  1 byte   method: 0x82 LZ4, 0x90 ZSTD, 0x02 NONE
///  UInt32   compressed size = 9 + body length
///  UInt32   uncompressed size
///  body
/// ```
/// Frames carry at most ``maxUncompressedSize`` bytes of payload (the server's own
/// `max_compress_block_size`), never zero: modern servers assert a non-empty frame.
public enum CompressedFrame {
    /// 1 MiB, what ClickHouse itself uses; a Native block may span several frames.
    public static let maxUncompressedSize = 1 << 20
    /// Checksum (16) + method (1) + two sizes (8).
    public static let headerSize = 25
    /// The reader rejects bigger frames (`DBMS_MAX_COMPRESSED_SIZE`).
    public static let maxCompressedSize = 0x4000_0000

    /// Appends `payload` as frames of at most ``maxUncompressedSize`` bytes each.
    /// Nothing is appended for an empty payload.
    public static func append(
        _ payload: UnsafeRawBufferPointer, compressor: Compressor, to out: inout GrowableBuffer
    ) throws(CompressionError) {
        var offset = 0
        while offset < payload.count {
            let n = Swift.min(maxUncompressedSize, payload.count - offset)
            try appendFrame(UnsafeRawBufferPointer(rebasing: payload[offset..<offset + n]), compressor: compressor, to: &out)
            offset += n
        }
    }

    /// Frames `payload` into a new byte array; convenient for tests.
    public static func encode(_ payload: [UInt8], compressor: Compressor) throws(CompressionError) -> [UInt8] {
        var out = GrowableBuffer(capacity: payload.count + 64)
        // Array.withUnsafeBytes is untyped `rethrows`; carry the typed error out by hand.
        let result: Result<Void, CompressionError> = payload.withUnsafeBytes { p in
            do throws(CompressionError) { try append(p, compressor: compressor, to: &out); return .success(()) }
            catch { return .failure(error) }
        }
        try result.get()
        return out.allBytes
    }

    /// Appends exactly one frame; `payload` must be 1 byte to ``maxUncompressedSize``.
    public static func appendFrame(
        _ payload: UnsafeRawBufferPointer, compressor: Compressor, to out: inout GrowableBuffer
    ) throws(CompressionError) {
        guard payload.count > 0 else { return }
        guard payload.count <= maxUncompressedSize else { throw .inputTooLarge(bytes: payload.count) }
        let bound = compressor.maxCompressedSize(inputBytes: payload.count)
        let method = compressor.method.methodByte
        try out.appendUnsafe(maxCount: headerSize + bound) { (frame) throws(CompressionError) -> Int in
            let bodyLength = try compressor.compress(payload, into: frame + headerSize, capacity: bound)
            let compressedSize = 9 + bodyLength
            frame.storeBytes(of: method, toByteOffset: 16, as: UInt8.self)
            frame.storeBytes(of: UInt32(compressedSize).littleEndian, toByteOffset: 17, as: UInt32.self)
            frame.storeBytes(of: UInt32(payload.count).littleEndian, toByteOffset: 21, as: UInt32.self)
            let h = CityHash128.hash(UnsafeRawBufferPointer(start: frame + 16, count: compressedSize))
            frame.storeBytes(of: h.low.littleEndian, toByteOffset: 0, as: UInt64.self)
            frame.storeBytes(of: h.high.littleEndian, toByteOffset: 8, as: UInt64.self)
            return 16 + compressedSize
        }
    }

    /// One parsed frame header.
    public struct Header: Sendable, Equatable {
        public var checksumLow: UInt64
        public var checksumHigh: UInt64
        public var method: CompressionMethod
        /// 9 + body length, as on the wire.
        public var compressedSize: Int
        public var uncompressedSize: Int
        /// Bytes of the whole frame, checksum included.
        public var frameLength: Int { 16 + compressedSize }
    }

    /// Reads and checks the header of the frame starting at `offset`.
    public static func header(in bytes: UnsafeRawBufferPointer, at offset: Int) throws(CompressedFrameError) -> Header {
        guard let base = bytes.baseAddress, bytes.count - offset >= headerSize else {
            throw .truncated(offset: offset, needed: headerSize, available: Swift.max(0, bytes.count - offset))
        }
        let p = base + offset
        let methodByte = p.load(fromByteOffset: 16, as: UInt8.self)
        guard let method = CompressionMethod(methodByte: methodByte) else { throw .unknownMethod(offset: offset, byte: methodByte) }
        let compressed = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 17, as: UInt32.self)))
        let uncompressed = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 21, as: UInt32.self)))
        guard compressed >= 9, compressed <= maxCompressedSize else {
            throw .invalidSize(offset: offset, reason: "compressed size \(compressed) outside 9...\(maxCompressedSize)")
        }
        guard uncompressed > 0 else { throw .invalidSize(offset: offset, reason: "empty frame") }
        return Header(
            checksumLow: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            checksumHigh: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            method: method, compressedSize: compressed, uncompressedSize: uncompressed)
    }

    /// Decodes a whole request body: checks every frame's checksum, expands every body,
    /// and returns the concatenated payload. Like the server, it rejects a body whose
    /// frames use different methods.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, decompressor: Decompressor = Decompressor()
    ) throws(CompressedFrameError) -> [UInt8] {
        var out = GrowableBuffer(capacity: bytes.count * 2)
        var offset = 0
        var firstMethod: CompressionMethod?
        while offset < bytes.count {
            let h = try header(in: bytes, at: offset)
            if let firstMethod, firstMethod != h.method {
                throw .mixedMethods(offset: offset, first: firstMethod, found: h.method)
            }
            firstMethod = h.method
            guard bytes.count - offset >= h.frameLength else {
                throw .truncated(offset: offset, needed: h.frameLength, available: bytes.count - offset)
            }
            let checked = UnsafeRawBufferPointer(rebasing: bytes[offset + 16..<offset + h.frameLength])
            let actual = CityHash128.hash(checked)
            guard actual.low == h.checksumLow, actual.high == h.checksumHigh else {
                throw .checksumMismatch(
                    offset: offset, expected: (h.checksumLow, h.checksumHigh), actual: actual)
            }
            let body = UnsafeRawBufferPointer(rebasing: bytes[offset + headerSize..<offset + h.frameLength])
            do {
                try out.appendUnsafe(maxCount: h.uncompressedSize) { (dst) throws(CompressionError) -> Int in
                    try decompressor.decompress(body, method: h.method, into: dst, uncompressedSize: h.uncompressedSize)
                    return h.uncompressedSize
                }
            } catch {
                throw .decompression(offset: offset, error)
            }
            offset += h.frameLength
        }
        return out.allBytes
    }

    public static func decode(_ bytes: [UInt8]) throws(CompressedFrameError) -> [UInt8] {
        let result: Result<[UInt8], CompressedFrameError> = bytes.withUnsafeBytes { p in
            do throws(CompressedFrameError) { return .success(try decode(p)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// A body that is not a valid sequence of compressed frames.
///
/// Retrying does not help: the bytes are wrong. (The server answers the same condition
/// with `CHECKSUM_DOESNT_MATCH`, code 40, which *is* worth one retry because it usually
/// means corruption in transit; this error is for Sluice's own reader.)
public enum CompressedFrameError: Error, Sendable, CustomStringConvertible {
    case truncated(offset: Int, needed: Int, available: Int)
    case unknownMethod(offset: Int, byte: UInt8)
    case invalidSize(offset: Int, reason: String)
    case checksumMismatch(offset: Int, expected: (low: UInt64, high: UInt64), actual: (low: UInt64, high: UInt64))
    case mixedMethods(offset: Int, first: CompressionMethod, found: CompressionMethod)
    case decompression(offset: Int, CompressionError)

    public var isRetryable: Bool { false }

    public var description: String {
        switch self {
        case .truncated(let o, let n, let a): "frame at \(o): needs \(n) bytes, \(a) left"
        case .unknownMethod(let o, let b): "frame at \(o): unknown method byte 0x\(String(b, radix: 16))"
        case .invalidSize(let o, let r): "frame at \(o): \(r)"
        case .checksumMismatch(let o, let e, let a):
            "frame at \(o): checksum \(hex(e.low))\(hex(e.high)) but data hashes to \(hex(a.low))\(hex(a.high))"
        case .mixedMethods(let o, let f, let m): "frame at \(o): method \(m.rawValue) after \(f.rawValue)"
        case .decompression(let o, let e): "frame at \(o): \(e)"
        }
    }

    private func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
