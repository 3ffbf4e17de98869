import Foundation
public import Logging
import Synchronization

/// One line per log event on stderr, as logfmt or JSON (`logging.format`), so log
/// shippers can parse Sluice's logs without guessing.
public struct StructuredLogHandler: LogHandler {
    public enum Format: Sendable { case logfmt, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: Format

    private static let lock = Mutex(())

    public init(label: String, format: Format, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let time = Self.timestamp()
        var line: String
        switch format {
        case .logfmt:
            line = "time=\(time) level=\(event.level) logger=\(Self.logfmt(label)) msg=\(Self.logfmt(event.message.description))"
            for (k, v) in all.sorted(by: { $0.key < $1.key }) { line += " \(k)=\(Self.logfmt(v.description))" }
        case .json:
            var w = JSONWriter()
            w.beginObject()
            w.field("time", time)
            w.field("level", event.level.rawValue)
            w.field("logger", label)
            w.field("msg", event.message.description)
            for (k, v) in all.sorted(by: { $0.key < $1.key }) { w.field(k, v.description) }
            w.endObject()
            line = String(decoding: w.bytes, as: UTF8.self)
        }
        line += "\n"
        Self.lock.withLock { _ in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func logfmt(_ s: String) -> String {
        let needsQuotes = s.isEmpty || s.contains(where: { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline })
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    static func timestamp() -> String {
        let now = Date()
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: now)
    }
}
