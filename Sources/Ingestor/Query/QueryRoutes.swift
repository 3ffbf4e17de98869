public import Hummingbird
import HTTPTypes
import NIOCore

/// Mounts ``QueryAPI`` into a Hummingbird router: each route's request is converted to a
/// ``QueryHTTPRequest`` and the answer written back as JSON, so the API itself stays free
/// of server types (and is tested without a socket).
public enum QueryRoutes {
    public static func register(_ api: QueryAPI, on router: Router<SluiceRequestContext>) {
        for route in QueryAPI.routes {
            let path = RouterPath(stringLiteral: route.path)
            let method: HTTPRequest.Method = route.method == "POST" ? .post : .get
            router.on(path, method: method) { request, context in
                await respond(api, request, grant: context.access)
            }
        }
    }

    static func respond(_ api: QueryAPI, _ request: Request, grant: AccessGrant?) async -> Response {
        var request = request
        let body: [UInt8]
        // Query bodies are a few hundred bytes; `query.max_body_bytes` bounds what one
        // request may make the server buffer.
        let maxBodyBytes = api.service.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            let e = QueryError.limit("query.max_body_bytes", "the request body of \(length) bytes is larger than query.max_body_bytes (\(maxBodyBytes))", parameter: "body")
            return json(e.httpStatus, e.jsonBody)
        }
        do {
            let buffer = try await request.collectBody(upTo: maxBodyBytes)
            body = Array(buffer.readableBytesView)
        } catch {
            let e = QueryError.limit("query.max_body_bytes", "the request body is larger than query.max_body_bytes (\(maxBodyBytes))", parameter: "body")
            return json(e.httpStatus, e.jsonBody)
        }
        let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        let headers = request.headers.map { ($0.name.rawName, $0.value) }
        let answer = await api.handle(QueryHTTPRequest(
            method: request.method.rawValue, path: request.uri.path, query: query, headers: headers, body: body, grant: grant))
        return json(answer.status, answer.body)
    }

    static func json(_ status: Int, _ body: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
