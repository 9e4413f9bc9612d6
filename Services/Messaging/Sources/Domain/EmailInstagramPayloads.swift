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

// MARK: - Provider-neutral events

/// An address the provider says must not be mailed again: the processor puts it on the opt-out list.
struct ProviderOptOut: Sendable, Equatable {
    /// Canonical (`EmailAddress`).
    var address: String
    /// The provider's event: `bounce`, `dropped`, `spamreport`, `unsubscribe`, `failed`, `complained`, …
    var event: String
    var reason: String?
}

// MARK: - SendGrid

/// One event of SendGrid's Event Webhook. Only the fields read here are declared; an event whose fields have
/// unexpected types is skipped on its own (`events`), not with its whole batch.
struct SendGridEvent: Codable, Sendable, Equatable {
    var email: String?
    /// Unix seconds.
    var timestamp: Double?
    /// `processed`, `deferred`, `delivered`, `open`, `click`, `bounce`, `dropped`, `spamreport`, `unsubscribe`,
    /// `group_unsubscribe`, `group_resubscribe`.
    var event: String?
    var sgMessageId: String?
    var sgEventId: String?
    /// Why a message bounced or was dropped (`500 unknown recipient`, `Bounced Address`).
    var reason: String?
    /// A bounce's enhanced SMTP status (`5.1.1`).
    var status: String?
    /// A bounce's kind: `bounce` (the address does not take mail) or `blocked` (the receiving server refused it
    /// for now, not the address).
    var type: String?

    enum CodingKeys: String, CodingKey {
        case email, timestamp, event, reason, status, type
        case sgMessageId = "sg_message_id"
        case sgEventId = "sg_event_id"
    }

    /// Why SendGrid drops a message to an address it has on a suppression list: the address is off for us too.
    static let suppressedDropReasons: Set<String> = ["Bounced Address", "Unsubscribed Address", "Spam Reporting Address", "Invalid"]

    /// `sg_message_id` without the part SendGrid adds per event: the `X-Message-Id` the send answered.
    static func messageId(_ sgMessageId: String) -> String {
        for marker in [".filter", ".recvd-"] {
            if let range = sgMessageId.range(of: marker) { return String(sgMessageId[..<range.lowerBound]) }
        }
        return sgMessageId
    }

    /// The events of one webhook body, in order: receipts on the lattice and the opt-outs they imply. A body that is
    /// not a JSON array gives none.
    static func events(body: Data, receivedAt: Date = Date()) -> [InboundEvent] {
        guard let batch = try? JSONDecoder().decode([Lenient<SendGridEvent>].self, from: body) else { return [] }
        return batch.compactMap(\.value).flatMap { $0.events(receivedAt: receivedAt) }
    }

    func events(receivedAt: Date) -> [InboundEvent] {
        guard let event else { return [] }
        let recipient = self.email.flatMap(EmailAddress.canonical)
        func status(_ status: DeliveryStatus, code: String? = nil, reason: String? = nil) -> InboundEvent? {
            guard let id = self.sgMessageId.map(Self.messageId), !id.isEmpty else { return nil }
            return InboundEvent(
                .status(
                    StatusUpdate(
                        providerMessageId: id, status: status, timestamp: self.timestamp.map(Date.init(timeIntervalSince1970:)) ?? receivedAt,
                        errorCode: code, errorReason: reason, recipient: recipient)))
        }
        func optOut(_ reason: String) -> InboundEvent? {
            recipient.map { InboundEvent(.optOut(ProviderOptOut(address: $0, event: event, reason: reason))) }
        }
        let given = self.reason.flatMap { $0.isEmpty ? nil : $0 }
        switch event {
        case "delivered":
            return [status(.delivered)].compactMap { $0 }
        case "open", "click":
            return [status(.read)].compactMap { $0 }
        case "bounce" where self.type == "blocked":
            return [status(.failed, code: "blocked", reason: given ?? "The receiving server blocked the message")].compactMap { $0 }
        case "bounce":
            let reason = given ?? "The address does not accept mail (hard bounce)"
            return [status(.failed, code: "bounce", reason: reason), optOut(reason)].compactMap { $0 }
        case "dropped":
            let reason = given ?? "SendGrid dropped the message"
            let suppressed = given.map(Self.suppressedDropReasons.contains) ?? false
            return [status(.failed, code: "dropped", reason: reason), suppressed ? optOut(reason) : nil].compactMap { $0 }
        case "spamreport":
            let reason = "The recipient reported the message as spam"
            return [status(.failed, code: "spamreport", reason: reason), optOut(reason)].compactMap { $0 }
        case "unsubscribe", "group_unsubscribe":
            let reason = "The recipient unsubscribed"
            return [status(.failed, code: event, reason: reason), optOut(reason)].compactMap { $0 }
        default:
            return []
        }
    }
}

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

/// A Mailgun webhook body: `{"signature":{"timestamp":"…","token":"…","signature":"<hex>"},"event-data":{…}}`.
struct MailgunWebhook: Codable, Sendable, Equatable {
    var signature: Signature?
    var eventData: EventData?

    enum CodingKeys: String, CodingKey {
        case signature
        case eventData = "event-data"
    }

    struct Signature: Codable, Sendable, Equatable {
        /// Unix seconds; Mailgun writes a string, some samples a number: both are read.
        var timestamp: String?
        var token: String?
        var signature: String?

        enum CodingKeys: String, CodingKey {
            case timestamp, token, signature
        }

        init(timestamp: String?, token: String?, signature: String?) {
            self.timestamp = timestamp
            self.token = token
            self.signature = signature
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.timestamp =
                (try? container.decodeIfPresent(String.self, forKey: .timestamp))
                ?? (try? container.decodeIfPresent(Int64.self, forKey: .timestamp)).map { String($0) }
            self.token = try container.decodeIfPresent(String.self, forKey: .token)
            self.signature = try container.decodeIfPresent(String.self, forKey: .signature)
        }
    }

    struct EventData: Codable, Sendable, Equatable {
        /// `accepted`, `delivered`, `opened`, `clicked`, `failed`, `rejected`, `complained`, `unsubscribed`, `stored`.
        var event: String?
        var id: String?
        /// Unix seconds, with a fraction.
        var timestamp: Double?
        var recipient: String?
        /// A failure's: `permanent` or `temporary` (Mailgun tries again itself).
        var severity: String?
        /// A failure's: `bounce`, `suppress-bounce`, `suppress-complaint`, `suppress-unsubscribe`, `generic`, `old`, …
        var reason: String?
        var message: Message?
        var deliveryStatus: Status?

        enum CodingKeys: String, CodingKey {
            case event, id, timestamp, recipient, severity, reason, message
            case deliveryStatus = "delivery-status"
        }
    }

    struct Message: Codable, Sendable, Equatable {
        var headers: Headers?
    }

    struct Headers: Codable, Sendable, Equatable {
        var messageId: String?

        enum CodingKeys: String, CodingKey {
            case messageId = "message-id"
        }
    }

    struct Status: Codable, Sendable, Equatable {
        var message: String?
        var description: String?
    }

    /// Permanent failures that mean the address is off: it bounced, or Mailgun already suppresses it.
    static let optOutReasons: Set<String> = ["bounce", "suppress-bounce", "suppress-complaint", "suppress-unsubscribe"]

    static func events(body: Data, receivedAt: Date = Date()) -> [InboundEvent] {
        guard let hook = try? JSONDecoder().decode(MailgunWebhook.self, from: body) else { return [] }
        return hook.events(receivedAt: receivedAt)
    }

    /// The event's receipt and the opt-out it implies.
    func events(receivedAt: Date) -> [InboundEvent] {
        guard let data = self.eventData, let event = data.event else { return [] }
        let recipient = data.recipient.flatMap(EmailAddress.canonical)
        func status(_ status: DeliveryStatus, code: String? = nil, reason: String? = nil) -> InboundEvent? {
            guard let id = data.message?.headers?.messageId?.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")), !id.isEmpty else {
                return nil
            }
            return InboundEvent(
                .status(
                    StatusUpdate(
                        providerMessageId: id, status: status, timestamp: data.timestamp.map(Date.init(timeIntervalSince1970:)) ?? receivedAt,
                        errorCode: code, errorReason: reason, recipient: recipient)))
        }
        func optOut(_ reason: String) -> InboundEvent? {
            recipient.map { InboundEvent(.optOut(ProviderOptOut(address: $0, event: event, reason: reason))) }
        }
        let described = [data.deliveryStatus?.description, data.deliveryStatus?.message, data.reason].lazy.compactMap { $0 }.first { !$0.isEmpty }
        switch event {
        case "delivered":
            return [status(.delivered)].compactMap { $0 }
        case "opened", "clicked":
            return [status(.read)].compactMap { $0 }
        case "failed" where data.severity == "permanent":
            let reason = described ?? "Mailgun could not deliver the message"
            let off = data.reason.map(Self.optOutReasons.contains) ?? false
            return [status(.failed, code: data.reason ?? "failed", reason: reason), off ? optOut(reason) : nil].compactMap { $0 }
        case "rejected":
            return [status(.failed, code: "rejected", reason: described ?? "Mailgun rejected the message")].compactMap { $0 }
        case "complained":
            let reason = "The recipient reported the message as spam"
            return [status(.failed, code: "complained", reason: reason), optOut(reason)].compactMap { $0 }
        case "unsubscribed":
            let reason = "The recipient unsubscribed"
            return [status(.failed, code: "unsubscribed", reason: reason), optOut(reason)].compactMap { $0 }
        default:
            return []
        }
    }
}

// MARK: - Signatures

extension WebhookSignatures {
    /// Whether SendGrid's Signed Event Webhook signed `body`: `X-Twilio-Email-Event-Webhook-Signature` is the
    /// base64 DER ECDSA P-256 signature of SHA-256(timestamp + body), the timestamp being
    /// `X-Twilio-Email-Event-Webhook-Timestamp` as sent. The verification key is the base64 public key SendGrid
    /// shows (DER, or PEM). No age limit: SendGrid documents none and retries for a day, and replaying a signed
    /// batch repeats only what it already did (statuses move forward, an opt-out is added once).
    static func sendGridValid(body: [UInt8], signature: String?, timestamp: String?, verificationKey: String) -> Bool {
        guard let signature, let timestamp, !timestamp.isEmpty, let key = sendGridKey(verificationKey),
            let der = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)),
            let parsed = try? P256.Signing.ECDSASignature(derRepresentation: der)
        else { return false }
        return key.isValidSignature(parsed, for: Data(timestamp.utf8) + body)
    }

    /// SendGrid's verification key: base64 of the DER public key, as its console shows it, or the same in PEM.
    static func sendGridKey(_ text: String) -> P256.Signing.PublicKey? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("-----BEGIN") { return try? P256.Signing.PublicKey(pemRepresentation: trimmed) }
        return Data(base64Encoded: trimmed).flatMap { try? P256.Signing.PublicKey(derRepresentation: $0) }
    }

    /// How far a Mailgun signature's timestamp may be from now: its signature covers the timestamp and token only,
    /// not the event, so an old one is refused.
    static let mailgunTolerance: TimeInterval = 15 * 60

    /// Whether Mailgun signed a webhook: `signature` is the hex HMAC-SHA256 of timestamp + token under the webhook
    /// signing key, and the timestamp is within `mailgunTolerance` of `now`.
    static func mailgunValid(_ signature: MailgunWebhook.Signature?, signingKey: String, now: Date) -> Bool {
        guard let signature, let timestamp = signature.timestamp, let token = signature.token, let received = signature.signature,
            !signingKey.isEmpty, !token.isEmpty, let seconds = Double(timestamp), abs(now.timeIntervalSince1970 - seconds) <= Self.mailgunTolerance
        else { return false }
        let expected = mailgunSignature(timestamp: timestamp, token: token, signingKey: signingKey)
        return constantTimeEqual(Array(received.trimmingCharacters(in: .whitespaces).lowercased().utf8), Array(expected.utf8))
    }

    /// The `signature.signature` Mailgun sends: lower-case hex HMAC-SHA256(signing key, timestamp + token).
    static func mailgunSignature(timestamp: String, token: String, signingKey: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((timestamp + token).utf8), using: SymmetricKey(data: Data(signingKey.utf8)))
        return Array(mac).hex
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
