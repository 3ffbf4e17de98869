import Foundation
import Pipeline
import Testing
import TestSupport

import Sinks

/// Failures the transport must classify or absorb: refused connections, servers that
/// never answer, kept-alive connections that die, shutdown, cancellation, overload,
/// and a real server that goes away and comes back.
@Suite("ClickHouse HTTP transport faults")
struct ClickHouseHTTPTransportFaultTests {
    private func transport(
        url: String, maxConnections: Int = 1, maxQueued: Int = 16, requestTimeout: Duration = .seconds(10),
        observer: (@Sendable (ClickHouseRequestMetrics) -> Void)? = nil
    ) throws -> ClickHouseHTTPTransport {
        try ClickHouseHTTPTransport(
            configuration: ClickHouseConfiguration(
                url: url, database: "default", connectTimeout: .seconds(2), requestTimeout: requestTimeout,
                maxConnections: maxConnections, maxQueuedRequests: maxQueued),
            observer: observer)
    }

    /// Polls `condition` every 10 ms for up to `seconds`.
    /// Polls until `condition` holds. The bound is generous: it returns as soon as the
    /// condition holds, and a loaded CI box has been seen to take over 5 s to start a
    /// transport thread on a request.
    private func eventually(_ seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func closedPortIsARetryableNetworkError() async throws {
        let port = try FreePort.next()
        let transport = try transport(url: "http://127.0.0.1:\(port)")
        let error = await #expect(throws: ClickHouseError.self) { try await transport.ping() }
        #expect(error?.kind == .network)
        #expect(error?.isRetryable == true)
        #expect(error?.httpStatus == nil)
        #expect(error?.curlCode == 7)
        await transport.shutdown()
    }

    @Test func serverThatNeverAnswersIsARetryableTimeout() async throws {
        let silent = try SilentTCPServer()
        defer { silent.close() }
        let transport = try transport(url: "http://127.0.0.1:\(silent.port)", requestTimeout: .milliseconds(500))
        let started = ContinuousClock.now
        let error = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "t", columns: ["a"], body: ByteBlob([1, 2, 3]), compressed: false)
        }
        #expect(error?.kind == .timeout)
        #expect(error?.isRetryable == true)
        // The bound proves the request does not hang; it is generous because a loaded
        // CI box once took 5.3 s here for a 500 ms timeout (see the closing note of
        // 2026-11-25: worth a look, since it is ten times the timeout).
        #expect(ContinuousClock.now - started < .seconds(15))
        await transport.shutdown()
    }

    @Test func invalidConfigurationIsRejectedWithTheKey() {
        let error = #expect(throws: ClickHouseError.self) {
            _ = try ClickHouseHTTPTransport(configuration: ClickHouseConfiguration(url: "localhost:8123"))
        }
        #expect(error?.kind == .configuration)
        #expect(error?.message.hasPrefix("clickhouse.url:") == true)
    }

    @Test func invalidSettingNameIsRejectedBeforeSending() async throws {
        let transport = try transport(url: "http://127.0.0.1:1")
        let error = await #expect(throws: ClickHouseError.self) {
            _ = try await transport.query("SELECT 1", settings: [("max_threads&user=x", "1")])
        }
        #expect(error?.kind == .invalidRequest)
        let reserved = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "t", columns: [], body: ByteBlob([]), compressed: true, settings: [("query", "DROP TABLE t")])
        }
        #expect(reserved?.kind == .invalidRequest)
        #expect(transport.statistics.requests == 0)
        await transport.shutdown()
    }

    @Test func requestIsSentWithCredentialHeadersAndWithoutExpect() async throws {
        let server = try ScriptedHTTPServer { _ in .respond(status: 200) }
        defer { server.close() }
        let transport = try ClickHouseHTTPTransport(configuration: ClickHouseConfiguration(
            url: server.url, database: "db", user: "sluice", password: "s3cret", maxConnections: 1))
        let body = [UInt8](repeating: 7, count: 200_000)
        try await transport.insert(
            table: "t", columns: ["a", "b"], body: ByteBlob(body), compressed: true,
            settings: [("insert_deduplicate", "1")], queryID: "q-1")
        let request = try #require(server.requests.first)
        #expect(request.requestLine.hasPrefix("POST /?query=INSERT%20INTO%20%60db%60.%60t%60%20%28%60a%60%2C%20%60b%60%29%20FORMAT%20Native&decompress=1&query_id=q-1&insert_deduplicate=1 "))
        #expect(request.header("X-ClickHouse-User") == "sluice")
        #expect(request.header("X-ClickHouse-Key") == "s3cret")
        #expect(request.header("Content-Type") == "application/octet-stream")
        #expect(request.header("Expect") == nil)
        #expect(request.body == body)
        await transport.shutdown()
    }

    @Test func okStatusCarryingAnExceptionIsAnError() async throws {
        let server = try ScriptedHTTPServer { _ in
            .respond(
                status: 200, headers: ["X-ClickHouse-Exception-Code: 252"],
                body: "Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS) (version 24.8.4.13 (official build))\n")
        }
        defer { server.close() }
        let transport = try transport(url: server.url)
        let error = await #expect(throws: ClickHouseError.self) {
            try await transport.insert(table: "t", columns: ["a"], body: ByteBlob([0]), compressed: true)
        }
        #expect(error?.kind == .server)
        #expect(error?.code == 252)
        #expect(error?.codeName == "TOO_MANY_PARTS")
        #expect(error?.isRetryable == true)
        await transport.shutdown()
    }

    @Test func reusedConnectionResetBeforeAnyResponseIsResentOnAFreshConnection() async throws {
        // Connection 0 answers its first request, then resets on the second, as a
        // server does when keep_alive_timeout closes the socket under a new request.
        let server = try ScriptedHTTPServer { request in
            if request.connection == 0 && request.indexOnConnection == 1 { return .reset }
            return .respond(status: 200, body: "Ok.\n")
        }
        defer { server.close() }
        let observed = Locked<[ClickHouseRequestMetrics]>([])
        let transport = try transport(url: server.url) { metrics in observed.withLock { $0.append(metrics) } }
        try await transport.ping()
        try await transport.insert(table: "t", columns: ["a"], body: ByteBlob([1, 2, 3]), compressed: false)
        #expect(server.connectionCount == 2)
        #expect(server.requests.count == 3)
        #expect(server.requests.last?.body == [1, 2, 3])
        let metrics = observed.withLock { $0 }
        #expect(metrics.count == 2)
        #expect(metrics.first?.openedNewConnection == true)
        // libcurl 7.88 already resends on a fresh connection when a reused one dies
        // before any response byte; the transport's own resend (counted in
        // freshConnectionRetries) is the safety net for paths where it does not.
        #expect(metrics.last?.openedNewConnection == true)
        #expect(metrics.last?.failure == nil)
        #expect(transport.statistics.freshConnectionRetries <= 1)
        await transport.shutdown()
    }

    @Test func staleConnectionIsRecognisedOnlyOnAReusedConnectionWithNoResponse() {
        func resend(_ code: Int, connections: Int = 0, sawResponse: Bool = false) -> Bool {
            ClickHouseHTTPTransport.shouldResendOnFreshConnection(curlCode: code, connectionsOpened: connections, sawResponse: sawResponse)
        }
        #expect(resend(52))  // empty reply
        #expect(resend(55))  // send failed
        #expect(resend(56))  // connection reset
        #expect(!resend(56, connections: 1))  // the connection was already fresh
        #expect(!resend(56, sawResponse: true))  // the server answered: it may have acted
        #expect(!resend(28))  // timeout
        #expect(!resend(7))  // refused
        #expect(!resend(0, sawResponse: true))
    }

    @Test func freshConnectionThatFailsIsNotRetriedAgain() async throws {
        let server = try ScriptedHTTPServer { _ in .reset }
        defer { server.close() }
        let transport = try transport(url: server.url)
        let error = await #expect(throws: ClickHouseError.self) { try await transport.ping() }
        #expect(error?.kind == .network)
        #expect(server.requests.count == 1)
        await transport.shutdown()
    }

    @Test func shutdownFailsQueuedRequestsLetsRunningOnesFinishAndJoinsThreads() async throws {
        let silent = try SilentTCPServer()
        defer { silent.close() }
        // Long enough that the running request is still running while the test (on a
        // busy 2-core machine) queues the second one; shutdown then waits it out.
        let transport = try transport(url: "http://127.0.0.1:\(silent.port)", requestTimeout: .seconds(4))
        let running = Task { () -> ClickHouseError? in
            do throws(ClickHouseError) { try await transport.ping(); return nil } catch { return error }
        }
        #expect(await eventually { transport.statistics.inFlight == 1 })
        let queued = Task { () -> ClickHouseError? in
            do throws(ClickHouseError) { try await transport.ping(); return nil } catch { return error }
        }
        #expect(await eventually { transport.statistics.queued == 1 })
        await transport.shutdown()
        #expect(await queued.value?.kind == .shutdown)
        #expect(await running.value?.kind == .timeout)
        #expect(transport.threadCount == 0)
        let late = await #expect(throws: ClickHouseError.self) { try await transport.ping() }
        #expect(late?.kind == .shutdown)
        #expect(late?.isRetryable == false)
    }

    @Test func cancellingTheCallerAbortsARunningRequest() async throws {
        let silent = try SilentTCPServer()
        defer { silent.close() }
        let transport = try transport(url: "http://127.0.0.1:\(silent.port)", requestTimeout: .seconds(30))
        let started = ContinuousClock.now
        let task = Task { () -> ClickHouseError? in
            do throws(ClickHouseError) { try await transport.ping(); return nil } catch { return error }
        }
        #expect(await eventually { transport.statistics.inFlight == 1 })
        task.cancel()
        #expect(await task.value?.kind == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(10))
        await transport.shutdown()
    }

    @Test func cancellingTheCallerRemovesAQueuedRequest() async throws {
        let silent = try SilentTCPServer()
        defer { silent.close() }
        let transport = try transport(url: "http://127.0.0.1:\(silent.port)", requestTimeout: .seconds(60))
        let running = Task { try? await transport.ping() }
        #expect(await eventually { transport.statistics.inFlight == 1 })
        let queued = Task { () -> ClickHouseError? in
            do throws(ClickHouseError) { try await transport.ping(); return nil } catch { return error }
        }
        #expect(await eventually { transport.statistics.queued == 1 })
        queued.cancel()
        #expect(await queued.value?.kind == .cancelled)
        #expect(transport.statistics.queued == 0)
        #expect(transport.statistics.inFlight == 1)
        running.cancel()
        _ = await running.value
        await transport.shutdown()
    }

    @Test func fullQueueFailsFastWithARetryableOverloadError() async throws {
        let silent = try SilentTCPServer()
        defer { silent.close() }
        let transport = try transport(url: "http://127.0.0.1:\(silent.port)", maxQueued: 1, requestTimeout: .seconds(60))
        let running = Task { try? await transport.ping() }
        #expect(await eventually { transport.statistics.inFlight == 1 })
        let queued = Task { try? await transport.ping() }
        #expect(await eventually { transport.statistics.queued == 1 })
        let error = await #expect(throws: ClickHouseError.self) { try await transport.ping() }
        #expect(error?.kind == .overloaded)
        #expect(error?.isRetryable == true)
        queued.cancel()
        running.cancel()
        _ = await (running.value, queued.value)
        await transport.shutdown()
    }

    @Test func serverThatStopsAndRestartsIsRetryableAndThenReachableAgain() async throws {
        let server = try await ClickHouseServer.startPrivate()
        do {
            try await server.execute("CREATE TABLE default.t (a UInt32, s String) ENGINE = MergeTree ORDER BY a")
            let transport = try ClickHouseHTTPTransport(configuration: server.configuration(maxConnections: 1))
            let body = ByteBlob(Hex.bytes(ClickHouseHTTPTransportTests.noneFrame))
            try await transport.insert(table: "t", columns: ["a", "s"], body: body, compressed: true)

            try await server.stop()
            let error = await #expect(throws: ClickHouseError.self) {
                try await transport.insert(table: "t", columns: ["a", "s"], body: body, compressed: true)
            }
            #expect(error?.kind == .network)
            #expect(error?.isRetryable == true)

            try await server.start()
            try await transport.insert(table: "t", columns: ["a", "s"], body: body, compressed: true)
            #expect(try await server.query("SELECT count() FROM default.t") == "6\n")
            await transport.shutdown()
        } catch {
            await server.destroy()
            throw error
        }
        await server.destroy()
    }
}
