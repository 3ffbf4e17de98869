import Testing
import Pipeline
import Sinks

/// Frames against specs/clickhouse-test-vectors.md §2 (accepted by ClickHouse 18.16.1)
/// and the ch-go golden frames of specs/clickhouse-native.md §5.
@Suite struct CompressedFrameTests {
    static let block = Hex.bytes(NativeEncoderVectorTests.section2Block)
    static let noneFrame = "af87e0ab097f2cfa8f8cd1ca86b9aeb5023200000029000000" + NativeEncoderVectorTests.section2Block
    static let lz4Frame = "3844281ae074eefe0f9a7014eee0ba62823400000029000000f01a" + NativeEncoderVectorTests.section2Block
    static let zstdFrame = "f17af6dfd57af89add59e0152dc2943e903b0000002900000028b52ffd2029490100" + NativeEncoderVectorTests.section2Block

    @Test func noneFrameMatchesTheVectorByteForByte() throws {
        let frame = try CompressedFrame.encode(Self.block, compressor: Compressor(method: .none))
        #expect(Hex.string(frame) == Self.noneFrame)
    }

    @Test func lz4FrameMatchesTheVector() throws {
        // liblz4 finds no 4-byte repeat in these 41 bytes, so its output is the same
        // literal-only block (`f0 1a` + 41 bytes) that 18.16.1 accepted.
        let frame = try CompressedFrame.encode(Self.block, compressor: Compressor(method: .lz4))
        #expect(Hex.string(frame) == Self.lz4Frame)
        #expect(try CompressedFrame.decode(frame) == Self.block)
    }

    @Test func zstdFrameMatchesTheVector() throws {
        // libzstd 1.5.x at level 1 stores a block this small raw, exactly as the vector.
        let frame = try CompressedFrame.encode(Self.block, compressor: Compressor(method: .zstd, zstdLevel: 1))
        #expect(Hex.string(frame) == Self.zstdFrame)
        #expect(try CompressedFrame.decode(frame) == Self.block)
    }

    @Test(arguments: [noneFrame, lz4Frame, zstdFrame])
    func serverAcceptedFramesDecodeToTheBlock(_ hex: String) throws {
        #expect(try CompressedFrame.decode(Hex.bytes(hex)) == Self.block)
    }

    static let hello = [UInt8](String(repeating: "Hello!\n", count: 25).utf8)
    static let chGoGolden = [
        "fced07b8c559e98c1661170f6c5272df02b8000000af000000" + Hex.string(hello),
        "c5 bc bc 07 c1 1e c4 71 fd 74 af 8d 5b 0f 00 c5 82 26 00 00 00 af 00 00 00"
            + "7f 48 65 6c 6c 6f 21 0a 07 00 82 00 93 00 00 9a 00 b0 6c 6f 21 0a 48 65 6c 6c 6f 21 0a",
        "16 77 b8 46 2a 48 37 48 80 40 e8 7d e7 8e 0d 09 90 25 00 00 00 af 00 00 00"
            + "28 b5 2f fd 04 00 7d 00 00 38 48 65 6c 6c 6f 21 0a 01 54 07 03 2b 25 05 eb 3d ca 06",
    ]

    @Test(arguments: chGoGolden)
    func chGoGoldenFramesDecodeToTheirPayload(_ hex: String) throws {
        let bytes = Hex.bytes(hex)
        #expect(bytes.count == 200 || bytes.count == 54 || bytes.count == 53)
        #expect(try CompressedFrame.decode(bytes) == Self.hello)
    }

    @Test func chGoGoldenNoneFrameIsReproducedExactly() throws {
        let frame = try CompressedFrame.encode(Self.hello, compressor: Compressor(method: .none))
        #expect(Hex.string(frame) == Self.chGoGolden[0])
    }

    @Test(arguments: CompressionMethod.allCases)
    func largePayloadsSplitIntoFramesOfAtMostOneMebibyte(_ method: CompressionMethod) throws {
        var payload = [UInt8](repeating: 0, count: 2 * CompressedFrame.maxUncompressedSize + 12345)
        var x: UInt32 = 12345
        for i in payload.indices {
            x = x &* 1_103_515_245 &+ 12345
            payload[i] = UInt8(truncatingIfNeeded: x >> 24) & 0x0f
        }
        let frames = try CompressedFrame.encode(payload, compressor: Compressor(method: method))
        var sizes: [Int] = []
        try frames.withUnsafeBytes { p in
            var offset = 0
            while offset < p.count {
                let h = try CompressedFrame.header(in: p, at: offset)
                #expect(h.method == method)
                sizes.append(h.uncompressedSize)
                offset += h.frameLength
            }
        }
        #expect(sizes == [1 << 20, 1 << 20, 12345])
        #expect(try CompressedFrame.decode(frames) == payload)
    }

    @Test func emptyPayloadProducesNoFrame() throws {
        #expect(try CompressedFrame.encode([], compressor: Compressor(method: .lz4)).isEmpty)
    }

    @Test func corruptedByteFailsTheChecksum() throws {
        var frame = Hex.bytes(Self.lz4Frame)
        frame[frame.count - 1] ^= 1
        #expect {
            _ = try CompressedFrame.decode(frame)
        } throws: { error in
            if case .checksumMismatch(let offset, _, _) = error as? CompressedFrameError { return offset == 0 }
            return false
        }
    }

    @Test func truncatedFrameAndUnknownMethodAreReported() throws {
        let frame = Hex.bytes(Self.noneFrame)
        #expect(throws: CompressedFrameError.self) { _ = try CompressedFrame.decode(Array(frame.dropLast())) }
        var odd = frame
        odd[16] = 0x91
        #expect {
            _ = try CompressedFrame.decode(odd)
        } throws: { error in
            if case .unknownMethod(_, 0x91) = error as? CompressedFrameError { return true }
            return false
        }
    }

    @Test func framesOfDifferentMethodsInOneBodyAreRejected() throws {
        let mixed = Hex.bytes(Self.noneFrame) + Hex.bytes(Self.lz4Frame)
        #expect {
            _ = try CompressedFrame.decode(mixed)
        } throws: { error in
            if case .mixedMethods = error as? CompressedFrameError { return true }
            return false
        }
    }
}

