import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// Agents and their prompt versions: each statement, its transaction, its audit row and its constraint errors.
struct AgentsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let errors = ConstraintErrors([
        "agents_name": .conflict("agent_name_taken", "Another agent of this tenant has this name."),
        "agents_default": .conflict("default_agent_taken", "Another agent is the tenant's default."),
        "prompt_versions_agent_id_channel_type_version_key": .conflict("version_taken", "This version exists for this channel type: versions never change."),
    ])

    static let columns = "id, name, kind, product, languages, tone, tools, policy::text, is_default, status, created_at, updated_at"
    typealias Row = (UUID, String, String, String?, [String], String, [String], String, Bool, String, Date, Date)

    static func agent(_ row: Row) throws -> AgentDTO {
        guard let kind = AgentKind(rawValue: row.2), let tone = Tone(rawValue: row.5) else {
            throw CorruptRow("agent \(row.0) has kind \(row.2), tone \(row.5)")
        }
        let tools = try row.6.map { name in
            guard let tool = ToolName(rawValue: name) else { throw CorruptRow("agent \(row.0) has tool \(name)") }
            return tool
        }
        let policy = try JSONDecoder.sokoni.decode(AgentPolicy.self, from: Data(row.7.utf8))
        return AgentDTO(
            id: AgentID(rawValue: row.0), name: row.1, kind: kind, product: row.3, languages: row.4, tone: tone, tools: tools, policy: policy, isDefault: row.8,
            status: row.9, createdAt: row.10, updatedAt: row.11)
    }

    func create(_ new: NewAgent, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> AgentDTO {
        let policy = String(decoding: try JSONEncoder.sokoni.encode(new.policy ?? AgentPolicy()), as: UTF8.self)
        let tools = (new.tools ?? ToolName.defaults).map(\.rawValue)
        return try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                let id = AgentID()
                if new.isDefault == true {
                    try await self.takeDefault(tenant: tenant, for: id, actor: actor, requestID: requestID, on: connection, logger: logger)
                }
                let agent = try await connection.query(
                    """
                    INSERT INTO agent.agents (id, tenant_id, name, kind, product, languages, tone, tools, policy, is_default, status)
                    VALUES (\(id.rawValue), \(tenant.rawValue), \(new.name), \(new.kind.rawValue), \(new.product), \(new.languages ?? ["en"]),
                            \((new.tone ?? .neutral).rawValue), \(tools), \(policy)::jsonb, \(new.isDefault ?? false), \(new.status ?? "active"))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger
                ).first(as: Row.self).map(Self.agent)!
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "agent.created", table: "agents", targetID: agent.id.description, before: nil,
                    after: agent, requestID: requestID, logger: logger)
                return agent
            }
        }
    }

    func find(_ id: AgentID, tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> AgentDTO? {
        let query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM agent.agents WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)"
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: Row.self).map(Self.agent)
    }

    func list(tenant: TenantID, after cursor: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [AgentDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.agents WHERE tenant_id = \(tenant.rawValue)
              AND (\(cursor?.0)::bigint IS NULL OR (created_at, id) > (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY created_at, id LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map(Self.agent)
    }

    /// The agent that answers a channel: the one named if it is the tenant's and active, else the tenant's
    /// default, else its oldest active one; nil when the tenant has none.
    func answering(_ id: AgentID?, tenant: TenantID, logger: Logger) async throws -> AgentDTO? {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.agents WHERE tenant_id = \(tenant.rawValue) AND status = 'active'
            ORDER BY (id = \(id?.rawValue)) IS TRUE DESC, is_default DESC, created_at, id LIMIT 1
            """, logger: logger
        ).first(as: Row.self).map(Self.agent)
    }

    func update(_ id: AgentID, tenant: TenantID, _ changes: UpdateAgent, actor: String, requestID: String, logger: Logger) async throws -> AgentDTO? {
        let policy = try changes.policy.map { String(decoding: try JSONEncoder.sokoni.encode($0), as: UTF8.self) }
        return try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                guard let before = try await self.find(id, tenant: tenant, on: connection, logger: logger) else { return nil }
                // even when this agent read as the default: another request may be moving it away right now
                if changes.isDefault == true {
                    try await self.takeDefault(tenant: tenant, for: id, actor: actor, requestID: requestID, on: connection, logger: logger)
                }
                let after = try await connection.query(
                    """
                    UPDATE agent.agents SET name = coalesce(\(changes.name), name), product = coalesce(\(changes.product), product),
                        languages = coalesce(\(changes.languages), languages), tone = coalesce(\(changes.tone?.rawValue), tone),
                        tools = coalesce(\(changes.tools?.map(\.rawValue)), tools), policy = coalesce(\(policy)::jsonb, policy),
                        is_default = coalesce(\(changes.isDefault), is_default), status = coalesce(\(changes.status), status), updated_at = now()
                    WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger
                ).first(as: Row.self).map(Self.agent)!
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "agent.updated", table: "agents", targetID: id.description, before: before,
                    after: after, requestID: requestID, logger: logger)
                return after
            }
        }
    }

    /// Makes room for `agent` to become the tenant's default: the tenant's default moves in one transaction (the
    /// previous one stops being it, audited), and two requests making different agents default take turns on a
    /// per-tenant lock, so the later one wins instead of failing on the one-default index.
    func takeDefault(tenant: TenantID, for agent: AgentID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended('agent-default:' || \(tenant.rawValue)::text, 0))", logger: logger)
        let previous = try await connection.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.agents WHERE tenant_id = \(tenant.rawValue) AND is_default AND id <> \(agent.rawValue) FOR UPDATE
            """, logger: logger
        ).all(as: Row.self).map(Self.agent)
        for before in previous {
            var after = before
            after.isDefault = false
            try await connection.query("UPDATE agent.agents SET is_default = false, updated_at = now() WHERE id = \(before.id.rawValue)", logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "agent.default_moved", table: "agents", targetID: before.id.description,
                before: before, after: after, requestID: requestID, logger: logger)
        }
    }

    // MARK: prompt versions

    static let promptColumns = """
        p.id, p.channel_type, p.version, p.body, p.notes, (a.version_id = p.id) IS TRUE, p.created_by, p.created_at
        """
    typealias PromptRow = (UUID, String, String, String, String?, Bool, String, Date)

    static func prompt(_ row: PromptRow) throws -> PromptVersionDTO {
        guard let type = ChannelType(rawValue: row.1) else { throw CorruptRow("prompt \(row.0) has channel type \(row.1)") }
        return PromptVersionDTO(id: row.0, channelType: type, version: row.2, body: row.3, notes: row.4, active: row.5, createdBy: row.6, createdAt: row.7)
    }

    func prompts(agent: AgentID, tenant: TenantID, logger: Logger) async throws -> [PromptVersionDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.promptColumns) FROM agent.prompt_versions p
            LEFT JOIN agent.active_prompts a ON a.agent_id = p.agent_id AND a.channel_type = p.channel_type
            WHERE p.agent_id = \(agent.rawValue) AND p.tenant_id = \(tenant.rawValue)
            ORDER BY p.channel_type, p.created_at DESC, p.id
            """, logger: logger
        ).all(as: PromptRow.self).map(Self.prompt).sorted {
            // newest version first within a channel type (the table's CHECK keeps every version semantic)
            $0.channelType != $1.channelType ? $0.channelType.rawValue < $1.channelType.rawValue : Self.parts($1).lexicographicallyPrecedes(Self.parts($0))
        }
    }

    static func parts(_ prompt: PromptVersionDTO) -> [Int] { SemanticVersion(prompt.version)?.parts ?? [] }

    /// A new version, never a change to an old one. The first version of a channel type becomes active.
    func addPrompt(_ new: NewPromptVersion, agent: AgentID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws
        -> PromptVersionDTO
    {
        try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                let id = UUID()
                try await connection.query(
                    """
                    INSERT INTO agent.prompt_versions (id, tenant_id, agent_id, channel_type, version, body, notes, created_by)
                    VALUES (\(id), \(tenant.rawValue), \(agent.rawValue), \(new.channelType.rawValue), \(new.version), \(new.body), \(new.notes), \(actor))
                    """, logger: logger)
                try await connection.query(
                    """
                    INSERT INTO agent.active_prompts (agent_id, channel_type, version_id, activated_by)
                    VALUES (\(agent.rawValue), \(new.channelType.rawValue), \(id), \(actor)) ON CONFLICT DO NOTHING
                    """, logger: logger)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "prompt.created", table: "prompt_versions", targetID: id.uuidString.lowercased(),
                    before: nil, after: ["agentId": agent.description, "channelType": new.channelType.rawValue, "version": new.version], requestID: requestID,
                    logger: logger)
                return try await self.prompt(agent: agent, tenant: tenant, channelType: new.channelType, version: new.version, on: connection, logger: logger)!
            }
        }
    }

    func prompt(agent: AgentID, tenant: TenantID, channelType: ChannelType, version: String, on connection: PostgresConnection? = nil, logger: Logger)
        async throws -> PromptVersionDTO?
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.promptColumns) FROM agent.prompt_versions p
            LEFT JOIN agent.active_prompts a ON a.agent_id = p.agent_id AND a.channel_type = p.channel_type
            WHERE p.agent_id = \(agent.rawValue) AND p.tenant_id = \(tenant.rawValue) AND p.channel_type = \(channelType.rawValue) AND p.version = \(version)
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: PromptRow.self).map(Self.prompt)
    }

    /// Makes a version the active one (a rollback is activating an older one), with an audit row naming both.
    func activate(agent: AgentID, tenant: TenantID, channelType: ChannelType, version: String, actor: String, requestID: String, logger: Logger)
        async throws -> PromptVersionDTO?
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let target = try await self.prompt(agent: agent, tenant: tenant, channelType: channelType, version: version, on: connection, logger: logger)
            else { return nil }
            let previous = try await connection.query(
                """
                SELECT p.version FROM agent.active_prompts a JOIN agent.prompt_versions p ON p.id = a.version_id
                WHERE a.agent_id = \(agent.rawValue) AND a.channel_type = \(channelType.rawValue) FOR UPDATE OF a
                """, logger: logger
            ).first(as: String.self)
            try await connection.query(
                """
                INSERT INTO agent.active_prompts (agent_id, channel_type, version_id, activated_by) VALUES (\(agent.rawValue), \(channelType.rawValue), \(target.id), \(actor))
                ON CONFLICT (agent_id, channel_type) DO UPDATE SET version_id = EXCLUDED.version_id, activated_by = EXCLUDED.activated_by, activated_at = now()
                """, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "prompt.activated", table: "active_prompts", targetID: agent.description,
                before: previous.map { ["channelType": channelType.rawValue, "version": $0] },
                after: ["channelType": channelType.rawValue, "version": version],
                requestID: requestID, logger: logger)
            var active = target
            active.active = true
            return active
        }
    }

    /// The active prompt of an agent for a channel type, if any.
    func activePrompt(agent: AgentID, channelType: ChannelType, logger: Logger) async throws -> String? {
        try await self.postgres.query(
            """
            SELECT p.body FROM agent.active_prompts a JOIN agent.prompt_versions p ON p.id = a.version_id
            WHERE a.agent_id = \(agent.rawValue) AND a.channel_type = \(channelType.rawValue)
            """, logger: logger
        ).first(as: String.self)
    }
}
