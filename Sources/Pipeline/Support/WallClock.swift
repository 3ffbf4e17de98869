#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time for data (ingest times, dedup horizons); durations use
/// `ContinuousClock`, which does not jump.
public enum WallClock {
    /// Nanoseconds since the Unix epoch.
    public static func nowNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public static func nowSeconds() -> UInt32 { UInt32(clamping: nowNanos() / 1_000_000_000) }
}
