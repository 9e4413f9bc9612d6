import Crypto
import Foundation
import Logging
import PostgresNIO

/// One SQL file under `Migrations/<group>/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    /// `servicekit/0001_jobs.sql`: the group folder and the file name, as recorded.
    public var id: String
    public var sql: String
    /// Hex SHA-256 of the file's bytes.
    public var checksum: String
}

public struct MigrationError: Error, CustomStringConvertible {
    public let description: String
}

/// Applies plain SQL migrations to one schema: in order, each in its own transaction, recorded with its checksum
/// in `<schema>.schema_migrations`, under a PostgreSQL advisory lock so replicas may start together.
///
/// Two groups are applied: `servicekit` (the tables ServiceKit needs in every schema: jobs, idempotency keys,
/// audit log; run with `search_path` set to the schema) and then the schema's own folder.
public struct Migrator: Sendable {
    public let schema: String
    public let directory: URL
    public static let sharedGroup = "servicekit"

    public init(schema: String, directory: URL) {
        self.schema = schema
        self.directory = directory
    }

    /// The expected migrations in the order they apply.
    public func load() throws -> [Migration] {
        try [Self.sharedGroup, self.schema].flatMap { try self.load(group: $0) }
    }

    private func load(group: String) throws -> [Migration] {
        let folder = self.directory.appendingPathComponent(group)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw MigrationError(description: "migrations folder \(folder.path) is missing")
        }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            guard name.prefix(4).allSatisfy(\.isNumber), name.dropFirst(4).first == "_" else {
                throw MigrationError(description: "migration \(group)/\(name) must be named NNNN_name.sql")
            }
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let checksum = sha256Hex(data)
            return Migration(id: "\(group)/\(name)", sql: String(decoding: data, as: UTF8.self), checksum: checksum)
        }
    }

    /// Applies what is pending and returns the ids applied now. Refuses to run when an applied file changed,
    /// disappeared, or a new file sorts before one already applied.
    @discardableResult
    public func migrate(client: PostgresClient, logger: Logger) async throws -> [String] {
        let expected = try self.load()
        let lockKey = "sokoni.migrations.\(self.schema)"
        return try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(hashtext(\(lockKey)))", logger: logger)
            do {
                let applied = try await self.applyPending(expected, connection: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(hashtext(\(lockKey)))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtext(\(lockKey)))", logger: logger)
                throw error
            }
        }
    }

    private func applyPending(_ expected: [Migration], connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: self.schema)", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS \(unescaped: self.schema).schema_migrations (
                id text PRIMARY KEY,
                checksum text NOT NULL,
                position int NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        let recorded = try await self.recorded(connection: connection, logger: logger)
        let pending = try Self.pending(expected: expected, recorded: recorded)
        var appliedNow: [String] = []
        for (position, migration) in pending {
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("SET LOCAL search_path TO \(unescaped: self.schema), public", logger: logger)
                // PostgresNIO speaks only the extended protocol (one statement per query); PL/pgSQL's EXECUTE
                // runs a whole file of statements, function bodies included, passed as one bind parameter
                try await connection.query(
                    "CREATE OR REPLACE FUNCTION pg_temp.sokoni_execute(sql text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE sql; END $$",
                    logger: logger)
                try await connection.query("SELECT pg_temp.sokoni_execute(\(migration.sql))", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: self.schema).schema_migrations (id, checksum, position)
                    VALUES (\(migration.id), \(migration.checksum), \(position))
                    """, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw MigrationError(description: "migration \(migration.id) failed: \(String(reflecting: error))")
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.id)", "schema": "\(self.schema)"])
            appliedNow.append(migration.id)
        }
        return appliedNow
    }

    func recorded(connection: PostgresConnection, logger: Logger) async throws -> [(id: String, checksum: String)] {
        let rows = try await connection.query(
            "SELECT id, checksum FROM \(unescaped: self.schema).schema_migrations ORDER BY position", logger: logger)
        var result: [(id: String, checksum: String)] = []
        for try await (id, checksum) in rows.decode((String, String).self) {
            result.append((id, checksum))
        }
        return result
    }

    /// Checks the recorded history against the files and returns what is left, with positions.
    static func pending(expected: [Migration], recorded: [(id: String, checksum: String)]) throws -> [(Int, Migration)] {
        let byID = Dictionary(uniqueKeysWithValues: expected.map { ($0.id, $0) })
        for record in recorded {
            guard let file = byID[record.id] else {
                throw MigrationError(description: "applied migration \(record.id) is missing from the migrations folder")
            }
            guard file.checksum == record.checksum else {
                throw MigrationError(
                    description:
                        "applied migration \(record.id) was changed after it was applied (checksum \(record.checksum.prefix(12)) → \(file.checksum.prefix(12))); add a new migration instead"
                )
            }
        }
        let appliedIDs = Set(recorded.map(\.id))
        let remaining = expected.enumerated().filter { !appliedIDs.contains($0.element.id) }
        if let firstNew = remaining.first, let lastApplied = expected.lastIndex(where: { appliedIDs.contains($0.id) }),
            firstNew.offset < lastApplied
        {
            throw MigrationError(
                description: "migration \(firstNew.element.id) is new but sorts before the applied \(expected[lastApplied].id)")
        }
        return remaining.map { ($0.offset, $0.element) }
    }

    /// True when every expected migration is recorded (for `/readyz`).
    public func isUpToDate(client: PostgresClient, logger: Logger) async throws -> Bool {
        let expected = try self.load()
        let recorded = try await client.withConnection { try await self.recorded(connection: $0, logger: logger) }
        return try Self.pending(expected: expected, recorded: recorded).isEmpty
    }
}
