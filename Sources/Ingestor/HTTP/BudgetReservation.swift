public import Pipeline
import Synchronization

/// Bytes of the memory budget held for one request, handed over exactly once: either to
/// the chunk (released when it settles) or back to the budget when the request ends
/// without submitting.
public final class BudgetReservation: Sendable {
    let budget: MemoryBudget
    public let bytes: Int
    private let owned = Mutex(true)

    public init(budget: MemoryBudget, bytes: Int) {
        self.budget = budget
        self.bytes = bytes
    }

    /// Takes ownership of the bytes; 0 if already taken.
    public func take() -> Int {
        owned.withLock { o in
            defer { o = false }
            return o ? bytes : 0
        }
    }

    public func releaseIfUnused() {
        let n = take()
        if n > 0 { budget.release(n) }
    }
}
