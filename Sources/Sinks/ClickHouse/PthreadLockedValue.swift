#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a `pthread_mutex_t`, like SwiftNIO's `NIOLockedValueBox`.
///
/// Used instead of `Synchronization.Mutex` for the transport queue because
/// ThreadSanitizer intercepts pthread mutexes but does not see the futex-based
/// `Mutex` on Linux, and reports every access to the guarded state as a race; with this
/// lock a TSan run of the transport tests is meaningful (and clean).
final class PthreadLockedValue<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is only read or written between pthread_mutex_lock and
    // pthread_mutex_unlock on `mutex`, which lives at a stable heap address.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value. Never call out to code that may
    /// take the same lock, or block, inside `body`.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
