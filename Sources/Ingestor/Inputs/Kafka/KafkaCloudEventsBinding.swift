public import Pipeline

/// The CloudEvents Kafka protocol binding (CloudEvents spec, Kafka binding §3), as seen
/// by a receiver: how a record's headers decide how its value is read.
///
/// - `content-type` starting with `application/cloudevents` → structured mode: the value
///   is the event (or a batch) in the JSON format.
/// - otherwise, any `ce_*` header → binary mode: the value is `data`, each `ce_<name>`
///   header is the attribute `<name>`, and `content-type` is `datacontenttype`.
/// - no `ce_*` header and no CloudEvents content type → structured mode too, because
///   Dapr's Kafka component writes structured JSON values *without* a content-type
///   header. A value that is not a CloudEvent then fails to decode and is dead-lettered
///   with its reason, instead of being dropped here.
///
/// Header names are matched case-insensitively (the spec's examples are lower case, but
/// some producers capitalise `Content-Type`); values are UTF-8 text.
public enum KafkaCloudEventsBinding {
    /// Classifies one record's headers, fed one by one as the poll thread reads them.
    public struct Classifier {
        private var contentType: String?
        /// The content type is a CloudEvents one. Checked on the header's bytes, so the
        /// common structured record (one `content-type: application/cloudevents+json`
        /// header) costs no string: at 28 bytes it would be a heap allocation per record
        /// on the poll thread.
        private var cloudEventsContentType = false
        private var attributes: [String: String] = [:]

        public init() {}

        public mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
            if Self.equalsIgnoringCase(name, "content-type") {
                if let value, Self.hasPrefixIgnoringCase(value, "application/cloudevents") {
                    cloudEventsContentType = true
                    contentType = nil
                } else {
                    cloudEventsContentType = false
                    contentType = value.map { String(decoding: $0, as: UTF8.self) }
                }
            } else if name.count > 3, Self.hasPrefixIgnoringCase(name, "ce_"), let value {
                let attribute = String(decoding: UnsafeRawBufferPointer(rebasing: name[3...]), as: UTF8.self).lowercased()
                attributes[attribute] = String(decoding: value, as: UTF8.self)
            }
        }

        public var format: MessageFormat {
            if cloudEventsContentType { return .structured }
            guard !attributes.isEmpty else { return .structured }
            var a = attributes
            if let ct = contentType { a["datacontenttype"] = ct }
            return .binary(attributes: a)
        }

        static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ ascii: StaticString) -> Bool {
            bytes.count == ascii.utf8CodeUnitCount && hasPrefixIgnoringCase(bytes, ascii)
        }

        static func hasPrefixIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ ascii: StaticString) -> Bool {
            let n = ascii.utf8CodeUnitCount
            guard bytes.count >= n else { return false }
            let p = ascii.utf8Start
            for i in 0..<n where lower(bytes[i]) != lower(p[i]) { return false }
            return true
        }

        static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    }

    /// The format of a record with these headers (name, value; nil for a null value).
    public static func format(headers: [(String, String?)]) -> MessageFormat {
        var c = Classifier()
        for (name, value) in headers {
            var n = name
            n.withUTF8 { nameBytes in
                if var v = value {
                    v.withUTF8 { c.add(name: UnsafeRawBufferPointer(nameBytes), value: UnsafeRawBufferPointer($0)) }
                } else {
                    c.add(name: UnsafeRawBufferPointer(nameBytes), value: nil)
                }
            }
        }
        return c.format
    }
}
