public import Logging
public import Pipeline

/// `sluice migrate`: creates the database, the raw tables of every dataset, their hourly
/// rollups with the materialized views that feed them, and the dead-letter table.
///
/// It is idempotent: everything is `IF NOT EXISTS`, and for tables that exist it adds the
/// columns a newer dataset definition declares (18.16 has no `ADD COLUMN IF NOT EXISTS`,
/// so it compares with `DESCRIBE TABLE`). It never drops or changes existing columns;
/// such changes need an operator's decision.
public struct Migrator: Sendable {
    public let transport: ClickHouseHTTPTransport
    public let logger: Logger

    public init(transport: ClickHouseHTTPTransport, logger: Logger) {
        self.transport = transport
        self.logger = logger
    }

    /// What a migration did.
    public struct Report: Sendable {
        public var serverVersion: ClickHouseServerVersion
        public var dialect: ClickHouseDialect
        public var statements: [String] = []
        public var addedColumns: [String] = []
    }

    /// Reads the server version and returns the dialect the DDL must use.
    public func dialect() async throws(ClickHouseError) -> (ClickHouseServerVersion, ClickHouseDialect) {
        let version = try await transport.serverVersion()
        return (version, ClickHouseDialect(version: version))
    }

    public func migrate(datasets: [DatasetDefinition]) async throws(MigrationError) -> Report {
        let version: ClickHouseServerVersion
        let dialect: ClickHouseDialect
        do {
            (version, dialect) = try await self.dialect()
        } catch {
            throw MigrationError(statement: "SELECT version()", underlying: "\(error)")
        }
        let planner = SchemaPlanner(database: transport.configuration.database, dialect: dialect)
        var report = Report(serverVersion: version, dialect: dialect)
        let statements: [String]
        do {
            statements = try planner.migrationStatements(for: datasets)
        } catch {
            throw MigrationError(statement: "", underlying: error.description)
        }
        logger.info("migrating", metadata: ["server": "\(version)", "database": "\(planner.database)", "datasets": "\(datasets.map(\.name))"])
        for sql in statements {
            try await run(sql)
            report.statements.append(sql)
        }
        for dataset in datasets {
            let existing: [ClickHouseColumnDescription]
            do {
                existing = try await transport.describe(table: dataset.name)
            } catch {
                throw MigrationError(statement: "DESCRIBE TABLE \(dataset.name)", underlying: "\(error)")
            }
            let alters: [String]
            do {
                alters = try planner.addMissingColumns(dataset, existing: Set(existing.map(\.name)))
            } catch {
                throw MigrationError(statement: "", underlying: error.description)
            }
            for sql in alters {
                try await run(sql)
                report.statements.append(sql)
                report.addedColumns.append(sql)
                logger.notice("added column", metadata: ["statement": "\(sql)"])
            }
        }
        return report
    }

    private func run(_ sql: String) async throws(MigrationError) {
        do {
            try await transport.execute(sql)
        } catch {
            throw MigrationError(statement: sql, underlying: "\(error)")
        }
    }
}

/// A migration statement that failed, with the statement and the server's answer.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public let statement: String
    public let underlying: String
    public var description: String {
        statement.isEmpty ? underlying : "\(underlying)\n  while running: \(statement.prefix(300))"
    }
}
