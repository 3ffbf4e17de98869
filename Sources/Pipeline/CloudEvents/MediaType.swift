/// The one media-type question decoding asks: is this content type JSON?
public enum MediaType {
    /// True for `*/json` and `*/*+json` (any case), ignoring parameters such as
    /// `; charset=utf-8` and surrounding spaces, as the CloudEvents JSON format requires
    /// (Dapr sends `application/json; charset=utf-8`).
    public static func isJSON(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Nearly every event says exactly "application/json": answer it with two word
        // compares before the general parse.
        if bytes.count == 16, let p = bytes.baseAddress,
           p.loadUnaligned(as: UInt64.self) == 0x7461_6369_6C70_7061, // "applicat", little-endian
           p.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == 0x6E6F_736A_2F6E_6F69 // "ion/json"
        {
            return true
        }
        var end = bytes.count
        if let semicolon = bytes.firstIndex(of: 0x3B) { end = semicolon }
        var start = 0
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        guard let slash = bytes[start..<end].firstIndex(of: 0x2F), slash > start else { return false }
        let subtypeLength = end - slash - 1
        guard subtypeLength >= 4 else { return false }
        // "json" preceded by the slash or by '+'.
        let j = end - 4
        guard bytes[j] | 0x20 == 0x6A, bytes[j + 1] | 0x20 == 0x73, bytes[j + 2] | 0x20 == 0x6F, bytes[j + 3] | 0x20 == 0x6E else {
            return false
        }
        return j == slash + 1 || (bytes[j - 1] == 0x2B && j - 1 > slash + 1)
    }

    public static func isJSON(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isJSON(UnsafeRawBufferPointer($0)) }
    }
}
