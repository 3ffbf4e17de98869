@testable import Pipeline
import Testing

@Suite struct KeyTableTests {
    /// Keys of every length class (1–3, 4–7, 8–16 bytes read as overlapping words, and
    /// longer ones compared byte-wise), with same-length neighbours that differ in one
    /// byte at the start, the middle or the end, so the overlapping loads must not confuse them.
    @Test func findsExactlyTheNamesOfEveryLengthClass() {
        let names = [
            "a", "ab", "ba", "abc", "abd", "type", "time", "data", "source", "tenantid", "tenantie", "uenantid",
            "specversion", "data_base64", "datacontenttype", "dataschema", "sixteen_bytes_ab", "sixteen_bytes_ac",
            "seventeen_bytes_x", "a_rather_long_attribute_name_here", "type",
        ]
        let table = KeyTable(names)
        let view = table.view
        func slot(_ key: String) -> Int {
            Array(key.utf8).withUnsafeBytes { view.slot($0) }
        }
        for (i, name) in names.enumerated() {
            // A duplicate name keeps its first slot.
            #expect(slot(name) == names.firstIndex(of: name), "\(name)")
            #expect(Array(name.utf8).withUnsafeBytes { table.slot($0) } == names.firstIndex(of: name) ?? i)
        }
        for missing in ["", "b", "abe", "typf", "tima", "tenantic", "specversioo", "sixteen_bytes_ad", "seventeen_bytes_y",
                        "a_rather_long_attribute_name_herf", "datacontenttypex", "eime"] {
            #expect(slot(missing) == -1, "\(missing)")
        }
    }

    @Test func keysWithEscapesAreDecodedBeforeTheLookup() throws {
        let table = KeyTable(["time", "id"])
        var scanner = JSONScanner()
        var scratch = GrowableBuffer()
        try Array(#"{"ti\u006De":1,"id":2,"i\u0064x":3}"#.utf8).withUnsafeBytes { buffer in
            let root = try scanner.parse(buffer)
            let slots = root.members.map { table.view.slot(of: $0.key, scratch: &scratch) }
            #expect(slots == [0, 1, -1])
        }
    }
}
