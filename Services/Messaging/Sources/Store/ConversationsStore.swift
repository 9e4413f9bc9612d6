import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL on contacts, conversations, messages and their status history.
///
/// A message takes the next sequence number of its conversation in the transaction that inserts it: the
/// conversation row's update locks it, so concurrent messages queue there, and a transaction that fails gives its
/// number back. Numbers therefore have no gaps and no duplicates.
struct ConversationsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let jobs: JobQueue

    /// A provider message id seen before on this channel: the webhook was delivered again.
    struct Duplicate: Error {}

    static let messageErrors = ConstraintErrors([
        "messages_provider_id": .conflict("duplicate_message", "This provider message id was stored already.")
    ])

    // MARK: contacts and conversations

    /// The contact with this address in the tenant, made on first sight; a profile name the provider reports
    /// replaces the old one.
    func contact(tenant: TenantID, address: String, profileName: String?, on connection: PostgresConnection, logger: Logger) async throws -> ContactID {
        let id = try await connection.query(
            """
            INSERT INTO messaging.contacts (id, tenant_id, address, profile_name) VALUES (\(UUID()), \(tenant.rawValue), \(address), \(profileName))
            ON CONFLICT (tenant_id, address) DO UPDATE SET profile_name = coalesce(EXCLUDED.profile_name, messaging.contacts.profile_name)
            RETURNING id
            """, logger: logger
        ).first(as: UUID.self)!
        return ContactID(rawValue: id)
    }

    struct OpenConversation: Sendable {
        var id: ConversationID
        var status: ConversationStatus
        var lastInboundAt: Date?
    }

    /// The open conversation of this contact on this channel, or a new one (`ai_active`).
    func openConversation(tenant: TenantID, channel: ChannelID, contact: ContactID, on connection: PostgresConnection, logger: Logger)
        async throws -> OpenConversation
    {
        let row = try await connection.query(
            """
            INSERT INTO messaging.conversations (id, tenant_id, channel_id, contact_id)
            VALUES (\(UUID()), \(tenant.rawValue), \(channel.rawValue), \(contact.rawValue))
            ON CONFLICT (channel_id, contact_id) WHERE status <> 'closed' DO UPDATE SET status = messaging.conversations.status
            RETURNING id, status, last_inbound_at
            """, logger: logger
        ).first(as: (UUID, String, Date?).self)!
        guard let status = ConversationStatus(rawValue: row.1) else { throw CorruptRow("conversation \(row.0) has status \(row.1)") }
        return OpenConversation(id: ConversationID(rawValue: row.0), status: status, lastInboundAt: row.2)
    }

    // MARK: messages

    struct NewMessage: Sendable {
        var tenant: TenantID
        var channel: ChannelID
        var conversation: ConversationID
        var direction: MessageDirection
        var sender: MessageSender
        var kind: String
        var body: String?
        var payload: JSONValue
        var providerMessageID: String?
        var status: MessageStatus
        var language: DetectedLanguage?
        var requestedBy: String?
        var callback: JSONValue?
        var occurredAt: Date?
    }

    /// Appends a message with the conversation's next sequence number. Throws `Duplicate` when the channel stored
    /// this provider message id before (the caller's transaction then rolls back, number included).
    func append(_ new: NewMessage, on connection: PostgresConnection, logger: Logger) async throws -> (id: MessageID, sequenceNo: Int) {
        let inbound = new.direction == .inbound
        let preview = new.body.map { String($0.prefix(140)) } ?? "[\(new.kind)]"
        let sequence = try await connection.query(
            """
            UPDATE messaging.conversations SET last_sequence_no = last_sequence_no + 1, last_message_at = now(),
                last_message_preview = \(preview),
                last_inbound_at = CASE WHEN \(inbound) THEN greatest(coalesce(last_inbound_at, '-infinity'), coalesce(\(new.occurredAt), now()))
                                  ELSE last_inbound_at END,
                unread_count = unread_count + CASE WHEN \(inbound) THEN 1 ELSE 0 END
            WHERE id = \(new.conversation.rawValue) RETURNING last_sequence_no
            """, logger: logger
        ).first(as: Int.self)!
        let id = UUID()
        let payload = String(decoding: try JSONEncoder.sokoni.encode(new.payload), as: UTF8.self)
        let callback = try new.callback.map { String(decoding: try JSONEncoder.sokoni.encode($0), as: UTF8.self) }
        do {
            try await connection.query(
                """
                INSERT INTO messaging.messages (id, tenant_id, channel_id, conversation_id, sequence_no, direction, sender, kind, body, payload,
                    provider_message_id, status, language, language_confidence, requested_by, callback)
                VALUES (\(id), \(new.tenant.rawValue), \(new.channel.rawValue), \(new.conversation.rawValue), \(sequence), \(new.direction.rawValue),
                    \(new.sender.rawValue), \(new.kind), \(new.body), \(payload)::jsonb, \(new.providerMessageID), \(new.status.rawValue),
                    \(new.language?.language.rawValue), \(new.language.map { Float($0.confidence) }), \(new.requestedBy), \(callback)::jsonb)
                """, logger: logger)
        } catch let error as PSQLError where error.constraintName == "messages_provider_id" {
            throw Duplicate()
        }
        return (MessageID(rawValue: id), sequence)
    }

    static let messageColumns = """
        id, conversation_id, channel_id, sequence_no, direction, sender, kind, body, payload::text, provider_message_id, status, status_reason,
        error_code, hold_until, language, language_confidence, tokens, cost_minor, cost_currency, created_at, updated_at
        """
    typealias MessageRow = (
        UUID, UUID, UUID, Int, String, String, String, String?, String, String?, String, String?, String?, Date?, String?, Float?, Int?, Int64?,
        String?, Date, Date
    )

    static func message(_ row: MessageRow) throws -> MessageDTO {
        guard let direction = MessageDirection(rawValue: row.4), let sender = MessageSender(rawValue: row.5), let status = MessageStatus(rawValue: row.10)
        else { throw CorruptRow("message \(row.0): \(row.4), \(row.5), \(row.10)") }
        let payload = try JSONDecoder.sokoni.decode(JSONValue.self, from: Data(row.8.utf8))
        var cost: String?
        if let minor = row.17, let code = row.18 {
            guard let currency = Currency(code: code) else { throw CorruptRow("message \(row.0) costs in \(code)") }
            cost = Money(minorUnits: minor, currency: currency).decimalString
        }
        return MessageDTO(
            id: MessageID(rawValue: row.0), conversationId: ConversationID(rawValue: row.1), channelId: ChannelID(rawValue: row.2), sequenceNo: row.3,
            direction: direction, sender: sender, kind: row.6, body: row.7, payload: payload == .object([:]) ? nil : payload, providerMessageId: row.9,
            status: status, statusReason: row.11, errorCode: row.12, holdUntil: row.13, language: row.14, languageConfidence: row.15.map(Double.init),
            tokens: row.16, cost: cost, costCurrency: row.18, createdAt: row.19, updatedAt: row.20, history: nil)
    }

    /// One message of the tenant, with its status history.
    func message(_ id: MessageID, tenant: TenantID, logger: Logger) async throws -> MessageDTO? {
        guard
            let row = try await self.postgres.query(
                "SELECT \(unescaped: Self.messageColumns) FROM messaging.messages WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)",
                logger: logger
            ).first(as: MessageRow.self)
        else { return nil }
        var message = try Self.message(row)
        message.history = try await self.postgres.query(
            """
            SELECT status, occurred_at, received_at, error_code, error_reason, applied FROM messaging.message_status_history
            WHERE message_id = \(id.rawValue) ORDER BY id
            """, logger: logger
        ).all(as: (String, Date, Date, String?, String?, Bool).self).map {
            StatusEntry(status: $0.0, occurredAt: $0.1, receivedAt: $0.2, errorCode: $0.3, errorReason: $0.4, applied: $0.5)
        }
        return message
    }

    /// Whom a message's delivery is reported to, and its failure if it failed.
    func callback(of id: MessageID, logger: Logger) async throws -> (callback: MessagingAPI.Callback, errorCode: String?, reason: String?)? {
        guard
            let row = try await self.postgres.query(
                "SELECT callback::text, error_code, status_reason FROM messaging.messages WHERE id = \(id.rawValue) AND callback IS NOT NULL",
                logger: logger
            ).first(as: (String, String?, String?).self)
        else { return nil }
        guard let callback = try? JSONDecoder.sokoni.decode(MessagingAPI.Callback.self, from: Data(row.0.utf8)) else {
            throw CorruptRow("message \(id) has callback \(row.0)")
        }
        return (callback, row.1, row.2)
    }

    /// A conversation's messages in sequence order, after `sequenceNo` (for a reconnecting client: nothing lost,
    /// nothing twice).
    func messages(conversation: ConversationID, tenant: TenantID, after sequenceNo: Int, limit: Int, logger: Logger) async throws -> [MessageDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.messageColumns) FROM messaging.messages
            WHERE conversation_id = \(conversation.rawValue) AND tenant_id = \(tenant.rawValue) AND sequence_no > \(sequenceNo)
            ORDER BY sequence_no LIMIT \(limit)
            """, logger: logger
        ).all(as: MessageRow.self).map(Self.message)
    }

    // MARK: conversations for the inbox

    static let conversationColumns = """
        c.id, c.channel_id, ch.kind, c.status, c.last_message_at, c.last_message_preview, c.last_inbound_at, c.unread_count, c.last_sequence_no,
        c.closed_reason, c.created_at, k.id, k.address, k.name, k.profile_name, k.tags, k.notes, k.language, k.created_at, k.updated_at
        """
    typealias ConversationRow = (
        UUID, UUID, String, String, Date, String?, Date?, Int, Int, String?, Date, UUID, String, String?, String?, [String], String?, String?,
        Date, Date
    )

    static func conversation(_ row: ConversationRow) throws -> ConversationDTO {
        guard let kind = ChannelKind(rawValue: row.2), let status = ConversationStatus(rawValue: row.3) else {
            throw CorruptRow("conversation \(row.0): \(row.2), \(row.3)")
        }
        let contact = ContactDTO(
            id: ContactID(rawValue: row.11), address: row.12, name: row.13, profileName: row.14, tags: row.15, notes: row.16, language: row.17,
            optedOut: nil, createdAt: row.18, updatedAt: row.19)
        return ConversationDTO(
            id: ConversationID(rawValue: row.0), channelId: ChannelID(rawValue: row.1), channelKind: kind, contact: contact, status: status,
            lastMessageAt: row.4, lastMessagePreview: row.5, lastInboundAt: row.6, unreadCount: row.7, messageCount: row.8, closedReason: row.9,
            createdAt: row.10)
    }

    struct ConversationFilter: Sendable {
        var status: ConversationStatus?
        var channel: ChannelID?
        /// Matches the contact's address, name or profile name, or the last message.
        var search: String?
    }

    /// The inbox: newest activity first.
    func conversations(tenant: TenantID, _ filter: ConversationFilter, after cursor: (Int64, UUID)?, limit: Int, logger: Logger)
        async throws -> [ConversationDTO]
    {
        let pattern = LikePattern.containing(filter.search)
        return try await self.postgres.query(
            """
            SELECT \(unescaped: Self.conversationColumns)
            FROM messaging.conversations c JOIN messaging.channels ch ON ch.id = c.channel_id JOIN messaging.contacts k ON k.id = c.contact_id
            WHERE c.tenant_id = \(tenant.rawValue) AND (\(filter.status?.rawValue)::text IS NULL OR c.status = \(filter.status?.rawValue))
              AND (\(filter.channel?.rawValue)::uuid IS NULL OR c.channel_id = \(filter.channel?.rawValue))
              AND (\(pattern)::text IS NULL OR k.address ILIKE \(pattern) OR k.name ILIKE \(pattern) OR k.profile_name ILIKE \(pattern)
                   OR c.last_message_preview ILIKE \(pattern))
              AND (\(cursor?.0)::bigint IS NULL
                   OR (c.last_message_at, c.id) < (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY c.last_message_at DESC, c.id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: ConversationRow.self).map(Self.conversation)
    }

    func conversation(_ id: ConversationID, tenant: TenantID, on connection: PostgresConnection? = nil, forUpdate: Bool = false, logger: Logger)
        async throws -> ConversationDTO?
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.conversationColumns)
            FROM messaging.conversations c JOIN messaging.channels ch ON ch.id = c.channel_id JOIN messaging.contacts k ON k.id = c.contact_id
            WHERE c.id = \(id.rawValue) AND c.tenant_id = \(tenant.rawValue) \(unescaped: forUpdate ? "FOR UPDATE OF c" : "")
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: ConversationRow.self).map(Self.conversation)
    }

    /// Escalates, hands back to the AI, closes, or marks read; audited. Nil when the tenant has no such conversation.
    /// A closed conversation stays closed: the contact's next message opens a new one.
    func update(_ id: ConversationID, tenant: TenantID, _ changes: UpdateConversation, actor: String, requestID: String, logger: Logger)
        async throws -> ConversationDTO?
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let before = try await self.conversation(id, tenant: tenant, on: connection, forUpdate: true, logger: logger) else { return nil }
            if let status = changes.status, status != before.status {
                guard before.status != .closed else {
                    throw APIError.conflict("conversation_closed", "This conversation is closed; the contact's next message opens a new one.")
                }
                try await connection.query(
                    """
                    UPDATE messaging.conversations SET status = \(status.rawValue),
                        closed_at = CASE WHEN \(status.rawValue) = 'closed' THEN now() END,
                        closed_reason = CASE WHEN \(status.rawValue) = 'closed' THEN 'closed_by_staff' END
                    WHERE id = \(id.rawValue)
                    """, logger: logger)
            }
            if changes.read == true {
                try await connection.query("UPDATE messaging.conversations SET unread_count = 0 WHERE id = \(id.rawValue)", logger: logger)
            }
            let after = try await self.conversation(id, tenant: tenant, on: connection, logger: logger)!
            if after.status == .closed && before.status != .closed {
                // the CRM reads what the conversation revealed (an extraction)
                try await CRMEvents(jobs: self.jobs).enqueue(
                    .init(
                        id: "closed-\(id)", source: .messaging, kind: .conversationClosed, phone: after.contact.address, at: Date(),
                        channelKind: after.channelKind.rawValue, conversationId: id),
                    tenant: tenant, requestID: requestID, on: connection, logger: logger)
            }
            if after.status != before.status {
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "conversation.status", table: "conversations", targetID: id.description,
                    before: ["status": before.status.rawValue], after: ["status": after.status.rawValue], requestID: requestID, logger: logger)
            }
            return after
        }
    }

    // MARK: contacts

    static let contactColumns = "id, address, name, profile_name, tags, notes, language, created_at, updated_at"
    typealias ContactRow = (UUID, String, String?, String?, [String], String?, String?, Date, Date)

    static func contact(_ row: ContactRow) -> ContactDTO {
        ContactDTO(
            id: ContactID(rawValue: row.0), address: row.1, name: row.2, profileName: row.3, tags: row.4, notes: row.5, language: row.6, optedOut: nil,
            createdAt: row.7, updatedAt: row.8)
    }

    func contacts(tenant: TenantID, search: String?, after cursor: (String, UUID)?, limit: Int, logger: Logger) async throws -> [ContactDTO] {
        let pattern = LikePattern.containing(search)
        return try await self.postgres.query(
            """
            SELECT \(unescaped: Self.contactColumns) FROM messaging.contacts
            WHERE tenant_id = \(tenant.rawValue) AND (\(pattern)::text IS NULL OR address ILIKE \(pattern) OR name ILIKE \(pattern) OR profile_name ILIKE \(pattern))
              AND (\(cursor?.0)::text IS NULL OR (address, id) > (\(cursor?.0), \(cursor?.1)))
            ORDER BY address, id LIMIT \(limit)
            """, logger: logger
        ).all(as: ContactRow.self).map(Self.contact)
    }

    func updateContact(_ id: ContactID, tenant: TenantID, _ changes: UpdateContact, actor: String, requestID: String, logger: Logger)
        async throws -> ContactDTO?
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.contactColumns) FROM messaging.contacts WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                    logger: logger
                ).first(as: ContactRow.self).map(Self.contact)
            else { return nil }
            let row = try await connection.query(
                """
                UPDATE messaging.contacts SET name = coalesce(\(changes.name), name), tags = coalesce(\(changes.tags), tags),
                    notes = coalesce(\(changes.notes), notes)
                WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.contactColumns)
                """, logger: logger
            ).first(as: ContactRow.self)!
            let after = Self.contact(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "contact.update", table: "contacts", targetID: id.description, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    // MARK: delivery status

    /// Applies a provider's status to the message it names: the current status moves only forward (the lattice
    /// is `messaging.advance_status`), and the status joins the history either way. A status whose message has
    /// not stored its provider id yet waits in `unmatched_statuses`.
    func applyStatus(channel: ChannelID, _ update: StatusUpdate, on connection: PostgresConnection, logger: Logger) async throws {
        // the message, locked: the same receipt delivered again (a provider retry, a batch posted twice), even at once,
        // is found in the history below and changes nothing
        if let message = try await connection.query(
            """
            SELECT id FROM messaging.messages WHERE channel_id = \(channel.rawValue) AND provider_message_id = \(update.providerMessageId) FOR UPDATE
            """, logger: logger
        ).first(as: UUID.self),
            try await connection.query(
                """
                SELECT 1 FROM messaging.message_status_history WHERE message_id = \(message) AND status = \(update.status.rawValue)
                  AND occurred_at = \(update.timestamp) AND error_code IS NOT DISTINCT FROM \(update.errorCode)
                """, logger: logger
            ).first(as: Int.self) != nil
        {
            return
        }
        let cost = update.cost
        let applied = try await connection.query(
            """
            WITH target AS (
                SELECT id, status FROM messaging.messages WHERE channel_id = \(channel.rawValue) AND provider_message_id = \(update.providerMessageId)
                FOR UPDATE),
            changed AS (
                UPDATE messaging.messages m SET status = messaging.advance_status(t.status, \(update.status.rawValue)),
                    cost_minor = coalesce(\(cost?.minorUnits), m.cost_minor), cost_currency = coalesce(\(cost?.currency.code), m.cost_currency),
                    error_code = CASE WHEN messaging.advance_status(t.status, \(update.status.rawValue)) = 'failed' THEN \(update.errorCode) ELSE m.error_code END,
                    status_reason = CASE WHEN messaging.advance_status(t.status, \(update.status.rawValue)) = 'failed' THEN \(update.errorReason)
                                    ELSE m.status_reason END
                FROM target t WHERE m.id = t.id RETURNING m.id, t.status AS before, m.status AS after)
            INSERT INTO messaging.message_status_history (message_id, status, occurred_at, error_code, error_reason, applied)
            SELECT id, \(update.status.rawValue), \(update.timestamp), \(update.errorCode), \(update.errorReason), before <> after FROM changed
            RETURNING message_id
            """, logger: logger
        ).first(as: UUID.self)
        if applied == nil {
            try await connection.query(
                """
                INSERT INTO messaging.unmatched_statuses (channel_id, provider_message_id, status, occurred_at, error_code, error_reason)
                VALUES (\(channel.rawValue), \(update.providerMessageId), \(update.status.rawValue), \(update.timestamp), \(update.errorCode),
                    \(update.errorReason))
                """, logger: logger)
        }
    }

    /// After a send stored its provider id: the statuses that came first, applied in the order they happened.
    func applyUnmatched(channel: ChannelID, providerMessageID: String, on connection: PostgresConnection, logger: Logger) async throws {
        let waiting = try await connection.query(
            """
            DELETE FROM messaging.unmatched_statuses WHERE channel_id = \(channel.rawValue) AND provider_message_id = \(providerMessageID)
            RETURNING status, occurred_at, error_code, error_reason
            """, logger: logger
        ).all(as: (String, Date, String?, String?).self)
        for (status, at, code, reason) in waiting.sorted(by: { $0.1 < $1.1 }) {
            guard let status = DeliveryStatus(rawValue: status) else { continue }
            try await self.applyStatus(
                channel: channel,
                StatusUpdate(providerMessageId: providerMessageID, status: status, timestamp: at, errorCode: code, errorReason: reason),
                on: connection, logger: logger)
        }
    }
}

extension StatusUpdate {
    /// What the provider charged, in the currency's minor units (rounded half up: Twilio prices SMS in fractions of a
    /// cent), when it named a price in a currency Sokoni knows.
    var cost: Money? {
        guard let price, let code = priceCurrency, let currency = Currency(code: code) else { return nil }
        var scaled = price * pow(10, currency.exponent)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        return Money(minorUnits: NSDecimalNumber(decimal: rounded).int64Value, currency: currency)
    }
}

extension ConversationsStore {
    /// The agent handed the conversation to a person.
    func escalate(_ id: ConversationID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "UPDATE messaging.conversations SET status = 'human_escalated' WHERE id = \(id.rawValue) AND status = 'ai_active'", logger: logger)
    }
}
