import Contracts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import Messaging

/// The real Instagram and email adapters against fake providers on loopback that answer as the Graph API, SendGrid
/// v3 and Mailgun document it, and the email providers' signed event webhooks: receipts on the lattice, and
/// bounces, spam reports and unsubscribes on the opt-out list.
@Suite(.serialized) struct EmailInstagramTests {
    struct Call: Sendable {
        var path: String
        var authorization: String?
        var contentType: String?
        var body: String

        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(self.body.utf8))) ?? .null }
        var form: [String: String] { TwilioForm.decode(formURLEncoded: self.body) }
    }

    final class Calls: Sendable {
        let list = Mutex<[Call]>([])

        /// Records the call; how many calls so far went to `recipient` (this one included).
        func record(_ call: Call, recipient: String?) -> Int {
            self.list.withLock { list in
                list.append(call)
                return list.filter { Self.recipient(of: $0) == recipient }.count
            }
        }

        func to(_ recipient: String) -> [Call] { self.list.withLock { $0.filter { Self.recipient(of: $0) == recipient } } }

        static func recipient(of call: Call) -> String? {
            if case .string(let id)? = call.json["recipient"]?["id"] { return id }
            if case .array(let list)? = call.json["personalizations"], case .array(let to)? = list.first?["to"], case .string(let email)? = to.first?["email"] {
                return email
            }
            return call.form["to"]
        }
    }

    static func answer(_ status: HTTPResponse.Status, _ json: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// The Graph API's Instagram send, SendGrid's Mail Send and Mailgun's messages, each answering per recipient.
    static func providers(_ calls: Calls) -> Router<BasicRequestContext> {
        let router = Router()
        @Sendable func call(_ request: Request) async throws -> Call {
            Call(
                path: request.uri.path, authorization: request.headers[.authorization], contentType: request.headers[.contentType],
                body: String(buffer: try await request.body.collect(upTo: 1 << 20)))
        }
        router.post(":page/messages") { request, _ -> Response in
            let call = try await call(request)
            let to = Calls.recipient(of: call)
            let attempt = calls.record(call, recipient: to)
            func error(_ code: Int, _ subcode: Int, _ message: String) -> String {
                #"{"error":{"message":"(#\#(code)) \#(message)","type":"OAuthException","code":\#(code),"error_subcode":\#(subcode),"fbtrace_id":"AbC"}}"#
            }
            switch to {
            case "17900000000000002": return answer(.badRequest, error(551, 1_545_041, "This person isn't available right now."))
            case "17900000000000003" where attempt == 1:
                // Instagram's rate limit comes as a 400
                return answer(.badRequest, error(613, 0, "Calls to this api have exceeded the rate limit."))
            default:
                return answer(.ok, #"{"recipient_id":"\#(to ?? "")","message_id":"m_IG\#(attempt)"}"#)
            }
        }
        router.post("v3/mail/send") { request, _ -> Response in
            let call = try await call(request)
            let to = Calls.recipient(of: call)
            let attempt = calls.record(call, recipient: to)
            guard call.authorization == "Bearer SG.test-api-key" else {
                return answer(
                    .unauthorized, #"{"errors":[{"message":"The provided authorization grant is invalid, expired, or revoked","field":null,"help":null}]}"#)
            }
            switch to {
            case "nobody@shop.example":
                return answer(
                    .badRequest,
                    #"{"errors":[{"message":"Does not contain a valid address.","field":"personalizations.0.to.0.email","help":"http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to"}]}"#
                )
            case "busy@shop.example" where attempt == 1:
                return answer(.tooManyRequests, #"{"errors":[{"field":null,"message":"too many requests"}]}"#)
            default:
                let id = "SG\(attempt)\(to?.prefix(3) ?? "")W86EgYT6SQKk0lRf"
                return Response(status: .accepted, headers: [HTTPField.Name("X-Message-Id")!: id])
            }
        }
        router.post("v3/:domain/messages") { request, _ -> Response in
            let call = try await call(request)
            let to = Calls.recipient(of: call)
            let attempt = calls.record(call, recipient: to)
            switch to {
            case "bad@shop.example":
                return answer(.badRequest, #"{"message":"to parameter is not a valid address. please check documentation"}"#)
            case "busy@shop.example" where attempt == 1:
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "Service Unavailable")))
            default:
                return answer(.ok, #"{"id":"<20260101120000.\#(attempt).\#(to?.prefix(3) ?? "")@mg.shop.example>","message":"Queued. Thank you."}"#)
            }
        }
        return router
    }

    static func with(_ body: (MessagingFlowTests.Platform, Calls) async throws -> Void) async throws {
        let calls = Calls()
        try await TestUpstream.with(Self.providers(calls)) { fake in
            try await TestServices.with(
                [.gateway, .messaging],
                settings: [
                    .messaging: [
                        "JOBS_POLL_INTERVAL_MS": "20", "JOBS_BACKOFF_BASE_MS": "50", "MESSAGING_GRAPH_BASE_URL": fake, "MESSAGING_SENDGRID_BASE_URL": fake,
                        "MESSAGING_MAILGUN_BASE_URL": fake, "MESSAGING_TWILIO_BASE_URL": fake, "MESSAGING_TELEGRAM_BASE_URL": fake,
                    ]
                ]
            ) { platform in
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                try await body(
                    MessagingFlowTests.Platform(
                        gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.messaging).postgres, otherAdmin: admin,
                        database: platform.database),
                    calls)
            }
        }
    }

    struct NewChannel: Encodable {
        var kind: String
        var name: String
        var config: [String: String]
        var secrets: [String: String]
    }

    struct Send: Encodable {
        var channelId: String
        var to: String
        var text: String?
        var subject: String?
        var media: MediaAttachment?
    }

    /// Sends, and answers the message's id.
    static func send(_ p: MessagingFlowTests.Platform, _ send: Send) async throws -> String {
        let sent = try await p.post("/v1/messages", send)
        #expect(sent.status == 202, "\(sent.text)")
        return try #require(try sent.json(MessagingAPI.Receipt.self).id)
    }

    static func message(_ p: MessagingFlowTests.Platform, _ id: String) async throws -> MessageDTO {
        try await p.get("/v1/messages/\(id)").json(MessageDTO.self)
    }

    /// Waits until every message has left the queue and the retries.
    static func settled(_ p: MessagingFlowTests.Platform, _ ids: [String], _ done: Set<MessageStatus> = [.pending, .sent, .failed, .blocked]) async throws {
        try await p.eventually("the sends to settle") {
            for id in ids where !done.contains(try await Self.message(p, id).status) { return false }
            return true
        }
    }

    // MARK: - Instagram

    /// A customer who wrote a minute ago: the conversation Instagram's 24-hour window opens (set up directly; the
    /// inbound webhook has its own test, `instagramWebhooksAreSignedParsedAndOpenTheWindowForAReply`).
    static func customerWrote(_ p: MessagingFlowTests.Platform, igsid: String, channel: ChannelDTO) async throws {
        let contact = UUID()
        try await p.postgres.query(
            "INSERT INTO messaging.contacts (id, tenant_id, address) VALUES (\(contact), \(p.tenant.rawValue), \(igsid))", logger: TestLog.quiet)
        try await p.postgres.query(
            """
            INSERT INTO messaging.conversations (id, tenant_id, channel_id, contact_id, last_inbound_at)
            VALUES (\(UUID()), \(p.tenant.rawValue), \(channel.id.rawValue), \(contact), now() - interval '1 minute')
            """, logger: TestLog.quiet)
    }

    @Test func instagramSendsAreAcceptedRetriedOrFailedAsTheGraphAPISays() async throws {
        try await Self.with { p, calls in
            let created = try await p.post(
                "/v1/channels",
                NewChannel(
                    kind: "instagram", name: "Shop on Instagram", config: ["pageId": "17841400000000000"],
                    secrets: ["accessToken": "IGAA-test-access-token-123456", "appSecret": "meta-app-secret-value", "verifyToken": "verify-me-please"]))
            #expect(created.status == 201, "\(created.text)")
            let channel = try created.json(ChannelDTO.self)
            for igsid in ["17900000000000001", "17900000000000002", "17900000000000003", "17900000000000004"] {
                try await Self.customerWrote(p, igsid: igsid, channel: channel)
            }
            // a username or a phone number is not an Instagram recipient
            for wrong in ["aline.shop", "+250788123456"] {
                let refused = try await p.post("/v1/messages", Send(channelId: channel.id.description, to: wrong, text: "Hi"))
                #expect(refused.status == 422)
                #expect(refused.errorCode == "invalid_recipient")
            }
            let id = channel.id.description
            let accepted = try await Self.send(p, Send(channelId: id, to: "17900000000000001", text: "Murakoze! Your order is ready."))
            let unavailable = try await Self.send(p, Send(channelId: id, to: "17900000000000002", text: "Hello"))
            let limited = try await Self.send(p, Send(channelId: id, to: "17900000000000003", text: "Hello again"))
            let photo = try await Self.send(
                p, Send(channelId: id, to: "17900000000000004", media: MediaAttachment(type: "image", url: "https://cdn.shop.example/p/1.jpg")))
            // nobody wrote from this one: outside the window, the policy stops it before the provider
            let stranger = try await Self.send(p, Send(channelId: id, to: "17900000000000009", text: "Hello stranger"))
            try await Self.settled(p, [accepted, unavailable, limited, photo, stranger], [.sent, .failed, .blocked])

            let sent = try await Self.message(p, accepted)
            #expect(sent.status == .sent)
            #expect(sent.providerMessageId == "m_IG\(calls.to("17900000000000001").count)")
            let refused = try await Self.message(p, unavailable)
            #expect(refused.status == .failed)
            #expect(refused.errorCode == "551")
            #expect(calls.to("17900000000000002").count == 1, "a permanent refusal is not retried")
            // the rate limit (a 400 on Instagram) passed: the second attempt went through
            let retried = try await Self.message(p, limited)
            #expect(retried.status == .sent, "\(retried.statusReason ?? "")")
            // (the id names the attempt that went through: the second, or a later one after a dropped connection)
            #expect(calls.to("17900000000000003").count >= 2)
            #expect(retried.providerMessageId == "m_IG\(calls.to("17900000000000003").count)")
            #expect(try await Self.message(p, photo).status == .sent)
            let blocked = try await Self.message(p, stranger)
            #expect(blocked.status == .blocked)
            #expect(blocked.errorCode == "outside_window")
            #expect(calls.to("17900000000000009").isEmpty)

            // the wire: the page's messages edge, the token as a bearer, a RESPONSE to the IGSID
            let text = try #require(calls.to("17900000000000001").first)
            #expect(text.path == "/17841400000000000/messages")
            #expect(text.authorization == "Bearer IGAA-test-access-token-123456")
            #expect(text.contentType == "application/json")
            #expect(text.json["messaging_type"] == .string("RESPONSE"))
            #expect(text.json["message"]?["text"] == .string("Murakoze! Your order is ready."))
            let image = try #require(calls.to("17900000000000004").first)
            #expect(image.json["message"]?["attachment"]?["type"] == .string("image"))
            #expect(image.json["message"]?["attachment"]?["payload"]?["url"] == .string("https://cdn.shop.example/p/1.jpg"))
        }
    }

    /// Meta's Instagram webhook: a text, a photo, a quick reply, the business's own echo, a reaction and a read
    /// receipt, as the Messenger Platform documents them.
    static func instagramBody(business: String, customer: String, mid: String, readMid: String) -> String {
        // now, in milliseconds: the window opens from the customer's message's own time
        let t = Int(Date().timeIntervalSince1970 * 1000)
        return #"""
            {"object":"instagram","entry":[{"id":"\#(business)","time":\#(t),"messaging":[
              {"sender":{"id":"\#(customer)"},"recipient":{"id":"\#(business)"},"timestamp":\#(t + 1),"message":{"mid":"\#(mid)","text":"Muraho! Mufite inkweto za 42?"}},
              {"sender":{"id":"\#(customer)"},"recipient":{"id":"\#(business)"},"timestamp":\#(t + 2),"message":{"mid":"\#(mid)-photo","attachments":[{"type":"image","payload":{"url":"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"}}]}},
              {"sender":{"id":"\#(customer)"},"recipient":{"id":"\#(business)"},"timestamp":\#(t + 3),"message":{"mid":"\#(mid)-quick","text":"Yego","quick_reply":{"payload":"SIZE_42"}}},
              {"sender":{"id":"\#(business)"},"recipient":{"id":"\#(customer)"},"timestamp":\#(t + 4),"message":{"mid":"\#(mid)-echo","text":"from the shop","is_echo":true}},
              {"sender":{"id":"\#(customer)"},"recipient":{"id":"\#(business)"},"timestamp":\#(t + 5),"reaction":{"mid":"\#(mid)","action":"react","reaction":"love","emoji":"❤"}},
              {"sender":{"id":"\#(customer)"},"recipient":{"id":"\#(business)"},"timestamp":\#(t + 6),"read":{"mid":"\#(readMid)"}}
            ]}]}
            """#
    }

    @Test func instagramWebhooksAreSignedParsedAndOpenTheWindowForAReply() async throws {
        try await Self.with { p, calls in
            let created = try await p.post(
                "/v1/channels",
                NewChannel(
                    kind: "instagram", name: "Shop on Instagram", config: ["pageId": "17841400000000777"],
                    secrets: ["accessToken": "IGAA-test-access-token-777777", "appSecret": "ig-app-secret-value", "verifyToken": "ig-verify"]))
            #expect(created.status == 201, "\(created.text)")
            let channel = try created.json(ChannelDTO.self)
            let path = "/webhooks/instagram/\(channel.publicId)"
            let body = Data(
                Self.instagramBody(
                    business: "17841400000000777", customer: "17900000000000777", mid: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3", readMid: "m_IG-none"
                ).utf8)
            // unsigned or signed with another secret: 401, nothing stored
            for signature in [nil, WebhookSignatures.metaSignature(body: Array(body), appSecret: "meta-app-secret-value")] {
                let refused = try await TestHTTP.request(
                    .POST, "\(p.gateway)\(path)", headers: signature.map { ["X-Hub-Signature-256": $0] } ?? [:], body: body)
                #expect(refused.status == 401)
            }
            let good = WebhookSignatures.metaSignature(body: Array(body), appSecret: "ig-app-secret-value")
            // delivered twice: stored once
            for _ in 0..<2 {
                #expect(try await TestHTTP.request(.POST, "\(p.gateway)\(path)", headers: ["X-Hub-Signature-256": good], body: body).status == 200)
            }
            try await p.eventually("four customer messages (text, photo, quick reply, reaction), not the echo") {
                try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 4
            }
            try await p.eventually("both deliveries handled") {
                try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NULL") == 0
            }
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 4)
            let conversations = try await p.get("/v1/conversations?channelId=\(channel.id)").json(Page<ConversationDTO>.self).items
            let conversation = try #require(conversations.first)
            #expect(conversations.count == 1 && conversation.contact.address == "17900000000000777")
            let thread = try await p.get("/v1/conversations/\(conversation.id)/messages").json(Page<MessageDTO>.self).items
            #expect(thread.map(\.kind) == ["text", "image", "button", "reaction"], "\(thread.map(\.kind))")
            #expect(thread.first?.body == "Muraho! Mufite inkweto za 42?")
            #expect(thread.last?.body == "❤")
            // the customer wrote: a free-form reply goes out inside the 24-hour window, to the IGSID
            let reply = try await Self.send(p, Send(channelId: channel.id.description, to: "17900000000000777", text: "Yego, turazifite."))
            try await Self.settled(p, [reply], [.sent, .failed, .blocked])
            let sent = try await Self.message(p, reply)
            #expect(sent.status == .sent, "\(sent.errorCode ?? "") \(sent.statusReason ?? "")")
            #expect(calls.to("17900000000000777").count >= 1)
            // Instagram's read receipt names the last message seen: it moves our reply to read
            let readBody = Data(
                Self.instagramBody(
                    business: "17841400000000777", customer: "17900000000000777", mid: "m2-\(UUID().uuidString)", readMid: sent.providerMessageId ?? ""
                ).utf8)
            let signed = WebhookSignatures.metaSignature(body: Array(readBody), appSecret: "ig-app-secret-value")
            #expect(try await TestHTTP.request(.POST, "\(p.gateway)\(path)", headers: ["X-Hub-Signature-256": signed], body: readBody).status == 200)
            try await p.eventually("the reply read") { try await Self.message(p, reply).status == .read }
        }
    }

    // MARK: - Email sends

    static func sendgridChannel(
        _ p: MessagingFlowTests.Platform, from: String = "orders@shop.example", apiKey: String = "SG.test-api-key", webhookKey: String? = nil
    ) async throws -> ChannelDTO {
        var secrets = ["apiKey": apiKey]
        secrets["webhookKey"] = webhookKey
        let created = try await p.post(
            "/v1/channels",
            NewChannel(kind: "email", name: "Shop mail", config: ["fromEmail": from, "mailProvider": "sendgrid"], secrets: secrets))
        #expect(created.status == 201, "\(created.text)")
        return try created.json(ChannelDTO.self)
    }

    @Test func sendgridSendsAreAcceptedRetriedOrFailedAsSendGridSays() async throws {
        try await Self.with { p, calls in
            let channel = try await Self.sendgridChannel(p)
            let id = channel.id.description
            for wrong in ["aline", "aline@", "aline@shop", "al ine@shop.example", "aline@@shop.example", "+250788123456"] {
                let refused = try await p.post("/v1/messages", Send(channelId: id, to: wrong, text: "Hi"))
                #expect(refused.status == 422, "\(wrong)")
                #expect(refused.errorCode == "invalid_recipient", "\(wrong)")
            }
            let twoLines = try await p.post("/v1/messages", Send(channelId: id, to: "aline@shop.example", text: "Hi", subject: "One\r\nBcc: x@y.example"))
            #expect(twoLines.status == 422)

            let accepted = try await Self.send(
                p, Send(channelId: id, to: "Aline@Shop.Example", text: "Your voucher for 5000 RWF is ready.", subject: "Your voucher"))
            let invalid = try await Self.send(p, Send(channelId: id, to: "nobody@shop.example", text: "Hello"))
            let limited = try await Self.send(p, Send(channelId: id, to: "busy@shop.example", text: "Habari!\nYour order left the shop."))
            let revoked = try await Self.send(
                p,
                Send(
                    channelId: try await Self.sendgridChannel(p, from: "billing@shop.example", apiKey: "SG.revoked-key").id.description,
                    to: "kezia@shop.example", text: "Hello"))
            try await Self.settled(p, [accepted, invalid, limited, revoked])

            let sent = try await Self.message(p, accepted)
            #expect(sent.status == .pending)
            #expect(sent.providerMessageId == "SG\(calls.to("aline@shop.example").count)aliW86EgYT6SQKk0lRf")
            let refused = try await Self.message(p, invalid)
            #expect(refused.status == .failed)
            #expect(refused.errorCode == "http_400")
            #expect(refused.statusReason?.contains("Does not contain a valid address. (personalizations.0.to.0.email)") == true)
            #expect(calls.to("nobody@shop.example").count == 1, "a permanent refusal is not retried")
            let retried = try await Self.message(p, limited)
            #expect(retried.status == .pending, "\(retried.statusReason ?? "")")
            #expect(calls.to("busy@shop.example").count >= 2)
            #expect(retried.providerMessageId == "SG\(calls.to("busy@shop.example").count)busW86EgYT6SQKk0lRf")
            let unauthorized = try await Self.message(p, revoked)
            #expect(unauthorized.status == .failed)
            #expect(unauthorized.errorCode == "http_401")
            #expect(unauthorized.statusReason?.contains("authorization grant is invalid") == true)

            // the wire: the key as a bearer, from the channel's address to the lower-cased recipient, the subject given,
            // plain text, our id as a custom argument
            let first = try #require(calls.to("aline@shop.example").first)
            #expect(first.path == "/v3/mail/send")
            #expect(first.contentType == "application/json")
            #expect(first.json["from"]?["email"] == .string("orders@shop.example"))
            #expect(first.json["subject"] == .string("Your voucher"))
            #expect(first.json["content"] == .array([.object(["type": .string("text/plain"), "value": .string("Your voucher for 5000 RWF is ready.")])]))
            guard case .array(let personalizations)? = first.json["personalizations"] else {
                Issue.record("no personalizations in \(first.body)")
                return
            }
            #expect(personalizations.first?["custom_args"]?["sokoni_message_id"] == .string(accepted))
            // without a subject, the text's first line is one
            #expect(calls.to("busy@shop.example").last?.json["subject"] == .string("Habari!"))
            // the contact is the lower-cased address
            #expect(try await p.count("SELECT count(*)::int FROM messaging.contacts WHERE address = 'aline@shop.example'") == 1)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.contacts WHERE address <> lower(address)") == 0)
        }
    }

    static func mailgunChannel(_ p: MessagingFlowTests.Platform, webhookKey: String? = nil) async throws -> ChannelDTO {
        var secrets = ["apiKey": "key-mailgun-test-0123456789"]
        secrets["webhookKey"] = webhookKey
        let created = try await p.post(
            "/v1/channels",
            NewChannel(
                kind: "email", name: "Shop mail",
                config: ["fromEmail": "orders@shop.example", "mailProvider": "mailgun", "mailDomain": "mg.shop.example"], secrets: secrets))
        #expect(created.status == 201, "\(created.text)")
        return try created.json(ChannelDTO.self)
    }

    @Test func mailgunSendsAreAcceptedRetriedOrFailedAsMailgunSays() async throws {
        try await Self.with { p, calls in
            let id = try await Self.mailgunChannel(p).id.description
            let accepted = try await Self.send(p, Send(channelId: id, to: "aline@shop.example", text: "Your voucher is ready.", subject: "Your voucher"))
            let invalid = try await Self.send(p, Send(channelId: id, to: "bad@shop.example", text: "Hello"))
            let unavailable = try await Self.send(p, Send(channelId: id, to: "busy@shop.example", text: "Hello"))
            try await Self.settled(p, [accepted, invalid, unavailable])

            let sent = try await Self.message(p, accepted)
            #expect(sent.status == .pending)
            // the id as Mailgun's events name it, without the angle brackets of the answer
            #expect(sent.providerMessageId == "20260101120000.\(calls.to("aline@shop.example").count).ali@mg.shop.example")
            let refused = try await Self.message(p, invalid)
            #expect(refused.status == .failed)
            #expect(refused.errorCode == "http_400")
            #expect(refused.statusReason?.contains("not a valid address") == true)
            #expect(calls.to("bad@shop.example").count == 1, "a permanent refusal is not retried")
            let retried = try await Self.message(p, unavailable)
            #expect(retried.status == .pending, "\(retried.statusReason ?? "")")
            #expect(calls.to("busy@shop.example").count >= 2)
            #expect(retried.providerMessageId == "20260101120000.\(calls.to("busy@shop.example").count).bus@mg.shop.example")

            // the wire: the sending domain's messages, basic auth api:key, a form
            let first = try #require(calls.to("aline@shop.example").first)
            #expect(first.path == "/v3/mg.shop.example/messages")
            #expect(first.authorization == "Basic " + Data("api:key-mailgun-test-0123456789".utf8).base64EncodedString())
            #expect(first.contentType == "application/x-www-form-urlencoded")
            #expect(first.form["from"] == "orders@shop.example")
            #expect(first.form["subject"] == "Your voucher")
            #expect(first.form["text"] == "Your voucher is ready.")
            #expect(first.form["v:sokoni_message_id"] == accepted)
        }
    }

    // MARK: - Email events

    static func sendgridSignature(_ body: Data, timestamp: String, key: P256.Signing.PrivateKey) throws -> String {
        try key.signature(for: Data(timestamp.utf8) + body).derRepresentation.base64EncodedString()
    }

    /// Posts SendGrid events to the channel's webhook, signed with `key` unless told otherwise.
    static func postSendGrid(
        _ url: String, _ events: [[String: JSONValue]], key: P256.Signing.PrivateKey, headers: [String: String]? = nil
    ) async throws -> TestResponse {
        let body = try JSONEncoder().encode(events)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signed =
            try headers ?? [
                "X-Twilio-Email-Event-Webhook-Signature": Self.sendgridSignature(body, timestamp: timestamp, key: key),
                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
            ]
        return try await TestHTTP.request(.POST, url, headers: signed, body: body)
    }

    static func event(_ event: String, _ email: String, _ providerID: String, extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        [
            "email": .string(email), "event": .string(event), "timestamp": .number(Date().timeIntervalSince1970.rounded(.down)),
            "sg_event_id": .string(UUID().uuidString), "sg_message_id": .string(providerID + ".recvd-5f7f5bd6f5-qwx5k-1-5F4F1E53-4.0"),
            "smtp-id": .string("<\(providerID)@geopod-ismtpd-1>"), "category": .array([.string("receipts")]),
        ].merging(extra) { _, new in new }
    }

    @Test func theSendGridEventWebhookIsCheckedBySignatureOverTheRawBody() async throws {
        try await Self.with { p, _ in
            let key = P256.Signing.PrivateKey()
            let channel = try await Self.sendgridChannel(p, webhookKey: key.publicKey.derRepresentation.base64EncodedString())
            let url = try #require(channel.webhookUrl)
            #expect(url.hasSuffix("/webhooks/email/\(channel.publicId)"))
            let events = [Self.event("bounce", "aline@shop.example", "SG1aliW86EgYT6SQKk0lRf", extra: ["type": .string("bounce")])]
            let body = try JSONEncoder().encode(events)
            let timestamp = String(Int(Date().timeIntervalSince1970))
            let good = try Self.sendgridSignature(body, timestamp: timestamp, key: key)

            // signed with another key; no signature; no timestamp; the body changed after signing; another timestamp
            let other = try Self.sendgridSignature(body, timestamp: timestamp, key: P256.Signing.PrivateKey())
            var changed = body
            changed.replaceSubrange(changed.range(of: Data("aline".utf8))!, with: Data("alina".utf8))
            for (headers, bytes) in [
                (["X-Twilio-Email-Event-Webhook-Signature": other, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp], body),
                (["X-Twilio-Email-Event-Webhook-Timestamp": timestamp], body),
                (["X-Twilio-Email-Event-Webhook-Signature": good], body),
                (["X-Twilio-Email-Event-Webhook-Signature": good, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp], changed),
                (["X-Twilio-Email-Event-Webhook-Signature": good, "X-Twilio-Email-Event-Webhook-Timestamp": String(Int(timestamp)! + 1)], body),
                (["X-Twilio-Email-Event-Webhook-Signature": "not base64!", "X-Twilio-Email-Event-Webhook-Timestamp": timestamp], body),
            ] {
                let refused = try await TestHTTP.request(.POST, url, headers: headers, body: bytes)
                #expect(refused.status == 401, "\(headers.keys.sorted())")
                #expect(refused.errorCode == "invalid_signature")
            }
            // a channel without the verification key takes no events at all
            let keyless = try #require(try await Self.sendgridChannel(p, from: "news@shop.example").webhookUrl)
            #expect(try await Self.postSendGrid(keyless, events, key: key).status == 401)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries") == 0)

            let accepted = try await TestHTTP.request(
                .POST, url, headers: ["X-Twilio-Email-Event-Webhook-Signature": good, "X-Twilio-Email-Event-Webhook-Timestamp": timestamp], body: body)
            #expect(accepted.status == 200, "\(accepted.text)")
            #expect(accepted.text == #"{"received":true}"#)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE provider = 'sendgrid'") == 1)
            // a key that is not a P-256 public key is refused when the channel is saved
            let wrongKey = try await p.post(
                "/v1/channels",
                NewChannel(
                    kind: "email", name: "Mail", config: ["fromEmail": "hello@shop.example"],
                    secrets: ["apiKey": "SG.test-api-key", "webhookKey": "bm90IGEga2V5"]))
            #expect(wrongKey.status == 422)
        }
    }

    @Test func aBounceBecomesAnOptOutAndTheNextSendToThatAddressIsBlocked() async throws {
        try await Self.with { p, calls in
            let key = P256.Signing.PrivateKey()
            let channel = try await Self.sendgridChannel(p, webhookKey: key.publicKey.derRepresentation.base64EncodedString())
            let url = try #require(channel.webhookUrl)
            let first = try await Self.send(p, Send(channelId: channel.id.description, to: "aline@shop.example", text: "Your receipt"))
            try await Self.settled(p, [first])
            let providerID = try #require(try await Self.message(p, first).providerMessageId)

            // the receiving server says the mailbox does not exist; SendGrid reports the address in its own case
            let bounced = try await Self.postSendGrid(
                url,
                [
                    Self.event("processed", "Aline@Shop.example", providerID),
                    Self.event(
                        "bounce", "Aline@Shop.example", providerID,
                        extra: [
                            "type": .string("bounce"), "status": .string("5.1.1"),
                            "reason": .string("550 5.1.1 The email account that you tried to reach does not exist."),
                        ]),
                ], key: key)
            #expect(bounced.status == 200, "\(bounced.text)")
            try await p.eventually("the bounce") { try await Self.message(p, first).status == .failed }
            let failed = try await Self.message(p, first)
            #expect(failed.errorCode == "bounce")
            #expect(failed.statusReason?.contains("does not exist") == true)
            let list = try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items
            #expect(list.map(\.source) == ["provider"])
            #expect(list.map(\.masked) == ["al••••@shop.example"])

            // the next send to that address, in whatever case, is blocked by the policy and never reaches SendGrid
            let next = try await Self.send(p, Send(channelId: channel.id.description, to: "ALINE@shop.example", text: "Another receipt"))
            try await Self.settled(p, [next])
            let blocked = try await Self.message(p, next)
            #expect(blocked.status == .blocked)
            #expect(blocked.errorCode == "opted_out")
            #expect(calls.to("aline@shop.example").count == 1)
            // a "blocked" bounce (the server refused it for now) fails the message but leaves the address alone
            let other = try await Self.send(p, Send(channelId: channel.id.description, to: "kezia@shop.example", text: "Your receipt"))
            try await Self.settled(p, [other])
            let otherID = try #require(try await Self.message(p, other).providerMessageId)
            _ = try await Self.postSendGrid(
                url, [Self.event("bounce", "kezia@shop.example", otherID, extra: ["type": .string("blocked"), "reason": .string("421 try later")])], key: key)
            try await p.eventually("the blocked bounce") { try await Self.message(p, other).status == .failed }
            #expect(try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items.count == 1)

            // one mechanism: an address a manager puts on the list, in any case, is the same entry a send checks
            let added = try await p.post("/v1/opt-outs", ["address": "Nia@Shop.Example"])
            #expect(added.status == 201, "\(added.text)")
            #expect(try added.json([String: String].self)["masked"] == "ni••••@shop.example")
            let refused = try await Self.send(p, Send(channelId: channel.id.description, to: "nia@shop.example", text: "Hello"))
            try await Self.settled(p, [refused])
            #expect(try await Self.message(p, refused).errorCode == "opted_out")
            #expect(calls.to("nia@shop.example").isEmpty)
        }
    }

    @Test func deliveredAndOpenMoveTheStatusForwardOnly() async throws {
        try await Self.with { p, _ in
            let key = P256.Signing.PrivateKey()
            let channel = try await Self.sendgridChannel(p, webhookKey: key.publicKey.derRepresentation.base64EncodedString())
            let url = try #require(channel.webhookUrl)
            let id = try await Self.send(p, Send(channelId: channel.id.description, to: "aline@shop.example", text: "Your receipt"))
            try await Self.settled(p, [id])
            let providerID = try #require(try await Self.message(p, id).providerMessageId)
            func post(_ events: [[String: JSONValue]]) async throws {
                let answer = try await Self.postSendGrid(url, events, key: key)
                #expect(answer.status == 200, "\(answer.text)")
                try await p.eventually("the events") {
                    try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NULL") == 0
                }
            }
            try await post([Self.event("delivered", "aline@shop.example", providerID, extra: ["response": .string("250 OK")])])
            #expect(try await Self.message(p, id).status == .delivered)
            try await post([Self.event("open", "aline@shop.example", providerID)])
            #expect(try await Self.message(p, id).status == .read)
            // a late delivered, and a spam report after the read: the status stays read, the history keeps both, and
            // the address is off the list of those who may be mailed
            // (a second later than the first delivered: the same status at the same second is the same receipt, and is dropped)
            let later = JSONValue.number(Date().timeIntervalSince1970.rounded(.down) + 1)
            try await post([
                Self.event("delivered", "aline@shop.example", providerID, extra: ["timestamp": later]),
                Self.event("spamreport", "aline@shop.example", providerID),
            ])
            let read = try await Self.message(p, id)
            #expect(read.status == .read)
            #expect(read.history?.map(\.status) == ["pending", "delivered", "read", "delivered", "failed"], "\(read.history!)")
            #expect(read.history?.map(\.applied) == [true, true, true, false, false])
            #expect(try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items.map(\.source) == ["provider"])
        }
    }

    // MARK: - Mailgun events

    static func mailgunBody(_ data: [String: JSONValue], signingKey: String, timestamp: Date = Date(), token: String = UUID().uuidString + "0123456789abcd")
        -> Data
    {
        let stamp = String(Int(timestamp.timeIntervalSince1970))
        let signature = WebhookSignatures.mailgunSignature(timestamp: stamp, token: token, signingKey: signingKey)
        let body: JSONValue = .object([
            "signature": .object(["timestamp": .string(stamp), "token": .string(token), "signature": .string(signature)]), "event-data": .object(data),
        ])
        return try! JSONEncoder().encode(body)
    }

    static func mailgunEvent(_ event: String, _ recipient: String, _ providerID: String, extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        [
            "event": .string(event), "id": .string(UUID().uuidString), "timestamp": .number(Date().timeIntervalSince1970), "recipient": .string(recipient),
            "message": .object(["headers": .object(["message-id": .string(providerID), "to": .string(recipient)])]),
        ].merging(extra) { _, new in new }
    }

    @Test func mailgunEventsAreCheckedBySignatureAndMoveStatusesAndOptOuts() async throws {
        try await Self.with { p, _ in
            let signingKey = "mailgun-webhook-signing-key-0123456789"
            let channel = try await Self.mailgunChannel(p, webhookKey: signingKey)
            let url = try #require(channel.webhookUrl)
            let id = try await Self.send(p, Send(channelId: channel.id.description, to: "aline@shop.example", text: "Your receipt"))
            try await Self.settled(p, [id])
            let providerID = try #require(try await Self.message(p, id).providerMessageId)
            let delivered = Self.mailgunEvent("delivered", "aline@shop.example", providerID)

            // another key; no signature; a signature of another timestamp; an old one, however well signed
            let stamp = Date()
            let good = Self.mailgunBody(delivered, signingKey: signingKey, timestamp: stamp)
            var noSignature = try JSONDecoder().decode(JSONValue.self, from: good)
            if case .object(var fields) = noSignature {
                fields["signature"] = nil
                noSignature = .object(fields)
            }
            let tampered = String(decoding: good, as: UTF8.self).replacingOccurrences(
                of: #""timestamp":"\#(Int(stamp.timeIntervalSince1970))""#, with: #""timestamp":"\#(Int(stamp.timeIntervalSince1970) - 1)""#)
            #expect(Data(tampered.utf8) != good)
            for body in [
                Self.mailgunBody(delivered, signingKey: "another-key"), try JSONEncoder().encode(noSignature), Data(tampered.utf8),
                Self.mailgunBody(delivered, signingKey: signingKey, timestamp: Date().addingTimeInterval(-3600)),
            ] {
                let refused = try await TestHTTP.request(.POST, url, body: body)
                #expect(refused.status == 401, "\(String(decoding: body, as: UTF8.self))")
            }
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries") == 0)

            func post(_ data: [String: JSONValue]) async throws {
                let answer = try await TestHTTP.request(.POST, url, body: Self.mailgunBody(data, signingKey: signingKey))
                #expect(answer.status == 200, "\(answer.text)")
                try await p.eventually("the event") {
                    try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NULL") == 0
                }
            }
            try await post(delivered)
            #expect(try await Self.message(p, id).status == .delivered)
            try await post(Self.mailgunEvent("opened", "aline@shop.example", providerID))
            #expect(try await Self.message(p, id).status == .read)
            #expect(try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items.isEmpty)

            // a permanent failure to a suppressed address fails the message and puts the address on the list; a
            // temporary one changes nothing (Mailgun tries again)
            let second = try await Self.send(p, Send(channelId: channel.id.description, to: "kezia@shop.example", text: "Your receipt"))
            try await Self.settled(p, [second])
            let secondID = try #require(try await Self.message(p, second).providerMessageId)
            try await post(
                Self.mailgunEvent(
                    "failed", "kezia@shop.example", secondID,
                    extra: ["severity": .string("temporary"), "reason": .string("generic"), "delivery-status": .object(["message": .string("4.2.2 full")])]))
            #expect(try await Self.message(p, second).status == .pending)
            try await post(
                Self.mailgunEvent(
                    "failed", "Kezia@shop.example", secondID,
                    extra: [
                        "severity": .string("permanent"), "reason": .string("suppress-bounce"),
                        "delivery-status": .object(["description": .string("Not delivering to previously bounced address"), "code": .number(605)]),
                    ]))
            let failed = try await Self.message(p, second)
            #expect(failed.status == .failed)
            #expect(failed.errorCode == "suppress-bounce")
            #expect(failed.statusReason == "Not delivering to previously bounced address")
            let list = try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items
            #expect(list.map(\.masked) == ["ke••••@shop.example"])
            #expect(list.map(\.source) == ["provider"])
        }
    }
}
