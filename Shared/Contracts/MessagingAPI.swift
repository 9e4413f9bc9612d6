import Foundation
import Models

/// What messaging answers other services.
public enum MessagingAPI {
    /// `POST /v1/messaging/notifications`: tell a customer something (a redeemed voucher, a reminder). Idempotent
    /// by the caller's `Idempotency-Key`.
    public static let notify = Endpoint("POST", "/v1/messaging/notifications", .roles([.service]), service: .messaging)

    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .messaging)
    }

    /// Who works a tenant's conversations: its managers and its agents (people answering customers).
    static let conversationWriters = Roles.managers.union([.agent])
    static let conversationReaders = Roles.readers.union([.agent])

    public static let createChannel = endpoint("POST", "/v1/channels", .roles([.superAdmin, .support, .tenantAdmin]))
    public static let listChannels = endpoint("GET", "/v1/channels", .roles(Roles.readers))
    public static let getChannel = endpoint("GET", "/v1/channels/{id}", .roles(Roles.readers))
    public static let updateChannel = endpoint("PATCH", "/v1/channels/{id}", .roles([.superAdmin, .support, .tenantAdmin]))
    public static let bindAgent = endpoint("PUT", "/v1/channels/{id}/agent", .roles([.superAdmin, .support, .tenantAdmin]))

    public static let listContacts = endpoint("GET", "/v1/contacts", .roles(conversationReaders))
    public static let updateContact = endpoint("PATCH", "/v1/contacts/{id}", .roles(conversationWriters))

    public static let listConversations = endpoint("GET", "/v1/conversations", .roles(conversationReaders))
    public static let getConversation = endpoint("GET", "/v1/conversations/{id}", .roles(conversationReaders))
    /// A conversation's messages; services read them too (the CRM's extractions).
    public static let conversationMessages = endpoint("GET", "/v1/conversations/{id}/messages", .roles(conversationReaders.union([.service])))
    public static let updateConversation = endpoint("PATCH", "/v1/conversations/{id}", .roles(conversationWriters))

    public static let sendMessage = endpoint("POST", "/v1/messages", .roles(conversationWriters.union([.service])))
    public static let getMessage = endpoint("GET", "/v1/messages/{id}", .roles(conversationReaders.union([.service])))

    public static let sandboxOutbox = endpoint("GET", "/v1/sandbox/outbox", .roles(conversationReaders))
    public static let sandboxInbound = endpoint("POST", "/v1/sandbox/inbound", .roles(conversationWriters))

    public static let getSettings = endpoint("GET", "/v1/messaging/settings", .roles(Roles.readers))
    public static let analytics = endpoint("GET", "/v1/messaging/analytics", .roles(Roles.readers))
    /// Per UTC day: `conversations` started, `inbound.<channel kind>` and `outbound.<channel kind>` messages,
    /// `failed` outbound (failed or blocked), `cost.<currency>` in minor units (`DailyCounts`).
    public static let daily = endpoint("GET", "/v1/messaging/daily", .roles(DailyCounts.readers))
    public static let putSettings = endpoint("PUT", "/v1/messaging/settings", .roles([.superAdmin, .support, .tenantAdmin]))

    public static let listOptOuts = endpoint("GET", "/v1/opt-outs", .roles(Roles.managers))
    public static let addOptOut = endpoint("POST", "/v1/opt-outs", .roles(Roles.managers))
    public static let removeOptOut = endpoint("DELETE", "/v1/opt-outs/{hash}", .roles(Roles.managers))
    /// The CRM's word on a customer's consent (a person changed the lead's opt-in): the opt-out list follows it.
    public static let consent = endpoint("PUT", "/v1/messaging/consent", .roles([.service]))

    /// Provider webhooks: public, each checked by its provider's signature or secret.
    public static let whatsAppVerify = endpoint("GET", "/webhooks/whatsapp/{channel}", .public)
    public static let whatsAppWebhook = endpoint("POST", "/webhooks/whatsapp/{channel}", .public)
    public static let instagramVerify = endpoint("GET", "/webhooks/instagram/{channel}", .public)
    public static let instagramWebhook = endpoint("POST", "/webhooks/instagram/{channel}", .public)
    public static let smsWebhook = endpoint("POST", "/webhooks/sms/{channel}", .public)
    public static let telegramWebhook = endpoint("POST", "/webhooks/telegram/{channel}", .public)
    public static let emailWebhook = endpoint("POST", "/webhooks/email/{channel}", .public)

    /// WebSockets, which the gateway relays message by message (`SocketRelay`) rather than routes: the web-chat
    /// widget's (public; the channel's allowed origins and the visitor's token decide) and the console's live
    /// events (the first frame carries the access token: browsers cannot set headers on a socket).
    public static let webChatSocket = endpoint("GET", "/webchat/socket", .public)
    public static let liveSocket = endpoint("GET", "/v1/messaging/live", .roles(conversationReaders))
    public static let sockets: [Endpoint] = [webChatSocket, liveSocket]

    /// Everything the gateway routes to messaging (the notification endpoint is called service to service).
    public static let all: [Endpoint] =
        [
            createChannel, listChannels, getChannel, updateChannel, bindAgent, listContacts, updateContact, listConversations, getConversation,
            conversationMessages, updateConversation, sendMessage, getMessage, sandboxOutbox, sandboxInbound, getSettings, putSettings, analytics, daily,
            listOptOuts,
            addOptOut, removeOptOut, consent, whatsAppVerify, whatsAppWebhook, instagramVerify, instagramWebhook, smsWebhook, telegramWebhook, emailWebhook,
            notify,
        ] + campaignEndpoints

    public struct Notification: Codable, Sendable, Equatable {
        /// `voucher_redeemed`, …; `calendar_connection_broken` (to the tenant's alert phone: `title` the calendar,
        /// `comment` Google's reason).
        public var kind: String
        public var msisdn: String
        public var voucherId: String?
        public var code: String?
        public var amount: String?
        public var currency: String?
        public var stationId: String?
        /// An image to send with the notice (`voucher_issued`: the voucher's card), a link the provider can fetch.
        public var mediaUrl: String?
        /// Whom to tell how the message fared (`DeliveryReport`), and the reference to tell them.
        public var callback: Callback?
        /// `insurance_quote_approved`, `insurance_quote_needs_changes`: the quote, its insurer and cover, and the
        /// reviewer's comment (what to change).
        public var quoteId: String?
        public var insurer: String?
        public var coverType: String?
        public var comment: String?
        /// `appointment_confirmation`, `appointment_reminder`, `appointment_rescheduled`: what it is, when (as the
        /// customer reads it: `2027-03-28 09:00 (Europe/Malta)`), and where.
        public var title: String?
        public var when: String?
        public var location: String?
        /// Appointment notices: the customer's link to confirm, cancel or move it.
        public var link: String?
        /// A file sent with the notice as a document (the confirmation's `.ics`), a link the provider can fetch.
        public var attachmentUrl: String?
        public var attachmentFilename: String?

        public init(
            kind: String, msisdn: String, voucherId: String? = nil, code: String? = nil, amount: String? = nil, currency: String? = nil,
            stationId: String? = nil, mediaUrl: String? = nil, callback: Callback? = nil, quoteId: String? = nil, insurer: String? = nil,
            coverType: String? = nil, comment: String? = nil, title: String? = nil, when: String? = nil, location: String? = nil,
            link: String? = nil, attachmentUrl: String? = nil, attachmentFilename: String? = nil
        ) {
            self.link = link
            self.attachmentUrl = attachmentUrl
            self.attachmentFilename = attachmentFilename
            self.title = title
            self.when = when
            self.location = location
            self.kind = kind
            self.msisdn = msisdn
            self.voucherId = voucherId
            self.code = code
            self.amount = amount
            self.currency = currency
            self.stationId = stationId
            self.mediaUrl = mediaUrl
            self.callback = callback
            self.quoteId = quoteId
            self.insurer = insurer
            self.coverType = coverType
            self.comment = comment
        }
    }

    /// A service that wants to hear how its message fared: messaging posts a `DeliveryReport` to the service's
    /// `deliveryReportEndpoint` each time the message's status moves to sent, delivered, read, failed or blocked.
    public struct Callback: Codable, Sendable, Equatable {
        public var service: ServiceName
        /// The caller's own name for what the message was about (a voucher id).
        public var reference: String

        public init(service: ServiceName, reference: String) {
            self.service = service
            self.reference = reference
        }
    }

    public struct DeliveryReport: Codable, Sendable, Equatable {
        public var reference: String
        public var messageId: String
        /// `sent`, `delivered`, `read`, `failed` or `blocked`.
        public var status: String
        public var errorCode: String?
        public var reason: String?

        public init(reference: String, messageId: String, status: String, errorCode: String? = nil, reason: String? = nil) {
            self.reference = reference
            self.messageId = messageId
            self.status = status
            self.errorCode = errorCode
            self.reason = reason
        }
    }

    /// Where each service takes its delivery reports; nil: the service takes none.
    public static func deliveryReportEndpoint(_ service: ServiceName) -> Endpoint? {
        switch service {
        case .vouchers: VouchersAPI.deliveryReport
        default: nil
        }
    }

    /// Messaging's receipt.
    public struct Receipt: Codable, Sendable, Equatable {
        public var id: String?
        public var status: String?

        public init(id: String?, status: String?) {
            self.id = id
            self.status = status
        }
    }

    /// `PUT /v1/messaging/consent`: whether the address may be messaged.
    public struct Consent: Codable, Sendable, Equatable {
        public var address: String
        public var optedIn: Bool

        public init(address: String, optedIn: Bool) {
            self.address = address
            self.optedIn = optedIn
        }
    }

    public struct ConsentReceipt: Codable, Sendable, Equatable {
        /// False when the list already said so.
        public var changed: Bool

        public init(changed: Bool) {
            self.changed = changed
        }
    }

    /// A message as other services read it (`GET /v1/conversations/{id}/messages`, in sequence).
    public struct ConversationMessage: Codable, Sendable, Equatable {
        public var sequenceNo: Int
        /// `inbound` (the customer's) or `outbound`.
        public var direction: String
        public var sender: String
        public var body: String?
        public var createdAt: Date
    }

    public struct ConversationMessages: Codable, Sendable, Equatable {
        public var items: [ConversationMessage]
        /// The sequence number to read on from; none at the end.
        public var nextCursor: String?
    }
}
