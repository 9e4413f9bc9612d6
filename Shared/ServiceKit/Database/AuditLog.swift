import Contracts
import Foundation
import Logging
import Models
import PostgresNIO

/// Writes `<schema>.audit_log` inside the caller's transaction: who did what to which row, with the
/// before/after difference as JSONB (`{"field":{"before":…,"after":…}}`) and the request id.
public struct AuditLog: Sendable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    public func record(
        on connection: PostgresConnection, tenantID: TenantID?, actor: String, action: String, table: String, targetID: String,
        before: (any Encodable)?, after: (any Encodable)?, requestID: String?, logger: Logger
    ) async throws {
        let diff = try Self.diff(before: before.map(Self.json), after: after.map(Self.json))
        let diffText = String(decoding: try JSONEncoder.sokoni.encode(diff), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO \(unescaped: self.schema).audit_log (tenant_id, actor, action, target_table, target_id, diff, request_id)
            VALUES (\(tenantID?.rawValue), \(actor), \(action), \(table), \(targetID), \(diffText)::jsonb, \(requestID))
            """, logger: logger)
    }

    /// One row per entry, written by one statement: for writes of many rows at once (a bulk issue).
    public func recordMany(
        on connection: PostgresConnection, tenantID: TenantID?, actor: String, action: String, table: String,
        entries: [(targetID: String, before: (any Encodable)?, after: (any Encodable)?)], requestID: String?, logger: Logger
    ) async throws {
        guard !entries.isEmpty else { return }
        let targets = entries.map(\.targetID)
        let diffs = try entries.map { entry in
            let diff = try Self.diff(before: entry.before.map(Self.json), after: entry.after.map(Self.json))
            return String(decoding: try JSONEncoder.sokoni.encode(diff), as: UTF8.self)
        }
        try await connection.query(
            """
            INSERT INTO \(unescaped: self.schema).audit_log (tenant_id, actor, action, target_table, target_id, diff, request_id)
            SELECT \(tenantID?.rawValue), \(actor), \(action), \(table), t.target_id, t.diff::jsonb, \(requestID)
            FROM unnest(\(targets)::text[], \(diffs)::text[]) AS t(target_id, diff)
            """, logger: logger)
    }

    /// What to read back: a tenant's rows (platform rows have no tenant), newest first, optionally of one target or actor.
    public struct Filter: Sendable {
        public var tenantID: TenantID?
        public var targetType: String?
        public var targetID: String?
        public var actor: String?

        public init(tenantID: TenantID?, targetType: String? = nil, targetID: String? = nil, actor: String? = nil) {
            self.tenantID = tenantID
            self.targetType = targetType
            self.targetID = targetID
            self.actor = actor
        }
    }

    /// Newest first, `limit` rows with an id below `cursor`. The tenant test is written so that, with the values known
    /// when the statement is planned, one side folds away and `audit_log_tenant_id` serves either case.
    public func entries(
        _ filter: Filter, before cursor: Int64?, limit: Int, client: PostgresClient, logger: Logger
    ) async throws -> [ServiceAPI.AuditEntry] {
        let rows = try await client.query(
            """
            SELECT id, actor, action, target_table, target_id, diff::text, request_id, created_at
            FROM \(unescaped: self.schema).audit_log
            WHERE (tenant_id = \(filter.tenantID?.rawValue) OR (\(filter.tenantID == nil) AND tenant_id IS NULL))
              AND (\(filter.targetType)::text IS NULL OR target_table = \(filter.targetType))
              AND (\(filter.targetID)::text IS NULL OR target_id = \(filter.targetID))
              AND (\(filter.actor)::text IS NULL OR actor = \(filter.actor))
              AND id < \(cursor ?? Int64.max)
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var entries: [ServiceAPI.AuditEntry] = []
        for try await (id, actor, action, table, target, diff, requestID, createdAt) in rows.decode(
            (Int64, String, String, String, String, String, String?, Date).self)
        {
            entries.append(
                ServiceAPI.AuditEntry(
                    id: id, actor: actor, action: action, targetType: table, targetId: target,
                    diff: try JSONDecoder.sokoni.decode(JSONValue.self, from: Data(diff.utf8)), requestId: requestID, createdAt: createdAt))
        }
        return entries
    }

    static func json(_ value: any Encodable) throws -> JSONValue {
        try JSONDecoder.sokoni.decode(JSONValue.self, from: JSONEncoder.sokoni.encode(value))
    }

    /// Fields that changed. A created row shows every field with `before` null; a deleted one, `after` null.
    public static func diff(before: JSONValue?, after: JSONValue?) throws -> JSONValue {
        switch (before, after) {
        case (.object(let old)?, .object(let new)?):
            var changes: [String: JSONValue] = [:]
            for key in Set(old.keys).union(new.keys) where old[key] != new[key] {
                changes[key] = .object(["before": old[key] ?? .null, "after": new[key] ?? .null])
            }
            return .object(changes)
        case (nil, .object(let new)?):
            return .object(new.mapValues { .object(["before": .null, "after": $0]) })
        case (.object(let old)?, nil):
            return .object(old.mapValues { .object(["before": $0, "after": .null]) })
        default:
            return .object(["before": before ?? .null, "after": after ?? .null])
        }
    }
}
