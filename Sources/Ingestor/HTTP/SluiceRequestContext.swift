public import Hummingbird
import NIOCore

/// The request context of both ports: Hummingbird's core storage plus who the request
/// was authenticated as, so routes scope their work by the caller's key instead of
/// trusting a header.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AccessMiddleware``; nil when access control is off or the route is open.
    public var access: AccessGrant?
    /// The peer's address, for the audit log.
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        access = nil
        remoteAddress = source.channel.remoteAddress.map { "\($0)" }
    }
}
