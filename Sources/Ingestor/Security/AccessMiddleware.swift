public import Hummingbird
import HTTPTypes
import NIOCore

/// Mounts ``AccessControl`` in front of every route of one port (it is added to the
/// router before any route, so it also guards the not-found responder).
///
/// Refusals are answered here with JSON and, for 401, `WWW-Authenticate`; allowed requests
/// carry their ``AccessGrant`` in the context, and every answer gets the `X-RateLimit-*`
/// headers of the limit that applied.
public struct AccessMiddleware: RouterMiddleware {
    public typealias Context = SluiceRequestContext
    let access: AccessControl
    let port: ServerPort

    public init(access: AccessControl, port: ServerPort) {
        self.access = access
        self.port = port
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let outcome = access.check(port: port, method: request.method.rawValue, path: path, remote: context.remoteAddress) { name in
            HTTPField.Name(name).flatMap { request.headers[$0] }
        }
        switch outcome {
        case .denied(let denial):
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            for (name, value) in denial.headers {
                if let n = HTTPField.Name(name) { fields[n] = value }
            }
            return Response(status: HTTPResponse.Status(code: denial.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: denial.jsonBody)))
        case .allowed(let grant, let rate):
            var context = context
            context.access = grant
            var response = try await next(request, context)
            if let rate {
                for (name, value) in rate.headers {
                    if let n = HTTPField.Name(name) { response.headers[n] = value }
                }
            }
            if let grant, grant.role == .admin {
                access.auditAdmin(grant, route: "\(request.method.rawValue) \(path)", status: response.status.code, remote: context.remoteAddress)
            }
            return response
        }
    }
}
