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
        let (id, _) = try await self.conversations.append(
            .init(
                tenant: queued.tenant, channel: queued.channel.id, conversation: conversation.id, direction: .outbound, sender: queued.sender,
                kind: Self.kind(of: queued), body: queued.text, payload: try Self.payload(of: queued), providerMessageID: nil, status: .queued, language: nil,
                requestedBy: queued.requestedBy,
                callback: queued.callback, occurredAt: nil),
            on: connection, logger: logger)
        try await self.jobs.enqueue(
            Self.sendJob, payload: SendJob(messageId: id, bypassOptOut: queued.bypassOptOut ? true : nil), on: connection, maxAttempts: 10,
            requestID: requestID, logger: logger)
        return id
    }

    /// Queues many sends of one tenant on one channel to different addresses (a campaign's pass) in five statements
    /// over the whole batch, on `connection` (the caller's transaction): the rows `queue` writes, in the order given.
    /// Anything else (a mixed batch, an address twice) goes through `queue` one by one.
    func queueMany(_ batch: [Queued], on connection: PostgresConnection, logger: Logger) async throws -> [MessageID] {
        guard let first = batch.first else { return [] }
        let addresses = batch.map(\.to)
        guard batch.allSatisfy({ $0.tenant == first.tenant && $0.channel.id == first.channel.id }), Set(addresses).count == addresses.count else {
            var ids: [MessageID] = []
            for queued in batch { ids.append(try await self.queue(queued, on: connection, requestID: nil, logger: logger)) }
            return ids
        }
        let tenant = first.tenant.rawValue
        let channel = first.channel.id.rawValue
        // contacts and conversations that exist stay as they are (no new row version for an unchanged contact);
        // rows are written and locked in one order (address, then id), so two batches never wait on each other crosswise
        try await connection.query(
            """
            INSERT INTO messaging.contacts (id, tenant_id, address)
            SELECT gen_random_uuid(), \(tenant), a FROM unnest(\(addresses)::text[]) AS a ORDER BY a
            ON CONFLICT (tenant_id, address) DO NOTHING
            """, logger: logger)
        let contacts = Dictionary(
            uniqueKeysWithValues: try await connection.query(
                "SELECT address, id FROM messaging.contacts WHERE tenant_id = \(tenant) AND address = ANY(\(addresses)::text[])", logger: logger
            ).all(as: (String, UUID).self))
        let contactIDs = try addresses.map { address in
            guard let id = contacts[address] else { throw CorruptRow("the contact of \(PolicyStore.masked(address)) was not stored") }
            return id
        }
        try await connection.query(
            """
            INSERT INTO messaging.conversations (id, tenant_id, channel_id, contact_id)
            SELECT gen_random_uuid(), \(tenant), \(channel), k FROM unnest(\(contactIDs)::uuid[]) AS k ORDER BY k
            ON CONFLICT (channel_id, contact_id) WHERE status <> 'closed' DO NOTHING
            """, logger: logger)
        let previews = batch.map { queued in queued.text.map { String($0.prefix(140)) } ?? "[\(Self.kind(of: queued))]" }
        var numbered: [UUID: (conversation: UUID, sequence: Int)] = [:]
        for (contact, conversation, sequence) in try await connection.query(
            """
            UPDATE messaging.conversations c SET last_sequence_no = c.last_sequence_no + 1, last_message_at = now(), last_message_preview = l.preview
            FROM (SELECT o.id, p.preview FROM messaging.conversations o
                  JOIN unnest(\(contactIDs)::uuid[], \(previews)::text[]) AS p(contact, preview) ON o.contact_id = p.contact
                  WHERE o.channel_id = \(channel) AND o.status <> 'closed' ORDER BY o.id FOR UPDATE OF o) AS l
            WHERE c.id = l.id
            RETURNING c.contact_id, c.id, c.last_sequence_no
            """, logger: logger
        ).all(as: (UUID, UUID, Int).self) {
            numbered[contact] = (conversation, sequence)
        }
        // a conversation closed between the two statements: its send is queued alone (a new conversation)
        var ids: [MessageID] = []
        var rows: [(id: UUID, conversation: UUID, sequence: Int, queued: Queued)] = []
        for (queued, contact) in zip(batch, contactIDs) {
            guard let (conversation, sequence) = numbered[contact] else {
                ids.append(try await self.queue(queued, on: connection, requestID: nil, logger: logger))
                continue
            }
            let id = UUID()
            rows.append((id, conversation, sequence, queued))
            ids.append(MessageID(rawValue: id))
        }
        guard !rows.isEmpty else { return ids }
        // one JSON document of rows: bodies and callbacks may be null, which a text[] parameter cannot say
        let document = String(
            decoding: try JSONEncoder.sokoni.encode(
                try rows.map { row in
                    NewRow(
                        id: row.id, conversation: row.conversation, sequence: row.sequence, sender: row.queued.sender.rawValue,
                        kind: Self.kind(of: row.queued), body: row.queued.text, payload: try Self.payload(of: row.queued),
                        requestedBy: row.queued.requestedBy, callback: row.queued.callback)
                }), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO messaging.messages (id, tenant_id, channel_id, conversation_id, sequence_no, direction, sender, kind, body, payload, status,
                requested_by, callback)
            SELECT m.id, \(tenant), \(channel), m.conversation, m.sequence, 'outbound', m.sender, m.kind, m.body, m.payload, 'queued',
                m."requestedBy", m.callback
            FROM jsonb_to_recordset(\(document)::jsonb)
                AS m(id uuid, conversation uuid, sequence int, sender text, kind text, body text, payload jsonb, "requestedBy" text, callback jsonb)
            """, logger: logger)
        try await self.jobs.enqueueMany(
            Self.sendJob, payloads: rows.map { SendJob(messageId: MessageID(rawValue: $0.id), bypassOptOut: $0.queued.bypassOptOut ? true : nil) },
            on: connection, maxAttempts: 10, logger: logger)
        return ids
    }

    /// A message row of `queueMany`, as the JSON its insert reads.
    struct NewRow: Encodable {
        var id: UUID
        var conversation: UUID
        var sequence: Int
        var sender: String
        var kind: String
        var body: String?
        var payload: JSONValue
        var requestedBy: String
        var callback: JSONValue?
    }

    /// The message's kind: a template, a media type, or text.
    static func kind(of queued: Queued) -> String {
        queued.template != nil ? "template" : queued.media?.type ?? "text"
    }

    /// What a message's payload holds besides its text.
    static func payload(of queued: Queued) throws -> JSONValue {
        var payload: [String: JSONValue] = [:]
        if let template = queued.template { payload["template"] = try JSONValue(encoding: template) }
        if let media = queued.media { payload["media"] = try JSONValue(encoding: media) }
        if let subject = queued.subject { payload["subject"] = .string(subject) }
        if !queued.options.isEmpty { payload["options"] = try JSONValue(encoding: queued.options) }
        if let campaign = queued.campaign { payload["campaign"] = try JSONValue(encoding: campaign) }
        return .object(payload)
    }

    /// What the sender needs of a queued message: the message and its address, the tenant's settings, and the state of
    /// the campaign it belongs to (one read, since every send asks).
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
        var settings: MessagingSettings
        var campaignStatus: CampaignStatus?
    }

    func pending(_ id: MessageID, logger: Logger) async throws -> Pending? {
        guard
            let row = try await self.postgres.query(
                """
                SELECT m.id, m.tenant_id, m.channel_id, m.conversation_id, k.address, m.status, m.body, m.payload::text, c.last_inbound_at,
                    (SELECT document::text FROM messaging.settings s WHERE s.tenant_id = m.tenant_id),
                    (SELECT status FROM messaging.campaigns p WHERE m.requested_by LIKE 'campaign:%' AND p.id = (m.payload #>> '{campaign,id}')::uuid)
                FROM messaging.messages m JOIN messaging.conversations c ON c.id = m.conversation_id JOIN messaging.contacts k ON k.id = c.contact_id
                WHERE m.id = \(id.rawValue)
                """, logger: logger
            ).first(as: (UUID, UUID, UUID, UUID, String, String, String?, String, Date?, String?, String?).self)
        else { return nil }
        guard let status = MessageStatus(rawValue: row.5) else { throw CorruptRow("message \(row.0) has status \(row.5)") }
        let campaignStatus = try row.10.map { text in
            guard let status = CampaignStatus(rawValue: text) else { throw CorruptRow("the campaign of message \(row.0) has status \(text)") }
            return status
        }
        return Pending(
            id: MessageID(rawValue: row.0), tenant: TenantID(rawValue: row.1), channel: ChannelID(rawValue: row.2),
            conversation: ConversationID(rawValue: row.3), to: row.4, status: status, body: row.6,
            payload: try JSONDecoder.sokoni.decode(JSONValue.self, from: Data(row.7.utf8)), lastInboundAt: row.8,
            settings: try PolicyStore.settings(document: row.9),
            campaignStatus: campaignStatus)
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
        // the usual case in one statement: no status of this send arrived before its answer
        let recorded =
            try await self.postgres.query(
                """
                WITH moved AS (
                    UPDATE messaging.messages SET status = \(status.rawValue), provider_message_id = \(providerMessageID), status_reason = NULL,
                        error_code = NULL, hold_until = NULL
                    WHERE id = \(message.id.rawValue) AND NOT EXISTS (
                        SELECT 1 FROM messaging.unmatched_statuses
                        WHERE channel_id = \(message.channel.rawValue) AND provider_message_id = \(providerMessageID))
                    RETURNING id)
                INSERT INTO messaging.message_status_history (message_id, status, occurred_at, applied)
                SELECT id, \(status.rawValue), now(), true FROM moved RETURNING 1
                """, logger: logger
            ).first(as: Int.self) != nil
        if recorded { return }
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
