import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import AgentCore
@testable import Messaging

/// A customer's WhatsApp message end to end, every hop real: Meta's signed webhook through the gateway to
/// messaging, its reply job calling agent-core over HTTP with a service token, the offline responder answering from
/// the tenant's FAQ in the customer's language, and the answer sent back through the one outbox to a fake Graph API
/// that speaks Meta's wire format.
@Suite(.serialized) struct WhatsAppToAgentTests {
    final class Sent: Sendable {
        let bodies = Mutex<[(path: String, authorization: String?, json: [String: JSONValue])]>([])
    }

    static func graph(_ sent: Sent) -> Router<BasicRequestContext> {
        let router = Router()
        router.post(":phone/messages") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: body))
            let count = sent.bodies.withLock { list in
                list.append((request.uri.path, request.headers[.authorization], json))
                return list.count
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string:
                            #"{"messaging_product":"whatsapp","contacts":[{"input":"250788000111","wa_id":"250788000111"}],"messages":[{"id":"wamid.REPLY\#(count)"}]}"#
                    )))
        }
        return router
    }

    static func webhook(id: String, text: String) -> String {
        #"""
        {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Aline"},"wa_id":"250788000111"}],"messages":[{"from":"250788000111","id":"\#(id)","timestamp":"\#(Int(Date().timeIntervalSince1970))","type":"text","text":{"body":"\#(text)"}}]}}]}]}
        """#
    }

    struct NewChannel: Encodable {
        var kind = "whatsapp"
        var name = "Main number"
        var config = ["phoneNumberId": "106540352242922"]
        var secrets = ["accessToken": "EAAG-test-access-token-123456", "appSecret": "meta-app-secret-value", "verifyToken": "verify-me-please"]
    }

    /// gateway, messaging and agent-core on loopback with the fake Graph API, a tenant, its admin, and no quiet hours.
    static func with(_ body: (TestPlatform, Sent, String, TenantID, String) async throws -> Void) async throws {
        let sent = Sent()
        try await TestUpstream.with(Self.graph(sent)) { graph in
            try await TestServices.with(
                [.gateway, .messaging, .agentCore], settings: [.messaging: ["JOBS_POLL_INTERVAL_MS": "20", "MESSAGING_GRAPH_BASE_URL": graph]]
            ) { platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                var settings = MessagingSettings.defaults
                settings.quietHours = [:]
                #expect(
                    try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings)).status
                        == 200)
                try await body(platform, sent, gateway, tenant, admin)
            }
        }
    }

    @Test func aWhatsAppMessageIsAnsweredByTheAgentFromTheTenantsFaqInTheCustomersLanguage() async throws {
        try await Self.with { platform, sent, gateway, tenant, admin in
            let created = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: NewChannel())
            #expect(created.status == 201, "\(created.text)")
            let channel = try created.json(ChannelDTO.self)
            #expect(
                try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: AgentRepliesTests.NewAgentBody(name: "Mama Fuel")).status == 201)
            struct Faq: Encodable {
                var question: String
                var answer: String
                var keywords: [String]
                var language: String
            }
            let answer = "Tunafungua kila siku kuanzia saa 12 asubuhi hadi saa 4 usiku."
            #expect(
                try await TestHTTP.post(
                    "\(gateway)/v1/faqs", token: admin,
                    json: Faq(question: "Mnafungua saa ngapi?", answer: answer, keywords: ["saa", "fungua", "mnafungua"], language: "sw")
                ).status == 201)

            // Meta delivers the customer's message, signed with the app secret
            let body = Data(Self.webhook(id: "wamid.IN-\(UUID().uuidString)", text: "Habari, mnafungua saa ngapi leo?").utf8)
            let signature = WebhookSignatures.metaSignature(body: Array(body), appSecret: "meta-app-secret-value")
            let delivered = try await TestHTTP.request(
                .POST, "\(gateway)/webhooks/whatsapp/\(channel.publicId)", headers: ["X-Hub-Signature-256": signature], body: body)
            #expect(delivered.status == 200)

            // the agent's answer reaches Meta: to the customer, as text, with the channel's token
            let arrived = try await TestWait.until(timeout: .seconds(20)) { sent.bodies.withLock { !$0.isEmpty } }
            #expect(arrived, "no reply reached the Graph API")
            let reply = try #require(sent.bodies.withLock { $0.first })
            #expect(reply.path == "/106540352242922/messages")
            #expect(reply.authorization == "Bearer EAAG-test-access-token-123456")
            #expect(reply.json["to"] == .string("250788000111"))
            #expect(reply.json["type"] == .string("text"))
            #expect(reply.json["text"]?["body"] == .string(answer), "\(reply.json)")

            // the conversation holds both, the answer by the agent and sent
            let conversations = try await TestHTTP.get("\(gateway)/v1/conversations", token: admin).json(Page<ConversationDTO>.self).items
            let conversation = try #require(conversations.first)
            var thread: [MessageDTO] = []
            _ = try await TestWait.until(timeout: .seconds(10)) {
                thread = try await TestHTTP.get("\(gateway)/v1/conversations/\(conversation.id)/messages", token: admin).json(Page<MessageDTO>.self)
                    .items
                return thread.count == 2 && thread.last?.status == .pending
            }
            #expect(thread.map(\.direction) == [.inbound, .outbound])
            // accepted by the Cloud API: pending until Meta reports it
            #expect(thread.last?.sender == .agent && thread.last?.body == answer && thread.last?.status == .pending)
            #expect(thread.last?.providerMessageId == "wamid.REPLY1")
            #expect(thread.first?.language == "sw")
            // Meta's status webhook: delivered
            let status = Data(
                #"""
                {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.REPLY1","status":"delivered","timestamp":"\#(Int(Date().timeIntervalSince1970))","recipient_id":"250788000111"}]}}]}]}
                """#.utf8)
            #expect(
                try await TestHTTP.request(
                    .POST, "\(gateway)/webhooks/whatsapp/\(channel.publicId)",
                    headers: ["X-Hub-Signature-256": WebhookSignatures.metaSignature(body: Array(status), appSecret: "meta-app-secret-value")], body: status
                ).status == 200)
            let reported = try await TestWait.until(timeout: .seconds(10)) {
                try await TestHTTP.get("\(gateway)/v1/messages/\(thread.last!.id)", token: admin).json(MessageDTO.self).status == .delivered
            }
            #expect(reported, "the reply never showed delivered")
            // agent-core kept the reply once, under the inbound message's id
            let stored = try await platform.environment(.agentCore).postgres.query(
                "SELECT count(*)::int FROM agent.replies WHERE tenant_id = \(tenant.rawValue)", logger: TestLog.quiet
            ).first(as: Int.self)
            #expect(stored == 1)
        }
    }

    static func tapped(id: String, buttonID: String, title: String) -> String {
        #"""
        {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Aline"},"wa_id":"250788000111"}],"messages":[{"from":"250788000111","id":"\#(id)","timestamp":"\#(Int(Date().timeIntervalSince1970))","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"\#(buttonID)","title":"\#(title)"}}}]}}]}]}
        """#
    }

    @Test func aGreetingOffersButtonsAndATappedButtonIsAnsweredByWhatItNames() async throws {
        try await Self.with { platform, sent, gateway, tenant, admin in
            let channel = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: NewChannel()).json(ChannelDTO.self)
            _ = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: AgentRepliesTests.NewAgentBody(name: "Mama Fuel"))
            struct Faq: Encodable {
                var question: String
                var answer: String
                var keywords: [String]
                var language: String
            }
            let faq = try await TestHTTP.post(
                "\(gateway)/v1/faqs", token: admin,
                json: Faq(question: "Bei ya mafuta?", answer: "Lita moja ni shilingi 180.", keywords: ["bei", "mafuta"], language: "sw")
            ).json(FaqDTO.self)
            func deliver(_ text: String) async throws {
                let body = Data(text.utf8)
                let signature = WebhookSignatures.metaSignature(body: Array(body), appSecret: "meta-app-secret-value")
                let answer = try await TestHTTP.request(
                    .POST, "\(gateway)/webhooks/whatsapp/\(channel.publicId)", headers: ["X-Hub-Signature-256": signature], body: body)
                #expect(answer.status == 200)
            }
            func sends(_ count: Int) async throws -> [String: JSONValue] {
                let arrived = try await TestWait.until(timeout: .seconds(20)) { sent.bodies.withLock { $0.count >= count } }
                #expect(arrived, "send \(count) never reached the Graph API")
                return try #require(sent.bodies.withLock { $0.count >= count ? $0[count - 1].json : nil })
            }

            // a greeting: the agent's choices as WhatsApp reply buttons, the FAQ and a person, in Swahili
            try await deliver(Self.webhook(id: "wamid.IN-1-\(UUID().uuidString)", text: "Habari"))
            let greeting = try await sends(1)
            #expect(greeting["type"] == .string("interactive"), "\(greeting)")
            #expect(greeting["interactive"]?["type"] == .string("button"))
            let buttons = greeting["interactive"]?["action"]?["buttons"]
            #expect(buttons?[0]?["reply"]?["id"] == .string("faq:\(faq.id.uuidString.lowercased())"))
            #expect(buttons?[0]?["reply"]?["title"] == .string("Bei ya mafuta?"))
            #expect(buttons?[1]?["reply"]?["id"] == .string("handoff") && buttons?[1]?["reply"]?["title"] == .string("Ongea na mtu"))

            // the customer taps the FAQ's button: its answer, found by the button's id
            try await deliver(
                Self.tapped(id: "wamid.IN-2-\(UUID().uuidString)", buttonID: "faq:\(faq.id.uuidString.lowercased())", title: "Bei ya mafuta?"))
            let answer = try await sends(2)
            #expect(answer["text"]?["body"] == .string("Lita moja ni shilingi 180."), "\(answer)")
            // …then the person's button: handed over
            try await deliver(Self.tapped(id: "wamid.IN-3-\(UUID().uuidString)", buttonID: "handoff", title: "Ongea na mtu"))
            let handoff = try await sends(3)
            #expect(handoff["text"]?["body"] == .string(OfflineResponder.handoffText("sw")))
            let escalated = try await TestWait.until(timeout: .seconds(10)) {
                try await TestHTTP.get("\(gateway)/v1/conversations", token: admin).json(Page<ConversationDTO>.self).items.first?.status
                    == .humanEscalated
            }
            #expect(escalated)
            // the inbox shows the choices the customer saw
            let conversation = try #require(
                try await TestHTTP.get("\(gateway)/v1/conversations", token: admin).json(Page<ConversationDTO>.self).items.first)
            let thread = try await TestHTTP.get("\(gateway)/v1/conversations/\(conversation.id)/messages", token: admin).json(Page<MessageDTO>.self)
                .items
            #expect(thread[1].payload?["options"]?[1]?["id"] == .string("handoff"))
            #expect(thread[2].kind == "button" && thread[2].payload?["payload"] == .string("faq:\(faq.id.uuidString.lowercased())"))
        }
    }
}
