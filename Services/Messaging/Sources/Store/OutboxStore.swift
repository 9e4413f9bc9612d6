import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// The one outbox: every send (a person's reply, the agent's, a notice from another service, a confirmation) is a
/// message row and a `message.send` job written in one transaction, and every later state of the send is written
/// here.
struct OutboxStore: Sendable {
    let postgres: PostgresClient
    let conversations: ConversationsStore
    let jobs: JobQueue

    struct Queued: Sendable {
        var tenant: TenantID
        var channel: StoredChannel
        var to: String
        var sender: MessageSender
        var text: String?
        var template: TemplateRef?
        var media: MediaAttachment?
        var requestedBy: String
        var callback: JSONValue?
        /// Sent even to an opted-out address: only the confirmation of an opt-out itself.
        var bypassOptOut: Bool = false
        /// Email's subject line.
        var subject: String? = nil
        /// Choices offered with the text (an agent's buttons or list).
        var options: [ReplyOption] = []
        /// A campaign's send: its quiet hours and validity for the policy.
        var campaign: CampaignRef? = nil
    }

    struct SendJob: Codable, Sendable {
        var messageId: MessageID
        var bypassOptOut: Bool?
    }

    static let sendJob = "message.send"

    /// Queues a send on `connection` (the caller's transaction, so an idempotent request stores it once).
    func queue(_ queued: Queued, on connection: PostgresConnection, requestID: String?, logger: Logger) async throws -> MessageID {
        let contact = try await self.conversations.contact(tenant: queued.tenant, address: queued.to, profileName: nil, on: connection, logger: logger)
        let conversation = try await self.conversations.openConversation(
            tenant: queued.tenant, channel: queued.channel.id, contact: contact, on: connection, logger: logger)
        var payload: [String: JSONValue] = [:]
        if let template = queued.template { payload["template"] = try JSONValue(encoding: template) }
        if let media = queued.media { payload["media"] = try JSONValue(encoding: media) }
        if let subject = queued.subject { payload["subject"] = .string(subject) }
        if !queued.options.isEmpty { payload["options"] = try JSONValue(encoding: queued.options) }
        if let campaign = queued.campaign { payload["campaign"] = try JSONValue(encoding: campaign) }
        let kind = queued.template != nil ? "template" : queued.media?.type ?? "text"
        let (id, _) = try await self.conversations.append(
            .init(
                tenant: queued.tenant, channel: queued.channel.id, conversation: conversation.id, direction: .outbound, sender: queued.sender, kind: kind,
                body: queued.text, payload: .object(payload), providerMessageID: nil, status: .queued, language: nil, requestedBy: queued.requestedBy,
                callback: queued.callback, occurredAt: nil),
            on: connection, logger: logger)
        try await self.jobs.enqueue(
            Self.sendJob, payload: SendJob(messageId: id, bypassOptOut: queued.bypassOptOut ? true : nil), on: connection, maxAttempts: 10,
            requestID: requestID, logger: logger)
        return id
    }

    /// What the sender needs of a queued message.
    struct Pending: Sendable {
        var id: MessageID
        var tenant: TenantID
        var channel: ChannelID
        var conversation: ConversationID
        var to: String
        var status: MessageStatus
        var body: String?
        var payload: JSONValue
        var lastInboundAt: Date?
    }

    func pending(_ id: MessageID, logger: Logger) async throws -> Pending? {
        guard
            let row = try await self.postgres.query(
                """
                SELECT m.id, m.tenant_id, m.channel_id, m.conversation_id, k.address, m.status, m.body, m.payload::text, c.last_inbound_at
                FROM messaging.messages m JOIN messaging.conversations c ON c.id = m.conversation_id JOIN messaging.contacts k ON k.id = c.contact_id
                WHERE m.id = \(id.rawValue)
                """, logger: logger
            ).first(as: (UUID, UUID, UUID, UUID, String, String, String?, String, Date?).self)
        else { return nil }
        guard let status = MessageStatus(rawValue: row.5) else { throw CorruptRow("message \(row.0) has status \(row.5)") }
        return Pending(
            id: MessageID(rawValue: row.0), tenant: TenantID(rawValue: row.1), channel: ChannelID(rawValue: row.2),
            conversation: ConversationID(rawValue: row.3), to: row.4, status: status, body: row.6,
            payload: try JSONDecoder.sokoni.decode(JSONValue.self, from: Data(row.7.utf8)), lastInboundAt: row.8)
    }

    /// Held by quiet hours or the throttle: `queued_throttled` with the reason, and the send job again at `until`.
    func hold(_ message: Pending, until: Date, reason: String, requestID: String?, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                UPDATE messaging.messages SET status = 'queued_throttled', status_reason = \(reason), hold_until = \(until)
                WHERE id = \(message.id.rawValue) AND status IN ('queued', 'queued_throttled')
                """, logger: logger)
            try await self.jobs.enqueue(
                Self.sendJob, payload: SendJob(messageId: message.id, bypassOptOut: nil), on: connection, runAt: until, maxAttempts: 10, requestID: requestID,
                logger: logger)
        }
    }

    /// About to hand a campaign's message to the provider: true unless an earlier attempt got this far and never
    /// came back (the service died with the send in flight), in which case it is not sent again.
    func startSend(_ message: Pending, logger: Logger) async throws -> Bool {
        try await self.postgres.query(
            "UPDATE messaging.messages SET send_started_at = now() WHERE id = \(message.id.rawValue) AND send_started_at IS NULL RETURNING 1",
            logger: logger
        ).first(as: Int.self) != nil
    }

    /// The provider surely did not take it (it refused for now, or was not reached): a retry may send it.
    func sendAbandoned(_ message: Pending, logger: Logger) async throws {
        try await self.postgres.query("UPDATE messaging.messages SET send_started_at = NULL WHERE id = \(message.id.rawValue)", logger: logger)
    }

    /// Refused by the policy, for good.
    func block(_ message: Pending, code: String, reason: String, logger: Logger) async throws {
        try await self.postgres.query(
            """
            UPDATE messaging.messages SET status = 'blocked', error_code = \(code), status_reason = \(reason), hold_until = NULL
            WHERE id = \(message.id.rawValue) AND status IN ('queued', 'queued_throttled')
            """, logger: logger)
    }

    /// The provider took it: its id, the status that means, and any statuses that arrived first.
    func accepted(_ message: Pending, providerMessageID: String, status: DeliveryStatus, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                UPDATE messaging.messages SET status = \(status.rawValue), provider_message_id = \(providerMessageID), status_reason = NULL,
                    error_code = NULL, hold_until = NULL
                WHERE id = \(message.id.rawValue)
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO messaging.message_status_history (message_id, status, occurred_at, applied)
                VALUES (\(message.id.rawValue), \(status.rawValue), now(), true)
                """, logger: logger)
            try await self.conversations.applyUnmatched(channel: message.channel, providerMessageID: providerMessageID, on: connection, logger: logger)
        }
    }

    /// The provider refused it for good.
    func failed(_ message: Pending, code: String, reason: String, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                "UPDATE messaging.messages SET status = 'failed', error_code = \(code), status_reason = \(reason) WHERE id = \(message.id.rawValue)",
                logger: logger)
            try await connection.query(
                """
                INSERT INTO messaging.message_status_history (message_id, status, occurred_at, error_code, error_reason, applied)
                VALUES (\(message.id.rawValue), 'failed', now(), \(code), \(reason), true)
                """, logger: logger)
        }
    }

    /// The sandbox "sends" by writing its outbox, in the same transaction that marks the message sent.
    func sandboxSend(_ message: Pending, logger: Logger) async throws -> String {
        let providerID = "sbx_" + UUID().uuidString.lowercased()
        try await self.postgres.withTransaction(logger: logger) { connection in
            let payload = String(decoding: try JSONEncoder.sokoni.encode(message.payload), as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO messaging.sandbox_outbox (tenant_id, channel_id, message_id, recipient, body, payload)
                VALUES (\(message.tenant.rawValue), \(message.channel.rawValue), \(message.id.rawValue), \(message.to), \(message.body), \(payload)::jsonb)
                """, logger: logger)
            try await connection.query(
                """
                UPDATE messaging.messages SET status = 'sent', provider_message_id = \(providerID), status_reason = NULL, hold_until = NULL
                WHERE id = \(message.id.rawValue)
                """, logger: logger)
            try await connection.query(
                "INSERT INTO messaging.message_status_history (message_id, status, occurred_at, applied) VALUES (\(message.id.rawValue), 'sent', now(), true)",
                logger: logger)
        }
        return providerID
    }

    func outbox(tenant: TenantID, channel: ChannelID?, after cursor: Int64?, limit: Int, logger: Logger) async throws -> [OutboxEntry] {
        try await self.postgres.query(
            """
            SELECT id, channel_id, message_id, recipient, body, payload::text, created_at FROM messaging.sandbox_outbox
            WHERE tenant_id = \(tenant.rawValue) AND (\(channel?.rawValue)::uuid IS NULL OR channel_id = \(channel?.rawValue))
              AND id > \(cursor ?? 0)
            ORDER BY id LIMIT \(limit)
            """, logger: logger
        ).all(as: (Int64, UUID, UUID, String, String?, String, Date).self).map {
            OutboxEntry(
                id: $0.0, channelId: ChannelID(rawValue: $0.1), messageId: MessageID(rawValue: $0.2), to: $0.3, body: $0.4,
                payload: try JSONDecoder.sokoni.decode(JSONValue.self, from: Data($0.5.utf8)), createdAt: $0.6)
        }
    }
}

extension JSONValue {
    init(encoding value: some Encodable) throws {
        self = try JSONDecoder.sokoni.decode(JSONValue.self, from: try JSONEncoder.sokoni.encode(value))
    }
}
