import Synchronization

/// The state of one component, as `/health/ready` reports it.
public struct ComponentHealth: Sendable {
    public var name: String
    public var healthy: Bool
    public var detail: String

    public init(name: String, healthy: Bool, detail: String) {
        self.name = name
        self.healthy = healthy
        self.detail = detail
    }
}

/// A check that does real work (ClickHouse `SELECT 1`, Redis `PING`, a Kafka metadata
/// fetch), not just "the object exists".
public protocol HealthCheck: Sendable {
    var name: String { get }
    func check() async -> ComponentHealth
}

/// A check built from a closure.
public struct ClosureHealthCheck: HealthCheck {
    public let name: String
    let body: @Sendable () async -> ComponentHealth
    public init(name: String, _ body: @escaping @Sendable () async -> ComponentHealth) {
        self.name = name
        self.body = body
    }
    public func check() async -> ComponentHealth { await body() }
}

/// Runs every registered check with a timeout; ready means all are healthy.
public final class HealthRegistry: Sendable {
    private let checks = Mutex<[any HealthCheck]>([])
    /// A check that does not answer within this time counts as unhealthy.
    public let timeout: Duration

    public init(timeout: Duration = .seconds(2)) {
        self.timeout = timeout
    }

    public func register(_ check: any HealthCheck) {
        checks.withLock { $0.append(check) }
    }

    public func runAll() async -> [ComponentHealth] {
        let all = checks.withLock { $0 }
        return await withTaskGroup(of: (Int, ComponentHealth).self) { group in
            for (i, c) in all.enumerated() {
                group.addTask { (i, await Self.withTimeout(self.timeout, name: c.name) { await c.check() }) }
            }
            var out = Array(repeating: ComponentHealth(name: "", healthy: false, detail: ""), count: all.count)
            for await (i, r) in group { out[i] = r }
            return out
        }
    }

    static func withTimeout(_ timeout: Duration, name: String, _ body: @escaping @Sendable () async -> ComponentHealth) async -> ComponentHealth {
        await withTaskGroup(of: ComponentHealth?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? ComponentHealth(name: name, healthy: false, detail: "no answer within \(timeout)")
        }
    }
}
