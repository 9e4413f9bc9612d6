import AsyncHTTPClient
import Foundation
import Logging
import Models
import NIOCore
import NIOHTTP1
import ServiceKit

/// What a channel's adapter is asked to send.
struct OutboundMessage: Sendable {
    var id: MessageID
    /// E.164 for phone channels, the chat id for Telegram.
    var to: String
    var text: String?
    var template: TemplateRef?
    var media: MediaAttachment?
    /// Email's subject line, when the sender gave one.
    var subject: String? = nil
    /// Choices offered with the text (the adapters of channels that have buttons send them as such).
    var options: [ReplyOption] = []
}

/// What the provider answered a send.
enum SendOutcome: Sendable, Equatable {
    /// Accepted: the provider's id for the message, and the status that acceptance means.
    case accepted(providerMessageID: String, status: DeliveryStatus)
    case failed(SendFailure)
}

/// Talks to one provider. Each adapter speaks that provider's documented wire format to a base URL from
/// configuration, so tests run the real adapter against a fake provider on loopback.
protocol ProviderAdapter: Sendable {
    func send(_ message: OutboundMessage, channel: ChannelDTO, secrets: ChannelSecrets, logger: Logger) async throws -> SendOutcome
}

/// The base URLs of the providers (`MESSAGING_WHATSAPP_BASE_URL`, …): the real ones by default, a fake in tests.
struct ProviderEndpoints: Sendable {
    var graph: String = "https://graph.facebook.com/v21.0"
    var twilio: String = "https://api.twilio.com"
    var telegram: String = "https://api.telegram.org"
    var sendgrid: String = "https://api.sendgrid.com"
    var mailgun: String = "https://api.mailgun.net"
}

/// A transport failure (no answer, a reset connection): worth another try.
struct ProviderUnreachable: Error, CustomStringConvertible {
    var description: String
}

extension HTTPClient {
    /// One provider call: its status and body, or `ProviderUnreachable`.
    func call(_ request: HTTPClientRequest, logger: Logger) async throws -> (status: Int, body: ByteBuffer) {
        do {
            let response = try await self.execute(request, timeout: .seconds(15), logger: logger)
            return (Int(response.status.code), try await response.body.collect(upTo: 1 << 20))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ProviderUnreachable(description: "\(error)")
        }
    }
}

/// WhatsApp Cloud API: `POST /{phone-number-id}/messages` with the access token as a bearer token.
struct WhatsAppAdapter: ProviderAdapter {
    let http: HTTPClient
    let baseURL: String

    func body(_ message: OutboundMessage) -> [String: JSONValue] {
        var body: [String: JSONValue] = [
            "messaging_product": .string("whatsapp"), "recipient_type": .string("individual"),
            "to": .string(String(message.to.drop { $0 == "+" })),
        ]
        if let template = message.template {
            var value: [String: JSONValue] = ["name": .string(template.name), "language": .object(["code": .string(template.language)])]
            var components: [JSONValue] = []
            if let image = template.headerImageUrl {
                components.append(
                    .object([
                        "type": .string("header"),
                        "parameters": .array([.object(["type": .string("image"), "image": .object(["link": .string(image)])])]),
                    ]))
            }
            if let variables = template.variables, !variables.isEmpty {
                components.append(
                    .object([
                        "type": .string("body"),
                        "parameters": .array(variables.map { .object(["type": .string("text"), "text": .string($0)]) }),
                    ]))
            }
            if !components.isEmpty { value["components"] = .array(components) }
            body["type"] = .string("template")
            body["template"] = .object(value)
        } else if let media = message.media {
            var value: [String: JSONValue] = [:]
            if let url = media.url { value["link"] = .string(url) }
            if let id = media.id { value["id"] = .string(id) }
            if let caption = media.caption ?? message.text, ["image", "video", "document"].contains(media.type) { value["caption"] = .string(caption) }
            if let filename = media.filename, media.type == "document" { value["filename"] = .string(filename) }
            body["type"] = .string(media.type)
            body[media.type] = .object(value)
        } else if let interactive = ReplyOptions.whatsAppInteractive(text: message.text ?? "", options: message.options) {
            body["type"] = .string("interactive")
            body["interactive"] = interactive
        } else {
            body["type"] = .string("text")
            body["text"] = .object(["body": .string(ReplyOptions.numbered(message.text, message.options) ?? ""), "preview_url": .bool(false)])
        }
        return body
    }

    func send(_ message: OutboundMessage, channel: ChannelDTO, secrets: ChannelSecrets, logger: Logger) async throws -> SendOutcome {
        guard let phoneNumberID = channel.config.phoneNumberId, let token = secrets.accessToken else {
            return .failed(.permanent(code: "not_configured", reason: "The channel has no phone number id or access token."))
        }
        var request = HTTPClientRequest(url: "\(self.baseURL)/\(phoneNumberID)/messages")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder.sokoni.encode(self.body(message))))
        let (status, body) = try await self.http.call(request, logger: logger)
        if (200..<300).contains(status), let sent = try? JSONDecoder().decode(WhatsAppSendResponse.self, from: body), let id = sent.messageId {
            return .accepted(providerMessageID: id, status: .pending)
        }
        if let error = try? JSONDecoder().decode(GraphErrorBody.self, from: body) {
            return .failed(error.failure(httpStatus: status))
        }
        return .failed(SendFailure.http(status: status))
    }
}

/// Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic auth.
struct TwilioAdapter: ProviderAdapter {
    let http: HTTPClient
    let baseURL: String
    /// Where Twilio posts status callbacks for this channel.
    let statusCallback: @Sendable (ChannelDTO) -> String?

    func send(_ message: OutboundMessage, channel: ChannelDTO, secrets: ChannelSecrets, logger: Logger) async throws -> SendOutcome {
        guard let sid = channel.config.accountSid, let token = secrets.authToken else {
            return .failed(.permanent(code: "not_configured", reason: "The channel has no account SID or auth token."))
        }
        // SMS has no buttons: the choices are numbered lines, answered with their number
        var text = ReplyOptions.numbered(message.text ?? message.media?.caption, message.options) ?? ""
        // MMS carries pictures, sound and video, and not in every country: a document (a calendar file) goes as its link
        if let media = message.media, media.type == "document", let url = media.url { text += (text.isEmpty ? "" : "\n") + url }
        var form: [(String, String)] = [("To", message.to), ("Body", text)]
        if let from = channel.config.fromNumber {
            form.append(("From", from))
        } else if let service = channel.config.messagingServiceSid {
            form.append(("MessagingServiceSid", service))
        }
        if let media = message.media, media.type != "document", let url = media.url { form.append(("MediaUrl", url)) }
        if let callback = self.statusCallback(channel) { form.append(("StatusCallback", callback)) }
        var request = HTTPClientRequest(url: "\(self.baseURL)/2010-04-01/Accounts/\(sid)/Messages.json")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(sid):\(token)".utf8).base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let (status, body) = try await self.http.call(request, logger: logger)
        if (200..<300).contains(status), let sent = try? JSONDecoder().decode(TwilioMessageResource.self, from: body), let id = sent.sid {
            return .accepted(providerMessageID: id, status: .pending)
        }
        if let error = try? JSONDecoder().decode(TwilioErrorBody.self, from: body), error.code != nil {
            return .failed(error.failure(httpStatus: status))
        }
        return .failed(SendFailure.http(status: status))
    }
}

/// Telegram Bot API: `POST /bot{token}/sendMessage`.
struct TelegramAdapter: ProviderAdapter {
    let http: HTTPClient
    let baseURL: String

    func send(_ message: OutboundMessage, channel: ChannelDTO, secrets: ChannelSecrets, logger: Logger) async throws -> SendOutcome {
        guard let token = secrets.botToken else { return .failed(.permanent(code: "not_configured", reason: "The channel has no bot token.")) }
        var request = HTTPClientRequest(url: "\(self.baseURL)/bot\(token)/sendMessage")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        var body: [String: JSONValue] = ["chat_id": .string(message.to), "text": .string(message.text ?? message.media?.caption ?? "")]
        if let keyboard = ReplyOptions.telegramKeyboard(message.options) { body["reply_markup"] = keyboard }
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder.sokoni.encode(body)))
        let (status, bytes) = try await self.http.call(request, logger: logger)
        let answer = try? JSONDecoder().decode(TelegramResponse<TelegramMessage>.self, from: bytes)
        if let answer, answer.ok, let sent = answer.result {
            // Telegram reports no delivery: accepted by the Bot API is as far as it goes
            return .accepted(providerMessageID: "\(sent.chat.id):\(sent.messageId)", status: .sent)
        }
        return .failed(answer?.failure ?? SendFailure.telegram(errorCode: status, description: nil))
    }
}

extension SendFailure {
    /// A refusal with no body the adapter understands: the HTTP status decides.
    static func http(status: Int) -> SendFailure {
        status >= 500 || status == 429
            ? .transient(code: "http_\(status)", reason: "The provider answered HTTP \(status).")
            : .permanent(code: "http_\(status)", reason: "The provider refused the message (HTTP \(status)).")
    }
}
