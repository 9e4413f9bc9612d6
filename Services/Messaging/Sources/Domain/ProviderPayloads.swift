// Domain: the providers' wire formats and their provider-neutral reading, no I/O (docs/CONTRIBUTING.md).
//
// WhatsApp Cloud API (Meta Graph), Twilio Programmable Messaging and the Telegram Bot API each describe an inbound
// message, a delivery receipt and a failure in their own shape. The Codable types below mirror those shapes: every
// field the providers' documentation marks as possibly absent is optional, and unknown fields are ignored, so a new
// provider field never breaks a webhook. `InboundEvent` is what the rest of the service works with.
import Foundation
import ServiceKit

// MARK: - Delivery status

/// Where an outbound message stands. The providers report receipts out of order and more than once, so the current
/// status only ever moves up the lattice `pending < sent < failed < delivered < read`:
/// - `failed` replaces `pending` and `sent` only: a failure reported after `delivered` or `read` belongs in the history
///   (the caller records it) but does not change the current status;
/// - a lower status never replaces a higher one, so a late `sent` after `read` changes nothing.
/// Because `advance` is the maximum of a total order, the outcome does not depend on the order receipts arrive in.
public enum DeliveryStatus: String, Codable, Sendable, CaseIterable {
    case pending, sent, delivered, read, failed

    /// The position in the lattice; higher wins.
    public var rank: Int {
        switch self {
        case .pending: 0
        case .sent: 1
        case .failed: 2
        case .delivered: 3
        case .read: 4
        }
    }

    /// The status after `incoming` is reported for a message whose current status is `current`.
    public static func advance(from current: DeliveryStatus, to incoming: DeliveryStatus) -> DeliveryStatus {
        incoming.rank > current.rank ? incoming : current
    }

    /// WhatsApp's `statuses[].status`; nil for the ones that are not delivery receipts (`deleted`, `warning`).
    init?(whatsApp value: String) {
        switch value.lowercased() {
        case "sent": self = .sent
        case "delivered": self = .delivered
        case "read": self = .read
        case "failed": self = .failed
        default: return nil
        }
    }

    /// Twilio's `MessageStatus` (callbacks) or `status` (message resource); nil for the inbound ones
    /// (`receiving`, `received`) and anything unknown.
    init?(twilio value: String) {
        switch value.lowercased() {
        case "queued", "accepted", "sending", "scheduled": self = .pending
        case "sent": self = .sent
        case "delivered": self = .delivered
        case "read": self = .read
        case "undelivered", "failed", "canceled": self = .failed
        default: return nil
        }
    }
}

// MARK: - Provider-neutral events

/// One thing a provider's webhook told us: a message from a customer, or a receipt for a message we sent.
struct InboundEvent: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case message(InboundMessage)
        case status(StatusUpdate)
        /// An address the provider will not deliver to again (an email bounce, a spam report, an unsubscribe).
        case optOut(ProviderOptOut)
    }

    var kind: Kind
    /// The business side of the conversation as the provider names it: WhatsApp's `metadata.phone_number_id`, the
    /// Twilio number (E.164), nil for Telegram (a webhook belongs to one bot).
    var channelAddress: String?

    init(_ kind: Kind, channelAddress: String? = nil) {
        self.kind = kind
        self.channelAddress = channelAddress
    }

    var message: InboundMessage? {
        if case .message(let message) = kind { return message }
        return nil
    }

    var status: StatusUpdate? {
        if case .status(let status) = kind { return status }
        return nil
    }
}

/// A message a customer sent.
struct InboundMessage: Sendable, Equatable {
    /// The provider's id: a `wamid.…`, a Twilio `SM…`/`MM…` sid, or `<chat id>:<message id>` for Telegram (Telegram's
    /// message ids are only unique within a chat); a Telegram button press uses the callback query's id.
    var providerMessageId: String
    /// E.164 with a leading `+` for phone channels; the chat id for Telegram.
    var from: String
    var profileName: String?
    var timestamp: Date
    /// "text", "button", "list_reply", "location", "image", "audio", "video", "document", "sticker", "reaction",
    /// "contacts" or "unsupported".
    var kind: String
    /// The text body, the button or list row title, a media caption, the reaction emoji (nil when a reaction is
    /// removed), or the shared contacts' names.
    var text: String?
    /// The button or list row id, the reacted-to message id, or the first shared contact's phone number.
    var payload: String?
    var media: MediaRef?
    var location: InboundLocation?
    /// The message this one replies to (WhatsApp `context.id`, Twilio `OriginalRepliedMessageSid`, Telegram
    /// `reply_to_message` as `<chat id>:<message id>`).
    var replyTo: String?

    init(
        providerMessageId: String, from: String, profileName: String? = nil, timestamp: Date, kind: String,
        text: String? = nil, payload: String? = nil, media: MediaRef? = nil, location: InboundLocation? = nil,
        replyTo: String? = nil
    ) {
        self.providerMessageId = providerMessageId
        self.from = from
        self.profileName = profileName
        self.timestamp = timestamp
        self.kind = kind
        self.text = text
        self.payload = payload
        self.media = media
        self.location = location
        self.replyTo = replyTo
    }
}

/// An attachment as the provider hands it out: an id to fetch through the provider's media API (WhatsApp, Telegram's
/// `file_id`) or a URL (Twilio).
struct MediaRef: Sendable, Equatable {
    var id: String?
    var url: String?
    var mimeType: String?
    var sha256: String?
    var filename: String?

    init(id: String? = nil, url: String? = nil, mimeType: String? = nil, sha256: String? = nil, filename: String? = nil) {
        self.id = id
        self.url = url
        self.mimeType = mimeType
        self.sha256 = sha256
        self.filename = filename
    }
}

/// A shared location.
struct InboundLocation: Sendable, Equatable {
    var latitude: Double
    var longitude: Double
    var name: String?
    var address: String?

    init(latitude: Double, longitude: Double, name: String? = nil, address: String? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.name = name
        self.address = address
    }
}

/// A receipt for a message we sent.
struct StatusUpdate: Sendable, Equatable {
    var providerMessageId: String
    var status: DeliveryStatus
    /// When the provider says it happened, or when the receipt arrived if the provider does not say (Twilio).
    var timestamp: Date
    var errorCode: String?
    var errorReason: String?
    /// What the provider charged, as a positive amount (Twilio reports "-0.00750" for a cost of 0.0075), when it says.
    var price: Decimal?
    var priceCurrency: String?
    /// The customer the message went to (E.164 for phone channels), when the provider says.
    var recipient: String?

    init(
        providerMessageId: String, status: DeliveryStatus, timestamp: Date, errorCode: String? = nil,
        errorReason: String? = nil, price: Decimal? = nil, priceCurrency: String? = nil, recipient: String? = nil
    ) {
        self.providerMessageId = providerMessageId
        self.status = status
        self.timestamp = timestamp
        self.errorCode = errorCode
        self.errorReason = errorReason
        self.price = price
        self.priceCurrency = priceCurrency
        self.recipient = recipient
    }
}

// MARK: - Send failures

/// Why a provider refused or could not deliver a message, and whether trying again can help.
enum SendFailure: Error, Sendable, Equatable {
    /// Worth retrying later (rate limits, provider outages, an unreachable handset).
    case transient(code: String, reason: String)
    /// Retrying the same message will fail the same way.
    case permanent(code: String, reason: String)

    var code: String {
        switch self {
        case .transient(let code, _), .permanent(let code, _): code
        }
    }

    var reason: String {
        switch self {
        case .transient(_, let reason), .permanent(_, let reason): reason
        }
    }

    var isTransient: Bool {
        if case .transient = self { return true }
        return false
    }

    /// The recipient told us (through the provider) to stop: WhatsApp 131050 (stopped marketing messages), Twilio
    /// 21610 (replied STOP), Telegram 403 (blocked the bot). The caller records an opt-out for the address.
    var impliesOptOut: Bool {
        guard case .permanent(let code, _) = self else { return false }
        return Self.optOutCodes.contains(code)
    }

    private static let optOutCodes: Set<String> = ["131050", "21610", "403"]

    private struct Known {
        var transient: Bool
        var reason: String
    }

    private static let whatsAppCodes: [Int: Known] = [
        131026: Known(
            transient: false,
            reason: "Message undeliverable: the number is not a WhatsApp user, has not accepted the current terms, or uses an old WhatsApp version"
        ),
        131047: Known(
            transient: false,
            reason: "Re-engagement message: more than 24 hours have passed since the customer last replied; only a template can be sent"
        ),
        131049: Known(
            transient: false,
            reason: "Not delivered to maintain healthy ecosystem engagement (per-user marketing limit); do not retry the same message soon"
        ),
        131050: Known(transient: false, reason: "The recipient has stopped receiving marketing messages from this business"),
        131056: Known(transient: true, reason: "Pair rate limit: too many messages to this recipient in a short time"),
        130429: Known(transient: true, reason: "Throughput rate limit of the Cloud API reached"),
        131031: Known(transient: false, reason: "The WhatsApp Business account is locked"),
        131048: Known(
            transient: true, reason: "Spam rate limit: too many messages from this number were blocked or reported as spam"
        ),
        131000: Known(transient: true, reason: "Something went wrong at WhatsApp"),
        131016: Known(transient: true, reason: "WhatsApp service temporarily unavailable"),
        132000: Known(transient: false, reason: "The number of template parameters does not match the template"),
        132001: Known(transient: false, reason: "The template does not exist in this language or is not approved"),
        190: Known(transient: false, reason: "The access token has expired or is invalid"),
        4: Known(transient: true, reason: "Application API call rate limit reached"),
        80007: Known(transient: true, reason: "WhatsApp Business account rate limit reached"),
        2: Known(transient: true, reason: "Graph API temporarily unavailable (downtime or overload)"),
    ]

    private static let twilioCodes: [Int: Known] = [
        21610: Known(transient: false, reason: "The recipient replied STOP; messages to this number are blocked"),
        21211: Known(transient: false, reason: "Invalid 'To' phone number"),
        21614: Known(transient: false, reason: "The 'To' number is not a mobile number"),
        30003: Known(transient: true, reason: "Unreachable destination handset (switched off or out of coverage)"),
        30005: Known(transient: false, reason: "Unknown destination handset (the number does not exist or is inactive)"),
        30006: Known(transient: false, reason: "Landline or unreachable carrier"),
        30007: Known(transient: false, reason: "Message filtered by the carrier"),
        30008: Known(transient: true, reason: "Unknown delivery error"),
        30001: Known(transient: true, reason: "Message queue overflow; too many messages queued for this sender"),
        20429: Known(transient: true, reason: "Too many requests"),
        14107: Known(transient: true, reason: "SMS send rate limit exceeded"),
        20500: Known(transient: true, reason: "Twilio internal server error"),
        20503: Known(transient: true, reason: "Twilio service unavailable"),
    ]

    /// A WhatsApp (Graph) error code, from a send response's `error.code` or a failed status's `errors[].code`.
    /// `httpStatus`, when known, decides for codes not listed: 5xx and 429 are transient, anything else permanent.
    static func whatsApp(code: Int, message: String?, httpStatus: Int? = nil) -> SendFailure {
        classify(code: code, known: whatsAppCodes[code], provider: "WhatsApp", message: message, httpStatus: httpStatus)
    }

    /// A Twilio error code, from a send response's `code`/`error_code` or a status callback's `ErrorCode`.
    static func twilio(code: Int, message: String?, httpStatus: Int? = nil) -> SendFailure {
        classify(code: code, known: twilioCodes[code], provider: "Twilio", message: message, httpStatus: httpStatus)
    }

    /// A Telegram `error_code` (an HTTP status) with its `description`.
    static func telegram(errorCode: Int, description: String?) -> SendFailure {
        let code = String(errorCode)
        let described = description.flatMap { $0.isEmpty ? nil : $0 }
        switch errorCode {
        case 403:
            return .permanent(code: code, reason: "The bot was blocked by the user or can no longer write to this chat")
        case 429:
            return .transient(code: code, reason: described ?? "Too many requests; retry after the delay Telegram gives")
        case 400:
            return .permanent(code: code, reason: described ?? "Bad request (for example chat not found)")
        case 401:
            return .permanent(code: code, reason: described ?? "Unauthorized: the bot token is invalid")
        case 500...599:
            return .transient(code: code, reason: described ?? "Telegram server error")
        default:
            return classify(code: errorCode, known: nil, provider: "Telegram", message: description, httpStatus: errorCode)
        }
    }

    private static func classify(code: Int, known: Known?, provider: String, message: String?, httpStatus: Int?) -> SendFailure {
        let text = String(code)
        if let known {
            return known.transient ? .transient(code: text, reason: known.reason) : .permanent(code: text, reason: known.reason)
        }
        let reason = message.flatMap { $0.isEmpty ? nil : $0 } ?? "\(provider) error \(code)"
        let status = httpStatus ?? code
        if status == 429 || (500...599).contains(status) {
            return .transient(code: text, reason: reason)
        }
        return .permanent(code: text, reason: reason)
    }
}

// MARK: - WhatsApp Cloud API webhook

/// The body Meta posts to the webhook: `{"object":"whatsapp_business_account","entry":[{"id":…,"changes":[…]}]}`.
struct WhatsAppWebhook: Codable, Sendable, Equatable {
    var object: String?
    var entry: [Entry]?

    struct Entry: Codable, Sendable, Equatable {
        /// The WhatsApp Business account id.
        var id: String?
        var changes: [Change]?
    }

    struct Change: Codable, Sendable, Equatable {
        /// "messages" for messages and statuses; other subscribed fields (template updates, …) have other values.
        var field: String?
        var value: Value?
    }

    struct Value: Codable, Sendable, Equatable {
        var messagingProduct: String?
        var metadata: Metadata?
        var contacts: [Contact]?
        var messages: [Message]?
        var statuses: [Status]?
        var errors: [WhatsAppError]?

        enum CodingKeys: String, CodingKey {
            case messagingProduct = "messaging_product"
            case metadata, contacts, messages, statuses, errors
        }
    }

    struct Metadata: Codable, Sendable, Equatable {
        var displayPhoneNumber: String?
        var phoneNumberId: String?

        enum CodingKeys: String, CodingKey {
            case displayPhoneNumber = "display_phone_number"
            case phoneNumberId = "phone_number_id"
        }
    }

    struct Contact: Codable, Sendable, Equatable {
        var profile: Profile?
        var waId: String?

        struct Profile: Codable, Sendable, Equatable {
            var name: String?
        }

        enum CodingKeys: String, CodingKey {
            case profile
            case waId = "wa_id"
        }
    }

    struct Message: Codable, Sendable, Equatable {
        var from: String?
        var id: String?
        /// Unix seconds, as a string.
        var timestamp: String?
        var type: String?
        var context: Context?
        var text: Text?
        var interactive: Interactive?
        var button: Button?
        var location: Location?
        var image: Media?
        var audio: Media?
        var video: Media?
        var document: Media?
        var sticker: Media?
        var reaction: Reaction?
        var contacts: [SharedContact]?
        var errors: [WhatsAppError]?
    }

    struct Context: Codable, Sendable, Equatable {
        var from: String?
        var id: String?
    }

    struct Text: Codable, Sendable, Equatable {
        var body: String?
    }

    struct Interactive: Codable, Sendable, Equatable {
        /// "button_reply" or "list_reply" (flows answer with "nfm_reply").
        var type: String?
        var buttonReply: Reply?
        var listReply: Reply?

        struct Reply: Codable, Sendable, Equatable {
            var id: String?
            var title: String?
            var description: String?
        }

        enum CodingKeys: String, CodingKey {
            case type
            case buttonReply = "button_reply"
            case listReply = "list_reply"
        }
    }

    /// A quick-reply button of a template message.
    struct Button: Codable, Sendable, Equatable {
        var payload: String?
        var text: String?
    }

    struct Location: Codable, Sendable, Equatable {
        var latitude: Double?
        var longitude: Double?
        var name: String?
        var address: String?
        var url: String?
    }

    /// `image`, `audio`, `video`, `document` and `sticker` share this shape; each uses some of the fields.
    struct Media: Codable, Sendable, Equatable {
        var id: String?
        var mimeType: String?
        var sha256: String?
        var caption: String?
        var filename: String?
        var url: String?
        var voice: Bool?
        var animated: Bool?

        enum CodingKeys: String, CodingKey {
            case id, sha256, caption, filename, url, voice, animated
            case mimeType = "mime_type"
        }
    }

    struct Reaction: Codable, Sendable, Equatable {
        var messageId: String?
        /// Absent when the customer removes their reaction.
        var emoji: String?

        enum CodingKeys: String, CodingKey {
            case emoji
            case messageId = "message_id"
        }
    }

    struct SharedContact: Codable, Sendable, Equatable {
        var name: Name?
        var phones: [Phone]?

        struct Name: Codable, Sendable, Equatable {
            var formattedName: String?
            var firstName: String?
            var lastName: String?

            enum CodingKeys: String, CodingKey {
                case formattedName = "formatted_name"
                case firstName = "first_name"
                case lastName = "last_name"
            }
        }

        struct Phone: Codable, Sendable, Equatable {
            var phone: String?
            var waId: String?
            var type: String?

            enum CodingKeys: String, CodingKey {
                case phone, type
                case waId = "wa_id"
            }
        }
    }

    struct Status: Codable, Sendable, Equatable {
        var id: String?
        /// "sent", "delivered", "read" or "failed".
        var status: String?
        /// Unix seconds, as a string.
        var timestamp: String?
        var recipientId: String?
        var bizOpaqueCallbackData: String?
        var conversation: Conversation?
        var pricing: Pricing?
        var errors: [WhatsAppError]?

        struct Conversation: Codable, Sendable, Equatable {
            var id: String?
            var expirationTimestamp: String?
            var origin: Origin?

            struct Origin: Codable, Sendable, Equatable {
                var type: String?
            }

            enum CodingKeys: String, CodingKey {
                case id, origin
                case expirationTimestamp = "expiration_timestamp"
            }
        }

        struct Pricing: Codable, Sendable, Equatable {
            var billable: Bool?
            var pricingModel: String?
            var category: String?
            var type: String?

            enum CodingKeys: String, CodingKey {
                case billable, category, type
                case pricingModel = "pricing_model"
            }
        }

        enum CodingKeys: String, CodingKey {
            case id, status, timestamp, conversation, pricing, errors
            case recipientId = "recipient_id"
            case bizOpaqueCallbackData = "biz_opaque_callback_data"
        }
    }

    /// Every message and status of every entry and change, in order. Changes whose field is not "messages" are
    /// skipped, and so are changes for another business number when `channelPhoneNumberId` is given.
    func events(channelPhoneNumberId: String?, receivedAt: Date = Date()) -> [InboundEvent] {
        if let object, object != "whatsapp_business_account" { return [] }
        var events: [InboundEvent] = []
        for entry in entry ?? [] {
            for change in entry.changes ?? [] {
                guard change.field == "messages", let value = change.value else { continue }
                let phoneNumberId = value.metadata?.phoneNumberId
                if let channelPhoneNumberId, phoneNumberId != channelPhoneNumberId { continue }
                for message in value.messages ?? [] {
                    if let inbound = Self.inbound(message, contacts: value.contacts ?? [], receivedAt: receivedAt) {
                        events.append(InboundEvent(.message(inbound), channelAddress: phoneNumberId))
                    }
                }
                for status in value.statuses ?? [] {
                    if let update = Self.update(status, receivedAt: receivedAt) {
                        events.append(InboundEvent(.status(update), channelAddress: phoneNumberId))
                    }
                }
            }
        }
        return events
    }

    private static func inbound(_ message: Message, contacts: [Contact], receivedAt: Date) -> InboundMessage? {
        guard let id = message.id, !id.isEmpty, let sender = message.from ?? (contacts.count == 1 ? contacts[0].waId : nil) else {
            return nil
        }
        let contact = contacts.first { $0.waId == sender } ?? (contacts.count == 1 ? contacts.first : nil)
        var result = InboundMessage(
            providerMessageId: id,
            from: PhoneAddress.e164(sender),
            profileName: contact?.profile?.name,
            timestamp: unixSeconds(message.timestamp) ?? receivedAt,
            kind: "unsupported",
            replyTo: message.context?.id
        )
        switch message.type {
        case "text":
            result.kind = "text"
            result.text = message.text?.body
        case "interactive":
            if message.interactive?.type == "button_reply", let reply = message.interactive?.buttonReply {
                result.kind = "button"
                result.text = reply.title
                result.payload = reply.id
            } else if message.interactive?.type == "list_reply", let reply = message.interactive?.listReply {
                result.kind = "list_reply"
                result.text = reply.title
                result.payload = reply.id
            }
        case "button":
            result.kind = "button"
            result.text = message.button?.text
            result.payload = message.button?.payload
        case "location":
            if let location = message.location, let latitude = location.latitude, let longitude = location.longitude {
                result.kind = "location"
                result.location = InboundLocation(latitude: latitude, longitude: longitude, name: location.name, address: location.address)
            }
        case "image", "audio", "video", "document", "sticker":
            let media: Media? =
                switch message.type {
                case "image": message.image
                case "audio": message.audio
                case "video": message.video
                case "document": message.document
                default: message.sticker
                }
            if let media, let type = message.type {
                result.kind = type
                result.text = media.caption
                result.media = MediaRef(id: media.id, url: media.url, mimeType: media.mimeType, sha256: media.sha256, filename: media.filename)
            }
        case "reaction":
            if let reaction = message.reaction {
                result.kind = "reaction"
                result.text = reaction.emoji
                result.payload = reaction.messageId
            }
        case "contacts":
            if let shared = message.contacts, !shared.isEmpty {
                result.kind = "contacts"
                let names = shared.compactMap { contact in
                    contact.name?.formattedName
                        ?? [contact.name?.firstName, contact.name?.lastName].compactMap { $0 }.joined(separator: " ").nonEmpty
                }
                result.text = names.isEmpty ? nil : names.joined(separator: ", ")
                result.payload = shared.lazy.compactMap { $0.phones?.first?.phone }.first
            }
        default:
            break
        }
        return result
    }

    private static func update(_ status: Status, receivedAt: Date) -> StatusUpdate? {
        guard let id = status.id, !id.isEmpty, let value = status.status, let delivery = DeliveryStatus(whatsApp: value) else {
            return nil
        }
        let error = status.errors?.first
        var errorReason: String?
        if let error {
            errorReason = error.errorData?.details?.nonEmpty ?? error.message?.nonEmpty ?? error.title?.nonEmpty
            if errorReason == nil, let code = error.code {
                errorReason = SendFailure.whatsApp(code: code, message: nil).reason
            }
        }
        return StatusUpdate(
            providerMessageId: id,
            status: delivery,
            timestamp: unixSeconds(status.timestamp) ?? receivedAt,
            errorCode: error?.code.map { String($0) },
            errorReason: errorReason,
            recipient: status.recipientId.map(PhoneAddress.e164)
        )
    }

    private static func unixSeconds(_ text: String?) -> Date? {
        guard let text, let seconds = Int64(text.trimmingCharacters(in: .whitespaces)) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}

/// An error object of the WhatsApp webhook (`statuses[].errors[]`, `messages[].errors[]`, `value.errors[]`).
struct WhatsAppError: Codable, Sendable, Equatable {
    var code: Int?
    var title: String?
    var message: String?
    var errorData: ErrorData?
    var href: String?

    struct ErrorData: Codable, Sendable, Equatable {
        var details: String?
    }

    enum CodingKeys: String, CodingKey {
        case code, title, message, href
        case errorData = "error_data"
    }

    var failure: SendFailure? {
        code.map { SendFailure.whatsApp(code: $0, message: errorData?.details ?? message ?? title) }
    }
}

/// The answer to `POST /{phone-number-id}/messages`:
/// `{"messaging_product":"whatsapp","contacts":[{"input":…,"wa_id":…}],"messages":[{"id":"wamid.…"}]}`.
struct WhatsAppSendResponse: Codable, Sendable, Equatable {
    var messagingProduct: String?
    var contacts: [Contact]?
    var messages: [Message]?

    struct Contact: Codable, Sendable, Equatable {
        var input: String?
        var waId: String?

        enum CodingKeys: String, CodingKey {
            case input
            case waId = "wa_id"
        }
    }

    struct Message: Codable, Sendable, Equatable {
        var id: String?
        /// "accepted", "held_for_quality_assessment" or "paused" for template sends.
        var messageStatus: String?

        enum CodingKeys: String, CodingKey {
            case id
            case messageStatus = "message_status"
        }
    }

    enum CodingKeys: String, CodingKey {
        case contacts, messages
        case messagingProduct = "messaging_product"
    }

    /// The `wamid.…` the receipts will refer to.
    var messageId: String? { messages?.first?.id }
}

/// A Graph API error answer: `{"error":{"message":…,"type":"OAuthException","code":131026,"error_data":{…},…}}`.
struct GraphErrorBody: Codable, Sendable, Equatable {
    var error: Detail

    struct Detail: Codable, Sendable, Equatable {
        var message: String?
        var type: String?
        var code: Int?
        /// Deprecated; not sent from v16.0 on.
        var errorSubcode: Int?
        var errorData: ErrorData?
        var errorUserTitle: String?
        var errorUserMsg: String?
        var isTransient: Bool?
        var fbtraceId: String?

        struct ErrorData: Codable, Sendable, Equatable {
            var messagingProduct: String?
            var details: String?

            enum CodingKeys: String, CodingKey {
                case details
                case messagingProduct = "messaging_product"
            }
        }

        enum CodingKeys: String, CodingKey {
            case message, type, code
            case errorSubcode = "error_subcode"
            case errorData = "error_data"
            case errorUserTitle = "error_user_title"
            case errorUserMsg = "error_user_msg"
            case isTransient = "is_transient"
            case fbtraceId = "fbtrace_id"
        }
    }

    /// The classified failure; `httpStatus` decides for codes the classification does not list.
    func failure(httpStatus: Int?) -> SendFailure {
        let message = error.errorData?.details?.nonEmpty ?? error.message
        guard let code = error.code else {
            let status = httpStatus ?? 0
            let reason = message ?? "WhatsApp error without a code"
            return status == 429 || (500...599).contains(status)
                ? .transient(code: String(status), reason: reason)
                : .permanent(code: String(status), reason: reason)
        }
        return SendFailure.whatsApp(code: code, message: message, httpStatus: httpStatus)
    }
}

// MARK: - Twilio

/// A Twilio Message resource, as `POST /2010-04-01/Accounts/{sid}/Messages.json` answers it.
struct TwilioMessageResource: Codable, Sendable, Equatable {
    var sid: String?
    var accountSid: String?
    var messagingServiceSid: String?
    var status: String?
    var errorCode: Int?
    var errorMessage: String?
    /// A decimal string, negative for a cost ("-0.00750"); null until Twilio knows it.
    var price: String?
    var priceUnit: String?
    var to: String?
    var from: String?
    var body: String?
    var numSegments: String?
    var numMedia: String?
    var direction: String?
    var dateCreated: String?
    var dateSent: String?
    var dateUpdated: String?
    var uri: String?

    enum CodingKeys: String, CodingKey {
        case sid, status, price, to, from, body, direction, uri
        case accountSid = "account_sid"
        case messagingServiceSid = "messaging_service_sid"
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case priceUnit = "price_unit"
        case numSegments = "num_segments"
        case numMedia = "num_media"
        case dateCreated = "date_created"
        case dateSent = "date_sent"
        case dateUpdated = "date_updated"
    }

    var deliveryStatus: DeliveryStatus? { status.flatMap(DeliveryStatus.init(twilio:)) }
    var priceAmount: Decimal? { TwilioForm.price(price) }
    var failure: SendFailure? { errorCode.map { SendFailure.twilio(code: $0, message: errorMessage) } }
}

/// A Twilio REST error answer: `{"code":21211,"message":…,"more_info":…,"status":400}`.
struct TwilioErrorBody: Codable, Sendable, Equatable {
    var code: Int?
    var message: String?
    var moreInfo: String?
    var status: Int?

    enum CodingKeys: String, CodingKey {
        case code, message, status
        case moreInfo = "more_info"
    }

    func failure(httpStatus: Int? = nil) -> SendFailure {
        let status = httpStatus ?? status
        guard let code else {
            let http = status ?? 0
            let reason = message ?? "Twilio error without a code"
            return http == 429 || (500...599).contains(http)
                ? .transient(code: String(http), reason: reason)
                : .permanent(code: String(http), reason: reason)
        }
        return SendFailure.twilio(code: code, message: message, httpStatus: status)
    }
}

/// Twilio's webhooks are form posts (`application/x-www-form-urlencoded`): the incoming-message webhook (`Body`,
/// `NumMedia`, `MediaUrl0`, …) and the status callback (`MessageStatus`, `ErrorCode`, …).
enum TwilioForm {
    /// The events of one form: a status when `MessageStatus` is a delivery status, an inbound message when `Body` or
    /// `NumMedia` is present (an inbound webhook carries no `MessageStatus`, or `received`). Twilio does not date its
    /// webhooks, so `receivedAt` stands in, except for `RawDlrDoneDate` (the carrier's delivery time, YYMMDDhhmm UTC).
    static func events(form: [String: String], receivedAt: Date = Date()) -> [InboundEvent] {
        let messageStatus = form["MessageStatus"]?.nonEmpty
        if let messageStatus, let status = DeliveryStatus(twilio: messageStatus) {
            guard let sid = (form["MessageSid"] ?? form["SmsSid"])?.nonEmpty else { return [] }
            let errorCode = form["ErrorCode"]?.nonEmpty
            let errorReason = errorCode.map { code in
                form["ErrorMessage"]?.nonEmpty ?? Int(code).map { SendFailure.twilio(code: $0, message: nil).reason } ?? "Twilio error \(code)"
            }
            let update = StatusUpdate(
                providerMessageId: sid,
                status: status,
                timestamp: rawDeliveryDate(form["RawDlrDoneDate"]) ?? receivedAt,
                errorCode: errorCode,
                errorReason: errorReason,
                price: price(form["Price"]),
                priceCurrency: form["PriceUnit"]?.nonEmpty,
                recipient: form["To"]?.nonEmpty.map(PhoneAddress.e164)
            )
            return [InboundEvent(.status(update), channelAddress: form["From"]?.nonEmpty.map(PhoneAddress.e164))]
        }
        if let messageStatus, !["received", "receiving"].contains(messageStatus.lowercased()) { return [] }
        guard form["Body"] != nil || form["NumMedia"] != nil,
            let sid = (form["MessageSid"] ?? form["SmsMessageSid"] ?? form["SmsSid"])?.nonEmpty,
            let sender = form["From"]?.nonEmpty
        else { return [] }
        var message = InboundMessage(
            providerMessageId: sid,
            from: PhoneAddress.e164(sender),
            profileName: form["ProfileName"]?.nonEmpty,
            timestamp: receivedAt,
            kind: "text",
            text: form["Body"]?.nonEmpty,
            replyTo: form["OriginalRepliedMessageSid"]?.nonEmpty
        )
        if let count = form["NumMedia"].flatMap({ Int($0) }), count > 0, let url = form["MediaUrl0"]?.nonEmpty {
            let mimeType = form["MediaContentType0"]?.nonEmpty
            message.kind = mediaKind(mimeType)
            message.media = MediaRef(url: url, mimeType: mimeType)
        } else if let latitude = form["Latitude"].flatMap({ Double($0) }), let longitude = form["Longitude"].flatMap({ Double($0) }) {
            message.kind = "location"
            message.location = InboundLocation(
                latitude: latitude, longitude: longitude, name: form["Label"]?.nonEmpty, address: form["Address"]?.nonEmpty
            )
        } else if let payload = form["ButtonPayload"]?.nonEmpty {
            message.kind = "button"
            message.text = form["ButtonText"]?.nonEmpty ?? message.text
            message.payload = payload
        }
        return [InboundEvent(.message(message), channelAddress: form["To"]?.nonEmpty.map(PhoneAddress.e164))]
    }

    /// The form of a webhook's body (ServiceKit's `FormEncoding`).
    static func decode(formURLEncoded body: String) -> [String: String] {
        FormEncoding.decode(body)
    }

    /// A Twilio price ("-0.00750") as a positive amount; nil when absent or not a decimal number.
    static func price(_ text: String?) -> Decimal? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        let pieces = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count), pieces.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
            let value = Decimal(string: String(digits), locale: Locale(identifier: "en_US_POSIX"))
        else { return nil }
        return value
    }

    private static func mediaKind(_ mimeType: String?) -> String {
        let type = mimeType?.lowercased() ?? ""
        if type.hasPrefix("image/") { return "image" }
        if type.hasPrefix("audio/") { return "audio" }
        if type.hasPrefix("video/") { return "video" }
        return "document"
    }

    private static func rawDeliveryDate(_ text: String?) -> Date? {
        guard let text, text.count == 10, text.allSatisfy(\.isASCIIDigit) else { return nil }
        let digits = Array(text)
        func number(_ at: Int) -> Int { Int(String(digits[at..<at + 2]))! }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        components.year = 2000 + number(0)
        components.month = number(2)
        components.day = number(4)
        components.hour = number(6)
        components.minute = number(8)
        guard components.isValidDate else { return nil }
        return components.date
    }
}

// MARK: - Telegram Bot API

/// An `Update` as Telegram posts it to the webhook (or returns it from `getUpdates`).
struct TelegramUpdate: Codable, Sendable, Equatable {
    var updateId: Int64
    var message: TelegramMessage?
    var editedMessage: TelegramMessage?
    var callbackQuery: TelegramCallbackQuery?

    enum CodingKeys: String, CodingKey {
        case message
        case updateId = "update_id"
        case editedMessage = "edited_message"
        case callbackQuery = "callback_query"
    }

    /// The new message or the inline-button press of this update; edits and other update kinds give nothing. A button
    /// press is not dated by Telegram, so it carries `receivedAt`.
    func events(receivedAt: Date = Date()) -> [InboundEvent] {
        if let message {
            return [InboundEvent(.message(message.inbound))]
        }
        if let query = callbackQuery {
            let chatId = query.message?.chat.id ?? query.from.id
            let inbound = InboundMessage(
                providerMessageId: query.id,
                from: String(chatId),
                profileName: query.from.displayName.nonEmpty,
                timestamp: receivedAt,
                kind: "button",
                payload: query.data,
                replyTo: query.message?.providerMessageId
            )
            return [InboundEvent(.message(inbound))]
        }
        return []
    }
}

struct TelegramUser: Codable, Sendable, Equatable {
    var id: Int64
    var isBot: Bool?
    var firstName: String
    var lastName: String?
    var username: String?
    var languageCode: String?

    enum CodingKeys: String, CodingKey {
        case id, username
        case isBot = "is_bot"
        case firstName = "first_name"
        case lastName = "last_name"
        case languageCode = "language_code"
    }

    var displayName: String {
        [firstName, lastName].compactMap { $0?.nonEmpty }.joined(separator: " ")
    }
}

struct TelegramChat: Codable, Sendable, Equatable {
    var id: Int64
    /// "private", "group", "supergroup" or "channel".
    var type: String
    var title: String?
    var username: String?
    var firstName: String?
    var lastName: String?

    enum CodingKeys: String, CodingKey {
        case id, type, title, username
        case firstName = "first_name"
        case lastName = "last_name"
    }
}

struct TelegramMessage: Codable, Sendable, Equatable {
    var messageId: Int64
    var from: TelegramUser?
    var chat: TelegramChat
    /// Unix seconds.
    var date: Int64
    var text: String?
    var caption: String?
    /// The sizes of one photo, smallest first.
    var photo: [TelegramPhotoSize]?
    var document: TelegramFile?
    var audio: TelegramFile?
    var voice: TelegramFile?
    var video: TelegramFile?
    var sticker: TelegramFile?
    var location: TelegramLocation?
    var contact: TelegramContact?
    var replyToMessage: TelegramMessageRef?

    enum CodingKeys: String, CodingKey {
        case from, chat, date, text, caption, photo, document, audio, voice, video, sticker, location, contact
        case messageId = "message_id"
        case replyToMessage = "reply_to_message"
    }

    /// Telegram's message ids are unique within a chat only, so the provider id is `<chat id>:<message id>`; use this
    /// for the result of `sendMessage` as well.
    var providerMessageId: String { "\(chat.id):\(messageId)" }

    var inbound: InboundMessage {
        var result = InboundMessage(
            providerMessageId: providerMessageId,
            from: String(chat.id),
            profileName: from?.displayName.nonEmpty,
            timestamp: Date(timeIntervalSince1970: TimeInterval(date)),
            kind: "unsupported",
            text: caption,
            replyTo: replyToMessage.map { "\($0.chat?.id ?? chat.id):\($0.messageId)" }
        )
        if let text {
            result.kind = "text"
            result.text = text
        } else if let largest = photo?.last {
            result.kind = "image"
            result.media = MediaRef(id: largest.fileId)
        } else if let file = video ?? audio ?? voice ?? document ?? sticker {
            result.kind =
                if video != nil { "video" } else if audio != nil || voice != nil { "audio" } else if document != nil { "document" } else { "sticker" }
            result.media = MediaRef(id: file.fileId, mimeType: file.mimeType, filename: file.fileName)
        } else if let location {
            result.kind = "location"
            result.location = InboundLocation(latitude: location.latitude, longitude: location.longitude)
        } else if let contact {
            result.kind = "contacts"
            result.text = [contact.firstName, contact.lastName].compactMap { $0?.nonEmpty }.joined(separator: " ").nonEmpty
            result.payload = contact.phoneNumber
        }
        return result
    }
}

/// The part of a replied-to message we keep (a full `Message` would make the type recursive).
struct TelegramMessageRef: Codable, Sendable, Equatable {
    var messageId: Int64
    var chat: TelegramChat?

    enum CodingKeys: String, CodingKey {
        case chat
        case messageId = "message_id"
    }
}

struct TelegramPhotoSize: Codable, Sendable, Equatable {
    var fileId: String
    var fileUniqueId: String?
    var width: Int?
    var height: Int?
    var fileSize: Int?

    enum CodingKeys: String, CodingKey {
        case width, height
        case fileId = "file_id"
        case fileUniqueId = "file_unique_id"
        case fileSize = "file_size"
    }
}

/// `Document`, `Audio`, `Voice`, `Video` and `Sticker` share these fields.
struct TelegramFile: Codable, Sendable, Equatable {
    var fileId: String
    var fileUniqueId: String?
    var fileName: String?
    var mimeType: String?
    var fileSize: Int?

    enum CodingKeys: String, CodingKey {
        case fileId = "file_id"
        case fileUniqueId = "file_unique_id"
        case fileName = "file_name"
        case mimeType = "mime_type"
        case fileSize = "file_size"
    }
}

struct TelegramLocation: Codable, Sendable, Equatable {
    var latitude: Double
    var longitude: Double
}

struct TelegramContact: Codable, Sendable, Equatable {
    var phoneNumber: String
    var firstName: String
    var lastName: String?
    var userId: Int64?

    enum CodingKeys: String, CodingKey {
        case phoneNumber = "phone_number"
        case firstName = "first_name"
        case lastName = "last_name"
        case userId = "user_id"
    }
}

struct TelegramCallbackQuery: Codable, Sendable, Equatable {
    var id: String
    var from: TelegramUser
    var message: TelegramMessage?
    var data: String?
}

/// Every Bot API answer: `{"ok":true,"result":…}` or `{"ok":false,"error_code":400,"description":…}`.
struct TelegramResponse<T: Codable & Sendable>: Codable, Sendable {
    var ok: Bool
    var result: T?
    var errorCode: Int?
    var description: String?
    var parameters: Parameters?

    struct Parameters: Codable, Sendable, Equatable {
        /// Seconds to wait before retrying, with a 429.
        var retryAfter: Int?
        /// The supergroup a group was upgraded to.
        var migrateToChatId: Int64?

        enum CodingKeys: String, CodingKey {
            case retryAfter = "retry_after"
            case migrateToChatId = "migrate_to_chat_id"
        }
    }

    enum CodingKeys: String, CodingKey {
        case ok, result, description, parameters
        case errorCode = "error_code"
    }

    /// Nil when `ok`; otherwise the classified failure.
    var failure: SendFailure? {
        ok ? nil : SendFailure.telegram(errorCode: errorCode ?? 0, description: description)
    }
}

extension TelegramResponse: Equatable where T: Equatable {}

// MARK: - Helpers

/// Phone numbers as the providers write them ("16505551234", "whatsapp:+16505551234") made E.164 ("+16505551234").
enum PhoneAddress {
    static func e164(_ raw: String) -> String {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if text.lowercased().hasPrefix("whatsapp:") { text = String(text.dropFirst("whatsapp:".count)) }
        if text.hasPrefix("+") { return text }
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) { return "+" + text }
        return text
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
