import ArgumentParser
import Foundation
import Ingestor
import Logging
import Prometheus
import Sinks

/// `sluice`: the daemon and its tools. Everything but argument parsing lives in the
/// Ingestor library, so tests build any piece without this binary.
@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Moves CloudEvents from Redis Streams, Kafka and Dapr into ClickHouse, exactly once.",
        subcommands: [Run.self, Migrate.self, CheckConfig.self, Publish.self, Keys.self])
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path of the YAML configuration.")
    var config: String = "config/sluice.yaml"

    func load() throws -> SluiceConfiguration {
        do {
            return try SluiceConfiguration.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("sluice: configuration error: \(error.key): \(error.reason)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon in the foreground until SIGTERM or SIGINT.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let configuration = try options.load()
        let registry = PrometheusCollectorRegistry()
        SluiceDaemon.bootstrapObservability(configuration.logging, registry: registry)
        let logger = Logger(label: "sluice")
        let daemon = try SluiceDaemon(configuration: configuration, registry: registry, logger: logger)
        let inputs = try InputFactory.makeInputs(configuration: configuration, daemon: daemon, logger: logger)
        logger.info("starting", metadata: [
            "http": "\(configuration.http.host):\(configuration.http.port)",
            "query": "\(configuration.query.host):\(configuration.query.port)",
            "datasets": "\(configuration.datasets.map(\.name))",
            "inputs": "\(inputs.map { "\(type(of: $0))" })",
        ])
        do {
            try await daemon.serviceGroup(inputs: inputs).run()
        } catch {
            // The group has stopped every service by now; what was not acknowledged is
            // delivered again after a restart.
            logger.critical("stopped on an error", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("sluice: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if daemon.pipeline.wasAbandoned {
            // The graceful shutdown ran out of `shutdown.timeout` before ClickHouse took
            // everything. Nothing is lost (it was never acknowledged), but a supervisor
            // should know the stop was not clean.
            let inFlight = daemon.pipeline.accounting.inFlight
            logger.error("stopped before the pipeline drained", metadata: ["events_in_flight": "\(inFlight)"])
            FileHandle.standardError.write(Data(
                "sluice: shutdown.timeout ran out with \(inFlight) events not yet durable; they were not acknowledged and will be delivered again\n".utf8))
            throw ExitCode(1)
        }
        logger.info("stopped")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or update the database, tables, rollups and dead-letter table (idempotent).")

    @OptionGroup var options: ConfigOption

    @Option(help: "Seconds to wait for ClickHouse to answer before giving up.")
    var wait: Int = 30

    func run() async throws {
        let configuration = try options.load()
        var logger = Logger(label: "sluice.migrate")
        logger.logLevel = .warning
        let transport = try ClickHouseHTTPTransport(configuration: configuration.clickhouse, logger: logger)
        defer { transport.shutdown() }
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            do {
                try await transport.ping()
                break
            } catch {
                if ContinuousClock.now >= deadline {
                    print("sluice migrate: ClickHouse at \(configuration.clickhouse.url) is unreachable: \(error)")
                    throw ExitCode(1)
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        do {
            let report = try await Migrator(transport: transport, logger: logger).migrate(datasets: configuration.datasets)
            print("migrated \(configuration.clickhouse.database) on ClickHouse \(report.serverVersion): \(report.statements.count) statements, datasets \(configuration.datasets.map(\.name).joined(separator: ", "))")
            for added in report.addedColumns { print("  \(added)") }
        } catch {
            print("sluice migrate failed: \(error)")
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration and print it as Sluice will use it.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration = try options.load()
        print(configuration.effectiveYAML, terminator: "")
    }
}

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send synthetic events of a dataset to Sluice over HTTP, to a Redis stream, or to a Kafka topic.",
        discussion: """
            Examples:
              sluice publish --dataset metrics --count 100000 --rate 5000 --to http://127.0.0.1:8080 --mode batch
              sluice publish --dataset metrics --count 200000 --to redis://127.0.0.1:16379/events
              sluice publish --dataset metrics --count 200000 --to kafka://127.0.0.1:9092/events --mode binary
              sluice publish --dataset gateway --days 7 --count 50000 --to http://127.0.0.1:8080 --mode batch   (demo data)
            """)

    @Option(help: "metrics, inference or gateway.") var dataset: String = "metrics"
    @Option(help: "Number of events.") var count: Int = 10_000
    @Option(help: "Events per second; 0 means as fast as possible.") var rate: Double = 0
    @Option(help: "Target URL.") var to: String = "http://127.0.0.1:8080"
    @Option(help: "HTTP mode, or the CloudEvents Kafka binding for kafka:// targets: structured, batch, binary or dapr.") var mode: String = "batch"
    @Option(help: "Events per request or per send.") var batchSize: Int = 500
    @Option(help: "Sends in flight at once.") var concurrency: Int = 4
    @Option(help: "Number of tenants (metrics) or projects (inference, gateway).") var tenants: Int = 10
    @Option(help: "Spread event times over the last N days (demo seeding); 0 = now.") var days: Double = 0
    @Option(help: "Random seed; the same seed sends the same events (and so deduplicates).") var seed: UInt64 = 42
    @Option(name: .customLong("header"), help: "Extra HTTP header NAME:VALUE (repeatable), e.g. Authorization:Bearer KEY.") var headers: [String] = []
    @Flag(help: "No progress lines.") var quiet = false

    func run() async throws {
        guard let ds = SyntheticEvents.Dataset(rawValue: dataset) else {
            throw ValidationError("--dataset must be one of \(SyntheticEvents.Dataset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let httpMode = HTTPPublishTarget.Mode(rawValue: mode) else {
            throw ValidationError("--mode must be one of \(HTTPPublishTarget.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let span = Int64(days * 86_400_000)
        let events = SyntheticEvents(dataset: ds, total: count, tenants: tenants, startMillis: now - span, spanMillis: span, seed: seed)
        let extra = headers.compactMap { h -> (String, String)? in
            guard let colon = h.firstIndex(of: ":") else { return nil }
            return (String(h[..<colon]), String(h[h.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        let target: any PublishTarget
        do {
            target = try PublishTargets.make(url: to, httpMode: httpMode, headers: extra)
        } catch {
            throw ValidationError("\(error)")
        }
        let quiet = self.quiet
        let total = count
        let publisher = Publisher(
            events: events, target: target, batchSize: batchSize, rate: rate, concurrency: concurrency,
            progress: { s in
                if !quiet {
                    FileHandle.standardError.write(Data("progress: \(s.sent)/\(total) sent, \(s.errors) errors, \(Int(s.eventsPerSecond)) events/s\n".utf8))
                }
            })
        let summary = try await publisher.run()
        print("summary: \(summary)")
        if summary.errors > 0 { throw ExitCode(1) }
    }
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [New.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new API key: prints the key once, then its auth.keys entry (only the key's SHA-256 is stored).")

        @Option(help: "ingest, query or admin.") var role: String
        @Option(help: "Scope the key to one tenant.") var tenant: String?
        @Option(help: "Name shown in logs (default: role, tenant and the key's first characters).") var name: String?
        @Option(help: "Expiry, RFC 3339 (2026-12-31T00:00:00Z).") var expires: String?
        @Option(name: .customLong("rate-limit"), help: "This key's request limit, N/s, N/min or N/h.") var rateLimit: String?

        func run() throws {
            guard let role = APIKeyRole(rawValue: role.lowercased()) else { throw ValidationError("--role must be ingest, query or admin") }
            if let tenant, !TenantID.isValid(tenant) { throw ValidationError("--tenant must be 1 to 256 printable characters") }
            var expiresAtMs: Int64?
            if let expires {
                guard let ms = QueryTime.parse(expires) else { throw ValidationError("--expires must be an RFC 3339 time") }
                expiresAtMs = ms
            }
            var limit: RateLimit?
            if let rateLimit {
                guard let parsed = RateLimit.parse(rateLimit) else { throw ValidationError("--rate-limit must be N/s, N/min or N/h") }
                limit = parsed
            }
            let made = APIKeyGenerator.make(role: role, tenant: tenant, name: name, expiresAtMs: expiresAtMs, rateLimit: limit)
            print(made.key)
            print("# Add under auth.keys in the configuration; the key above is not stored anywhere and is shown only now.")
            print(made.entry.yamlEntry)
        }
    }
}
