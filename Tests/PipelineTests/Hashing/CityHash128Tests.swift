import Testing
import Pipeline

/// Vectors from specs/clickhouse-native.md §6 and specs/clickhouse-test-vectors.md §1.
@Suite struct CityHash128Tests {
    static func wireHex(_ input: [UInt8]) -> String {
        input.withUnsafeBytes { CityHash128.wireBytes(of: $0) }.map { String(format2: $0) }.joined()
    }

    static let ascii: [(String, UInt64, UInt64, String)] = [
        ("", 0x3df0_9dfc_64c0_9a2b, 0x3cb5_40c3_92e5_1e29, "2b9ac064fc9df03d291ee592c340b53c"),
        ("a", 0xd271_39a1_afe0_1ad0, 0xfd7e_8ee2_e4c8_6cf6, "d01ae0afa13971d2f66cc8e4e28e7efd"),
        ("abc", 0x900f_f195_5777_48fe, 0x13a9_1763_55b2_0d7e, "fe48775795f10f907e0db2556317a913"),
        ("Moscow", 0x2edf_17bf_ee3e_df6d, 0x22ae_f305_c640_9d55, "6ddf3eeebf17df2e559d40c605f3ae22"),
        ("12345678", 0x1d77_57a6_dd6f_d9f3, 0x7282_a0f9_c384_7a18, "f3d96fdda657771d187a84c3f9a08272"),
        ("0123456789", 0xc971_b4be_71ae_ffa5, 0x2699_8264_d528_3da9, "a5ffae71beb471c9a93d28d564829926"),
        ("0123456789abcdef", 0xc52e_a1ad_b29e_4800, 0x7369_a2fa_b076_de4c, "00489eb2ada12ec54cde76b0faa26973"),
        ("Hello, ClickHouse!", 0xa540_3aa8_e8c0_9040, 0x8ea6_30d2_1423_1ab7, "4090c0e8a83a40a5b71a2314d230a68e"),
    ]

    @Test(arguments: ascii.indices)
    func textVectorsMatchTheSpecTable(_ i: Int) {
        let (text, low, high, wire) = Self.ascii[i]
        let h = CityHash128.hash(Array(text.utf8))
        #expect(h.low == low, "low of \(text)")
        #expect(h.high == high, "high of \(text)")
        #expect(Self.wireHex(Array(text.utf8)) == wire)
    }

    static let binary: [(String, [UInt8], String)] = [
        ("bytes 0..15", (0..<16).map { UInt8($0) }, "45f9c277e6adce17dcfec87506d69e57"),
        ("bytes 0..63", (0..<64).map { UInt8($0) }, "d051d82f50a0d983223fa63e34738071"),
        ("bytes 0..199", (0..<200).map { UInt8($0) }, "fdb6239e697457279c28e7eb01ef8256"),
        ("bytes 0..255", (0..<256).map { UInt8($0) }, "9b5a34c07eb07b3293bd37b05cef45fb"),
        ("bytes 0..255 twice", (0..<512).map { UInt8($0 & 0xff) }, "cba838989416d3a9b1bb00a34bb755b6"),
        ("1000 x a", [UInt8](repeating: 0x61, count: 1000), "605ffde2edd5149443756d833e456bcc"),
    ]

    @Test(arguments: binary.indices)
    func binaryVectorsMatchBothSpecFiles(_ i: Int) {
        let (name, input, wire) = Self.binary[i]
        #expect(Self.wireHex(input) == wire, "\(name)")
    }

    @Test func spec200ByteVectorHalvesMatch() {
        let h = CityHash128.hash((0..<200).map { UInt8($0) })
        #expect(h.low == 0x2757_7469_9e23_b6fd && h.high == 0x5682_ef01_ebe7_289c)
        let h2 = CityHash128.hash((0..<512).map { UInt8($0 & 0xff) })
        #expect(h2.low == 0xa9d3_1694_9838_a8cb && h2.high == 0xb655_b74b_a300_bbb1)
    }

    @Test func hashDoesNotDependOnBufferAlignment() {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let reference = CityHash128.hash(data)
        let padded = [0xee] + data
        let shifted = padded.withUnsafeBytes { CityHash128.hash(UnsafeRawBufferPointer(rebasing: $0[1...])) }
        #expect(reference.low == shifted.low && reference.high == shifted.high)
    }
}

extension String {
    init(format2 byte: UInt8) {
        let s = String(byte, radix: 16)
        self = s.count == 1 ? "0" + s : s
    }
}
