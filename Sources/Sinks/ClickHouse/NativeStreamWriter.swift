internal import Pipeline

/// Collects the uncompressed Native stream and, when framing, cuts it into compressed
/// frames as soon as a full 1 MiB is pending.
///
/// Compressing each megabyte while it is still in cache, instead of encoding the whole
/// block first, keeps memory at about one frame plus the compressed output and saves a
/// second pass over a block that can be 100 MB. Column writers append to `pending` and
/// call ``checkpoint()`` between chunks of rows. A compression failure is recorded and
/// reported by ``finish()``, so the hot loops need no error handling.
struct NativeStreamWriter: ~Copyable {
    var pending: GrowableBuffer
    private var frames: GrowableBuffer
    private let compressor: Compressor?
    private var failure: CompressionError?
    private(set) var uncompressedBytes = 0
    /// Sum of values loaded only to pull cache lines in early; kept so the optimiser
    /// cannot remove those loads. Never read.
    var touch: UInt64 = 0

    /// - Parameters:
    ///   - compressor: nil writes the plain Native stream with no frames.
    ///   - expectedBytes: about how big the Native stream will be.
    ///   - expectedBodyBytes: about how big the framed body will be; a good guess saves
    ///     re-allocating (and copying) a body of tens of megabytes while it grows.
    init(compressor: Compressor?, expectedBytes: Int, expectedBodyBytes: Int? = nil) {
        self.compressor = compressor
        let frameSize = CompressedFrame.maxUncompressedSize
        pending = GrowableBuffer(capacity: compressor == nil ? Swift.max(expectedBytes, 64) : frameSize + frameSize / 4)
        let framesCapacity: Int
        if compressor == nil {
            framesCapacity = 16
        } else if let expectedBodyBytes {
            framesCapacity = expectedBodyBytes
        } else if compressor?.method == CompressionMethod.none {
            framesCapacity = expectedBytes + (expectedBytes / frameSize + 1) * CompressedFrame.headerSize
        } else {
            framesCapacity = expectedBytes / 2
        }
        frames = GrowableBuffer(capacity: Swift.max(framesCapacity, 4096))
    }

    /// Rows per chunk between checkpoints: small enough that a chunk of even wide rows
    /// stays near one frame, big enough that the check costs nothing.
    static let chunkRows = 4096

    @inline(__always)
    mutating func checkpoint() {
        if compressor != nil, pending.count >= CompressedFrame.maxUncompressedSize { cutFullFrames() }
    }

    private mutating func cutFullFrames() {
        guard let compressor else { return }
        let frameSize = CompressedFrame.maxUncompressedSize
        var offset = 0
        while pending.count - offset >= frameSize {
            if failure == nil {
                let start = offset
                let result: Result<Void, CompressionError> = pending.withUnsafeBytes { all in
                    do throws(CompressionError) {
                        try CompressedFrame.appendFrame(
                            UnsafeRawBufferPointer(rebasing: all[start..<start + frameSize]), compressor: compressor, to: &frames)
                        return .success(())
                    } catch { return .failure(error) }
                }
                if case .failure(let e) = result { failure = e }
            }
            offset += frameSize
        }
        uncompressedBytes += offset
        pending.removeFirst(offset)
    }

    /// Frames what is left and hands over the body.
    consuming func finish() throws(CompressionError) -> (body: ByteBlob, uncompressedBytes: Int) {
        guard let compressor else {
            let total = pending.count
            return (pending.freeze(), total)
        }
        cutFullFrames()
        if failure == nil, pending.count > 0 {
            let result: Result<Void, CompressionError> = pending.withUnsafeBytes { rest in
                do throws(CompressionError) {
                    try CompressedFrame.appendFrame(rest, compressor: compressor, to: &frames)
                    return .success(())
                } catch { return .failure(error) }
            }
            if case .failure(let e) = result { failure = e }
        }
        if let failure { throw failure }
        let total = uncompressedBytes + pending.count
        return (frames.freeze(), total)
    }
}
