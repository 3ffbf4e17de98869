public import Hummingbird
import HTTPTypes
public import Logging
import NIOCore

/// Builds the app port (`http.listen`): ingest and Dapr routes (DESIGN §6).
public enum AppServer {
    /// - Parameter access: access control and rate limits; nil serves every route openly.
    public static func makeRouter(handler: IngestHandler, maxBodyBytes: Int, access: AccessControl? = nil) -> Router<SluiceRequestContext> {
        let router = Router(context: SluiceRequestContext.self)
        // Before any route: middleware wraps only the routes added after it.
        if let access, access.isActive { router.add(middleware: AccessMiddleware(access: access, port: .app)) }
        router.post("/v1/events") { request, context in
            await respond(request, context, handler: handler, maxBodyBytes: maxBodyBytes) { await handler.postEvents($0) }
        }
        router.post("/api/v1/metrics/ingest") { request, context in
            await respond(request, context, handler: handler, maxBodyBytes: maxBodyBytes) { await handler.metricsIngest($0) }
        }
        router.post("/api/v1/metrics/ingest/batch") { request, context in
            await respond(request, context, handler: handler, maxBodyBytes: maxBodyBytes) { await handler.metricsIngestBatch($0) }
        }
        router.get("/dapr/subscribe") { _, _ in
            response(handler.daprSubscribe())
        }
        router.post("/dapr/events/{topic}") { request, context in
            let topic = context.parameters.get("topic") ?? ""
            return await respond(request, context, handler: handler, maxBodyBytes: maxBodyBytes) { await handler.daprEvents($0, topic: topic) }
        }
        router.post("/add") { request, context in
            await respond(request, context, handler: handler, maxBodyBytes: maxBodyBytes) { await handler.add($0) }
        }
        return router
    }

    public static func makeApplication(
        handler: IngestHandler, configuration: HTTPIngestConfiguration, access: AccessControl? = nil, logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(handler: handler, maxBodyBytes: configuration.maxBodyBytes, access: access),
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sluice"),
            logger: logger)
    }

    /// Reads the body within the limit (413 naming the limit otherwise) and runs `body`.
    static func respond(
        _ request: Request, _ context: SluiceRequestContext, handler: IngestHandler, maxBodyBytes: Int, _ body: (IngestRequest) async -> IngestReply
    ) async -> Response {
        let length = request.headers[.contentLength].flatMap(Int.init)
        if let length, length > maxBodyBytes {
            return response(.error(413, "body of \(length) bytes is larger than http.max_body_bytes (\(maxBodyBytes))"))
        }
        // Reserve the budget before buffering the body: the body, its copy in the chunk
        // and the decoded rows all count. Refusing here keeps a flood of large requests
        // from growing memory while they upload. A body of unknown length (chunked) may
        // grow to the limit, so that much is held until its real size is known.
        let budget = handler.pipeline.budget
        var reservation = BudgetReservation(budget: budget, bytes: length.map { Swift.max($0 * 3, 4096) } ?? maxBodyBytes)
        guard budget.tryAcquire(reservation.bytes) else {
            return response(handler.overloadedReply(request.uri.path))
        }
        defer { reservation.releaseIfUnused() }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return response(.error(413, "body is larger than http.max_body_bytes (\(maxBodyBytes))"))
        } catch {
            return response(.error(400, "could not read the body: \(error)"))
        }
        if length == nil {
            let needed = Swift.max(buffer.readableBytes * 3, 4096)
            reservation.releaseIfUnused()
            reservation = BudgetReservation(budget: budget, bytes: needed)
            guard budget.tryAcquire(needed) else {
                _ = reservation.take()
                return response(handler.overloadedReply(request.uri.path))
            }
        }
        let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
        let bytes = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        return response(await body(IngestRequest(headers: headers, body: bytes, reservation: reservation, grant: context.access)))
    }

    static func response(_ reply: IngestReply) -> Response {
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let n = HTTPField.Name(name) { fields[n] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
