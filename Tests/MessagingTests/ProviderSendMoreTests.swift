import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import Messaging

/// The real Twilio and Telegram adapters against fake providers on loopback that answer as Twilio's and the Bot
/// API's documentation shows: accepted sends, permanent refusals (failed at once with the code and a readable
/// reason, never retried), and rate limits and server errors (retried until they pass); and Twilio's status
/// callback with its price.
@Suite(.serialized) struct ProviderSendMoreTests {
    /// What the fake providers were asked, in order.
    final class Calls: Sendable {
        let twilio = Mutex<[(authorization: String?, form: [String: String])]>([])
        let telegram = Mutex<[(path: String, body: [String: JSONValue])]>([])

        func twilioAttempts(to: String) -> Int { self.twilio.withLock { $0.filter { $0.form["To"] == to }.count } }
        func telegramAttempts(chat: String) -> Int { self.telegram.withLock { $0.filter { $0.body["chat_id"] == .string(chat) }.count } }
    }

    static func answer(_ status: HTTPResponse.Status, _ body: String, type: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The fake's message SID for a number's `attempt`th send: `SM` and 32 characters, as Twilio's.
    static func sid(_ to: String, attempt: Int) -> String {
        let digits = String(to.dropFirst()) + String(attempt)
        return "SM" + digits.prefix(12) + String(repeating: "0", count: 32 - digits.count) + digits.dropFirst(12)
    }

    /// Twilio's Messages resource, agent-core's reply endpoint (answers nothing), and the Bot API's `sendMessage`,
    /// on one loopback server: `MessagingFlowTests.with(agent:)` points every provider and agent-core at it.
    static func providers(_ calls: Calls) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("2010-04-01/Accounts/:sid/Messages.json") { request, context -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let form = TwilioForm.decode(formURLEncoded: text)
            let to = form["To"] ?? ""
            let attempt = calls.twilio.withLock { list in
                list.append((request.headers[.authorization], form))
                return list.filter { $0.form["To"] == to }.count
            }
            func error(_ code: Int, _ message: String, status: Int) -> String {
                #"{"code":\#(code),"message":"\#(message)","more_info":"https://www.twilio.com/docs/errors/\#(code)","status":\#(status)}"#
            }
            switch to {
            case "+250788000002":
                return answer(.badRequest, error(21610, "Attempt to send to unsubscribed recipient", status: 400))
            case "+250788000003":
                return answer(.badRequest, error(21211, "The 'To' number \(to) is not a valid phone number.", status: 400))
            case "+250788000004" where attempt == 1:
                return answer(.tooManyRequests, error(20429, "Too Many Requests", status: 429))
            case "+250788000005" where attempt == 1:
                // an outage in front of the API: no JSON at all
                return answer(.serviceUnavailable, "<html><body>503 Service Unavailable</body></html>", type: "text/html")
            default:
                let sid = sid(to, attempt: attempt)
                return answer(
                    .created,
                    #"""
                    {"account_sid":"\#(context.parameters.get("sid") ?? "")","api_version":"2010-04-01","body":\#(String(decoding: try JSONEncoder().encode(form["Body"] ?? ""), as: UTF8.self)),"date_created":"Thu, 24 Aug 2023 05:01:45 +0000","date_sent":null,"date_updated":"Thu, 24 Aug 2023 05:01:45 +0000","direction":"outbound-api","error_code":null,"error_message":null,"from":"+250788999000","messaging_service_sid":null,"num_media":"0","num_segments":"1","price":null,"price_unit":null,"sid":"\#(sid)","status":"queued","subresource_uris":{"media":"/2010-04-01/Accounts/AC/Messages/\#(sid)/Media.json"},"to":"\#(to)","uri":"/2010-04-01/Accounts/AC/Messages/\#(sid).json"}
                    """#)
            }
        }
        router.post(":bot/sendMessage") { request, context -> Response in
            let body = try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            let chat: String = if case .string(let id)? = body["chat_id"] { id } else { "" }
            let attempt = calls.telegram.withLock { list in
                list.append((request.uri.path, body))
                return list.filter { $0.body["chat_id"] == .string(chat) }.count
            }
            switch chat {
            case "2000002":
                return answer(.forbidden, #"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#)
            case "2000003" where attempt == 1:
                return answer(
                    .tooManyRequests, #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#)
            case "2000004" where attempt == 1:
                return answer(
                    .badGateway, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
                    type: "text/html")
            default:
                let text = String(decoding: try JSONEncoder().encode(body["text"] ?? .string("")), as: UTF8.self)
                return answer(
                    .ok,
                    #"""
                    {"ok":true,"result":{"message_id":\#(40 + attempt),"from":{"id":7000000001,"is_bot":true,"first_name":"Duka","username":"duka_bot"},"chat":{"id":\#(chat),"first_name":"Amani","type":"private"},"date":1700000000,"text":\#(text)}}
                    """#)
            }
        }
        router.post("v1/agent/replies") { _, _ -> Response in answer(.ok, #"{"text":null}"#) }
        return router
    }

    struct SMSChannel: Encodable {
        var kind = "sms"
        var name = "SMS"
        var config = ["accountSid": "AC0123456789abcdef0123456789abcdef", "fromNumber": "+250788999000"]
        var secrets = ["authToken": "twilio-auth-token-0123456789"]
    }

    struct TelegramChannel: Encodable {
        var kind = "telegram"
        var name = "Telegram"
        var config = ["botUsername": "duka_bot"]
        var secrets = ["botToken": "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "secretToken": "telegram-secret-token-123"]
    }

    struct Send: Encodable {
        var channelId: String
        var to: String
        var text: String
    }

    /// Sends one message per recipient through the channel; answers their ids by recipient once every send settled
    /// (accepted or failed).
    static func sendAll(_ p: MessagingFlowTests.Platform, channel: ChannelDTO, to recipients: [String]) async throws -> [String: String] {
        var ids: [String: String] = [:]
        for recipient in recipients {
            let sent = try await p.post("/v1/messages", Send(channelId: channel.id.description, to: recipient, text: "Habari \(recipient)"))
            #expect(sent.status == 202, "\(sent.text)")
            ids[recipient] = try #require(try sent.json(MessagingAPI.Receipt.self).id)
        }
        try await p.eventually("every send settled") {
            var settled = true
            for id in ids.values {
                let status = try await p.get("/v1/messages/\(id)").json(MessageDTO.self).status
                settled = settled && ![.queued, .queuedThrottled].contains(status)
            }
            return settled
        }
        return ids
    }

    @Test func twilioSendsAreAcceptedRetriedOrFailedAsTwilioSays() async throws {
        let calls = Calls()
        try await TestUpstream.with(Self.providers(calls)) { fake in
            try await MessagingFlowTests.with(agent: fake) { p in
                let channel = try await p.post("/v1/channels", SMSChannel()).json(ChannelDTO.self)
                let recipients = ["+250788000001", "+250788000002", "+250788000003", "+250788000004", "+250788000005"]
                let ids = try await Self.sendAll(p, channel: channel, to: recipients)
                func message(_ number: String) async throws -> MessageDTO { try await p.get("/v1/messages/\(ids[number]!)").json(MessageDTO.self) }

                let accepted = try await message("+250788000001")
                #expect(accepted.status == .pending)
                #expect(accepted.providerMessageId == Self.sid("+250788000001", attempt: 1))
                // 21610: the customer replied STOP to Twilio; failed at once, and the number is on the opt-out list
                let stopped = try await message("+250788000002")
                #expect(stopped.status == .failed)
                #expect(stopped.errorCode == "21610")
                #expect(stopped.statusReason?.contains("replied STOP") == true, "\(stopped.statusReason ?? "")")
                #expect(stopped.history?.last?.errorCode == "21610")
                // 21211: not a valid number; failed at once
                let invalid = try await message("+250788000003")
                #expect(invalid.status == .failed)
                #expect(invalid.errorCode == "21211")
                #expect(invalid.statusReason?.contains("Invalid 'To' phone number") == true, "\(invalid.statusReason ?? "")")
                #expect(calls.twilioAttempts(to: "+250788000002") == 1, "a permanent refusal is not retried")
                #expect(calls.twilioAttempts(to: "+250788000003") == 1, "a permanent refusal is not retried")
                // a rate limit (20429) and an outage (503 without a body Twilio's API would send) pass on the second try
                let limited = try await message("+250788000004")
                #expect(limited.status == .pending)
                #expect(limited.providerMessageId == Self.sid("+250788000004", attempt: 2))
                #expect(calls.twilioAttempts(to: "+250788000004") == 2)
                let outage = try await message("+250788000005")
                #expect(outage.status == .pending)
                #expect(outage.providerMessageId == Self.sid("+250788000005", attempt: 2))
                #expect(calls.twilioAttempts(to: "+250788000005") == 2)
                let optOuts = try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items
                #expect(optOuts.map(\.masked) == [PhoneNumber.masked(e164: "+250788000002")])
                #expect(optOuts.map(\.source) == ["provider"])

                // the wire: basic auth with the account SID and token, the form Twilio reads, the status callback URL
                let first = try #require(calls.twilio.withLock { $0.first { $0.form["To"] == "+250788000001" } })
                let credentials = Data("AC0123456789abcdef0123456789abcdef:twilio-auth-token-0123456789".utf8).base64EncodedString()
                #expect(first.authorization == "Basic \(credentials)")
                #expect(first.form["To"] == "+250788000001")
                #expect(first.form["From"] == "+250788999000")
                #expect(first.form["Body"] == "Habari +250788000001")
                #expect(first.form["StatusCallback"] == channel.webhookUrl)
            }
        }
    }

    struct SendMedia: Encodable {
        var channelId: String
        var to: String
        var text: String
        var media: MediaAttachment
    }

    @Test func anSMSCarriesAPictureAsMMSAndADocumentAsItsLink() async throws {
        let calls = Calls()
        try await TestUpstream.with(Self.providers(calls)) { fake in
            try await MessagingFlowTests.with(agent: fake) { p in
                let channel = try await p.post("/v1/channels", SMSChannel()).json(ChannelDTO.self)
                let picture = MediaAttachment(type: "image", url: "https://cdn.example.com/card.png")
                let calendar = MediaAttachment(
                    type: "document", url: "https://sokoni.example.com/v1/calendar/manage/x/appointment.ics", filename: "appointment.ics")
                for (to, media) in [("+250788000001", picture), ("+250788000006", calendar)] {
                    let sent = try await p.post("/v1/messages", SendMedia(channelId: channel.id.description, to: to, text: "Booked", media: media))
                    #expect(sent.status == 202, "\(sent.text)")
                }
                try await p.eventually("both sent") { calls.twilioAttempts(to: "+250788000001") == 1 && calls.twilioAttempts(to: "+250788000006") == 1 }
                let mms = try #require(calls.twilio.withLock { $0.first { $0.form["To"] == "+250788000001" } })
                #expect(mms.form["MediaUrl"] == "https://cdn.example.com/card.png" && mms.form["Body"] == "Booked")
                // Twilio's MMS takes no calendar file (nor reaches most countries): the link goes in the text
                let document = try #require(calls.twilio.withLock { $0.first { $0.form["To"] == "+250788000006" } })
                #expect(document.form["MediaUrl"] == nil)
                #expect(document.form["Body"] == "Booked\nhttps://sokoni.example.com/v1/calendar/manage/x/appointment.ics")
            }
        }
    }

    @Test func telegramSendsAreAcceptedRetriedOrFailedAsTheBotAPISays() async throws {
        let calls = Calls()
        try await TestUpstream.with(Self.providers(calls)) { fake in
            try await MessagingFlowTests.with(agent: fake) { p in
                let created = try await p.post("/v1/channels", TelegramChannel())
                #expect(created.status == 201, "\(created.text)")
                let channel = try created.json(ChannelDTO.self)
                let ids = try await Self.sendAll(p, channel: channel, to: ["2000001", "2000002", "2000003", "2000004"])
                func message(_ chat: String) async throws -> MessageDTO { try await p.get("/v1/messages/\(ids[chat]!)").json(MessageDTO.self) }

                // Telegram reports no delivery: accepted by the Bot API is sent, under `<chat id>:<message id>`
                let accepted = try await message("2000001")
                #expect(accepted.status == .sent)
                #expect(accepted.providerMessageId == "2000001:41")
                // 403 "bot was blocked by the user": failed at once, readable, never retried, and an opt-out
                let blocked = try await message("2000002")
                #expect(blocked.status == .failed)
                #expect(blocked.errorCode == "403")
                #expect(blocked.statusReason?.contains("blocked by the user") == true, "\(blocked.statusReason ?? "")")
                #expect(calls.telegramAttempts(chat: "2000002") == 1, "a permanent refusal is not retried")
                let optOuts = try await p.get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items
                #expect(optOuts.map(\.source) == ["provider"])
                // 429 with retry_after, and a 502 from the proxy in front of the API: retried, then sent
                let limited = try await message("2000003")
                #expect(limited.status == .sent)
                #expect(limited.providerMessageId == "2000003:42")
                #expect(calls.telegramAttempts(chat: "2000003") == 2)
                let outage = try await message("2000004")
                #expect(outage.status == .sent)
                #expect(outage.providerMessageId == "2000004:42")
                #expect(calls.telegramAttempts(chat: "2000004") == 2)

                // the wire: the bot token in the path, the chat id and the text as JSON
                let first = try #require(calls.telegram.withLock { $0.first { $0.body["chat_id"] == .string("2000001") } })
                #expect(first.path == "/bot7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage")
                #expect(first.body["chat_id"] == .string("2000001"))
                #expect(first.body["text"] == .string("Habari 2000001"))
            }
        }
    }

    @Test func aProvidersPriceBecomesACostInMinorUnits() {
        func cost(_ price: String, _ unit: String?) -> Money? {
            StatusUpdate(providerMessageId: "SM1", status: .sent, timestamp: Date(), price: TwilioForm.price(price), priceCurrency: unit).cost
        }
        #expect(cost("-0.07900", "USD") == Money(minorUnits: 8, currency: .USD))
        #expect(cost("-0.00750", "USD") == Money(minorUnits: 1, currency: .USD), "a fraction of a cent rounds half up")
        #expect(cost("-0.00400", "USD") == Money(minorUnits: 0, currency: .USD))
        #expect(cost("-12", "rwf") == Money(minorUnits: 12, currency: .RWF))
        #expect(cost("-1.50", "XYZ") == nil, "a currency Sokoni does not know is not guessed")
        #expect(cost("-1.50", nil) == nil)
    }

    @Test func aTwilioStatusCallbackWithAPriceMovesTheStatusAndRecordsTheCost() async throws {
        let calls = Calls()
        try await TestUpstream.with(Self.providers(calls)) { fake in
            try await MessagingFlowTests.with(agent: fake) { p in
                let channel = try await p.post("/v1/channels", SMSChannel()).json(ChannelDTO.self)
                let url = try #require(channel.webhookUrl)
                let ids = try await Self.sendAll(p, channel: channel, to: ["+250788000001"])
                let id = try #require(ids["+250788000001"])
                let sid = try #require(try await p.get("/v1/messages/\(id)").json(MessageDTO.self).providerMessageId)

                // Twilio's status callback, as it posts it: form-encoded, signed over the URL and the sorted parameters
                let form = [
                    "AccountSid": "AC0123456789abcdef0123456789abcdef", "ApiVersion": "2010-04-01", "From": "+250788999000", "MessageSid": sid,
                    "MessageStatus": "delivered", "SmsSid": sid, "SmsStatus": "delivered", "To": "+250788000001", "Price": "-0.05000",
                    "PriceUnit": "USD", "RawDlrDoneDate": "2506180904",
                ]
                let body = Data(FormEncoding.encode(form.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).utf8)
                let headers = ["Content-Type": "application/x-www-form-urlencoded"]
                func post(_ signature: String?) async throws -> TestResponse {
                    try await TestHTTP.request(
                        .POST, url, headers: signature.map { headers.merging(["X-Twilio-Signature": $0]) { a, _ in a } } ?? headers, body: body)
                }
                // a bad signature (another token, or none): 401, and the message does not move
                let forged = try await post(WebhookSignatures.twilioSignature(url: url, params: form, authToken: "not-the-auth-token"))
                #expect(forged.status == 401)
                #expect(forged.errorCode == "invalid_signature")
                #expect(try await post(nil).status == 401)
                #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries") == 0)
                #expect(try await p.get("/v1/messages/\(id)").json(MessageDTO.self).status == .pending)

                let accepted = try await post(WebhookSignatures.twilioSignature(url: url, params: form, authToken: "twilio-auth-token-0123456789"))
                #expect(accepted.status == 200, "\(accepted.text)")
                try await p.eventually("the delivered status") {
                    try await p.get("/v1/messages/\(id)").json(MessageDTO.self).status == .delivered
                }
                let message = try await p.get("/v1/messages/\(id)").json(MessageDTO.self)
                #expect(message.cost == "0.05", "Twilio's price (-0.05000 USD) is the message's cost")
                #expect(message.costCurrency == "USD")
                #expect(message.history?.map(\.status) == ["pending", "delivered"])
                // the carrier's delivery time (RawDlrDoneDate, UTC) is when it happened
                #expect(message.history?.last?.occurredAt == Date(timeIntervalSince1970: 1_750_237_440))
                // and the cost reaches the analytics
                let analytics = try await p.get("/v1/messaging/analytics").json(MessagingAnalytics.self)
                #expect(analytics.costs == [.init(currency: "USD", amount: "0.05")])
            }
        }
    }
}
