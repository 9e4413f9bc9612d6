import AsyncHTTPClient
import Foundation
import Logging
import Models
import NIOCore
import NIOHTTP1

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
        } else {
            content = ["text": .string(message.text ?? "")]
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
