/// Parsers for the value syntaxes operators write in YAML and environment variables.
public enum ConfigParsers {
    /// `500ms`, `2s`, `10m`, `1h`, `7d`, or a bare number of seconds.
    public static func duration(_ text: String) -> Duration? {
        let s = text.trimmingCharacters(in: " ")
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000_001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800)]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count)), v >= 0, v.isFinite else { return nil }
            return .nanoseconds(Int64((v * scale * 1e9).rounded()))
        }
        guard let v = Double(s), v >= 0, v.isFinite else { return nil }
        return .nanoseconds(Int64((v * 1e9).rounded()))
    }

    /// `512`, `64KiB`, `32MiB`, `1GiB`, `10MB`, `1.5GB`.
    public static func byteSize(_ text: String) -> Int? {
        let s = text.trimmingCharacters(in: " ")
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000),
            ("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824), ("B", 1),
        ]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count).trimmingCharacters(in: " ")), v >= 0, v.isFinite else { return nil }
            return Int(v * scale)
        }
        return Int(s).flatMap { $0 >= 0 ? $0 : nil }
    }

    public static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }

    /// `host:port`, `:port` (all interfaces) or `[::1]:port`.
    public static func listenAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
