import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with an interim `100 Continue`, so that the client
/// sends its body at once.
///
/// Why: curl (and other clients) send `Expect: 100-continue` with bodies over 1 MiB and
/// then wait for the interim response before uploading; Hummingbird never sends it, so
/// each large batch stalled for curl's 1 s timeout and ingest ran at 40% of its rate with
/// the CPU idle (benchmarks/RESULTS.md, HTTP). The request then proceeds as usual: a body
/// over `http.max_body_bytes` is still refused with 413 by the route.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data),
           let expect = head.headerFields[.expect], expect.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
