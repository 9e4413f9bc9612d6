import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// FAQs (seed 004) and the replies given: a reply is stored under the inbound message's id with the FAQ it used,
/// whose usage count moves in the same transaction.
struct FaqsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let columns = "id, category, question, answer, keywords, language, active, display_order, usage_count, created_at, updated_at"
    typealias Row = (UUID, String?, String, String, [String], String, Bool, Int, Int, Date, Date)

    static func faq(_ row: Row) -> FaqDTO {
        FaqDTO(
            id: row.0, category: row.1, question: row.2, answer: row.3, keywords: row.4, language: row.5, active: row.6, displayOrder: row.7, usageCount: row.8,
            createdAt: row.9, updatedAt: row.10)
    }

    func create(_ new: NewFaq, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> FaqDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let faq = try await connection.query(
                """
                INSERT INTO agent.faqs (id, tenant_id, category, question, answer, keywords, language, active, display_order)
                VALUES (\(UUID()), \(tenant.rawValue), \(new.category), \(new.question), \(new.answer), \(new.keywords ?? []), \(new.language ?? "en"),
                        \(new.active ?? true), \(new.displayOrder ?? 0))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self).map(Self.faq)!
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "faq.created", table: "faqs", targetID: faq.id.uuidString.lowercased(), before: nil,
                after: faq, requestID: requestID, logger: logger)
            return faq
        }
    }

    func list(tenant: TenantID, activeOnly: Bool, logger: Logger) async throws -> [FaqDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.faqs WHERE tenant_id = \(tenant.rawValue) AND (active OR NOT \(activeOnly))
            ORDER BY display_order, created_at, id LIMIT 1000
            """, logger: logger
        ).all(as: Row.self).map(Self.faq)
    }

    func update(_ id: UUID, tenant: TenantID, _ changes: UpdateFaq, actor: String, requestID: String, logger: Logger) async throws -> FaqDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM agent.faqs WHERE id = \(id) AND tenant_id = \(tenant.rawValue) FOR UPDATE", logger: logger
                ).first(as: Row.self).map(Self.faq)
            else { return nil }
            let after = try await connection.query(
                """
                UPDATE agent.faqs SET category = coalesce(\(changes.category), category), question = coalesce(\(changes.question), question),
                    answer = coalesce(\(changes.answer), answer), keywords = coalesce(\(changes.keywords), keywords),
                    language = coalesce(\(changes.language), language), active = coalesce(\(changes.active), active),
                    display_order = coalesce(\(changes.displayOrder), display_order), updated_at = now()
                WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self).map(Self.faq)!
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "faq.updated", table: "faqs", targetID: id.uuidString.lowercased(), before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    // MARK: replies

    /// The reply already given to this inbound message, if any.
    func reply(tenant: TenantID, key: String, logger: Logger) async throws -> AgentAPI.Reply? {
        guard
            let text = try await self.postgres.query(
                "SELECT reply::text FROM agent.replies WHERE tenant_id = \(tenant.rawValue) AND inbound_key = \(key)", logger: logger
            ).first(as: String.self)
        else { return nil }
        return try JSONDecoder.sokoni.decode(AgentAPI.Reply.self, from: Data(text.utf8))
    }

    /// Stores a reply once; if another attempt stored one first, that one is the answer (and the FAQ is counted once).
    func store(
        _ reply: AgentAPI.Reply, tenant: TenantID, key: String, conversation: ConversationID, agent: AgentID?, answeredBy: String, faq: UUID?, logger: Logger
    ) async throws -> AgentAPI.Reply {
        let json = String(decoding: try JSONEncoder.sokoni.encode(reply), as: UTF8.self)
        return try await self.postgres.withTransaction(logger: logger) { connection in
            let stored =
                try await connection.query(
                    """
                    INSERT INTO agent.replies (tenant_id, inbound_key, conversation_id, agent_id, reply, answered_by, faq_id)
                    VALUES (\(tenant.rawValue), \(key), \(conversation.rawValue), \(agent?.rawValue), \(json)::jsonb, \(answeredBy), \(faq))
                    ON CONFLICT (tenant_id, inbound_key) DO NOTHING RETURNING 1
                    """, logger: logger
                ).first(as: Int.self) != nil
            guard stored else {
                let text = try await connection.query(
                    "SELECT reply::text FROM agent.replies WHERE tenant_id = \(tenant.rawValue) AND inbound_key = \(key)", logger: logger
                ).first(as: String.self)!
                return try JSONDecoder.sokoni.decode(AgentAPI.Reply.self, from: Data(text.utf8))
            }
            if let faq {
                try await connection.query(
                    "UPDATE agent.faqs SET usage_count = usage_count + 1 WHERE id = \(faq) AND tenant_id = \(tenant.rawValue)", logger: logger)
            }
            return reply
        }
    }
}
