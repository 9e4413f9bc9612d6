import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of calendars: the agents (people and resources) with their zone, schedule and service durations, and their
/// blocks of time off. Each write has its audit row in the same transaction.
struct AgentsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let errors = ConstraintErrors(
        [
            "blocks_agent_fkey": .unprocessable("unknown_agent", "No such calendar agent in this tenant."),
            "blocks_order": .unprocessable("invalid_time", "endsAt must be after startsAt."),
        ])

    static let columns = "id, name, kind, agent_core_id, user_id, email, time_zone, service_durations::text, active, created_at, updated_at"
    typealias Row = (UUID, String, String, UUID?, UUID?, String?, String, String, Bool, Date, Date)

    static func agent(_ row: Row) throws -> CalendarAgentDTO {
        CalendarAgentDTO(
            id: CalendarAgentID(row.0), name: row.1, kind: try CorruptRow.known(row.2), agentCoreId: row.3.map { AgentID(rawValue: $0) },
            userId: row.4.map { UserID(rawValue: $0) },
            email: row.5, timeZone: row.6, serviceDurations: try CorruptRow.decode([String: Int].self, row.7), active: row.8, createdAt: row.9,
            updatedAt: row.10)
    }

    struct Fields: Sendable {
        var name: String
        var kind: AgentKind
        var agentCoreId: AgentID?
        var userId: UserID?
        var email: String?
        var timeZone: String
        var serviceDurations: [String: Int]
        var active: Bool
    }

    func create(_ fields: Fields, tenant: TenantID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> CalendarAgentDTO
    {
        let durations = try JSONEncoder.canonical.encodeString(fields.serviceDurations)
        let row = try await connection.query(
            """
            INSERT INTO calendar.agents (id, tenant_id, name, kind, agent_core_id, user_id, email, time_zone, service_durations, active)
            VALUES (\(UUID()), \(tenant.rawValue), \(fields.name), \(fields.kind.rawValue), \(fields.agentCoreId?.rawValue), \(fields.userId?.rawValue),
                    \(fields.email), \(fields.timeZone), \(durations)::jsonb, \(fields.active))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger
        ).first(as: Row.self)
        guard let row else { throw CorruptRow("the agent insert returned no row") }
        let agent = try Self.agent(row)
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: "calendar_agent.created", table: "agents", targetID: agent.id.description,
            before: nil as CalendarAgentDTO?, after: agent, requestID: requestID, logger: logger)
        return agent
    }

    func agent(_ id: CalendarAgentID, tenant: TenantID, on connection: PostgresConnection? = nil, lock: Bool = false, logger: Logger) async throws
        -> CalendarAgentDTO?
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM calendar.agents WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """
        let row =
            if let connection {
                try await connection.query(query, logger: logger).first(as: Row.self)
            } else {
                try await self.postgres.query(query, logger: logger).first(as: Row.self)
            }
        return try row.map(Self.agent)
    }

    func agents(tenant: TenantID, after: (String, UUID)?, limit: Int, logger: Logger) async throws -> [CalendarAgentDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM calendar.agents
            WHERE tenant_id = \(tenant.rawValue) AND (\(after == nil) OR (name, id) > (\(after?.0 ?? ""), \(after?.1 ?? UUID())))
            ORDER BY name, id LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map(Self.agent)
    }

    func update(
        _ id: CalendarAgentID, tenant: TenantID, change: (inout Fields) throws -> Void, actor: String, requestID: String, logger: Logger
    ) async throws -> CalendarAgentDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let before = try await self.agent(id, tenant: tenant, on: connection, lock: true, logger: logger) else { return nil }
            var fields = Fields(
                name: before.name, kind: before.kind, agentCoreId: before.agentCoreId, userId: before.userId, email: before.email,
                timeZone: before.timeZone, serviceDurations: before.serviceDurations, active: before.active)
            try change(&fields)
            let durations = try JSONEncoder.canonical.encodeString(fields.serviceDurations)
            let row = try await connection.query(
                """
                UPDATE calendar.agents SET name = \(fields.name), kind = \(fields.kind.rawValue), agent_core_id = \(fields.agentCoreId?.rawValue),
                    user_id = \(fields.userId?.rawValue), email = \(fields.email), time_zone = \(fields.timeZone),
                    service_durations = \(durations)::jsonb, active = \(fields.active), updated_at = now()
                WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)
            guard let row else { return nil }
            let after = try Self.agent(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "calendar_agent.updated", table: "agents", targetID: id.description,
                before: before, after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    // MARK: feeds

    /// Keeps the hash of a new feed token (the old token stops working), with an audit row that holds no token.
    func setFeedToken(_ id: CalendarAgentID, hash: String, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let updated = try await connection.query(
                """
                UPDATE calendar.agents SET feed_token_hash = \(hash), updated_at = now()
                WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) RETURNING id
                """, logger: logger
            ).first(as: UUID.self)
            guard updated != nil else { return false }
            struct Feed: Encodable { var feed: String }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "calendar_agent.feed", table: "agents", targetID: id.description,
                before: nil as Feed?, after: Feed(feed: "new secret URL"), requestID: requestID, logger: logger)
            return true
        }
    }

    /// The agent whose feed token hashes to `hash`, with its tenant.
    func agent(feedHash hash: String, logger: Logger) async throws -> (agent: CalendarAgentDTO, tenant: TenantID)? {
        guard
            let (tenant, row) = try await self.postgres.query(
                "SELECT tenant_id, \(unescaped: Self.columns) FROM calendar.agents WHERE feed_token_hash = \(hash)", logger: logger
            ).first(as: (UUID, UUID, String, String, UUID?, UUID?, String?, String, String, Bool, Date, Date).self).map({
                (TenantID($0.0), Row($0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8, $0.9, $0.10, $0.11))
            })
        else { return nil }
        return (try Self.agent(row), tenant)
    }

    // MARK: schedules

    /// The agent's zone and its schedule as stored (JSON the code validated; `{}`: no rules yet).
    func schedule(_ id: CalendarAgentID, tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws
        -> (timeZone: String, schedule: String)?
    {
        try await self.on(connection) { connection in
            try await connection.query(
                "SELECT time_zone, schedule::text FROM calendar.agents WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: (String, String).self).map { ($0.0, $0.1) }
        }
    }

    /// Runs `body` on the caller's connection (inside its transaction: a request holding one must not wait for a
    /// second from the pool, which concurrent requests may have emptied), or on a pooled one.
    func on<Result: Sendable>(_ connection: PostgresConnection?, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        if let connection { return try await body(connection) }
        return try await self.postgres.withConnection(body)
    }

    /// Replaces the schedule (and the zone its rules are in), with the old and new in the audit row.
    func setSchedule(
        _ id: CalendarAgentID, tenant: TenantID, timeZone: String, schedule: String, actor: String, requestID: String, logger: Logger
    ) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let (zone, before) = try await connection.query(
                    """
                    SELECT time_zone, schedule::text FROM calendar.agents WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE
                    """, logger: logger
                ).first(as: (String, String).self)
            else { return false }
            try await connection.query(
                """
                UPDATE calendar.agents SET time_zone = \(timeZone), schedule = \(schedule)::jsonb, updated_at = now() WHERE id = \(id.rawValue)
                """, logger: logger)
            struct Stored: Encodable {
                var timeZone: String
                var schedule: JSONValue
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "calendar_agent.schedule", table: "agents", targetID: id.description,
                before: Stored(timeZone: zone, schedule: try CorruptRow.decode(JSONValue.self, before)),
                after: Stored(timeZone: timeZone, schedule: try CorruptRow.decode(JSONValue.self, schedule)), requestID: requestID, logger: logger)
            return true
        }
    }

    // MARK: blocks

    static let blockColumns = "id, agent_id, starts_at, ends_at, reason, created_by, created_at"
    typealias BlockRow = (UUID, UUID, Date, Date, String?, String, Date)

    static func block(_ row: BlockRow) -> BlockDTO {
        BlockDTO(
            id: CalendarBlockID(row.0), agentId: CalendarAgentID(row.1), startsAt: row.2, endsAt: row.3, reason: row.4, createdBy: row.5,
            createdAt: row.6)
    }

    /// On the caller's transaction (the idempotency one).
    func createBlock(
        agent: CalendarAgentID, start: Date, end: Date, reason: String?, tenant: TenantID, actor: String, requestID: String,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> BlockDTO {
        try await Self.errors.map {
            let row = try await connection.query(
                """
                INSERT INTO calendar.blocks (id, tenant_id, agent_id, starts_at, ends_at, reason, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(agent.rawValue), \(start), \(end), \(reason), \(actor))
                RETURNING \(unescaped: Self.blockColumns)
                """, logger: logger
            ).first(as: BlockRow.self)
            guard let row else { throw CorruptRow("the block insert returned no row") }
            let block = Self.block(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "calendar_block.created", table: "blocks", targetID: block.id.description,
                before: nil as BlockDTO?, after: block, requestID: requestID, logger: logger)
            return block
        }
    }

    func deleteBlock(_ id: CalendarBlockID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let row = try await connection.query(
                    """
                    DELETE FROM calendar.blocks WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) RETURNING \(unescaped: Self.blockColumns)
                    """, logger: logger
                ).first(as: BlockRow.self)
            else { return false }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "calendar_block.deleted", table: "blocks", targetID: id.description,
                before: Self.block(row), after: nil as BlockDTO?, requestID: requestID, logger: logger)
            return true
        }
    }

    /// The agent's blocks that overlap [from, to).
    func blocks(agent: CalendarAgentID, tenant: TenantID, from: Date, to: Date, on connection: PostgresConnection? = nil, logger: Logger)
        async throws -> [BlockDTO]
    {
        try await self.on(connection) { connection in try await self.blocks(agent: agent, tenant: tenant, from: from, to: to, connection, logger) }
    }

    private func blocks(agent: CalendarAgentID, tenant: TenantID, from: Date, to: Date, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> [BlockDTO]
    {
        try await connection.query(
            """
            SELECT \(unescaped: Self.blockColumns) FROM calendar.blocks
            WHERE agent_id = \(agent.rawValue) AND tenant_id = \(tenant.rawValue) AND starts_at < \(to) AND ends_at > \(from)
            ORDER BY starts_at, id
            """, logger: logger
        ).all(as: BlockRow.self).map(Self.block)
    }
}
