/// The one place that turns dedup-key material into an ``EventKey``.
///
/// Every key in the raw tables' `_event_key` column, the in-memory dedup window and the
/// ClickHouse look-ups of possible redeliveries comes from this function. Keys written
/// by one hash are not comparable with keys of another, so the hash must never change
/// once tables hold data.
///
/// It is CityHash128 v1.0.2, the hash Sluice already carries for ClickHouse's
/// compressed-frame checksums: 128 bits make an accidental collision (which would drop
/// an event as a duplicate) out of reach for any realistic volume, and one hash
/// implementation is less code to trust than two.
public enum EventKeyHasher {
    @inline(__always)
    public static func key(_ material: UnsafeRawBufferPointer) -> EventKey {
        let h = CityHash128.hash(material)
        return EventKey(low: h.low, high: h.high)
    }

    public static func key(_ material: [UInt8]) -> EventKey {
        material.withUnsafeBytes { key($0) }
    }
}
