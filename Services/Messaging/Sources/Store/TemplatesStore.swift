import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL on message templates: written by people, synced from Meta, moved by Meta's review webhooks.
struct TemplatesStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let columns = """
        id, channel_id, name, language, category, header::text, body, footer, buttons::text, variable_count, status, rejection_reason,
        provider_template_id, created_at, updated_at
        """
    typealias Row = (UUID, UUID, String, String, String, String?, String, String?, String, Int, String, String?, String?, Date, Date)

    static let errors = ConstraintErrors([
        "templates_channel_id_name_language_key": .conflict("template_exists", "The channel already has a template of this name and language.")
    ])

    static func template(_ row: Row) throws -> TemplateDTO {
        guard let category = TemplateCategory(rawValue: row.4), let status = TemplateStatus(rawValue: row.10) else {
            throw CorruptRow("template \(row.0) has category \(row.4), status \(row.10)")
        }
        return TemplateDTO(
            id: TemplateID(rawValue: row.0), channelId: ChannelID(rawValue: row.1), name: row.2, language: row.3, category: category,
            header: try row.5.map { try JSONDecoder.sokoni.decode(TemplateHeader.self, from: Data($0.utf8)) }, body: row.6, footer: row.7,
            buttons: try JSONDecoder.sokoni.decode([TemplateButton].self, from: Data(row.8.utf8)), variableCount: row.9, status: status,
            rejectionReason: row.11, providerTemplateId: row.12, createdAt: row.13, updatedAt: row.14)
    }

    static func json(_ value: some Encodable) throws -> String { String(decoding: try JSONEncoder.sokoni.encode(value), as: UTF8.self) }

    func create(
        _ new: NewTemplate, tenant: TenantID, variableCount: Int, status: TemplateStatus, providerID: String?, actor: String, requestID: String,
        logger: Logger
    ) async throws -> TemplateDTO {
        try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                let row = try await connection.query(
                    """
                    INSERT INTO messaging.templates (id, tenant_id, channel_id, name, language, category, header, body, footer, buttons, variable_count,
                        status, provider_template_id)
                    VALUES (\(UUID()), \(tenant.rawValue), \(new.channelId.rawValue), \(new.name), \(new.language), \(new.category.rawValue),
                        \(try new.header.map(Self.json))::jsonb, \(new.body), \(new.footer), \(try Self.json(new.buttons ?? []))::jsonb, \(variableCount),
                        \(status.rawValue), \(providerID))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger
                ).first(as: Row.self)!
                let template = try Self.template(row)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "template.create", table: "templates", targetID: template.id.description,
                    before: nil as String?, after: template, requestID: requestID, logger: logger)
                return template
            }
        }
    }

    func find(_ id: TemplateID, tenant: TenantID, logger: Logger) async throws -> TemplateDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.columns) FROM messaging.templates WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: Row.self).map(Self.template)
    }

    func list(
        tenant: TenantID, channel: ChannelID?, status: TemplateStatus?, after cursor: (Int64, UUID)?, limit: Int, logger: Logger
    ) async throws -> [TemplateDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM messaging.templates
            WHERE tenant_id = \(tenant.rawValue) AND (\(channel?.rawValue)::uuid IS NULL OR channel_id = \(channel?.rawValue))
              AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(cursor?.0)::bigint IS NULL OR (created_at, id) > (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY created_at, id LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map(Self.template)
    }

    /// A person's edit: a WhatsApp template goes back to Meta's review (`pending`).
    func update(
        _ id: TemplateID, tenant: TenantID, change: (inout TemplateDTO) throws -> Void, status: TemplateStatus?, actor: String, requestID: String,
        logger: Logger
    ) async throws -> TemplateDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM messaging.templates WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE
                    """, logger: logger
                ).first(as: Row.self)
            else { return nil }
            let before = try Self.template(row)
            var after = before
            try change(&after)
            let variableCount = try TemplateText.variableCount(after.body)
            let updated = try await connection.query(
                """
                UPDATE messaging.templates SET category = \(after.category.rawValue), header = \(try after.header.map(Self.json))::jsonb,
                    body = \(after.body), footer = \(after.footer), buttons = \(try Self.json(after.buttons))::jsonb, variable_count = \(variableCount),
                    status = \(status?.rawValue ?? before.status.rawValue), rejection_reason = CASE WHEN \(status != nil) THEN NULL ELSE rejection_reason END
                WHERE id = \(id.rawValue)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)!
            let template = try Self.template(updated)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "template.update", table: "templates", targetID: id.description, before: before,
                after: template, requestID: requestID, logger: logger)
            return template
        }
    }

    /// Meta's list, written over ours: new templates created, changed ones updated (their review status above all).
    func sync(
        _ remotes: [WhatsAppTemplates.Remote], channel: StoredChannel, tier: String?, actor: String, requestID: String, logger: Logger
    ) async throws -> TemplateSyncResult {
        try await self.postgres.withTransaction(logger: logger) { connection in
            var result = TemplateSyncResult(created: 0, updated: 0, unchanged: 0, messagingTier: tier)
            for remote in remotes {
                guard let (category, header, body, footer, buttons) = remote.template,
                    (1...512).contains(remote.name.count), remote.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }),
                    (2...15).contains(remote.language.count),
                    let status = remote.status.flatMap(TemplateStatus.init(meta:)), let count = try? TemplateText.variableCount(body)
                else { continue }
                let reason = remote.rejectedReason.flatMap { $0 == "NONE" ? nil : $0 }
                let outcome = try await connection.query(
                    """
                    INSERT INTO messaging.templates AS t (id, tenant_id, channel_id, name, language, category, header, body, footer, buttons,
                        variable_count, status, rejection_reason, provider_template_id)
                    VALUES (\(UUID()), \(channel.tenant.rawValue), \(channel.id.rawValue), \(remote.name), \(remote.language), \(category.rawValue),
                        \(try header.map(Self.json))::jsonb, \(body), \(footer), \(try Self.json(buttons))::jsonb, \(count), \(status.rawValue), \(reason),
                        \(remote.id))
                    ON CONFLICT (channel_id, name, language) DO UPDATE SET category = EXCLUDED.category, header = EXCLUDED.header, body = EXCLUDED.body,
                        footer = EXCLUDED.footer, buttons = EXCLUDED.buttons, variable_count = EXCLUDED.variable_count, status = EXCLUDED.status,
                        rejection_reason = EXCLUDED.rejection_reason, provider_template_id = EXCLUDED.provider_template_id
                    WHERE (t.category, t.header, t.body, t.footer, t.buttons, t.status, t.rejection_reason, t.provider_template_id)
                        IS DISTINCT FROM (EXCLUDED.category, EXCLUDED.header, EXCLUDED.body, EXCLUDED.footer, EXCLUDED.buttons, EXCLUDED.status,
                                          EXCLUDED.rejection_reason, EXCLUDED.provider_template_id)
                    RETURNING (xmax = 0), id
                    """, logger: logger
                ).first(as: (Bool, UUID).self)
                switch outcome {
                case .some((true, _)): result.created += 1
                case .some((false, _)): result.updated += 1
                case .none: result.unchanged += 1
                }
            }
            if let tier {
                try await connection.query("UPDATE messaging.channels SET messaging_tier = \(tier) WHERE id = \(channel.id.rawValue)", logger: logger)
            }
            try await self.audit.record(
                on: connection, tenantID: channel.tenant, actor: actor, action: "template.sync", table: "templates", targetID: channel.id.description,
                before: nil as String?, after: result, requestID: requestID, logger: logger)
            return result
        }
    }

    /// Meta's `message_template_status_update` webhook: the template it names (by id, else name and language) takes
    /// the new status. Unknown templates are ignored (a sync brings them).
    func reviewed(
        channel: ChannelID, providerID: String?, name: String?, language: String?, status: TemplateStatus, reason: String?, requestID: String?,
        logger: Logger
    ) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                """
                UPDATE messaging.templates SET status = \(status.rawValue), rejection_reason = \(status == .rejected || status == .paused ? reason : nil),
                    provider_template_id = coalesce(provider_template_id, \(providerID))
                WHERE channel_id = \(channel.rawValue)
                  AND (provider_template_id = \(providerID) OR (name = \(name) AND language = \(language)))
                RETURNING id, tenant_id
                """, logger: logger
            ).all(as: (UUID, UUID).self)
            for (id, tenant) in rows {
                try await self.audit.record(
                    on: connection, tenantID: TenantID(rawValue: tenant), actor: "provider:meta", action: "template.review", table: "templates",
                    targetID: id.uuidString.lowercased(), before: nil as String?, after: ["status": status.rawValue, "reason": reason ?? ""],
                    requestID: requestID, logger: logger)
            }
        }
    }
}
