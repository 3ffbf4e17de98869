import Pipeline
import Testing

@Suite struct MediaTypeTests {
    @Test(arguments: [
        ("application/json", true), ("application/json; charset=utf-8", true), ("Application/JSON", true),
        (" application/json ;charset=UTF-8", true), ("application/cloudevents+json", true), ("text/json", true),
        ("application/vnd.api+json; ext=x", true), ("application/jsonx", false), ("application/json5", false),
        ("application/xjson", false), ("text/plain", false), ("application/octet-stream", false), ("json", false),
        ("application/+json", false), ("", false), ("application/xml; note=json", false),
    ])
    func recognisesJSONMediaTypesIgnoringParameters(_ text: String, _ expected: Bool) {
        #expect(MediaType.isJSON(text) == expected, "\(text)")
    }
}

@Suite struct Base64Tests {
    private func decode(_ text: String) -> [UInt8]? {
        var out = GrowableBuffer()
        let bad = Array(text.utf8).withUnsafeBytes { Base64.decode($0, into: &out) }
        return bad == nil ? out.allBytes : nil
    }

    @Test func decodesPaddedAndUnpaddedInput() {
        #expect(decode("") == [])
        #expect(decode("aGVsbG8=") == Array("hello".utf8))
        #expect(decode("aGVsbG8") == Array("hello".utf8))
        #expect(decode("aGVsbA==") == Array("hell".utf8))
        #expect(decode("aGVsbA") == Array("hell".utf8))
        #expect(decode("+/+/") == [0xFB, 0xFF, 0xBF])
    }

    @Test func rejectsBadCharactersAndLengths() {
        #expect(decode("aGVs bG8=") == nil)
        #expect(decode("aGVsbG8-") == nil)
        #expect(decode("a") == nil)
        #expect(decode("aGVsbG8==") == nil)
        #expect(decode("aG=sbG8=") == nil)
    }
}

@Suite struct ContentDerivedIDTests {
    @Test func derivedIDsAreStableHexAndDependOnContentAndPosition() {
        let item = Array(#"{"metric_name":"b"}"#.utf8)
        let id = ContentDerivedID.make(item)
        #expect(id.count == 32)
        #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(id == ContentDerivedID.make(item))
        #expect(id != ContentDerivedID.make(item, position: 1))
        #expect(id != ContentDerivedID.make(Array(#"{"metric_name":"c"}"#.utf8)))
    }

    @Test func itemsBodyUsesTheSameDerivedIDs() {
        let body = #"{"metrics":[{"metric_name":"a","value":1},{"metric_name":"b"}]}"#
        let format = MessageFormat.binaryItems(attributes: ["specversion": "1.0", "source": "/x", "type": "metric", "tenantid": "t"], itemsKey: "metrics")
        let out = Harness().decode(body, format: format)
        #expect(out.rejections.count == 1)
        #expect(out.rejections.first?.eventID == ContentDerivedID.make(Array(#"{"metric_name":"b"}"#.utf8), position: 1))
    }
}
