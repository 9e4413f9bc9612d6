import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// Inbound webhooks over HTTP through the gateway: Telegram's secret-token header, and the providers' own mixed
/// WhatsApp batch (every message type and statuses) signed as Meta signs it, delivered twice.
@Suite(.serialized) struct WebhookMoreTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
    }

    @Test func telegramUpdatesAreTakenOnlyWithTheChannelsSecretToken() async throws {
        try await MessagingFlowTests.with { p in
            let created = try await p.post("/v1/channels", ProviderSendMoreTests.TelegramChannel())
            #expect(created.status == 201, "\(created.text)")
            let channel = try created.json(ChannelDTO.self)
            #expect(!created.text.contains("telegram-secret-token-123"))
            let url = try #require(channel.webhookUrl)
            #expect(url.hasPrefix(p.gateway) && url.hasSuffix("/webhooks/telegram/\(channel.publicId)"))
            let body = try Self.fixture("telegram-update.json")

            // a wrong token, another channel's token, an empty one, or none: 401, nothing stored
            for token in ["telegram-secret-token-124", "telegram-secret-token-12", "", nil] as [String?] {
                let refused = try await TestHTTP.request(
                    .POST, url, headers: token.map { ["X-Telegram-Bot-Api-Secret-Token": $0] } ?? [:], body: body)
                #expect(refused.status == 401, "token \(token ?? "none")")
                #expect(refused.errorCode == "invalid_signature")
            }
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries") == 0)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages") == 0)

            // the right one: acked, stored as a message from the chat, once even when Telegram delivers it again
            let headers = ["X-Telegram-Bot-Api-Secret-Token": "telegram-secret-token-123"]
            let accepted = try await TestHTTP.request(.POST, url, headers: headers, body: body)
            #expect(accepted.status == 200, "\(accepted.text)")
            #expect(try await TestHTTP.request(.POST, url, headers: headers, body: body).status == 200)
            try await p.eventually("both deliveries processed") {
                try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NOT NULL") == 2
            }
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE provider_message_id = '1111111:1365'") == 1)
            let conversation = try #require(try await p.get("/v1/conversations").json(Page<ConversationDTO>.self).items.first)
            #expect(conversation.channelKind == .telegram)
            #expect(conversation.contact.address == "1111111")
            #expect(conversation.contact.profileName == "Test Firstname Test Lastname")
            let messages = try await p.get("/v1/conversations/\(conversation.id)/messages").json(Page<MessageDTO>.self).items
            #expect(messages.first?.body == "/start" && messages.first?.direction == .inbound)
        }
    }

    /// An outbound message the provider accepted under `providerID`, to `address`, in a conversation of its own.
    static func outbound(_ p: MessagingFlowTests.Platform, channel: ChannelDTO, to address: String, providerID: String) async throws {
        try await p.postgres.withTransaction(logger: TestLog.quiet) { connection in
            try await connection.query(
                """
                WITH k AS (INSERT INTO messaging.contacts (id, tenant_id, address) VALUES (gen_random_uuid(), \(p.tenant.rawValue), \(address)) RETURNING id),
                c AS (INSERT INTO messaging.conversations (id, tenant_id, channel_id, contact_id, last_sequence_no)
                      SELECT gen_random_uuid(), \(p.tenant.rawValue), \(channel.id.rawValue), id, 1 FROM k RETURNING id)
                INSERT INTO messaging.messages (id, tenant_id, channel_id, conversation_id, sequence_no, direction, sender, kind, body, provider_message_id, status)
                SELECT gen_random_uuid(), \(p.tenant.rawValue), \(channel.id.rawValue), id, 1, 'outbound', 'human', 'text', 'Hi', \(providerID), 'pending' FROM c
                """, logger: TestLog.quiet)
        }
    }

    static let deliveredID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MUE0NTc4RDdCRjc2QjQ4MzAA"
    static let failedID = "wamid.HBgMMjU0NzEyMzQ1Njc4FQIAERgSOUUxNDQ5QjY3MUY0QzUyRjFEAA=="

    @Test func theMixedBatchIsStoredOnceWithItsStatusesAppliedEvenWhenDeliveredAgain() async throws {
        try await MessagingFlowTests.with { p in
            let channel = try await p.post("/v1/channels", MessagingFlowTests.NewChannel()).json(ChannelDTO.self)
            let url = try #require(channel.webhookUrl)
            // the two messages the batch's statuses are about
            try await Self.outbound(p, channel: channel, to: "+16505551234", providerID: Self.deliveredID)
            try await Self.outbound(p, channel: channel, to: "+254712345678", providerID: Self.failedID)

            let body = try Self.fixture("whatsapp-batch.json")
            let signature = WebhookSignatures.metaSignature(body: Array(body), appSecret: "meta-app-secret-value")
            let first = try await TestHTTP.request(.POST, url, headers: ["X-Hub-Signature-256": signature], body: body)
            #expect(first.status == 200, "\(first.text)")
            try await p.eventually("the batch processed") {
                try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NOT NULL") == 1
            }
            // the same batch again (Meta retries what it thinks failed): nothing stored twice, no status counted twice
            let again = try await TestHTTP.request(.POST, url, headers: ["X-Hub-Signature-256": signature], body: body)
            #expect(again.status == 200)
            try await p.eventually("the second delivery processed") {
                try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NOT NULL") == 2
            }

            // every message of both entries, once each, of the kind it is
            let kinds = try await p.postgres.query(
                "SELECT kind, count(*)::int FROM messaging.messages WHERE direction = 'inbound' GROUP BY kind ORDER BY kind", logger: TestLog.quiet
            ).all(as: (String, Int).self)
            #expect(
                Dictionary(uniqueKeysWithValues: kinds)
                    == [
                        "text": 1, "button": 2, "list_reply": 1, "location": 1, "image": 1, "reaction": 1, "document": 1, "audio": 1, "video": 1,
                        "sticker": 1, "contacts": 1, "unsupported": 1,
                    ])
            #expect(
                try await p.count(
                    """
                    SELECT count(*)::int FROM (SELECT provider_message_id FROM messaging.messages WHERE provider_message_id IS NOT NULL
                    GROUP BY 1 HAVING count(*) > 1) d
                    """) == 0)
            // both customers, each with one open conversation (the one of the message we had sent them)
            let conversations = try await p.get("/v1/conversations").json(Page<ConversationDTO>.self).items
            #expect(Set(conversations.map(\.contact.address)) == ["+16505551234", "+254712345678"])
            #expect(conversations.count == 2)
            #expect(Set(conversations.compactMap(\.contact.profileName)) == ["Sheena Nelson", "Wanjiru Kamau"])
            let sheena = try #require(conversations.first { $0.contact.address == "+16505551234" })
            let thread = try await p.get("/v1/conversations/\(sheena.id)/messages").json(Page<MessageDTO>.self).items
            // the message we had sent, then her four, numbered without gaps (the agent's answers may follow)
            #expect(thread.map(\.sequenceNo) == Array(1...thread.count))
            #expect(thread.first?.providerMessageId == Self.deliveredID)
            #expect(thread.filter { $0.direction == .inbound }.count == 4)
            let location = try await p.postgres.query(
                "SELECT payload->'location'->>'name', payload->'media'->>'id' FROM messaging.messages WHERE kind IN ('location', 'image') ORDER BY kind",
                logger: TestLog.quiet
            ).all(as: (String?, String?).self)
            #expect(location.map(\.1) == ["2754859441498128", nil])
            #expect(location.map(\.0) == [nil, "City Market"])

            // the statuses: sent then delivered, and a failure with WhatsApp's code and reason; each once in the history
            let delivered = try await Self.message(p, providerID: Self.deliveredID)
            #expect(delivered.status == .delivered)
            #expect(delivered.history?.map(\.status) == ["sent", "delivered"])
            let failed = try await Self.message(p, providerID: Self.failedID)
            #expect(failed.status == .failed)
            #expect(failed.errorCode == "131047")
            #expect(failed.statusReason?.isEmpty == false)
            #expect(failed.history?.map(\.status) == ["failed"])
            #expect(try await p.count("SELECT count(*)::int FROM messaging.unmatched_statuses") == 0)
        }
    }

    static func message(_ p: MessagingFlowTests.Platform, providerID: String) async throws -> MessageDTO {
        let id = try #require(
            try await p.postgres.query("SELECT id FROM messaging.messages WHERE provider_message_id = \(providerID)", logger: TestLog.quiet).first(
                as: UUID.self))
        return try await p.get("/v1/messages/\(id.uuidString.lowercased())").json(MessageDTO.self)
    }
}
