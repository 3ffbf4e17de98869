/// Makes new API keys for `sluice keys new`.
///
/// A key is `slk_` plus 43 base62 characters drawn from the system's CSPRNG
/// (`SystemRandomNumberGenerator` reads getrandom(2) on Linux), about 256 bits. The
/// visible prefix lets secret scanners and log readers recognise a Sluice key; only its
/// SHA-256 goes into the configuration.
public enum APIKeyGenerator {
    public static let prefix = "slk_"
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    public static func newKey() -> String {
        var rng = SystemRandomNumberGenerator()
        // `random(in:)` is unbiased, so every character carries log2(62) bits.
        return prefix + String((0..<43).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }

    /// A new key and its `auth.keys` entry. The default name is the role, the tenant and
    /// the key's first characters, so it is unique in practice and readable in logs.
    public static func make(
        role: APIKeyRole, tenant: String?, name: String?, expiresAtMs: Int64? = nil, rateLimit: RateLimit? = nil
    ) -> (key: String, entry: APIKeyEntry) {
        let key = newKey()
        let safeTenant = tenant.map { String($0.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }.prefix(40)) }
        let fallback = [role.rawValue, safeTenant, String(key.dropFirst(prefix.count).prefix(6))].compactMap { $0 }.joined(separator: "-")
        let entry = APIKeyEntry(name: name ?? fallback, key: key, role: role, tenant: tenant, expiresAtMs: expiresAtMs, rateLimit: rateLimit)
        return (key, entry)
    }

    /// The part of a presented credential that may be logged: `slk_` and a few
    /// characters, never enough to use it (at most a third of it, and at most 12 characters).
    public static func loggablePrefix(_ credential: String) -> String {
        let visible = Swift.min(12, credential.count / 3)
        return String(credential.prefix(visible)) + "…"
    }
}
