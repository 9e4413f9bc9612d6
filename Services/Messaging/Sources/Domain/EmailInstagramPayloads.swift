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

// MARK: - Email addresses

/// Email addresses as the service holds them: trimmed and lower-cased, so one mailbox is one contact and one
/// opt-out entry whatever case the tenant, the customer or a provider's event wrote it in (a local part is
/// case-sensitive in theory and in no mailbox provider in practice). ASCII only: an internationalised domain is
/// written in its punycode form.
enum EmailAddress {
    /// The canonical form of `text`, or nil when it is not a plausible address: one `@`; a local part of 1–64
    /// letters, digits and ``!#$%&'*+/=?^_`{|}~.-`` with no leading, trailing or doubled dot; a domain of two or more
    /// dot-separated labels of letters, digits and inner hyphens, the last not all digits; 200 characters at most
    /// (what a contact's address holds).
    static func canonical(_ text: String) -> String? {
        let address = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard address.utf8.count <= 200, address.allSatisfy(\.isASCII) else { return nil }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let local = parts.first, let domain = parts.last else { return nil }
        guard (1...64).contains(local.count), !local.hasPrefix("."), !local.hasSuffix("."), !local.contains(".."),
            local.allSatisfy({ $0.isLetter || $0.isNumber || Self.localSymbols.contains($0) })
        else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let last = labels.last, !last.allSatisfy(\.isNumber),
            labels.allSatisfy({ label in
                (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
            })
        else { return nil }
        return address
    }

    static let localSymbols = Set("!#$%&'*+/=?^_`{|}~.-")

    /// The domain of a canonical address (`shop.example` of `orders@shop.example`).
    static func domain(of address: String) -> String? {
        address.split(separator: "@").last.map(String.init)
    }

    /// A host name as `domain` checks one: two or more labels of letters, digits and inner hyphens.
    static func isDomain(_ text: String) -> Bool {
        Self.canonical("x@" + text) != nil
    }
}

// MARK: - SendGrid

/// A SendGrid v3 error answer: `{"errors":[{"message":…,"field":…,"help":…}]}`.
struct SendGridErrorBody: Codable, Sendable, Equatable {
    var errors: [Item]?

    struct Item: Codable, Sendable, Equatable {
        var message: String?
        var field: String?
    }

    /// 401 and 403 (a bad or under-privileged API key) and other 4xx are permanent, 429 and 5xx transient; the
    /// reason is SendGrid's messages with the fields they name.
    func failure(httpStatus: Int) -> SendFailure {
        let reason = (self.errors ?? []).compactMap { item in
            item.message.map { message in item.field.map { "\(message) (\($0))" } ?? message }
        }.joined(separator: "; ")
        return SendFailure.http(status: httpStatus).replacingReason(reason.isEmpty ? nil : "SendGrid: " + reason)
    }
}

// MARK: - Mailgun

/// The answer to `POST /v3/{domain}/messages`: `{"id":"<20111114174239.25659.5817@samples.mailgun.org>",
/// "message":"Queued. Thank you."}`; an error answers `{"message":…}` alone.
struct MailgunAnswer: Codable, Sendable, Equatable {
    var id: String?
    var message: String?

    /// The id as the webhooks write it: without its angle brackets.
    var messageId: String? {
        self.id.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}

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

// MARK: - Helpers

extension SendFailure {
    /// The same failure, with the provider's own words when it gave some.
    func replacingReason(_ reason: String?) -> SendFailure {
        guard let reason else { return self }
        switch self {
        case .transient(let code, _): return .transient(code: code, reason: reason)
        case .permanent(let code, _): return .permanent(code: code, reason: reason)
        }
    }
}

/// A value decoded on its own: nil when its JSON does not fit, so one odd element does not sink its array.
struct Lenient<Value: Decodable & Sendable>: Decodable, Sendable {
    var value: Value?

    init(from decoder: any Decoder) throws {
        self.value = try? Value(from: decoder)
    }
}
