import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit

/// All SQL on `messaging.channels` and `messaging.conversation_archives`. Secrets are sealed here, on the way in,
/// and opened only for the adapters that send (`credentials`); no read the API serves selects them.
struct ChannelsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let secrets: SecretBox
    /// The gateway's public base URL, for the webhook URLs a person pastes into a provider's console.
    let publicURL: String

    static let errors = ConstraintErrors([
        "channels_provider_address": .conflict("channel_address_taken", "Another channel already uses this provider account or number.")
    ])

    static let columns = "id, tenant_id, kind, name, public_id, agent_id, config::text, secret_hints::text, status, created_at, updated_at"
    typealias Row = (UUID, UUID, String, String, String, UUID?, String, String, String, Date, Date)

    /// A channel row decoded totally: an unknown kind or status, or config that is not ours, throws.
    func channel(_ row: Row) throws -> StoredChannel {
        guard let kind = ChannelKind(rawValue: row.2), let status = ChannelStatus(rawValue: row.8) else {
            throw CorruptRow("channel \(row.0) has kind \(row.2), status \(row.8)")
        }
        let config = try JSONDecoder.sokoni.decode(ChannelConfig.self, from: Data(row.6.utf8))
        let hints = try JSONDecoder.sokoni.decode([String: String].self, from: Data(row.7.utf8))
        let dto = ChannelDTO(
            id: ChannelID(rawValue: row.0), kind: kind, name: row.3, publicId: row.4, agentId: row.5.map(AgentID.init(rawValue:)), config: config,
            secretHints: hints, status: status, webhookUrl: Self.webhookPath(kind: kind, publicID: row.4).map { self.publicURL + $0 },
            createdAt: row.9, updatedAt: row.10)
        return StoredChannel(dto: dto, tenant: TenantID(rawValue: row.1))
    }

    static func webhookPath(kind: ChannelKind, publicID: String) -> String? {
        switch kind {
        case .whatsapp, .instagram, .sms, .telegram, .email: "/webhooks/\(kind.rawValue)/\(publicID)"
        case .webchat: "/webchat/widget.js?channel=\(publicID)"
        case .sandbox: nil
        }
    }

    struct NewChannel: Sendable {
        var kind: ChannelKind
        var name: String
        var agent: AgentID?
        var config: ChannelConfig
        var secrets: ChannelSecrets
    }

    func sealed(_ secrets: ChannelSecrets) throws -> (bytes: ByteBuffer?, keyID: String?, hints: String) {
        let hints = String(decoding: try JSONEncoder.sokoni.encode(secrets.hints), as: UTF8.self)
        guard !secrets.isEmpty else { return (nil, nil, hints) }
        let sealed = try self.secrets.seal(json: secrets)
        return (ByteBuffer(bytes: sealed.bytes), sealed.keyID, hints)
    }

    func create(_ new: NewChannel, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String, logger: Logger)
        async throws -> ChannelDTO
    {
        let config = String(decoding: try JSONEncoder.sokoni.encode(new.config), as: UTF8.self)
        let sealed = try self.sealed(new.secrets)
        return try await Self.errors.map {
            let row = try await connection.query(
                """
                INSERT INTO messaging.channels (id, tenant_id, kind, name, public_id, address, agent_id, config, secrets, secrets_key_id, secret_hints)
                VALUES (\(UUID()), \(tenant.rawValue), \(new.kind.rawValue), \(new.name), \(PublicChannelID.make()),
                    \(new.config.address(for: new.kind)), \(new.agent?.rawValue), \(config)::jsonb, \(sealed.bytes), \(sealed.keyID),
                    \(sealed.hints)::jsonb)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)!
            let channel = try self.channel(row).dto
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "channel.create", table: "channels", targetID: channel.id.description,
                before: nil as ChannelDTO?, after: channel, requestID: requestID, logger: logger)
            return channel
        }
    }

    /// The changed channel, or nil when the tenant has none with this id. New secrets merge into the sealed ones;
    /// the result must still satisfy the kind's rules (`check`, which throws the controller's 422).
    func update(
        _ id: ChannelID, tenant: TenantID, _ changes: UpdateChannel, check: @Sendable (ChannelKind, ChannelConfig, ChannelSecrets) throws -> Void,
        actor: String, requestID: String, logger: Logger
    ) async throws -> ChannelDTO? {
        try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                guard let before = try await self.find(id, tenant: tenant, on: connection, forUpdate: true, logger: logger) else { return nil }
                let current = try await self.credentials(id, on: connection, logger: logger) ?? ChannelSecrets()
                let secrets = current.merged(with: changes.secrets ?? ChannelSecrets())
                let config = changes.config ?? before.dto.config
                try check(before.dto.kind, config, secrets)
                let sealed = try self.sealed(secrets)
                let configText = String(decoding: try JSONEncoder.sokoni.encode(config), as: UTF8.self)
                let row = try await connection.query(
                    """
                    UPDATE messaging.channels SET name = coalesce(\(changes.name), name), config = \(configText)::jsonb,
                        address = \(config.address(for: before.dto.kind)), status = coalesce(\(changes.status?.rawValue), status),
                        secrets = \(sealed.bytes), secrets_key_id = \(sealed.keyID), secret_hints = \(sealed.hints)::jsonb
                    WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.columns)
                    """, logger: logger
                ).first(as: Row.self)!
                let after = try self.channel(row).dto
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "channel.update", table: "channels", targetID: id.description,
                    before: before.dto, after: after, requestID: requestID, logger: logger)
                return after
            }
        }
    }

    /// Binds another agent (or none). The channel's open conversations belonged to the old agent: they are closed,
    /// and one archive row says how many and why (seed 001's `conversation_archives`).
    func bindAgent(_ id: ChannelID, tenant: TenantID, agent: AgentID?, reason: String, actor: String, requestID: String, logger: Logger)
        async throws -> BindAgentResult?
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let before = try await self.find(id, tenant: tenant, on: connection, forUpdate: true, logger: logger) else { return nil }
            guard before.dto.agentId != agent else { return BindAgentResult(channel: before.dto, archivedConversations: 0) }
            let archived =
                try await connection.query(
                    """
                    WITH closed AS (
                        UPDATE messaging.conversations SET status = 'closed', closed_at = now(), closed_reason = 'agent_relinked'
                        WHERE channel_id = \(id.rawValue) AND status <> 'closed' RETURNING 1)
                    SELECT count(*)::int FROM closed
                    """, logger: logger
                ).first(as: Int.self) ?? 0
            try await connection.query(
                """
                INSERT INTO messaging.conversation_archives (id, tenant_id, channel_id, conversations, reason, previous_agent_id, new_agent_id, actor)
                VALUES (\(UUID()), \(tenant.rawValue), \(id.rawValue), \(archived), \(reason), \(before.dto.agentId?.rawValue), \(agent?.rawValue), \(actor))
                """, logger: logger)
            let row = try await connection.query(
                "UPDATE messaging.channels SET agent_id = \(agent?.rawValue) WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.columns)",
                logger: logger
            ).first(as: Row.self)!
            let after = try self.channel(row).dto
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "channel.bind_agent", table: "channels", targetID: id.description,
                before: ["agentId": before.dto.agentId?.description], after: ["agentId": agent?.description, "archived": "\(archived)"],
                requestID: requestID, logger: logger)
            return BindAgentResult(channel: after, archivedConversations: archived)
        }
    }

    func find(_ id: ChannelID, tenant: TenantID, on connection: PostgresConnection? = nil, forUpdate: Bool = false, logger: Logger)
        async throws -> StoredChannel?
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM messaging.channels WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: Row.self).map(self.channel)
    }

    /// The active channel a webhook URL names, in any tenant (the URL's public id is all a provider knows), with its
    /// secrets opened to check the signature: one query per webhook.
    func webhookTarget(publicID: String, kind: ChannelKind, logger: Logger) async throws -> (StoredChannel, ChannelSecrets)? {
        try await self.withSecrets(
            """
            SELECT \(unescaped: Self.columns), secrets, secrets_key_id FROM messaging.channels
            WHERE public_id = \(publicID) AND kind = \(kind.rawValue) AND status = 'active'
            """, logger: logger
        ).map { ($0.0, $0.1 ?? ChannelSecrets()) }
    }

    /// The channel a send goes out on, with its secrets opened: one query per send.
    func withCredentials(_ id: ChannelID, logger: Logger) async throws -> (StoredChannel, ChannelSecrets?)? {
        try await self.withSecrets(
            "SELECT \(unescaped: Self.columns), secrets, secrets_key_id FROM messaging.channels WHERE id = \(id.rawValue)", logger: logger)
    }

    private func withSecrets(_ query: PostgresQuery, logger: Logger) async throws -> (StoredChannel, ChannelSecrets?)? {
        guard
            let row = try await self.postgres.query(query, logger: logger)
                .first(as: (UUID, UUID, String, String, String, UUID?, String, String, String, Date, Date, ByteBuffer?, String?).self)
        else { return nil }
        let channel = try self.channel((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10))
        return (channel, try self.opened(row.11, keyID: row.12))
    }

    /// The channel by internal id, in any tenant: for jobs, which carry the id they were enqueued with.
    func find(_ id: ChannelID, logger: Logger) async throws -> StoredChannel? {
        try await self.postgres.query("SELECT \(unescaped: Self.columns) FROM messaging.channels WHERE id = \(id.rawValue)", logger: logger)
            .first(as: Row.self).map(self.channel)
    }

    /// The tenant's first active sandbox channel, made on first use: where notifications go when the tenant has
    /// connected nothing else, so the platform works with no provider at all.
    func defaultChannel(tenant: TenantID, logger: Logger) async throws -> StoredChannel {
        if let row = try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM messaging.channels WHERE tenant_id = \(tenant.rawValue) AND status = 'active'
              AND kind IN ('whatsapp', 'sms', 'sandbox')
            ORDER BY CASE kind WHEN 'whatsapp' THEN 0 WHEN 'sms' THEN 1 ELSE 2 END, created_at LIMIT 1
            """, logger: logger
        ).first(as: Row.self) {
            return try self.channel(row)
        }
        return try await self.postgres.withTransaction(logger: logger) { connection in
            // two first uses at once: the advisory lock makes the second find the first's channel
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('sandbox:' || \(tenant.description)))", logger: logger)
            if let row = try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM messaging.channels WHERE tenant_id = \(tenant.rawValue) AND kind = 'sandbox' LIMIT 1",
                logger: logger
            ).first(as: Row.self) {
                return try self.channel(row)
            }
            let dto = try await self.create(
                NewChannel(kind: .sandbox, name: "Sandbox", agent: nil, config: ChannelConfig(), secrets: ChannelSecrets()), tenant: tenant,
                actor: "messaging", on: connection, requestID: "default-channel", logger: logger)
            return StoredChannel(dto: dto, tenant: tenant)
        }
    }

    func list(tenant: TenantID, after cursor: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [ChannelDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM messaging.channels
            WHERE tenant_id = \(tenant.rawValue)
              AND (\(cursor?.0)::bigint IS NULL OR (created_at, id) > (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY created_at, id LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map { try self.channel($0).dto }
    }

    /// WhatsApp's messaging tier of the channel's number, as the last template sync read it.
    func messagingTier(_ id: ChannelID, logger: Logger) async throws -> String? {
        try await self.postgres.query("SELECT messaging_tier FROM messaging.channels WHERE id = \(id.rawValue)", logger: logger)
            .first(as: String?.self) ?? nil
    }

    /// The channel's secrets, opened: only for the code that talks to the provider.
    func credentials(_ id: ChannelID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> ChannelSecrets? {
        let query: PostgresQuery = "SELECT secrets, secrets_key_id FROM messaging.channels WHERE id = \(id.rawValue)"
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        guard let (bytes, keyID) = try await rows.first(as: (ByteBuffer?, String?).self) else { return nil }
        return try self.opened(bytes, keyID: keyID)
    }

    func opened(_ bytes: ByteBuffer?, keyID: String?) throws -> ChannelSecrets? {
        guard let bytes, let keyID else { return nil }
        return try self.secrets.open(SecretBox.Sealed(bytes: Array(buffer: bytes), keyID: keyID), as: ChannelSecrets.self)
    }
}

/// A channel with the tenant it belongs to (the DTO leaves it out: the caller knows its own tenant).
struct StoredChannel: Sendable {
    var dto: ChannelDTO
    var tenant: TenantID
    var id: ChannelID { self.dto.id }
    var kind: ChannelKind { self.dto.kind }
}
