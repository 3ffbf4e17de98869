public import Hummingbird
import HTTPTypes
import NIOCore

/// Mounts ``QueryAPI`` into a Hummingbird router: each route's request is converted to a
/// ``QueryHTTPRequest`` and the answer written back as JSON, so the API itself stays free
/// of server types (and is tested without a socket).
public enum QueryRoutes {
    /// Largest accepted request body; query bodies are a few hundred bytes.
    public static let maxBodyBytes = 1 << 20

    public static func register(_ api: QueryAPI, on router: Router<BasicRequestContext>) {
        for route in QueryAPI.routes {
            let path = RouterPath(stringLiteral: route.path)
            let method: HTTPRequest.Method = route.method == "POST" ? .post : .get
            router.on(path, method: method) { request, _ in
                await respond(api, request)
            }
        }
    }

    static func respond(_ api: QueryAPI, _ request: Request) async -> Response {
        var request = request
        let body: [UInt8]
        do {
            let buffer = try await request.collectBody(upTo: maxBodyBytes)
            body = Array(buffer.readableBytesView)
        } catch {
            let e = QueryError.invalid("body", "the request body is larger than \(maxBodyBytes) bytes")
            return json(e.httpStatus, e.jsonBody)
        }
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let headers = request.headers.map { ($0.name.rawName, $0.value) }
        let answer = await api.handle(QueryHTTPRequest(
            method: request.method.rawValue, path: request.uri.path, query: query, headers: headers, body: body))
        return json(answer.status, answer.body)
    }

    static func json(_ status: Int, _ body: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
