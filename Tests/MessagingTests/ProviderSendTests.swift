import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import Messaging

/// The real WhatsApp adapter against a fake Graph API on loopback that answers as Meta's documentation shows:
/// accepted sends, a permanent refusal, a rate limit that passes, and a customer who stopped marketing messages.
@Suite(.serialized) struct ProviderSendTests {
    final class Calls: Sendable {
        let requests = Mutex<[(path: String, authorization: String?, body: String)]>([])
    }

    static func graph(_ calls: Calls) -> Router<BasicRequestContext> {
        let router = Router()
        router.post(":phone/messages") { request, context -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let attempt = calls.requests.withLock { list in
                list.append((request.uri.path, request.headers[.authorization], body))
                return list.filter { $0.body == body }.count
            }
            let to = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(body.utf8)))?["to"]
            func answer(_ status: HTTPResponse.Status, _ json: String) -> Response {
                Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            func error(_ code: Int, _ message: String) -> String {
                #"{"error":{"message":"(#\#(code)) \#(message)","type":"OAuthException","code":\#(code),"error_data":{"messaging_product":"whatsapp","details":"\#(message)"},"fbtrace_id":"AbCdEf"}}"#
            }
            switch to {
            case .string("250788000002"): return answer(.badRequest, error(131026, "Message Undeliverable."))
            case .string("250788000003") where attempt == 1: return answer(.tooManyRequests, error(130429, "Rate limit hit"))
            case .string("250788000004"): return answer(.badRequest, error(131050, "User stopped marketing messages"))
            default:
                return answer(
                    .ok, #"{"messaging_product":"whatsapp","contacts":[{"input":"x","wa_id":"x"}],"messages":[{"id":"wamid.SENT\#(attempt)"}]}"#)
            }
        }
        return router
    }

    struct NewChannel: Encodable {
        var kind = "whatsapp"
        var name = "Main number"
        var config = ["phoneNumberId": "106540352242922"]
        var secrets = ["accessToken": "EAAG-test-access-token-123456", "appSecret": "meta-app-secret-value", "verifyToken": "verify-me-please"]
    }

    struct Send: Encodable {
        var channelId: String
        var to: String
        var template: TemplateRef
    }

    @Test func sendsAreAcceptedRetriedOrFailedAsTheProviderSays() async throws {
        let calls = Calls()
        try await TestUpstream.with(Self.graph(calls)) { graph in
            try await TestServices.with(
                [.gateway, .messaging],
                settings: [.messaging: ["JOBS_POLL_INTERVAL_MS": "20", "JOBS_BACKOFF_BASE_MS": "50", "MESSAGING_GRAPH_BASE_URL": graph]]
            ) { platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                var settings = MessagingSettings.defaults
                settings.quietHours = [:]
                _ = try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings))
                let channel = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: NewChannel()).json(ChannelDTO.self)
                let template = TemplateRef(name: "voucher_ready", language: "en", variables: ["Aline", "5000 RWF"])
                var ids: [String: String] = [:]
                for number in ["+250788000001", "+250788000002", "+250788000003", "+250788000004"] {
                    let sent = try await TestHTTP.post(
                        "\(gateway)/v1/messages", token: admin, json: Send(channelId: channel.id.description, to: number, template: template))
                    #expect(sent.status == 202, "\(sent.text)")
                    ids[number] = try sent.json(MessagingAPI.Receipt.self).id
                }
                func message(_ number: String) async throws -> MessageDTO {
                    try await TestHTTP.get("\(gateway)/v1/messages/\(ids[number]!)", token: admin).json(MessageDTO.self)
                }
                let settled = try await TestWait.until {
                    let states = try await [message("+250788000001"), message("+250788000002"), message("+250788000003"), message("+250788000004")]
                    return states.allSatisfy { $0.status == .pending || $0.status == .failed }
                }
                #expect(settled, "the four sends did not settle")
                let accepted = try await message("+250788000001")
                #expect(accepted.status == .pending)
                #expect(accepted.providerMessageId == "wamid.SENT1")
                let refused = try await message("+250788000002")
                #expect(refused.status == .failed)
                #expect(refused.errorCode == "131026")
                #expect(refused.statusReason?.contains("not a WhatsApp user") == true)
                // the rate limit passed: the second attempt went through
                let retried = try await message("+250788000003")
                #expect(retried.status == .pending)
                #expect(retried.providerMessageId == "wamid.SENT2")
                let stopped = try await message("+250788000004")
                #expect(stopped.status == .failed)
                #expect(stopped.errorCode == "131050")
                // the customer who stopped marketing messages is on the opt-out list now
                let list = try await TestHTTP.get("\(gateway)/v1/opt-outs", token: admin).json(Page<PolicyStore.OptOutEntry>.self).items
                #expect(list.map(\.source) == ["provider"])

                // the wire: the token as a bearer, the template with its variables, digits without '+'
                // two workers send at once: the first number's request, whichever reached the fake first
                let first = try #require(calls.requests.withLock { $0.first { $0.body.contains("250788000001") } })
                #expect(first.path == "/106540352242922/messages")
                #expect(first.authorization == "Bearer EAAG-test-access-token-123456")
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(first.body.utf8))
                #expect(body["messaging_product"] == JSONValue.string("whatsapp"))
                #expect(body["to"] == JSONValue.string("250788000001"))
                #expect(body["type"] == JSONValue.string("template"))
                #expect(body["template"]?["name"] == JSONValue.string("voucher_ready"))
                // permanent refusals are not retried
                #expect(calls.requests.withLock { $0.filter { $0.body.contains("250788000002") }.count } == 1)
            }
        }
    }

    struct Inbound: Encodable {
        var from: String
        var text: String
    }

    @Test func relinkingTheAgentArchivesOpenConversationsAndAPersonCanTakeOver() async throws {
        try await TestUpstream.with(MessagingFlowTests.fakeAgent) { agent in
            try await MessagingFlowTests.with(agent: agent) { p in
                _ = try await p.post("/v1/sandbox/inbound", Inbound(from: "+250788111222", text: "Hello"))
                try await p.eventually("the agent's reply") {
                    try await p.count("SELECT count(*)::int FROM messaging.messages WHERE sender = 'agent'") == 1
                }
                let conversation = try #require(try await p.get("/v1/conversations").json(Page<ConversationDTO>.self).items.first)

                // a person takes over: the agent stays silent
                let escalated = try await TestHTTP.request(
                    .PATCH, "\(p.gateway)/v1/conversations/\(conversation.id)", token: p.admin, body: Data(#"{"status":"human_escalated"}"#.utf8))
                #expect(try escalated.json(ConversationDTO.self).status == .humanEscalated)
                _ = try await p.post("/v1/sandbox/inbound", Inbound(from: "+250788111222", text: "Are you there?"))
                try await p.eventually("the second message") {
                    try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 2
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE sender = 'agent'") == 1)

                // binding another agent closes the open conversation and says how many and why
                let bound = try await TestHTTP.request(
                    .PUT, "\(p.gateway)/v1/channels/\(conversation.channelId)/agent", token: p.admin,
                    body: Data(#"{"agentId":"\#(UUID().uuidString.lowercased())","reason":"new sales agent"}"#.utf8))
                #expect(bound.status == 200, "\(bound.text)")
                #expect(try bound.json(BindAgentResult.self).archivedConversations == 1)
                let closed = try await p.get("/v1/conversations/\(conversation.id)").json(ConversationDTO.self)
                #expect(closed.status == .closed)
                #expect(closed.closedReason == "agent_relinked")
                #expect(try await p.count("SELECT count(*)::int FROM messaging.conversation_archives WHERE reason = 'new sales agent'") == 1)
                // the customer's next message opens a new conversation, which the (new) agent answers
                _ = try await p.post("/v1/sandbox/inbound", Inbound(from: "+250788111222", text: "Hello again"))
                try await p.eventually("a new conversation") { try await p.count("SELECT count(*)::int FROM messaging.conversations") == 2 }
                try await p.eventually("the new agent's reply") {
                    try await p.count("SELECT count(*)::int FROM messaging.messages WHERE sender = 'agent'") == 2
                }
                // the agent asks for a person: the conversation is escalated
                _ = try await p.post("/v1/sandbox/inbound", Inbound(from: "+250788111222", text: "I want a person please"))
                try await p.eventually("the hand-over") {
                    try await p.count("SELECT count(*)::int FROM messaging.conversations WHERE status = 'human_escalated'") == 1
                }
            }
        }
    }

    struct SMSChannel: Encodable {
        var kind = "sms"
        var name = "SMS"
        var config = ["accountSid": "AC0123456789abcdef0123456789abcdef", "fromNumber": "+250788999000"]
        var secrets = ["authToken": "twilio-auth-token-0123456789"]
    }

    @Test func twilioMessagesAndStatusCallbacksAreCheckedBySignature() async throws {
        try await TestUpstream.with(MessagingFlowTests.fakeAgent) { agent in
            try await MessagingFlowTests.with(agent: agent) { p in
                let channel = try await p.post("/v1/channels", SMSChannel()).json(ChannelDTO.self)
                let url = try #require(channel.webhookUrl)
                let form = [
                    "MessageSid": "SM0123456789abcdef0123456789abcdef", "AccountSid": "AC0123456789abcdef0123456789abcdef", "From": "+250788555666",
                    "To": "+250788999000", "Body": "Bonjour, je voudrais acheter un bon", "NumMedia": "0", "SmsStatus": "received",
                ]
                let body = Data(FormEncoding.encode(form.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).utf8)
                let headers = ["Content-Type": "application/x-www-form-urlencoded"]
                // signed with another token, or for another URL: refused, nothing stored
                for signature in [
                    WebhookSignatures.twilioSignature(url: url, params: form, authToken: "wrong-token"),
                    WebhookSignatures.twilioSignature(url: url + "x", params: form, authToken: "twilio-auth-token-0123456789"),
                ] {
                    let refused = try await TestHTTP.request(.POST, url, headers: headers.merging(["X-Twilio-Signature": signature]) { a, _ in a }, body: body)
                    #expect(refused.status == 401)
                }
                #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries") == 0)
                let good = WebhookSignatures.twilioSignature(url: url, params: form, authToken: "twilio-auth-token-0123456789")
                let accepted = try await TestHTTP.request(.POST, url, headers: headers.merging(["X-Twilio-Signature": good]) { a, _ in a }, body: body)
                #expect(accepted.status == 200, "\(accepted.text)")
                #expect(accepted.text == "<Response></Response>")
                try await p.eventually("the SMS") {
                    try await p.count(
                        "SELECT count(*)::int FROM messaging.messages WHERE provider_message_id = 'SM0123456789abcdef0123456789abcdef' AND language = 'fr'")
                        == 1
                }
            }
        }
    }

    @Test func aNoticeOnWhatsAppGoesAsTheTenantsTemplateWithTheCardInItsHeader() async throws {
        let calls = Calls()
        try await TestUpstream.with(Self.graph(calls)) { graph in
            try await TestServices.with(
                [.gateway, .messaging], settings: [.messaging: ["JOBS_POLL_INTERVAL_MS": "20", "MESSAGING_GRAPH_BASE_URL": graph]]
            ) { platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                var settings = MessagingSettings.defaults
                settings.quietHours = [:]
                settings.noticeTemplates = ["voucher_issued": .init(name: "fuel_voucher_card", language: "rw")]
                let put = try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings))
                #expect(put.status == 200, "\(put.text)")
                // a template name Meta would not accept is refused
                var wrong = settings
                wrong.noticeTemplates = ["voucher_issued": .init(name: "Fuel Voucher!", language: "rw")]
                #expect(
                    try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(wrong)).status == 422
                )
                #expect(try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: NewChannel()).status == 201)

                let service = try await TestKeys.token(subject: "service:vouchers", tenant: nil, roles: [.service])
                let card = "https://sokoni.example/v1/voucher-images/0b9f/card.png?exp=1&sig=abc"
                let notice = MessagingAPI.Notification(
                    kind: "voucher_issued", msisdn: "+250788000077", voucherId: UUID().uuidString, code: "K7M2Q", amount: "5000", currency: "RWF",
                    mediaUrl: card)
                let queued = try await TestHTTP.post(
                    "\(platform.url(.messaging))/v1/messaging/notifications", token: service,
                    headers: ["X-Tenant-ID": tenant.description, "Idempotency-Key": "n-1"], json: notice)
                #expect(queued.status == 202, "\(queued.text)")
                _ = try await TestWait.until { calls.requests.withLock { !$0.isEmpty } }
                let sent = try #require(calls.requests.withLock { $0.first })
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(sent.body.utf8))
                #expect(body["type"] == .string("template"))
                #expect(body["template"]?["name"] == .string("fuel_voucher_card"))
                #expect(body["template"]?["language"]?["code"] == .string("rw"))
                #expect(
                    body["template"]?["components"]
                        == .array([
                            .object([
                                "type": .string("header"),
                                "parameters": .array([.object(["type": .string("image"), "image": .object(["link": .string(card)])])]),
                            ]),
                            .object([
                                "type": .string("body"),
                                "parameters": .array([
                                    .object(["type": .string("text"), "text": .string("K7M2Q")]),
                                    .object(["type": .string("text"), "text": .string("5000 RWF")]),
                                ]),
                            ]),
                        ]), "\(sent.body)")
                // a template is allowed outside the 24-hour window: the customer never wrote, and it went out
                // (the fake saw the request before the worker recorded Graph's answer: wait for the status to move)
                let receipt = try queued.json(MessagingAPI.Receipt.self)
                var message = try await TestHTTP.get("\(gateway)/v1/messages/\(receipt.id ?? "")", token: admin).json(MessageDTO.self)
                _ = try await TestWait.until {
                    message = try await TestHTTP.get("\(gateway)/v1/messages/\(receipt.id ?? "")", token: admin).json(MessageDTO.self)
                    return message.status != .queued
                }
                #expect(message.status == .pending, "\(message.errorCode ?? "") \(message.statusReason ?? "")")
            }
        }
    }
}
