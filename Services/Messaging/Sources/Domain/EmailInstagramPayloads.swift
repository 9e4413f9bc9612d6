// Domain: the email providers' and Instagram's wire formats and their provider-neutral reading, no I/O
// (docs/CONTRIBUTING.md).
//
// - SendGrid v3 Mail Send answers 202 with the message's id in the `X-Message-Id` header and refuses with
//   `{"errors":[{"message":…,"field":…,"help":…}]}`. Its Event Webhook posts a JSON array of events, each naming the
//   message by `sg_message_id`: the `X-Message-Id`, then `.filter…` or `.recvd-…` and the event's own part.
// - Mailgun answers `{"id":"<…@domain>","message":"Queued. Thank you."}` and refuses with `{"message":…}`. Its
//   webhooks post one event: `{"signature":{"timestamp","token","signature"},"event-data":{…}}`, the message named by
//   `event-data.message.headers.message-id` (the id without its angle brackets).
// - Instagram Messaging (Graph API) answers `{"recipient_id":…,"message_id":…}` and refuses with the Graph error body.
//
// Receipts become `StatusUpdate`s on the delivery lattice (delivered, read; failed only before delivery), and the
// events that say an address must not be mailed again (a hard bounce, a spam report, an unsubscribe) become
// `ProviderOptOut`s as well.
import Crypto
import Foundation
import ServiceKit

// MARK: - Instagram

/// The answer to `POST /{page-id}/messages` on Instagram: `{"recipient_id":"…","message_id":"…"}`.
struct InstagramSendResponse: Codable, Sendable, Equatable {
    var recipientId: String?
    var messageId: String?

    enum CodingKeys: String, CodingKey {
        case recipientId = "recipient_id"
        case messageId = "message_id"
    }
}

extension GraphErrorBody {
    /// A Graph error as Instagram Messaging means it: its rate limits are transient whatever the HTTP status (they
    /// come as 400s), a send outside the window or to someone unavailable permanent; anything else as `failure`.
    func instagramFailure(httpStatus: Int?) -> SendFailure {
        let given = self.error.message.flatMap { $0.isEmpty ? nil : $0 }
        switch (self.error.code, self.error.errorSubcode) {
        case (10, 2_018_278):
            return .permanent(code: "10", reason: "Outside the allowed window: more than 24 hours since the customer's last message")
        case (551, _):
            return .permanent(code: "551", reason: given ?? "This person isn't available right now")
        case (100, 2_018_001):
            return .permanent(code: "100", reason: "No matching Instagram user: the recipient id is not one this account can message")
        case (.some(let code), _) where [4, 17, 32, 613].contains(code):
            return .transient(code: String(code), reason: given ?? "Instagram rate limit reached")
        case (.some(let code), _) where [1, 2].contains(code) || self.error.isTransient == true:
            return .transient(code: String(code), reason: given ?? "Instagram temporarily unavailable")
        default:
            return self.failure(httpStatus: httpStatus)
        }
    }
}
