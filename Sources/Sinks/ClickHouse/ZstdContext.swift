internal import CZstd

/// Owns a `ZSTD_CCtx`; freed in `deinit`. Internal so no zstd type leaks into the API.
final class ZstdCompressionContext {
    private let cctx: OpaquePointer

    init() throws(CompressionError) {
        guard let c = ZSTD_createCCtx() else { throw .contextAllocationFailed }
        cctx = c
    }

    deinit { ZSTD_freeCCtx(cctx) }

    static func bound(_ n: Int) -> Int { ZSTD_compressBound(n) }

    static func errorName(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }

    func compress(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer, capacity: Int, level: Int
    ) throws(CompressionError) -> Int {
        let r = ZSTD_compressCCtx(cctx, output, capacity, input.baseAddress, input.count, Int32(clamping: level))
        if sluice_zstd_is_error(r) != 0 { throw .zstd(operation: "compress", name: Self.errorName(r)) }
        return r
    }
}

/// Owns a `ZSTD_DCtx`; freed in `deinit`.
final class ZstdDecompressionContext {
    private let dctx: OpaquePointer

    init() throws(CompressionError) {
        guard let d = ZSTD_createDCtx() else { throw .contextAllocationFailed }
        dctx = d
    }

    deinit { ZSTD_freeDCtx(dctx) }

    func decompress(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer, capacity: Int
    ) throws(CompressionError) -> Int {
        let r = ZSTD_decompressDCtx(dctx, output, capacity, input.baseAddress, input.count)
        if sluice_zstd_is_error(r) != 0 {
            throw .zstd(operation: "decompress", name: ZstdCompressionContext.errorName(r))
        }
        return r
    }
}
