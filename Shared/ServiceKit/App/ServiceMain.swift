import Foundation
import Logging
import PostgresNIO

/// The whole `main` of a service executable: `<service> [serve]` runs it, `<service> migrate` applies
/// the migrations and exits. A configuration problem stops start-up with one line naming the variable.
public enum ServiceMain {
    public static func run<Module: ServiceModule>(_ module: Module.Type, arguments: [String] = Array(CommandLine.arguments.dropFirst())) async {
        let command = arguments.first ?? "serve"
        let settings: ServiceSettings
        do {
            settings = try ServiceSettings(service: Module.name, settings: .fromEnvironment())
        } catch {
            FileHandle.standardError.write(Data("\(Module.name.rawValue): \(error)\n".utf8))
            exit(78)
        }
        // commands other than `serve` may print results on stdout: their logs go to stderr
        let toStandardOutput = command == "serve"
        LoggingSystem.bootstrap { label in
            Self.logHandler(label: label, service: Module.name.rawValue, settings: settings, toStandardOutput: toStandardOutput)
        }
        let logger = Logger(label: Module.name.rawValue)
        do {
            switch command {
            case "migrate":
                try await migrate(settings: settings, logger: logger)
            case "serve":
                let service = try await ServiceApplication<Module>.build(settings: settings, logger: logger)
                try await service.application.runService()
            default:
                guard try await Module.runCommand(command, arguments: Array(arguments.dropFirst()), settings: settings, logger: logger) else {
                    FileHandle.standardError.write(Data("usage: \(Module.name.rawValue) [serve|migrate]\n".utf8))
                    exit(64)
                }
            }
        } catch {
            logger.critical("stopped", metadata: ["error": "\(String(describing: error))"])
            FileHandle.standardError.write(Data("\(Module.name.rawValue): \(error)\n".utf8))
            exit(1)
        }
    }

    /// Text (`StreamLogHandler`) or JSON lines (`JSONLogHandler`), as `LOG_FORMAT` says.
    static func logHandler(label: String, service: String, settings: ServiceSettings, toStandardOutput: Bool) -> any LogHandler {
        switch settings.logFormat {
        case .json:
            var handler = JSONLogHandler(service: service, toStandardError: !toStandardOutput)
            handler.logLevel = settings.logLevel
            return handler
        case .text:
            var handler = toStandardOutput ? StreamLogHandler.standardOutput(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
    }

    public static func migrate(settings: ServiceSettings, logger: Logger) async throws {
        try await self.withMigratedClient(settings: settings, logger: logger) { _ in }
    }

    /// For one-off commands (`migrate`, `seed-demo`): a small client on the service's database, its migrations
    /// applied, for the length of `body`.
    public static func withMigratedClient<Result: Sendable>(
        settings: ServiceSettings, logger: Logger, _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let database = try DatabaseURL(settings.databaseURL)
        let client = PostgresClient(configuration: database.clientConfiguration(maxConnections: 2), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let applied = try await Migrator(schema: settings.service.schema, directory: settings.migrationsDirectory)
                .migrate(client: client, logger: logger)
            logger.info("migrations applied", metadata: ["count": "\(applied.count)", "schema": "\(settings.service.schema)"])
            return try await body(client)
        }
    }
}
