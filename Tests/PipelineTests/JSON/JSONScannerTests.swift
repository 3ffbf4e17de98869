@testable import Pipeline
import Testing

/// Scans `text` and returns the root's description or the error code.
private func scan(_ bytes: [UInt8], maxDepth: Int = 64) -> Result<String, JSONError> {
    var scanner = JSONScanner(maxDepth: maxDepth)
    return bytes.withUnsafeBytes { buffer in
        do throws(JSONError) {
            let root = try scanner.parse(buffer)
            return .success(root.kind.name)
        } catch {
            return .failure(error)
        }
    }
}

private func scan(_ text: String, maxDepth: Int = 64) -> Result<String, JSONError> { scan(Array(text.utf8), maxDepth: maxDepth) }

private func errorCode(_ r: Result<String, JSONError>) -> JSONError.Code? {
    if case .failure(let e) = r { return e.code }
    return nil
}

@Suite struct JSONScannerTests {
    @Test(arguments: [
        "{}", "[]", "0", "-0", "1.5e10", "-1E-5", "\"\"", "true", "false", "null", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n",
        #"{"a":{"b":{"c":[true,false,null,"x\"y\\z\/\b\f\n\r\t\u00e9\ud83d\ude00"]}}}"#,
        "\"héllo wörld €𝄞\"", "[[[[[]]]]]", #"{"a":1,"a":2}"#, "123456789012345678901234567890",
    ])
    func acceptsValidDocuments(_ text: String) {
        #expect(throws: Never.self) { try scan(text).get() }
    }

    @Test(arguments: [
        ("", JSONError.Code.emptyDocument), ("   ", .emptyDocument), ("{", .unexpectedEnd), ("[1,", .unexpectedEnd),
        ("[1,]", .unexpectedCharacter), ("{\"a\":1,}", .unexpectedCharacter), ("{\"a\" 1}", .unexpectedCharacter),
        ("{a:1}", .unexpectedCharacter), ("[1 2]", .unexpectedCharacter), ("01", .leadingZero), ("-01", .leadingZero),
        ("1.", .invalidNumber), (".5", .unexpectedCharacter), ("1e", .invalidNumber), ("-", .invalidNumber), ("+1", .unexpectedCharacter),
        ("1e+", .invalidNumber), ("NaN", .unexpectedCharacter), ("Infinity", .unexpectedCharacter), ("tru", .unexpectedCharacter),
        ("nul", .unexpectedCharacter), ("falsy", .unexpectedCharacter), ("{} {}", .trailingCharacters), ("1 2", .trailingCharacters),
        ("\"abc", .unexpectedEnd), ("\"a\\x\"", .invalidEscape), ("\"\\u12G4\"", .invalidEscape), ("\"\\ud800\"", .unpairedSurrogate),
        ("\"\\udc00\"", .unpairedSurrogate), ("\"\\ud800\\u0041\"", .unpairedSurrogate), ("\"a\tb\"", .controlCharacter),
        ("\"a\nb\"", .controlCharacter), ("[\"\u{1}\"]", .controlCharacter), ("'a'", .unexpectedCharacter),
    ])
    func rejectsInvalidDocuments(_ text: String, _ code: JSONError.Code) {
        #expect(errorCode(scan(text)) == code, "\(text)")
    }

    @Test(arguments: [
        [0x22, 0xC3, 0x28, 0x22], // bad continuation
        [0x22, 0xC0, 0xAF, 0x22], // overlong '/'
        [0x22, 0xE0, 0x80, 0xAF, 0x22], // overlong 3-byte
        [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], // overlong 4-byte
        [0x22, 0xED, 0xA0, 0x80, 0x22], // encoded surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], // above U+10FFFF
        [0x22, 0xF8, 0x88, 0x80, 0x80, 0x80, 0x22], // 5-byte form
        [0x22, 0xFF, 0x22], [0x22, 0x80, 0x22], // never-valid byte, stray continuation
        [0x22, 0xE2, 0x82, 0x22], // truncated
        [0x5B, 0xC3, 0xA9, 0x5D], // valid UTF-8 but outside a string
    ] as [[UInt8]])
    func rejectsInvalidUTF8(_ bytes: [UInt8]) {
        let code = errorCode(scan(bytes))
        #expect(code == .invalidUTF8 || (bytes[0] == 0x5B && code != nil))
    }

    @Test func invalidUTF8ErrorCarriesOffsetAndMessage() throws {
        guard case .failure(let e) = scan([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x7D]) else {
            Issue.record("expected an error")
            return
        }
        #expect(e.offset == 6)
        #expect(e.description.contains("surrogate"))
        #expect(e.description.contains("at byte 6"))
    }

    @Test func longASCIIAndMultibyteStringsStraddlingWordBoundariesAreValidated() {
        for prefix in 0..<17 {
            let good = "\"" + String(repeating: "a", count: prefix) + "é€😀" + String(repeating: "b", count: 20) + "\""
            #expect(throws: Never.self) { try scan(good).get() }
            var bad = Array(good.utf8)
            bad.insert(0xC0, at: prefix + 1)
            #expect(errorCode(scan(bad)) == .invalidUTF8, "prefix \(prefix)")
            var ctl = Array(good.utf8)
            ctl.insert(0x1F, at: prefix + 1)
            #expect(errorCode(scan(ctl)) == .controlCharacter, "prefix \(prefix)")
        }
    }

    @Test func nesting10000LevelsDeepFailsFastWithTheLimitInTheMessage() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let clock = ContinuousClock()
        let start = clock.now
        let result = scan(deep)
        #expect(clock.now - start < .milliseconds(100))
        guard case .failure(let e) = result else {
            Issue.record("expected an error")
            return
        }
        #expect(e.code == .tooDeep)
        #expect(e.message == "nested deeper than 64 levels")
        #expect(e.offset == 64)
    }

    @Test func depthLimitCountsContainersExactly() {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        let tooDeep = "{\"a\":" + ok + "}"
        #expect(throws: Never.self) { try scan(ok).get() }
        #expect(errorCode(scan(tooDeep)) == .tooDeep)
        #expect(errorCode(scan("[[[]]]", maxDepth: 2)) == .tooDeep)
    }

    @Test func stringLengthLimitIsEnforced() {
        var scanner = JSONScanner(maxDepth: 8, maxStringBytes: 4)
        let result: JSONError.Code? = Array("[\"abcd\",\"abcde\"]".utf8).withUnsafeBytes { b -> JSONError.Code? in
            do throws(JSONError) {
                try scanner.parse(b)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(result == .stringTooLong)
    }

    /// A document no longer than the string limit is scanned without the per-string
    /// length test (no string in it can exceed the limit); a longer one is checked, for
    /// values and keys alike, with the same error and offset.
    @Test func stringLengthLimitAppliesWithAndWithoutTheShortDocumentPath() {
        func scan(_ text: String, limit: Int) -> (code: JSONError.Code, offset: Int, message: String)? {
            var scanner = JSONScanner(maxDepth: 8, maxStringBytes: limit)
            return Array(text.utf8).withUnsafeBytes { b -> (JSONError.Code, Int, String)? in
                do throws(JSONError) {
                    try scanner.parse(b)
                    return nil
                } catch {
                    return (error.code, error.offset, error.message)
                }
            }
        }
        // Short-document path: the document is at most `limit` bytes long.
        #expect(scan(#""abcdef""#, limit: 8) == nil)
        #expect(scan(#"{"abcd":"ef"}"#, limit: 13) == nil)
        // Checked path: exactly at the limit passes, one byte over fails at the opening quote.
        #expect(scan(#"["abcd","ab"]"#, limit: 4) == nil)
        #expect(scan(#"{"abcd":"abcd"}"#, limit: 4) == nil)
        #expect(scan(#"["ab","abcde"]"#, limit: 4).map { [$0.offset] } == [6])
        #expect(scan(#"["ab","abcde"]"#, limit: 4)?.message == "string of 5 bytes is longer than the limit of 4")
        #expect(scan(#"{"abcde":1}"#, limit: 4).map { "\($0.code) \($0.offset) \($0.message)" }
            == "stringTooLong 1 string of 5 bytes is longer than the limit of 4")
        #expect(scan(#""abcde""#, limit: 4).map { "\($0.code) \($0.offset)" } == "stringTooLong 0")
        // Escapes count as their JSON text.
        #expect(scan(#"[" \n "]"#, limit: 3)?.code == .stringTooLong)
        #expect(scan(#"[" \n"]"#, limit: 3) == nil)
    }

    @Test func tapeLinksSiblingsAndFindsMembers() throws {
        let text = #"{"a":{"x":[1,2,{"y":null}]},"b":"v\u00e9","c":-12.5e1,"d\n":true}"#
        var scanner = JSONScanner()
        try Array(text.utf8).withUnsafeBytes { buffer in
            let root = try scanner.parse(buffer)
            #expect(root.kind == .object)
            #expect(root.count == 4)
            #expect(Array(root.members.map { $0.key.string }) == ["a", "b", "c", "d\n"])
            #expect(root.member("b")?.string == "vé")
            #expect(root.member("b")?.hasEscapes == true)
            #expect(root.member("c")?.double == -125)
            #expect(root.member("d\n")?.bool == true)
            #expect(root.value(atPath: ["a", "x"])?.count == 3)
            #expect(root.value(atPath: ["a", "x"])?.rawBytes.elementsEqual(Array(#"[1,2,{"y":null}]"#.utf8)) == true)
            #expect(root.member("b")?.rawBytes.elementsEqual(Array(#""v\u00e9""#.utf8)) == true)
            #expect(root.member("zz") == nil)
            #expect(root.value(atPath: ["b", "x"]) == nil)
        }
    }

    @Test func unescapingDecodesEveryEscapeAndSurrogatePairs() throws {
        var scanner = JSONScanner()
        try Array(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00x""#.utf8).withUnsafeBytes { buffer in
            let v = try scanner.parse(buffer)
            #expect(v.string == "\"\\/\u{8}\u{c}\n\r\tAé€😀x")
            #expect(v.equals("\"\\/\u{8}\u{c}\n\r\tAé€😀x"))
            #expect(!v.equals("\"\\/\u{8}\u{c}\n\r\tAé€😀"))
        }
    }

    @Test func scannerIsReusableAcrossDocumentsOfDifferentSizes() throws {
        var scanner = JSONScanner()
        for n in [1, 500, 3, 2000, 0] {
            let text = "[" + (0..<n).map(String.init).joined(separator: ",") + "]"
            try Array(text.utf8).withUnsafeBytes { buffer in
                let root = try scanner.parse(buffer)
                #expect(root.count == n)
                #expect(root.elements.map { $0.int64 ?? -1 } == (0..<n).map(Int64.init))
            }
        }
    }

    @Test func randomBytesNeverCrashTheScanner() {
        var rng = SystemRandomNumberGenerator()
        var scanner = JSONScanner(maxDepth: 16)
        let alphabet: [UInt8] = Array("{}[]\",:\\ 0123456789-+.eEtrufalsn\u{1}".utf8) + [0x80, 0xC3, 0xE2, 0xF0, 0xFF, 0xED, 0xA0]
        for _ in 0..<20_000 {
            let n = Int.random(in: 0..<40, using: &rng)
            let bytes = (0..<n).map { _ in Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng) }
            bytes.withUnsafeBytes { b in
                if let root = try? scanner.parse(b) {
                    // Walk whatever parsed: every value must be reachable without a crash.
                    _ = root.rawBytes.count
                    _ = root.count
                    _ = root.string
                }
            }
        }
    }

    @Test func mutatedValidDocumentsNeverCrashAndMostlyFail() {
        let valid = Array(#"{"specversion":"1.0","id":"a","data":{"v":[1,2.5e3,"é\u00e9"],"n":null}}"#.utf8)
        var scanner = JSONScanner()
        var failures = 0
        for i in 0..<valid.count {
            for replacement: UInt8 in [0x00, 0x22, 0x5C, 0x7B, 0x5D, 0xC3, 0xFF, 0x31] {
                var bytes = valid
                bytes[i] = replacement
                let ok = bytes.withUnsafeBytes { (try? scanner.parse($0)) != nil }
                if !ok { failures += 1 }
            }
        }
        #expect(failures > valid.count * 3)
    }

    /// The scanner's fast paths (`"key":value` with no whitespace, ASCII strings found
    /// eight bytes at a time, container kind kept in the depth stack) and their fallbacks
    /// (whitespace around ':', escapes and non-ASCII in keys, strings ending in the last
    /// eight bytes of the input) must build the same tape.
    @Test func fastAndGeneralPathsBuildTheSameTape() throws {
        let compact = #"{"k\u0065y":[1,{"é":"x","b":[]},"last-eight"],"z":{"n":null,"t":true,"f":false,"s":"abcdefghijklmnopq"}}"#
        let spaced = " { \"k\\u0065y\" :\n[ 1 , { \"é\"\t: \"x\" , \"b\" : [ ] } , \"last-eight\" ] ,\"z\":{ \"n\" : null,\"t\":true ,\"f\": false,\"s\" :\"abcdefghijklmnopq\" } } "
        func shape(_ text: String) throws -> [String] {
            var scanner = JSONScanner()
            return try Array(text.utf8).withUnsafeBytes { buffer in
                let root = try scanner.parse(buffer)
                var out: [String] = []
                func walk(_ v: JSONValue) {
                    out.append("\(v.kind.name)@\(v.index)->\(v.node.next)")
                    switch v.kind {
                    case .object:
                        for (k, m) in v.members {
                            out.append("key \(k.string) esc=\(k.hasEscapes)")
                            walk(m)
                        }
                    case .array: for e in v.elements { walk(e) }
                    default: out.append(v.string)
                    }
                }
                walk(root)
                return out
            }
        }
        let expected = [
            "object@0->20", "key key esc=true", "array@2->10", "number@3->4", "1", "object@4->9", "key é esc=false", "string@6->7", "x",
            "key b esc=false", "array@8->9", "string@9->10", "last-eight", "key z esc=false", "object@11->20", "key n esc=false", "null@13->14",
            "null", "key t esc=false", "boolean@15->16", "true", "key f esc=false", "boolean@17->18", "false", "key s esc=false",
            "string@19->20", "abcdefghijklmnopq",
        ]
        #expect(try shape(compact) == expected)
        #expect(try shape(spaced) == expected)
    }

    @Test func objectsThatOutgrowTheTapeKeepEveryMember() throws {
        // 400 members need 801 nodes: the tape grows several times, at keys and at values.
        let text = "{" + (0..<400).map { "\"m\($0)\":\($0)" }.joined(separator: ",") + "}"
        var scanner = JSONScanner()
        try Array(text.utf8).withUnsafeBytes { buffer in
            let root = try scanner.parse(buffer)
            #expect(root.count == 400)
            #expect(root.members.map { $0.key.string } == (0..<400).map { "m\($0)" })
            #expect(root.members.map { $0.value.int64 ?? -1 } == (0..<400).map(Int64.init))
            #expect(root.node.next == 801)
        }
    }

    @Test func errorsKeepTheirMessagesAndOffsets() {
        func failure(_ text: String) -> String {
            guard case .failure(let e) = scan(text) else { return "ok" }
            return e.description
        }
        #expect(failure(#"{"a"1}"#) == "unexpected character '1', expected ':' at byte 4")
        #expect(failure(#"{"a" : 1 "#) == "unexpected end of input inside an object at byte 9")
        #expect(failure("[1 ") == "unexpected end of input inside an array at byte 3")
        #expect(failure(#"{"a":1]"#) == "unexpected character ']', expected ',' or '}' at byte 6")
        #expect(failure("[1}") == "unexpected character '}', expected ',' or ']' at byte 2")
        #expect(failure(#"{"a":1,2}"#) == "unexpected character '2', expected a string key at byte 7")
        #expect(failure(#"{"a":}"#) == "unexpected character '}', expected a value at byte 5")
        #expect(failure(#"{"a":tx}"#) == "invalid literal, expected 'true' at byte 5")
        #expect(failure(#"["abc"#) == "unterminated string at byte 1")
        #expect(failure(#"["abcdefghijklmnop"#) == "unterminated string at byte 1")
        #expect(failure("[\"abcdefgh\u{1}ijk\"]") == "unescaped control character 0x01 in a string at byte 10")
        #expect(failure("[] x") == "unexpected character 'x' after the end of the document at byte 3")
    }
}
