public import ServiceLifecycle

/// Runs one of the HTTP servers and, when it fails, says which one: the config key and
/// the address. Hummingbird reports a taken port as a bare `bind` error, and the
/// service group stops on the first failure, so without this an operator would learn
/// that *a* port is taken, not which line of the config to change.
public struct ListenerService: Service {
    public let key: String
    public let address: String
    let server: any Service

    public init(key: String, address: String, server: any Service) {
        self.key = key
        self.address = address
        self.server = server
    }

    public func run() async throws {
        do {
            try await server.run()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ListenerError(key: key, address: address, reason: "\(error)")
        }
    }
}

/// An HTTP server that could not start or stopped on an error. Retrying the same
/// configuration helps only if what held the address lets it go.
public struct ListenerError: Error, CustomStringConvertible {
    public let key: String
    public let address: String
    public let reason: String

    public var description: String { "\(key) \(address): \(reason)" }
}
