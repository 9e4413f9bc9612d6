import Foundation
import Logging
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

/// A migrations folder of the test's own, so files can be changed and removed.
struct ScratchMigrations {
    let root: URL

    init() throws {
        self.root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.root.appendingPathComponent("servicekit"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: self.root.appendingPathComponent("probe"), withIntermediateDirectories: true)
        // the real ServiceKit tables
        let shared = TestSettings.migrationsDirectory.appendingPathComponent("servicekit/0001_jobs_idempotency_audit.sql")
        try FileManager.default.copyItem(at: shared, to: self.root.appendingPathComponent("servicekit/0001_jobs_idempotency_audit.sql"))
    }

    func write(_ name: String, _ sql: String) throws {
        try sql.write(to: self.root.appendingPathComponent("probe/\(name)"), atomically: true, encoding: .utf8)
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: self.root.appendingPathComponent("probe/\(name)"))
    }
}

func withClient<T: Sendable>(_ database: DatabaseURL, _ body: (PostgresClient) async throws -> T) async throws -> T {
    let client = PostgresClient(configuration: database.clientConfiguration(maxConnections: 8), backgroundLogger: TestLog.quiet)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

@Suite struct MigratorTests {
    let logger = TestLog.quiet

    @Test func appliesFilesInOrderAndRecordsChecksums() async throws {
        let scratch = try ScratchMigrations()
        try scratch.write("0001_init.sql", "CREATE SCHEMA IF NOT EXISTS probe; CREATE TABLE probe.a (id int);")
        // depends on 0001: fails if applied out of order; a function body with semicolons needs the simple protocol
        try scratch.write(
            "0002_more.sql",
            """
            ALTER TABLE probe.a ADD COLUMN name text;
            CREATE FUNCTION probe.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := 'x'; RETURN NEW; END; $$;
            """)
        let database = try await TestPostgres.createDatabase()
        try await withClient(database) { client in
            let migrator = Migrator(schema: "probe", directory: scratch.root)
            let applied = try await migrator.migrate(client: client, logger: logger)
            #expect(applied == ["servicekit/0001_jobs_idempotency_audit.sql", "probe/0001_init.sql", "probe/0002_more.sql"])
            let rows = try await client.query("SELECT id, checksum FROM probe.schema_migrations ORDER BY position", logger: logger)
                .all(as: (String, String).self)
            #expect(rows.map(\.0) == applied)
            #expect(rows.allSatisfy { $0.1.count == 64 })
            // ServiceKit's tables landed in the schema
            let tables = try await client.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'probe' ORDER BY table_name", logger: logger
            ).all(as: String.self)
            #expect(Set(tables).isSuperset(of: ["a", "jobs", "idempotency_keys", "audit_log", "schema_migrations"]))
            // a second run applies nothing and is up to date
            #expect(try await migrator.migrate(client: client, logger: logger).isEmpty)
            #expect(try await migrator.isUpToDate(client: client, logger: logger))
            try scratch.write("0003_later.sql", "CREATE TABLE probe.b (id int);")
            #expect(try await !migrator.isUpToDate(client: client, logger: logger))
            #expect(try await migrator.migrate(client: client, logger: logger) == ["probe/0003_later.sql"])
        }
    }

    @Test func refusesAChangedOrMissingAppliedFile() async throws {
        let scratch = try ScratchMigrations()
        try scratch.write("0001_init.sql", "CREATE TABLE probe.a (id int);")
        let database = try await TestPostgres.createDatabase()
        try await withClient(database) { client in
            let migrator = Migrator(schema: "probe", directory: scratch.root)
            try await migrator.migrate(client: client, logger: logger)
            try scratch.write("0001_init.sql", "CREATE TABLE probe.a (id bigint);")
            let changed = await #expect(throws: MigrationError.self) { try await migrator.migrate(client: client, logger: logger) }
            #expect(changed?.description.contains("probe/0001_init.sql was changed") == true)
            await #expect(throws: MigrationError.self) { try await migrator.isUpToDate(client: client, logger: logger) }
            try scratch.remove("0001_init.sql")
            let missing = await #expect(throws: MigrationError.self) { try await migrator.migrate(client: client, logger: logger) }
            #expect(missing?.description.contains("missing") == true)
        }
    }

    @Test func refusesANewFileThatSortsBeforeAnAppliedOne() async throws {
        let scratch = try ScratchMigrations()
        try scratch.write("0002_b.sql", "CREATE TABLE probe.b (id int);")
        let database = try await TestPostgres.createDatabase()
        try await withClient(database) { client in
            let migrator = Migrator(schema: "probe", directory: scratch.root)
            try await migrator.migrate(client: client, logger: logger)
            try scratch.write("0001_a.sql", "CREATE TABLE probe.a (id int);")
            let error = await #expect(throws: MigrationError.self) { try await migrator.migrate(client: client, logger: logger) }
            #expect(error?.description.contains("sorts before") == true)
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let scratch = try ScratchMigrations()
        try scratch.write("0001_init.sql", "CREATE TABLE probe.a (id int);")
        try scratch.write("0002_bad.sql", "CREATE TABLE probe.half (id int); SELECT no_such_function();")
        let database = try await TestPostgres.createDatabase()
        try await withClient(database) { client in
            let migrator = Migrator(schema: "probe", directory: scratch.root)
            await #expect(throws: MigrationError.self) { try await migrator.migrate(client: client, logger: logger) }
            let half = try await client.query("SELECT to_regclass('probe.half')::text", logger: logger).first(as: String?.self)
            #expect(half == .some(nil))
            let recorded = try await client.query("SELECT id FROM probe.schema_migrations", logger: logger).all(as: String.self)
            #expect(recorded == ["servicekit/0001_jobs_idempotency_audit.sql", "probe/0001_init.sql"])
        }
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        let scratch = try ScratchMigrations()
        // plain CREATE TABLE fails if it runs twice, so a race would surface as an error
        try scratch.write("0001_init.sql", "CREATE TABLE probe.a (id int); SELECT pg_sleep(0.2);")
        try scratch.write("0002_b.sql", "CREATE TABLE probe.b (id int);")
        let database = try await TestPostgres.createDatabase()
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await withClient(database) { client in
                        try await Migrator(schema: "probe", directory: scratch.root).migrate(client: client, logger: TestLog.quiet)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { !$0.isEmpty }.count == 1)
        #expect(results.flatMap { $0 }.count == 3)
        try await withClient(database) { client in
            let count = try await client.query("SELECT count(*)::int FROM probe.schema_migrations", logger: logger).first(as: Int.self)
            #expect(count == 3)
        }
    }

    @Test func theMigrateSubcommandAppliesAndRecords() async throws {
        let database = try await TestPostgres.createDatabase()
        let settings = try TestSettings.settings(for: .calendarBooking, database: database)
        try await ServiceMain.migrate(settings: settings, logger: logger)
        try await ServiceMain.migrate(settings: settings, logger: logger)  // twice: nothing left to do
        try await withClient(database) { client in
            let ids = try await client.query("SELECT id FROM calendar.schema_migrations ORDER BY position", logger: logger).all(as: String.self)
            #expect(ids.contains("calendar/0001_init.sql"))
            #expect(try await Migrator(schema: "calendar", directory: TestSettings.migrationsDirectory).isUpToDate(client: client, logger: logger))
        }
    }

    @Test func everyServiceSchemaMigratesFromTheRepository() async throws {
        let database = try await TestPostgres.createDatabase()
        try await withClient(database) { client in
            for service in ServiceName.allCases {
                let migrator = Migrator(schema: service.schema, directory: TestSettings.migrationsDirectory)
                let applied = try await migrator.migrate(client: client, logger: logger)
                #expect(applied.first == "servicekit/0001_jobs_idempotency_audit.sql")
                #expect(applied.contains("\(service.schema)/0001_init.sql"))
            }
            let schemas = try await client.query("SELECT schema_name FROM information_schema.schemata", logger: logger).all(as: String.self)
            #expect(Set(schemas).isSuperset(of: ["identity", "messaging", "vouchers", "wallet", "agent", "calendar"]))
        }
    }
}
