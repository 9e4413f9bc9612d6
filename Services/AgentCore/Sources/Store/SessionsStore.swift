import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// Preview sessions and their turns. A turn's number is taken under the session's row lock, in a transaction of
/// its own; the agent thinks between the customer's turn and its own, with no lock held.
struct SessionsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let columns =
        "id, agent_id, channel_kind, customer_address, customer_name, language, turns, created_by, created_at, updated_at"
    typealias Row = (UUID, UUID, String, String, String?, String?, Int, String, Date, Date)

    static func session(_ row: Row) -> ChatSessionDTO {
        ChatSessionDTO(
            id: ChatSessionID(rawValue: row.0), agentId: AgentID(rawValue: row.1), channelKind: row.2, customerAddress: row.3, customerName: row.4,
            language: row.5, turns: row.6,
            createdBy: row.7, createdAt: row.8, updatedAt: row.9)
    }

    static let messageColumns = "turn, sender, body, reply::text, answered_by, latency_ms, created_at"
    typealias MessageRow = (Int, String, String?, String?, String?, Int?, Date)

    static func message(_ row: MessageRow) throws -> ChatMessageDTO {
        let reply = try row.3.map { try JSONDecoder.sokoni.decode(AgentAPI.Reply.self, from: Data($0.utf8)) }
        return ChatMessageDTO(turn: row.0, sender: row.1, text: row.2, reply: reply, answeredBy: row.4, latencyMs: row.5, createdAt: row.6)
    }

    static let tooLong = APIError.conflict("session_full", "This session has reached \(SessionRules.maxTurns) turns: start a new one.")

    func create(
        agent: AgentID, channelKind: String, customerAddress: String, customerName: String?, language: String?, tenant: TenantID, actor: String,
        requestID: String, logger: Logger
    ) async throws -> ChatSessionDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            var session = try await connection.query(
                """
                INSERT INTO agent.chat_sessions (id, tenant_id, agent_id, channel_kind, customer_address, customer_name, language, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(agent.rawValue), \(channelKind), \(customerAddress), \(customerName), \(language), \(actor))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self).map(Self.session)!
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "chat_session.created", table: "chat_sessions",
                targetID: session.id.description, before: nil, after: session, requestID: requestID, logger: logger)
            session.messages = []
            return session
        }
    }

    /// Newest first.
    func list(tenant: TenantID, agent: AgentID?, before cursor: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [ChatSessionDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.chat_sessions
            WHERE tenant_id = \(tenant.rawValue) AND (agent_id = \(agent?.rawValue) OR \(agent == nil))
              AND (\(cursor == nil) OR (created_at, id) < ('epoch'::timestamptz + \(cursor?.0 ?? 0) * interval '1 microsecond', \(cursor?.1 ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map(Self.session)
    }

    /// The session with its turns (the last `SessionRules.maxTurns`, oldest first).
    func find(_ id: ChatSessionID, tenant: TenantID, logger: Logger) async throws -> ChatSessionDTO? {
        guard
            var session = try await self.postgres.query(
                "SELECT \(unescaped: Self.columns) FROM agent.chat_sessions WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: Row.self).map(Self.session)
        else { return nil }
        session.messages = try await self.postgres.query(
            """
            SELECT \(unescaped: Self.messageColumns) FROM agent.chat_messages
            WHERE session_id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) ORDER BY turn LIMIT \(SessionRules.maxTurns)
            """, logger: logger
        ).all(as: MessageRow.self).map(Self.message)
        return session
    }

    /// Stores the customer's turn and answers the session with the turns the agent should see (the latest
    /// `SessionRules.historyTurns`, oldest first, ending with this one); nil when there is no such session.
    func customerTurn(_ id: ChatSessionID, tenant: TenantID, text: String, logger: Logger) async throws -> (ChatSessionDTO, [ChatMessageDTO])? {
        let session = id.rawValue
        return try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let current = try await connection.query(
                    "SELECT \(unescaped: Self.columns) FROM agent.chat_sessions WHERE id = \(session) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                    logger: logger
                ).first(as: Row.self).map(Self.session)
            else { return nil }
            // room for this turn and the agent's answer
            guard current.turns + 2 <= SessionRules.maxTurns else { throw Self.tooLong }
            try await self.insert(session: session, tenant: tenant, turn: current.turns + 1, sender: "user", body: text, on: connection, logger: logger)
            let history = try await connection.query(
                """
                SELECT \(unescaped: Self.messageColumns) FROM agent.chat_messages
                WHERE session_id = \(session) ORDER BY turn DESC LIMIT \(SessionRules.historyTurns)
                """, logger: logger
            ).all(as: MessageRow.self).map(Self.message).reversed()
            return (current, Array(history))
        }
    }

    /// Stores the agent's turn.
    func agentTurn(
        _ id: ChatSessionID, tenant: TenantID, reply: AgentAPI.Reply, answeredBy: String, latencyMs: Int, logger: Logger
    ) async throws -> ChatMessageDTO {
        let json = String(decoding: try JSONEncoder.sokoni.encode(reply), as: UTF8.self)
        let session = id.rawValue
        return try await self.postgres.withTransaction(logger: logger) { connection in
            let turns = try await connection.query(
                "SELECT turns FROM agent.chat_sessions WHERE id = \(session) AND tenant_id = \(tenant.rawValue) FOR UPDATE", logger: logger
            ).first(as: Int.self)
            guard let turns else { throw CorruptRow("chat session \(session) vanished during a turn") }
            return try await self.insert(
                session: session, tenant: tenant, turn: turns + 1, sender: "agent", body: reply.text.map { String($0.prefix(8000)) }, reply: json,
                answeredBy: answeredBy, latencyMs: latencyMs,
                on: connection, logger: logger)
        }
    }

    @discardableResult
    func insert(
        session: UUID, tenant: TenantID, turn: Int, sender: String, body: String?, reply: String? = nil, answeredBy: String? = nil, latencyMs: Int? = nil,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> ChatMessageDTO {
        let message = try await connection.query(
            """
            INSERT INTO agent.chat_messages (session_id, turn, tenant_id, sender, body, reply, answered_by, latency_ms)
            VALUES (\(session), \(turn), \(tenant.rawValue), \(sender), \(body), \(reply)::jsonb, \(answeredBy), \(latencyMs))
            RETURNING \(unescaped: Self.messageColumns)
            """, logger: logger
        ).first(as: MessageRow.self).map(Self.message)!
        try await connection.query(
            "UPDATE agent.chat_sessions SET turns = \(turn), updated_at = now() WHERE id = \(session)", logger: logger)
        return message
    }
}
