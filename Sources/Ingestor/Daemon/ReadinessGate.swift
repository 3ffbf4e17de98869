import Synchronization

/// Opens once the pipeline may take events: the dedup windows have been rebuilt from
/// ClickHouse. Inputs wait on it before reading, and HTTP ingest answers 503 until then,
/// so nothing read after a restart escapes the restart-safe dedup.
public final class ReadinessGate: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init(open: Bool = false) {
        state.withLock { $0.open = open }
    }

    public var isOpen: Bool { state.withLock { $0.open } }

    public func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    /// Returns once the gate is open.
    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let open = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if open { c.resume() }
        }
    }
}
