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
    public static let conversationMessages = endpoint("GET", "/v1/conversations/{id}/messages", .roles(conversationReaders))
    public static let updateConversation = endpoint("PATCH", "/v1/conversations/{id}", .roles(conversationWriters))

    public static let sendMessage = endpoint("POST", "/v1/messages", .roles(conversationWriters.union([.service])))
    public static let getMessage = endpoint("GET", "/v1/messages/{id}", .roles(conversationReaders.union([.service])))

    public static let sandboxOutbox = endpoint("GET", "/v1/sandbox/outbox", .roles(conversationReaders))
    public static let sandboxInbound = endpoint("POST", "/v1/sandbox/inbound", .roles(conversationWriters))

    public static let getSettings = endpoint("GET", "/v1/messaging/settings", .roles(Roles.readers))
    public static let putSettings = endpoint("PUT", "/v1/messaging/settings", .roles([.superAdmin, .support, .tenantAdmin]))

    public static let listOptOuts = endpoint("GET", "/v1/opt-outs", .roles(Roles.managers))
    public static let addOptOut = endpoint("POST", "/v1/opt-outs", .roles(Roles.managers))
    public static let removeOptOut = endpoint("DELETE", "/v1/opt-outs/{hash}", .roles(Roles.managers))

    /// Provider webhooks: public, each checked by its provider's signature or secret.
    public static let whatsAppVerify = endpoint("GET", "/webhooks/whatsapp/{channel}", .public)
    public static let whatsAppWebhook = endpoint("POST", "/webhooks/whatsapp/{channel}", .public)
    public static let instagramVerify = endpoint("GET", "/webhooks/instagram/{channel}", .public)
    public static let instagramWebhook = endpoint("POST", "/webhooks/instagram/{channel}", .public)
    public static let smsWebhook = endpoint("POST", "/webhooks/sms/{channel}", .public)
    public static let telegramWebhook = endpoint("POST", "/webhooks/telegram/{channel}", .public)
    public static let emailWebhook = endpoint("POST", "/webhooks/email/{channel}", .public)

    /// Everything the gateway routes to messaging (the notification endpoint is called service to service).
    public static let all: [Endpoint] = [
        createChannel, listChannels, getChannel, updateChannel, bindAgent, listContacts, updateContact, listConversations, getConversation,
        conversationMessages, updateConversation, sendMessage, getMessage, sandboxOutbox, sandboxInbound, getSettings, putSettings, listOptOuts,
        addOptOut, removeOptOut, whatsAppVerify, whatsAppWebhook, instagramVerify, instagramWebhook, smsWebhook, telegramWebhook, emailWebhook,
        notify,
    ]

    public struct Notification: Codable, Sendable, Equatable {
        /// `voucher_redeemed`, …
        public var kind: String
        public var msisdn: String
        public var voucherId: String?
        public var code: String?
        public var amount: String?
        public var currency: String?
        public var stationId: String?

        public init(
            kind: String, msisdn: String, voucherId: String? = nil, code: String? = nil, amount: String? = nil, currency: String? = nil,
            stationId: String? = nil
        ) {
            self.kind = kind
            self.msisdn = msisdn
            self.voucherId = voucherId
            self.code = code
            self.amount = amount
            self.currency = currency
            self.stationId = stationId
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
}
