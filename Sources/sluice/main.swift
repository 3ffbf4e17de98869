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
        subcommands: [Run.self, Migrate.self, CheckConfig.self])
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
        try await daemon.serviceGroup(inputs: inputs).run()
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
