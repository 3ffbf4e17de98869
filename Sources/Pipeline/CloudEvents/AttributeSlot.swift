/// Fixed slot numbers of the attributes the decoder itself needs, in the
/// ``KeyTable`` that every structured event's members are looked up in. Extensions that
/// a dataset reads (`ce.tenantid`, `ce.partitionkey` ...) get the slots after these;
/// other extensions are checked and skipped.
enum AttributeSlot {
    static let specversion = 0
    static let id = 1
    static let source = 2
    static let type = 3
    static let datacontenttype = 4
    static let dataschema = 5
    static let subject = 6
    static let time = 7
    /// The JSON format's payload members (not attributes, but looked up the same way).
    static let data = 8
    static let dataBase64 = 9
    /// Always present: the tenant scope's default fills it.
    static let tenantid = 10
    static let firstExtension = 11

    static let fixedNames = [
        "specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time",
        "data", "data_base64", "tenantid",
    ]

    /// Attribute names are lowercase ASCII letters and digits (CloudEvents 1.0 §3.1.1).
    @inline(__always)
    static func isValidName(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty else { return false }
        for b in bytes where !((b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)) { return false }
        return true
    }
}
