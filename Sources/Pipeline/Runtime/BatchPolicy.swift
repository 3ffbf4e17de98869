/// When a table's batch is flushed: at `maxRows`, `maxBytes` or `maxAge`, whichever
/// comes first. Reloadable.
public struct BatchPolicy: Sendable, Hashable {
    /// Rows per insert. ClickHouse prefers few large inserts (each insert makes a part);
    /// larger batches cost memory and latency.
    public var maxRows: Int
    /// Uncompressed bytes per insert.
    public var maxBytes: Int
    /// Longest time a row waits in a batch: the ingest latency bound.
    public var maxAge: Duration

    public init(maxRows: Int = 100_000, maxBytes: Int = 32 << 20, maxAge: Duration = .seconds(1)) {
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        self.maxAge = maxAge
    }
}

/// How duplicates are remembered. Reloadable.
public struct DedupPolicy: Sendable, Hashable {
    /// How long accepted keys are remembered in memory.
    public var window: Duration
    /// The most keys kept in memory; past it the window shortens.
    public var maxKeys: Int

    public init(window: Duration = .seconds(600), maxKeys: Int = 2_000_000) {
        self.window = window
        self.maxKeys = maxKeys
    }
}

/// How a failed flush is retried: capped exponential backoff with jitter.
public struct RetryPolicy: Sendable, Hashable {
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10)) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// The delay before retry number `attempt` (0-based), with ±20% jitter.
    public func delay(attempt: Int) -> Duration {
        let base = initialDelay * Int(1 << Swift.min(attempt, 20))
        let capped = base > maxDelay ? maxDelay : base
        return capped * Double.random(in: 0.8...1.2)
    }
}
