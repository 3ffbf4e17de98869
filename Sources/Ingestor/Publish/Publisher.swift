import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Somewhere `sluice publish` can send events: Sluice's HTTP port, a Redis stream, a
/// Kafka topic.
public protocol PublishTarget: Sendable {
    /// Sends events `range` of the generator; returns how many the target accepted.
    func send(_ events: SyntheticEvents, range: Range<Int>) async throws -> Int
    /// Called once after the last send (flush producers, close connections).
    func finish() async throws
}

/// What a publish run achieved.
public struct PublishSummary: Sendable, CustomStringConvertible {
    public var sent: Int
    public var errors: Int
    public var seconds: Double
    public var eventsPerSecond: Double { seconds > 0 ? Double(sent) / seconds : 0 }
    public var description: String {
        "sent \(sent) events, \(errors) errors, in \(String(format: "%.2f", seconds)) s: \(Int(eventsPerSecond)) events/s"
    }
}

/// Sends a generator's events in batches at a target rate, with bounded concurrency and
/// a progress line per second.
public struct Publisher: Sendable {
    public let events: SyntheticEvents
    public let target: any PublishTarget
    /// Events per send (one request, one XADD pipeline, one producer batch).
    public let batchSize: Int
    /// Events per second; 0 sends as fast as the target takes them.
    public let rate: Double
    public let concurrency: Int
    public let progress: (@Sendable (PublishSummary) -> Void)?

    public init(events: SyntheticEvents, target: any PublishTarget, batchSize: Int, rate: Double, concurrency: Int, progress: (@Sendable (PublishSummary) -> Void)?) {
        self.events = events
        self.target = target
        self.batchSize = Swift.max(1, batchSize)
        self.rate = rate
        self.concurrency = Swift.max(1, concurrency)
        self.progress = progress
    }

    final class CountersBox: Sendable {
        let value = Mutex(Counters())
    }

    struct Counters {
        var next = 0
        var sent = 0
        var errors = 0
    }

    public func run() async throws -> PublishSummary {
        let counters = CountersBox()
        let clock = ContinuousClock()
        let start = clock.now
        let total = events.total
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let c = counters.value.withLock { $0 }
                progress?(PublishSummary(sent: c.sent, errors: c.errors, seconds: (clock.now - start).seconds))
            }
        }
        defer { reporter.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while true {
                        let range = counters.value.withLock { c -> Range<Int>? in
                            guard c.next < total else { return nil }
                            let r = c.next..<Swift.min(c.next + batchSize, total)
                            c.next = r.upperBound
                            return r
                        }
                        guard let range else { return }
                        if rate > 0 {
                            // Pace by schedule, not by sleeping per batch, so slow sends
                            // catch up instead of drifting.
                            let due = start + .seconds(Double(range.lowerBound) / rate)
                            if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                        }
                        do {
                            let accepted = try await target.send(events, range: range)
                            counters.value.withLock {
                                $0.sent += accepted
                                $0.errors += range.count - accepted
                            }
                        } catch {
                            counters.value.withLock { $0.errors += range.count }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await target.finish()
        let c = counters.value.withLock { $0 }
        return PublishSummary(sent: c.sent, errors: c.errors, seconds: (clock.now - start).seconds)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Sluice's own HTTP ingest: `POST /v1/events` in structured, batch or binary mode, or
/// Dapr bulk deliveries to `/dapr/events/<topic>`.
public struct HTTPPublishTarget: PublishTarget {
    public enum Mode: String, Sendable, CaseIterable {
        case structured, batch, binary, dapr
    }

    public let baseURL: String
    public let mode: Mode
    public let headers: [(String, String)]
    let session: URLSession

    public init(baseURL: String, mode: Mode, headers: [(String, String)] = []) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.mode = mode
        self.headers = headers
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 64
        config.timeoutIntervalForRequest = 120
        session = URLSession(configuration: config)
    }

    public func send(_ events: SyntheticEvents, range: Range<Int>) async throws -> Int {
        switch mode {
        case .structured:
            var ok = 0
            for i in range {
                ok += try await post("/v1/events", body: Data(events.cloudEvent(i).utf8), contentType: "application/cloudevents+json") ? 1 : 0
            }
            return ok
        case .binary:
            var ok = 0
            for i in range {
                let extra = events.attributes(i).map { ("ce-\($0.0)", Self.percentEncode($0.1)) }
                ok += try await post("/v1/events", body: Data(events.data(i).utf8), contentType: "application/json", extra: extra) ? 1 : 0
            }
            return ok
        case .batch:
            let body = "[" + range.map { events.cloudEvent($0) }.joined(separator: ",") + "]"
            return try await post("/v1/events", body: Data(body.utf8), contentType: "application/cloudevents-batch+json") ? range.count : 0
        case .dapr:
            // Exactly the shape Dapr's sidecar sends for a bulk subscription.
            let entries = range.map { i in
                #"{"entryId":"\#(events.eventID(i))-entry","event":\#(events.cloudEvent(i)),"contentType":"application/cloudevents+json","metadata":{}}"#
            }
            let body = #"{"id":"\#(events.eventID(range.lowerBound))-bulk","type":"com.dapr.event.sent.bulk","topic":"\#(events.dataset.rawValue)","pubsubname":"pubsub","metadata":{},"entries":[\#(entries.joined(separator: ","))]}"#
            let (status, data) = try await request("/dapr/events/\(events.dataset.rawValue)", body: Data(body.utf8), contentType: "application/json", extra: [])
            guard status == 200 else { return 0 }
            return String(decoding: data, as: UTF8.self).components(separatedBy: #""status":"SUCCESS""#).count - 1
        }
    }

    public func finish() async throws {}

    func post(_ path: String, body: Data, contentType: String, extra: [(String, String)] = []) async throws -> Bool {
        let (status, _) = try await request(path, body: body, contentType: contentType, extra: extra)
        return status == 200
    }

    func request(_ path: String, body: Data, contentType: String, extra: [(String, String)]) async throws -> (Int, Data) {
        guard let url = URL(string: baseURL + path) else { throw URLError(.badURL) }
        var req = URLRequest(url: url)
        req.httpMethod = "POST"
        req.httpBody = body
        req.setValue(contentType, forHTTPHeaderField: "Content-Type")
        for (k, v) in headers + extra { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: req)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if b > 0x20, b < 0x7F, b != 0x25, b != 0x22 {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }
}
