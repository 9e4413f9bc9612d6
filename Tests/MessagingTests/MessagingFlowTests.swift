import Contracts
import Foundation
import Hummingbird
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// Messaging through the gateway on loopback with a real database: the sandbox channel, signed WhatsApp webhooks,
/// the outbox and its policy, and delivery status.
@Suite(.serialized) struct MessagingFlowTests {
    struct Platform: Sendable {
        let gateway: String
        let tenant: TenantID
        let admin: String
        let postgres: PostgresClient
        /// A second tenant with its own admin.
        let otherAdmin: String
        let database: DatabaseURL
        /// The messaging service itself, not through the gateway.
        var messaging: String = ""

        func post(_ path: String, _ body: some Encodable, token: String? = nil, headers: [String: String] = [:]) async throws -> TestResponse {
            try await TestHTTP.post("\(self.gateway)\(path)", token: token ?? self.admin, headers: headers, json: body)
        }

        func get(_ path: String, token: String? = nil) async throws -> TestResponse {
            try await TestHTTP.get("\(self.gateway)\(path)", token: token ?? self.admin)
        }

        /// Polls until `condition` holds (jobs run in the background), failing after 60 s (time for one provider call to
        /// time out, at 15 s, and be retried, on a runner loaded with the whole suite).
        func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
            if try await TestWait.until(timeout: .seconds(60), condition) { return }
            let errors = try await self.postgres.query(
                "SELECT kind || ': ' || coalesce(last_error, '') FROM messaging.jobs WHERE last_error IS NOT NULL", logger: TestLog.quiet
            ).all(as: String.self)
            Issue.record("timed out waiting for \(what); job errors: \(errors)")
        }

        func count(_ sql: String) async throws -> Int {
            try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }
    }

    /// agent-core as messaging sees it at its HTTP boundary (agent-core's own issue builds the real one): it
    /// answers every customer message with one line, and hands over when asked for a person.
    static var fakeAgent: Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/agent/replies") { request, context -> Response in
            let asked = try await request.decode(as: AgentAPI.ReplyRequest.self, context: context)
            let last = asked.messages.last?.text ?? ""
            let reply =
                last.lowercased().contains("person") ? AgentAPI.Reply(text: nil, handoff: true) : AgentAPI.Reply(text: "Murakoze! (\(asked.messages.count))")
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(reply))))
        }
        return router
    }

    static func with(_ body: (Platform) async throws -> Void) async throws {
        try await TestUpstream.with(Self.fakeAgent) { agent in
            try await Self.with(agent: agent, body)
        }
    }

    static func with(agent: String, _ body: (Platform) async throws -> Void) async throws {
        try await TestServices.with(
            [.gateway, .messaging],
            settings: [
                // bursts of customers (50 messages at once) are what these tests send; the gateway's limits are tested there
                .gateway: ["RATE_LIMIT_ENABLED": "false"],
                .messaging: [
                    // no call leaves the machine: providers not faked by a test answer 404 here
                    "JOBS_POLL_INTERVAL_MS": "20", "MESSAGING_GRAPH_BASE_URL": agent, "MESSAGING_TWILIO_BASE_URL": agent, "MESSAGING_TELEGRAM_BASE_URL": agent,
                ],
            ], upstreams: [.agentCore: agent]
        ) {
            platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let other = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
            let p = Platform(
                gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.messaging).postgres, otherAdmin: other,
                database: platform.database, messaging: platform.url(.messaging))
            // no quiet hours, whatever time the suite runs at (the policy's own test sets them)
            var settings = MessagingSettings.defaults
            settings.quietHours = [:]
            let put = try await TestHTTP.request(.PUT, "\(p.gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings))
            #expect(put.status == 200, "\(put.text)")
            try await body(p)
        }
    }

    struct Inbound: Encodable {
        var from: String
        var text: String
        var providerMessageId: String?
    }

    @Test func aSimulatedMessageOpensAConversationOnceAndNumbersMessagesWithoutGaps() async throws {
        try await Self.with { p in
            let first = try await p.post(
                "/v1/sandbox/inbound", Inbound(from: "+250788123456", text: "Muraho, ndashaka kumenya igiciro cya lisansi", providerMessageId: "dup-1"))
            #expect(first.status == 202, "\(first.text)")
            // the provider delivers the same message again, twice at once
            async let again1 = p.post("/v1/sandbox/inbound", Inbound(from: "+250788123456", text: "Muraho", providerMessageId: "dup-1"))
            async let again2 = p.post("/v1/sandbox/inbound", Inbound(from: "+250788123456", text: "Muraho", providerMessageId: "dup-1"))
            _ = try await (again1, again2)
            // 50 more at once from the same customer
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<50 {
                    group.addTask { try await p.post("/v1/sandbox/inbound", Inbound(from: "+250788123456", text: "ubutumwa \(index)")).status }
                }
                for try await status in group { #expect(status == 202) }
            }
            try await p.eventually("51 messages") { try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 51 }
            try await p.eventually("all deliveries processed") {
                try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NULL") == 0
            }
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE provider_message_id = 'dup-1'") == 1)
            let list = try await p.get("/v1/conversations")
            let conversations = try list.json(Page<ConversationDTO>.self).items
            #expect(conversations.count == 1)
            let conversation = try #require(conversations.first)
            #expect(conversation.status == .aiActive)
            #expect(conversation.contact.address == "+250788123456")
            let messages = try await p.get("/v1/conversations/\(conversation.id)/messages?limit=200").json(Page<MessageDTO>.self).items
            // no gaps, no duplicates, in order (replies the agent job may add are outbound and numbered too)
            #expect(messages.map(\.sequenceNo) == Array(1...messages.count))
            let firstMessage = try #require(messages.first { $0.providerMessageId == "dup-1" })
            #expect(firstMessage.language == "rw")
            // the agent answered through the outbox; a reply is outbound, from the agent, and was sent
            try await p.eventually("an agent reply") {
                try await p.count("SELECT count(*)::int FROM messaging.messages WHERE sender = 'agent' AND status = 'sent'") >= 1
            }
            // resume after a sequence number: the rest, nothing repeated
            let rest = try await p.get("/v1/conversations/\(conversation.id)/messages?after=10&limit=200").json(Page<MessageDTO>.self).items
            #expect(rest.map(\.sequenceNo) == Array(11..<(11 + rest.count)))
            #expect(rest.count >= messages.count - 10)
            // the same messages, by id: an agent reply listed above may have been sent since, its status moved on
            #expect(rest.prefix(messages.count - 10).map(\.id) == messages.dropFirst(10).map(\.id))
        }
    }

    struct Send: Encodable {
        var to: String?
        var text: String?
        var conversationId: String?
    }

    @Test func aSendGoesThroughTheOutboxAndAnOptOutInSwahiliBlocksTheNext() async throws {
        try await Self.with { p in
            let sent = try await p.post("/v1/messages", Send(to: "+254712345678", text: "Karibu!"), headers: ["Idempotency-Key": "send-1"])
            #expect(sent.status == 202, "\(sent.text)")
            let id = try #require(try sent.json(MessagingAPI.Receipt.self).id)
            // the same key again: the same message, sent once
            let replayed = try await p.post("/v1/messages", Send(to: "+254712345678", text: "Karibu!"), headers: ["Idempotency-Key": "send-1"])
            #expect(try replayed.json(MessagingAPI.Receipt.self).id == id)
            try await p.eventually("the sandbox sent it") {
                try await p.get("/v1/messages/\(id)").json(MessageDTO.self).status == .sent
            }
            let outbox = try await p.get("/v1/sandbox/outbox").json(Page<OutboxEntry>.self).items
            #expect(outbox.map(\.body) == ["Karibu!"])
            #expect(outbox.first?.to == "+254712345678")

            // the customer answers "ACHA" (Swahili: stop): on the list, confirmed in Swahili
            _ = try await p.post("/v1/sandbox/inbound", Inbound(from: "+254712345678", text: "Acha!"))
            try await p.eventually("the confirmation") { try await p.get("/v1/sandbox/outbox").json(Page<OutboxEntry>.self).items.count == 2 }
            let confirmation = try await p.get("/v1/sandbox/outbox").json(Page<OutboxEntry>.self).items.last
            #expect(confirmation?.body == OptOutReplies.confirmation(.optOut, language: .sw))
            let list = try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items
            #expect(list.map(\.masked) == [PhoneNumber.masked(e164: "+254712345678")])
            #expect(list.first?.source == "keyword")

            let blocked = try await p.post("/v1/messages", Send(to: "+254712345678", text: "Offer!"))
            let blockedID = try #require(try blocked.json(MessagingAPI.Receipt.self).id)
            try await p.eventually("the policy blocked it") { try await p.get("/v1/messages/\(blockedID)").json(MessageDTO.self).status == .blocked }
            let message = try await p.get("/v1/messages/\(blockedID)").json(MessageDTO.self)
            #expect(message.errorCode == "opted_out")
            #expect(try await p.get("/v1/sandbox/outbox").json(Page<OutboxEntry>.self).items.count == 2)

            // START in English resubscribes
            _ = try await p.post("/v1/sandbox/inbound", Inbound(from: "+254712345678", text: "START"))
            try await p.eventually("off the list") { try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items.isEmpty }
        }
    }

    struct NewChannel: Encodable {
        var kind = "whatsapp"
        var name = "Main number"
        var config = ["phoneNumberId": "106540352242922"]
        var secrets = ["accessToken": "EAAG-test-access-token-123456", "appSecret": "meta-app-secret-value", "verifyToken": "verify-me-please"]
    }

    static func batch(messageID: String, statusOf: String?, status: String?) -> String {
        let statuses =
            statusOf.map { id in
                #","statuses":[{"id":"\#(id)","status":"\#(status!)","timestamp":"1733130000","recipient_id":"250788000111"}]"#
            } ?? ""
        return #"""
            {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Aline"},"wa_id":"250788000111"}],"messages":[{"from":"250788000111","id":"\#(messageID)","timestamp":"1733130000","type":"text","text":{"body":"Hello, how much is the voucher?"}}]\#(statuses)}}]}]}
            """#
    }

    @Test func whatsAppWebhooksAreVerifiedSignedAndDeduplicatedAndSecretsNeverShow() async throws {
        try await Self.with { p in
            let created = try await p.post("/v1/channels", NewChannel())
            #expect(created.status == 201, "\(created.text)")
            #expect(!created.text.contains("meta-app-secret-value") && !created.text.contains("EAAG-test"))
            let channel = try created.json(ChannelDTO.self)
            #expect(channel.secretHints["accessToken"] == "••••3456")
            let url = try #require(channel.webhookUrl)
            #expect(url.hasSuffix("/webhooks/whatsapp/\(channel.publicId)"))
            let listed = try await p.get("/v1/channels")
            #expect(!listed.text.contains("meta-app-secret-value"))

            // the subscription handshake
            let path = "/webhooks/whatsapp/\(channel.publicId)"
            let ok = try await TestHTTP.get("\(p.gateway)\(path)?hub.mode=subscribe&hub.verify_token=verify-me-please&hub.challenge=1158201444")
            #expect(ok.status == 200)
            #expect(ok.text == "1158201444")
            let wrong = try await TestHTTP.get("\(p.gateway)\(path)?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
            #expect(wrong.status == 403)

            let body = Data(Self.batch(messageID: "wamid.A1", statusOf: nil, status: nil).utf8)
            let good = WebhookSignatures.metaSignature(body: Array(body), appSecret: "meta-app-secret-value")
            // missing, wrong secret, and the body re-serialised by a proxy (same JSON, other bytes): all refused
            let reserialised = try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: body), options: [.sortedKeys])
            for (bytes, signature) in [
                (body, nil), (body, WebhookSignatures.metaSignature(body: Array(body), appSecret: "other")), (reserialised, good),
                (body, "sha256=" + String(repeating: "0", count: 64)),
            ] {
                let refused = try await TestHTTP.request(
                    .POST, "\(p.gateway)\(path)", headers: signature.map { ["X-Hub-Signature-256": $0] } ?? [:], body: bytes)
                #expect(refused.status == 401)
                #expect(refused.errorCode == "invalid_signature")
            }
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries") == 0)

            // the good one, delivered twice at once: stored once
            async let a = TestHTTP.request(.POST, "\(p.gateway)\(path)", headers: ["X-Hub-Signature-256": good], body: body)
            async let b = TestHTTP.request(.POST, "\(p.gateway)\(path)", headers: ["X-Hub-Signature-256": good], body: body)
            let (first, second) = try await (a, b)
            #expect(first.status == 200 && second.status == 200)
            try await p.eventually("both processed") {
                try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NOT NULL") == 2
            }
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE provider_message_id = 'wamid.A1'") == 1)
            let conversation = try #require(try await p.get("/v1/conversations").json(Page<ConversationDTO>.self).items.first)
            #expect(conversation.contact.profileName == "Aline")
            #expect(conversation.contact.address == "+250788000111")
        }
    }

    @Test func aStatusOnlyMovesForwardWhateverOrderWebhooksArriveIn() async throws {
        try await Self.with { p in
            let channel = try await p.post("/v1/channels", NewChannel()).json(ChannelDTO.self)
            let path = "/webhooks/whatsapp/\(channel.publicId)"
            // an outbound message the provider accepted as wamid.OUT
            try await p.postgres.withTransaction(logger: TestLog.quiet) { connection in
                try await connection.query(
                    """
                    WITH k AS (INSERT INTO messaging.contacts (id, tenant_id, address) VALUES (gen_random_uuid(), \(p.tenant.rawValue), '+250788000111') RETURNING id),
                    c AS (INSERT INTO messaging.conversations (id, tenant_id, channel_id, contact_id, last_sequence_no)
                          SELECT gen_random_uuid(), \(p.tenant.rawValue), \(channel.id.rawValue), id, 1 FROM k RETURNING id)
                    INSERT INTO messaging.messages (id, tenant_id, channel_id, conversation_id, sequence_no, direction, sender, kind, body, provider_message_id, status)
                    SELECT gen_random_uuid(), \(p.tenant.rawValue), \(channel.id.rawValue), id, 1, 'outbound', 'human', 'text', 'Hi', 'wamid.OUT', 'pending' FROM c
                    """, logger: TestLog.quiet)
            }
            for (index, status) in ["read", "delivered", "sent", "failed"].enumerated() {
                let body = Data(Self.batch(messageID: "wamid.IN\(index)", statusOf: "wamid.OUT", status: status).utf8)
                let answer = try await TestHTTP.request(
                    .POST, "\(p.gateway)\(path)",
                    headers: ["X-Hub-Signature-256": WebhookSignatures.metaSignature(body: Array(body), appSecret: "meta-app-secret-value")],
                    body: body)
                #expect(answer.status == 200)
                try await p.eventually("status \(status) recorded") {
                    try await p.count("SELECT count(*)::int FROM messaging.message_status_history") == index + 1
                }
            }
            let id = try await p.postgres.query("SELECT id FROM messaging.messages WHERE provider_message_id = 'wamid.OUT'", logger: TestLog.quiet).first(
                as: UUID.self)!
            let message = try await p.get("/v1/messages/\(id.uuidString.lowercased())").json(MessageDTO.self)
            #expect(message.status == .read)
            #expect(message.history?.map(\.status) == ["read", "delivered", "sent", "failed"])
            #expect(message.history?.map(\.applied) == [true, false, false, false])
        }
    }

    @Test func anotherTenantSeesNothingAndAgentsCannotConfigure() async throws {
        try await Self.with { p in
            _ = try await p.post("/v1/sandbox/inbound", Inbound(from: "+250788123456", text: "Hello"))
            try await p.eventually("the message") { try await p.count("SELECT count(*)::int FROM messaging.messages") >= 1 }
            let conversation = try #require(try await p.get("/v1/conversations").json(Page<ConversationDTO>.self).items.first)
            let other = p.otherAdmin
            #expect(try await p.get("/v1/conversations", token: other).json(Page<ConversationDTO>.self).items.isEmpty)
            #expect(try await p.get("/v1/conversations/\(conversation.id)", token: other).status == 404)
            let agent = try await TestKeys.token(tenant: p.tenant, roles: [.agent])
            #expect(try await p.get("/v1/conversations/\(conversation.id)", token: agent).status == 200)
            #expect(try await p.post("/v1/channels", NewChannel(), token: agent).status == 403)
            let operatorToken = try await TestKeys.token(tenant: p.tenant, roles: [.stationOperator], station: StationID())
            #expect(try await p.get("/v1/conversations", token: operatorToken).status == 403)
        }
    }
}
