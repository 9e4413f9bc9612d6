import AsyncHTTPClient
import Foundation
import Logging
import Models
import NIOCore
import NIOHTTP1
import ServiceKit

/// Instagram Messaging through the Graph API: `POST /{page-id}/messages` (`me`, the token's own account, when the
/// channel names no page) with the access token as a bearer token, to the customer's Instagram-scoped id (IGSID).
/// Every message goes as a `RESPONSE`: the send policy lets free-form messages through only inside the 24-hour
/// window, and Instagram has no templates for outside it. An Instagram attachment carries no caption, so media goes
/// alone, as an attachment the provider fetches from its link.
struct InstagramAdapter: ProviderAdapter {
    let http: HTTPClient
    let baseURL: String

    /// Our media types as Instagram names its attachments.
    static let attachmentTypes = ["image": "image", "sticker": "image", "video": "video", "audio": "audio", "document": "file"]

    func body(_ message: OutboundMessage) -> [String: JSONValue] {
        let content: [String: JSONValue]
        if let media = message.media, let url = media.url {
            content = [
                "attachment": .object(["type": .string(Self.attachmentTypes[media.type] ?? "file"), "payload": .object(["url": .string(url)])])
            ]
        } else if let quickReplies = ReplyOptions.instagramQuickReplies(message.options) {
            content = ["text": .string(message.text ?? ""), "quick_replies": quickReplies]
        } else {
            content = ["text": .string(ReplyOptions.numbered(message.text, message.options) ?? "")]
        }
        return ["recipient": .object(["id": .string(message.to)]), "messaging_type": .string("RESPONSE"), "message": .object(content)]
    }

    func send(_ message: OutboundMessage, channel: ChannelDTO, secrets: ChannelSecrets, logger: Logger) async throws -> SendOutcome {
        guard let token = secrets.accessToken else { return .failed(.permanent(code: "not_configured", reason: "The channel has no access token.")) }
        if message.template != nil {
            return .failed(
                .permanent(code: "unsupported_template", reason: "Instagram has no message templates: send text within 24 hours of the customer's message."))
        }
        var request = HTTPClientRequest(url: "\(self.baseURL)/\(channel.config.pageId ?? "me")/messages")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder.sokoni.encode(self.body(message))))
        let (status, body) = try await self.http.call(request, logger: logger)
        if (200..<300).contains(status), let sent = try? JSONDecoder().decode(InstagramSendResponse.self, from: body), let id = sent.messageId {
            // Instagram reports reads (messaging_seen) but no delivery: accepted is sent
            return .accepted(providerMessageID: id, status: .sent)
        }
        if let error = try? JSONDecoder().decode(GraphErrorBody.self, from: body) {
            return .failed(error.instagramFailure(httpStatus: status))
        }
        return .failed(SendFailure.http(status: status))
    }
}

/// Email through SendGrid v3 (`POST /v3/mail/send`, the API key as a bearer token, the id in `X-Message-Id`) or
/// Mailgun (`POST /v3/{domain}/messages`, form-encoded, basic auth `api:{key}`), as the channel's `mailProvider`
/// says (SendGrid when unset), from the channel's `fromEmail`. Plain text. The subject is the message's own, else
/// the text's first line (78 characters at most), else the channel's name. A template is one stored at the provider
/// (SendGrid's `template_id` with `dynamic_template_data`, Mailgun's `template` with `t:variables`), its variables
/// named "1", "2", … as WhatsApp numbers them. Media goes as its link below the text. Our message id travels as
/// `sokoni_message_id` (SendGrid `custom_args`, Mailgun `v:`), so the provider's events name it too.
struct EmailAdapter: ProviderAdapter {
    let http: HTTPClient
    let sendgridURL: String
    let mailgunURL: String

    func send(_ message: OutboundMessage, channel: ChannelDTO, secrets: ChannelSecrets, logger: Logger) async throws -> SendOutcome {
        guard let from = channel.config.fromEmail, let key = secrets.apiKey else {
            return .failed(.permanent(code: "not_configured", reason: "The channel has no sender address or API key."))
        }
        switch channel.config.mailProvider ?? "sendgrid" {
        case "mailgun":
            guard let domain = channel.config.mailDomain ?? EmailAddress.domain(of: from) else {
                return .failed(.permanent(code: "not_configured", reason: "The channel has no Mailgun domain."))
            }
            return try await self.mailgun(message, from: from, domain: domain, key: key, channel: channel, logger: logger)
        default:
            return try await self.sendgrid(message, from: from, key: key, channel: channel, logger: logger)
        }
    }

    /// The subject: the message's own, else the text's first line, else the channel's name.
    static func subject(_ message: OutboundMessage, channel: ChannelDTO) -> String {
        if let subject = message.subject?.trimmingCharacters(in: .whitespaces), !subject.isEmpty { return subject }
        let firstLine = (message.text ?? message.media?.caption)?.split(whereSeparator: \.isNewline).lazy
            .map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        guard let line = firstLine else { return channel.name }
        guard line.count > 78 else { return line }
        // cut at the last space that leaves room for the ellipsis, or mid-word when there is none
        let head = line.prefix(77)
        let cut = head.lastIndex(of: " ").map { head[..<$0] } ?? head
        return cut.trimmingCharacters(in: .whitespaces) + "…"
    }

    /// The text body: the text (or the media's caption) and the media's link below it.
    static func text(_ message: OutboundMessage) -> String {
        let text = ReplyOptions.numbered(message.text ?? message.media?.caption, message.options)
        guard let url = message.media?.url else { return text ?? "" }
        return [text, url].compactMap { $0 }.joined(separator: "\n\n")
    }

    /// A template's variables as the providers' stored templates name them: `{"1": …, "2": …}`.
    static func variables(_ template: TemplateRef) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: (template.variables ?? []).enumerated().map { (String($0.offset + 1), JSONValue.string($0.element)) })
    }

    func sendgridBody(_ message: OutboundMessage, from: String, channel: ChannelDTO) -> [String: JSONValue] {
        var personalization: [String: JSONValue] = [
            "to": .array([.object(["email": .string(message.to)])]),
            "custom_args": .object(["sokoni_message_id": .string(message.id.description)]),
        ]
        var body: [String: JSONValue] = ["from": .object(["email": .string(from)])]
        if let template = message.template {
            // the stored template has its own subject; one given here fills its {{subject}}
            body["template_id"] = .string(template.name)
            personalization["dynamic_template_data"] = .object(Self.variables(template))
            if let subject = message.subject { personalization["subject"] = .string(subject) }
        } else {
            body["subject"] = .string(Self.subject(message, channel: channel))
            body["content"] = .array([.object(["type": .string("text/plain"), "value": .string(Self.text(message))])])
        }
        body["personalizations"] = .array([.object(personalization)])
        return body
    }

    func sendgrid(_ message: OutboundMessage, from: String, key: String, channel: ChannelDTO, logger: Logger) async throws -> SendOutcome {
        var request = HTTPClientRequest(url: "\(self.sendgridURL)/v3/mail/send")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder.sokoni.encode(self.sendgridBody(message, from: from, channel: channel))))
        let (status, headers, body) = try await self.http.callWithHeaders(request, logger: logger)
        if (200..<300).contains(status) {
            // SendGrid answers 202 with no body: the id its events will carry is in the header
            guard let id = headers.first(name: "X-Message-Id"), !id.isEmpty else {
                logger.warning("SendGrid accepted a message without X-Message-Id", metadata: ["message.id": "\(message.id)"])
                return .accepted(providerMessageID: message.id.description, status: .pending)
            }
            return .accepted(providerMessageID: id, status: .pending)
        }
        let error = (try? JSONDecoder().decode(SendGridErrorBody.self, from: body)) ?? SendGridErrorBody(errors: nil)
        return .failed(error.failure(httpStatus: status))
    }

    func mailgunForm(_ message: OutboundMessage, from: String, channel: ChannelDTO) throws -> [(String, String)] {
        var form: [(String, String)] = [("from", from), ("to", message.to), ("subject", Self.subject(message, channel: channel))]
        if let template = message.template {
            form.append(("template", template.name))
            form.append(("t:variables", String(decoding: try JSONEncoder.sokoni.encode(Self.variables(template)), as: UTF8.self)))
        } else {
            form.append(("text", Self.text(message)))
        }
        form.append(("v:sokoni_message_id", message.id.description))
        return form
    }

    func mailgun(_ message: OutboundMessage, from: String, domain: String, key: String, channel: ChannelDTO, logger: Logger) async throws -> SendOutcome {
        var request = HTTPClientRequest(url: "\(self.mailgunURL)/v3/\(domain)/messages")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Basic " + Data("api:\(key)".utf8).base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(try self.mailgunForm(message, from: from, channel: channel))))
        let (status, body) = try await self.http.call(request, logger: logger)
        let answer = try? JSONDecoder().decode(MailgunAnswer.self, from: body)
        if (200..<300).contains(status), let id = answer?.messageId {
            return .accepted(providerMessageID: id, status: .pending)
        }
        // a refusal is `{"message":…}`, or plain text ("Forbidden") for a bad key
        let text = answer?.message ?? String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        return .failed(SendFailure.http(status: status).replacingReason(text.isEmpty || text.count > 500 ? nil : "Mailgun: " + text))
    }
}

extension HTTPClient {
    /// `call`, with the answer's headers (SendGrid gives a send's id only in `X-Message-Id`).
    func callWithHeaders(_ request: HTTPClientRequest, logger: Logger) async throws -> (status: Int, headers: HTTPHeaders, body: ByteBuffer) {
        do {
            let response = try await self.execute(request, timeout: .seconds(15), logger: logger)
            return (Int(response.status.code), response.headers, try await response.body.collect(upTo: 1 << 20))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ProviderUnreachable(description: "\(error)")
        }
    }
}
