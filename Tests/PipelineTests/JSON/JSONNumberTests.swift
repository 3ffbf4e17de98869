@testable import Pipeline
import Testing

private func double(_ text: String) -> Double { Array(text.utf8).withUnsafeBytes { JSONNumber.parseDouble($0) } }
private func int64(_ text: String) -> Int64? { Array(text.utf8).withUnsafeBytes { JSONNumber.parseInt64($0) } }
private func uint64(_ text: String) -> UInt64? { Array(text.utf8).withUnsafeBytes { JSONNumber.parseUInt64($0) } }

@Suite struct JSONNumberTests {
    @Test func int64IsExactAtTheEdgesAndRejectsOverflow() {
        #expect(int64("9223372036854775807") == .max)
        #expect(int64("-9223372036854775808") == .min)
        #expect(int64("9223372036854775808") == nil)
        #expect(int64("-9223372036854775809") == nil)
        #expect(int64("0") == 0)
        #expect(int64("-0") == 0)
        #expect(int64("99999999999999999999999") == nil)
    }

    @Test func uint64IsExactAtTheEdgesAndRejectsNegatives() {
        #expect(uint64("18446744073709551615") == .max)
        #expect(uint64("18446744073709551616") == nil)
        #expect(uint64("-1") == nil)
        #expect(uint64("-0") == 0)
    }

    @Test(arguments: [
        "0", "-0", "0.1", "0.2", "0.3", "1250.50", "1e22", "1e23", "123456789012345678", "9007199254740993",
        "2.2250738585072014e-308", "4.9e-324", "5e-324", "1.7976931348623157e308", "1e-400", "0.000001", "-3.14159",
        "3.141592653589793238462643383279502884197", "100000000000000000000000000000000.5", "7.0e-10", "1E2", "12e-1",
    ])
    func doublesAreCorrectlyRounded(_ text: String) {
        let expected = Double(text)!
        let actual = double(text)
        #expect(actual.bitPattern == expected.bitPattern, "\(text): \(actual) vs \(expected)")
    }

    @Test func doublesOutOfRangeBecomeInfinity() {
        #expect(double("1e309") == .infinity)
        #expect(double("-1e309") == -.infinity)
    }

    @Test func randomShortDecimalsMatchTheStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let whole = Int.random(in: 0..<10_000_000, using: &rng)
            let fraction = Int.random(in: 0..<1_000_000, using: &rng)
            let exponent = Int.random(in: -30...30, using: &rng)
            let text = "\(Bool.random(using: &rng) ? "-" : "")\(whole).\(fraction)e\(exponent)"
            #expect(double(text).bitPattern == Double(text)!.bitPattern, "\(text)")
        }
    }

    @Test func syntaxAcceptsOnlyJSONNumbers() {
        func syntax(_ s: String) -> Bool { Array(s.utf8).withUnsafeBytes { JSONNumber.syntax($0) != nil } }
        #expect(syntax("12"))
        #expect(syntax("-1.5e-3"))
        #expect(!syntax(""))
        #expect(!syntax("NaN"))
        #expect(!syntax("inf"))
        #expect(!syntax("1."))
        #expect(!syntax("01"))
        #expect(!syntax(" 1"))
        #expect(!syntax("0x10"))
    }
}
