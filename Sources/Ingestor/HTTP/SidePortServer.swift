public import Hummingbird
import HTTPTypes
public import Logging
import NIOCore
public import Prometheus

/// Builds the side-port (`query.listen`): health, Prometheus metrics, and the query API.
public enum SidePortServer {
    public static func makeRouter(
        health: HealthRegistry, gate: ReadinessGate, registry: PrometheusCollectorRegistry,
        publicMetrics: Bool = true, query: QueryAPI? = nil, access: AccessControl? = nil
    ) -> Router<SluiceRequestContext> {
        let router = Router(context: SluiceRequestContext.self)
        // Before any route: middleware wraps only the routes added after it.
        if let access, access.isActive { router.add(middleware: AccessMiddleware(access: access, port: .side)) }
        router.get("/health/live") { _, _ in
            json(200, JSONWriter.object { $0.field("status", "alive") })
        }
        router.get("/health/ready") { _, _ in
            await readiness(health: health, gate: gate)
        }
        router.get("/health") { _, _ in
            await readiness(health: health, gate: gate)
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 << 10)
            registry.emit(into: &buffer)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        if let query { QueryRoutes.register(query, on: router) }
        return router
    }

    /// 200 when every component is healthy and the pipeline has started, 503 otherwise,
    /// with each component's status in the body.
    static func readiness(health: HealthRegistry, gate: ReadinessGate) async -> Response {
        var components = await health.runAll()
        components.insert(ComponentHealth(name: "pipeline", healthy: gate.isOpen, detail: gate.isOpen ? "running" : "starting"), at: 0)
        let ready = components.allSatisfy(\.healthy)
        let body = JSONWriter.object { w in
            w.field("status", ready ? "ready" : "unready")
            w.key("components")
            w.beginObject()
            for c in components {
                w.key(c.name)
                w.beginObject()
                w.field("healthy", c.healthy)
                w.field("detail", c.detail)
                w.endObject()
            }
            w.endObject()
        }
        return json(ready ? 200 : 503, body)
    }

    static func json(_ status: Int, _ body: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
