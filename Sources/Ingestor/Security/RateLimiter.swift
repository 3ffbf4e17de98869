import Synchronization

/// The verdict of one rate-limit check, with what the `X-RateLimit-*` headers report.
public struct RateLimitStatus: Sendable, Hashable {
    public var allowed: Bool
    /// The limit of the bucket reported (the most restrictive one checked).
    public var limit: Int
    /// Requests left in that bucket after this one.
    public var remaining: Int
    /// Unix seconds at which the current window ends (`X-RateLimit-Reset`, as in seed 001).
    public var resetEpochSeconds: Int64
    /// When refused: whole seconds until a request would be accepted (`Retry-After`).
    public var retryAfterSeconds: Int
    /// Which bucket refused or is reported, for the audit log (`key:<name>`, `tenant:<id>`).
    public var bucket: String

    public var headers: [(String, String)] {
        var h = [("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Remaining", String(remaining)), ("X-RateLimit-Reset", String(resetEpochSeconds))]
        if !allowed { h.append(("Retry-After", String(retryAfterSeconds))) }
        return h
    }
}

/// Sliding-window request counters (the approximation Redis- and Cloudflare-style limiters
/// use, and seed 001's "sliding window"): a window's count is this fixed window's requests
/// plus the previous window's, weighted by how much of it still overlaps the sliding
/// window. Unlike a fixed window it does not let through twice the limit around a window
/// boundary, and unlike a log of timestamps it costs two integers per bucket.
///
/// Several buckets (the key's, the tenant's) are checked together and charged only if all
/// allow, so a request refused by one bucket does not use up another. Memory is bounded:
/// at most `maxBuckets` buckets are kept; idle ones are dropped first.
public final class RateLimiter: Sendable {
    /// One bucket to check: its name and limit.
    public struct Check: Sendable, Hashable {
        public var bucket: String
        public var limit: RateLimit

        public init(bucket: String, limit: RateLimit) {
            self.bucket = bucket
            self.limit = limit
        }
    }

    struct Window {
        /// Index of the current fixed window (`now / period`).
        var index: Int64
        var current: Int
        var previous: Int
        var periodMs: Int64
    }

    private let windows = Mutex<[String: Window]>([:])
    let maxBuckets: Int

    public init(maxBuckets: Int = 100_000) {
        self.maxBuckets = maxBuckets
    }

    /// Checks and, when every bucket allows, charges one request to each.
    /// - Parameter nowMs: wall-clock milliseconds since the epoch (injected by tests).
    public func acquire(_ checks: [Check], nowMs: Int64) -> RateLimitStatus? {
        guard !checks.isEmpty else { return nil }
        return windows.withLock { windows in
            var statuses: [RateLimitStatus] = []
            var updated: [(String, Window)] = []
            for check in checks {
                let periodMs = Int64(check.limit.periodSeconds) * 1000
                let index = nowMs / periodMs
                var w = windows[check.bucket] ?? Window(index: index, current: 0, previous: 0, periodMs: periodMs)
                if w.index != index {
                    w.previous = w.index == index - 1 ? w.current : 0
                    w.current = 0
                    w.index = index
                }
                let elapsed = nowMs - index * periodMs
                let weight = Double(periodMs - elapsed) / Double(periodMs)
                let estimate = Double(w.previous) * weight + Double(w.current)
                let limit = check.limit.requests
                let allowed = estimate + 1 <= Double(limit) + 1e-9
                let reset = (index + 1) * periodMs / 1000
                if allowed {
                    w.current += 1
                    updated.append((check.bucket, w))
                    let remaining = Swift.max(0, Int((Double(limit) - estimate - 1).rounded(.down)))
                    statuses.append(RateLimitStatus(allowed: true, limit: limit, remaining: remaining, resetEpochSeconds: reset, retryAfterSeconds: 0, bucket: check.bucket))
                } else {
                    let wait = Self.msUntilAllowed(w, limit: limit, periodMs: periodMs, elapsed: elapsed)
                    let retry = Int(Swift.max(1, (wait + 999) / 1000))
                    return RateLimitStatus(allowed: false, limit: limit, remaining: 0, resetEpochSeconds: reset, retryAfterSeconds: retry, bucket: check.bucket)
                }
            }
            if windows.count + updated.count > maxBuckets { Self.prune(&windows, nowMs: nowMs, keep: maxBuckets / 2) }
            for (bucket, w) in updated { windows[bucket] = w }
            return statuses.min { $0.remaining < $1.remaining }
        }
    }

    /// Milliseconds until `estimate + 1 <= limit` given no further requests.
    static func msUntilAllowed(_ w: Window, limit: Int, periodMs: Int64, elapsed: Int64) -> Int64 {
        let L = Double(limit), P = Double(periodMs)
        // Still inside this window: the previous window's weight decays linearly.
        if w.previous > 0, Double(w.current) + 1 <= L {
            let dt = (P - Double(elapsed)) - (L - Double(w.current) - 1) * P / Double(w.previous)
            if dt <= P - Double(elapsed) { return Int64(Swift.max(0, dt.rounded(.up))) }
        }
        // In the next window this window's count becomes the decaying one.
        let toNext = P - Double(elapsed)
        guard w.current > 0 else { return Int64(toNext.rounded(.up)) }
        let into = Swift.max(0, P - (L - 1) * P / Double(w.current))
        return Int64((toNext + into).rounded(.up))
    }

    /// Drops buckets that have been idle for two windows, then, if still too many, the
    /// oldest: a flood of invented tenant ids cannot grow memory without bound.
    static func prune(_ windows: inout [String: Window], nowMs: Int64, keep: Int) {
        // A bucket whose current window ended more than one window ago counts nothing.
        windows = windows.filter { _, w in w.index >= nowMs / w.periodMs - 1 }
        if windows.count > keep {
            let oldest = windows.sorted { $0.value.index * $0.value.periodMs < $1.value.index * $1.value.periodMs }
            for (key, _) in oldest.prefix(windows.count - keep) { windows[key] = nil }
        }
    }

    /// Buckets held, for tests of the memory bound.
    public var bucketCount: Int { windows.withLock { $0.count } }
}
