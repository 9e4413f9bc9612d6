import Crypto
import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit

/// Web-chat visitors: who holds which token, their contact, and the phone verification they may have to pass.
/// Tokens and codes are stored only as SHA-256: a copy of the table opens no conversation.
struct WebChatStore: Sendable {
    let postgres: PostgresClient

    struct Visitor: Sendable, Equatable {
        var tenant: TenantID
        var channel: ChannelID
        var contact: ContactID
        /// The contact's address: `wv_…`, random, never shown to the visitor.
        var address: String
        var verifiedPhone: String?
    }

    static func hash(_ secret: String) -> ByteBuffer { ByteBuffer(bytes: SHA256.hash(data: Data(secret.utf8))) }

    /// A random URL-safe secret of 32 bytes.
    static func newToken() -> String {
        Base64URL.random()
    }

    /// The visitor holding this token on this channel; a token of another channel opens nothing.
    func visitor(token: String, channel: ChannelID, logger: Logger) async throws -> Visitor? {
        try await self.postgres.query(
            """
            UPDATE messaging.webchat_visitors v SET last_seen_at = now() FROM messaging.contacts c
            WHERE v.token_hash = \(Self.hash(token)) AND v.channel_id = \(channel.rawValue) AND c.id = v.contact_id
            RETURNING v.tenant_id, v.contact_id, c.address, v.verified_phone
            """, logger: logger
        ).first(as: (UUID, UUID, String, String?).self).map {
            Visitor(tenant: TenantID(rawValue: $0.0), channel: channel, contact: ContactID(rawValue: $0.1), address: $0.2, verifiedPhone: $0.3)
        }
    }

    /// A new visitor: a contact with a random address and the token's hash, in one transaction.
    func createVisitor(token: String, channel: StoredChannel, logger: Logger) async throws -> Visitor {
        let address = "wv_" + String(Self.newToken().prefix(22))
        let contact = ContactID(rawValue: UUID())
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                "INSERT INTO messaging.contacts (id, tenant_id, address) VALUES (\(contact.rawValue), \(channel.tenant.rawValue), \(address))",
                logger: logger)
            try await connection.query(
                """
                INSERT INTO messaging.webchat_visitors (token_hash, tenant_id, channel_id, contact_id)
                VALUES (\(Self.hash(token)), \(channel.tenant.rawValue), \(channel.id.rawValue), \(contact.rawValue))
                """, logger: logger)
        }
        return Visitor(tenant: channel.tenant, channel: channel.id, contact: contact, address: address, verifiedPhone: nil)
    }

    /// The visitor's newest conversation on the channel, open or closed: after a reload the widget still shows
    /// the last one; the visitor's next message opens a new one if it was closed.
    func latestConversation(_ visitor: Visitor, logger: Logger) async throws -> ConversationID? {
        try await self.postgres.query(
            """
            SELECT id FROM messaging.conversations WHERE channel_id = \(visitor.channel.rawValue) AND contact_id = \(visitor.contact.rawValue)
            ORDER BY created_at DESC, id DESC LIMIT 1
            """, logger: logger
        ).first(as: UUID.self).map(ConversationID.init(rawValue:))
    }

    /// Records a code sent to a phone number: valid ten minutes, five tries. Nil when one was sent less than a
    /// minute ago (a visitor cannot make the platform text a number in a loop).
    func startVerification(_ visitor: Visitor, token: String, phone: String, code: String, now: Date, logger: Logger) async throws -> Bool {
        try await self.postgres.query(
            """
            UPDATE messaging.webchat_visitors SET code_hash = \(Self.hash(code)), code_phone = \(phone),
                code_expires_at = \(now.addingTimeInterval(600)), code_attempts = 0
            WHERE token_hash = \(Self.hash(token)) AND (code_expires_at IS NULL OR code_expires_at < \(now.addingTimeInterval(540)))
            RETURNING 1
            """, logger: logger
        ).first(as: Int.self) != nil
    }

    enum Confirmation: Equatable {
        case verified(phone: String)
        case wrongCode(attemptsLeft: Int)
        case noCode
    }

    /// Checks a code: right, the phone is the visitor's; wrong, one try fewer; none pending or out of tries or
    /// expired, `noCode`. One statement, so two guesses at once cannot both spend the same try.
    func confirm(token: String, code: String, now: Date, logger: Logger) async throws -> Confirmation {
        guard
            let row = try await self.postgres.query(
                """
                UPDATE messaging.webchat_visitors SET
                    verified_phone = CASE WHEN code_hash = \(Self.hash(code)) THEN code_phone ELSE verified_phone END,
                    code_attempts = code_attempts + 1,
                    code_hash = CASE WHEN code_hash = \(Self.hash(code)) THEN NULL ELSE code_hash END
                WHERE token_hash = \(Self.hash(token)) AND code_hash IS NOT NULL AND code_attempts < 5 AND code_expires_at > \(now)
                RETURNING code_hash IS NULL, code_phone, code_attempts
                """, logger: logger
            ).first(as: (Bool, String, Int).self)
        else { return .noCode }
        return row.0 ? .verified(phone: row.1) : .wrongCode(attemptsLeft: 5 - row.2)
    }
}
