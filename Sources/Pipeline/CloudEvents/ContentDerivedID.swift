/// The event id Sluice derives for an event that arrives without one (seed 004's ingest
/// API has no ids): 32 lowercase hex digits of a 128-bit hash of the event's JSON text and
/// its position in its request.
///
/// A retried request (same bytes, same order) gets the same ids, so dedup on
/// `source`+`id` drops the retry, while two identical items of one request stay two
/// events. ``ChunkDecoder`` applies it to `.binaryItems` items without an `id` attribute;
/// an HTTP route that turns a single id-less body into a `.binary` message calls
/// ``make(_:position:)`` itself and passes the result as the `id` attribute.
///
/// The hash is CityHash128 of the event's bytes, with the position folded into the low
/// half so that identical items at different positions get different ids.
public enum ContentDerivedID {
    public static func make(_ event: UnsafeRawBufferPointer, position: Int = 0) -> String {
        let (high, low) = halves(event, position: position)
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(high) + hex(low)
    }

    public static func make(_ event: [UInt8], position: Int = 0) -> String {
        event.withUnsafeBytes { make($0, position: position) }
    }

    static func halves(_ event: UnsafeRawBufferPointer, position: Int) -> (high: UInt64, low: UInt64) {
        let h = CityHash128.hash(event)
        return (h.high, h.low &+ UInt64(truncatingIfNeeded: position) &* 0x9E37_79B9_7F4A_7C15)
    }
}
