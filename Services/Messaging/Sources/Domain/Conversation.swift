import Foundation
import Models

public enum ConversationStatus: String, Codable, Sendable, CaseIterable {
    /// The channel's agent answers.
    case aiActive = "ai_active"
    /// A person took over: the agent stays silent, staff reply through the API.
    case humanEscalated = "human_escalated"
    /// Over; the contact's next message opens a new conversation.
    case closed
}

public enum MessageDirection: String, Codable, Sendable {
    case inbound, outbound
}

public enum MessageSender: String, Codable, Sendable {
    /// The customer.
    case user
    /// The channel's AI agent.
    case agent
    /// A person of the business (staff, an operator).
    case human
    /// Sokoni itself: confirmations, notifications from other services.
    case system
}

/// A message's state. Inbound messages are `received`; outbound ones move queued → pending → sent → delivered →
/// read, or wait as `queued_throttled`, or end `blocked` (the policy refused) or `failed` (the provider did).
public enum MessageStatus: String, Codable, Sendable, CaseIterable {
    case received, queued
    case queuedThrottled = "queued_throttled"
    case pending, sent, delivered, read, failed, blocked
}

public struct ContactDTO: Codable, Sendable, Equatable {
    public var id: ContactID
    public var address: String
    public var name: String?
    public var profileName: String?
    public var tags: [String]
    public var notes: String?
    public var language: String?
    /// Whether the contact opted out (their number's hash is on the tenant's list).
    public var optedOut: Bool?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct UpdateContact: Codable, Sendable {
    public var name: String?
    public var tags: [String]?
    public var notes: String?
}

public struct ConversationDTO: Codable, Sendable, Equatable {
    public var id: ConversationID
    public var channelId: ChannelID
    public var channelKind: ChannelKind
    public var contact: ContactDTO
    public var status: ConversationStatus
    public var lastMessageAt: Date
    public var lastMessagePreview: String?
    public var lastInboundAt: Date?
    public var unreadCount: Int
    public var messageCount: Int
    public var closedReason: String?
    public var createdAt: Date
}

public struct UpdateConversation: Codable, Sendable {
    public var status: ConversationStatus?
    /// Marks everything read (the inbox opened the thread).
    public var read: Bool?
}

public struct TemplateRef: Codable, Sendable, Equatable {
    /// The approved template's name and language at the provider.
    public var name: String
    public var language: String
    /// Values of `{{1}}`, `{{2}}`, … in order.
    public var variables: [String]?
    /// An image for the template's header (a link the provider fetches).
    public var headerImageUrl: String?

    public init(name: String, language: String, variables: [String]? = nil, headerImageUrl: String? = nil) {
        self.name = name
        self.language = language
        self.variables = variables
        self.headerImageUrl = headerImageUrl
    }
}

public struct MediaAttachment: Codable, Sendable, Equatable {
    /// `image`, `document`, `audio`, `video`, `sticker`.
    public var type: String
    /// A link the provider fetches (outbound) or the provider's media id (inbound).
    public var url: String?
    public var id: String?
    public var mimeType: String?
    public var caption: String?
    public var filename: String?
}

public struct MessageDTO: Codable, Sendable, Equatable {
    public var id: MessageID
    public var conversationId: ConversationID
    public var channelId: ChannelID
    public var sequenceNo: Int
    public var direction: MessageDirection
    public var sender: MessageSender
    public var kind: String
    public var body: String?
    public var payload: JSONValue?
    public var providerMessageId: String?
    public var status: MessageStatus
    /// Why a message waits, was blocked or failed, in words a person reads.
    public var statusReason: String?
    public var errorCode: String?
    public var holdUntil: Date?
    public var language: String?
    public var languageConfidence: Double?
    public var tokens: Int?
    public var cost: String?
    public var costCurrency: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// `GET /v1/messages/{id}` only: every status received, in order.
    public var history: [StatusEntry]?
}

public struct StatusEntry: Codable, Sendable, Equatable {
    public var status: String
    public var occurredAt: Date
    public var receivedAt: Date
    public var errorCode: String?
    public var errorReason: String?
    /// Whether it moved the message's status (a late `delivered` after `read` did not).
    public var applied: Bool
}

/// `POST /v1/messages`: to a contact address on a channel, or into a conversation.
public struct SendMessage: Codable, Sendable {
    public var conversationId: ConversationID?
    public var channelId: ChannelID?
    /// E.164 for phone channels, the chat id for Telegram, the Instagram-scoped id (IGSID) for Instagram, an
    /// address for email.
    public var to: String?
    public var text: String?
    public var template: TemplateRef?
    public var media: MediaAttachment?
    /// Email: the subject line. Without one, the text's first line (other channels ignore it).
    public var subject: String?
}

/// `POST /v1/sandbox/inbound`: what a customer would have sent, as if the provider had delivered it.
public struct SimulatedInbound: Codable, Sendable {
    public var channelId: ChannelID?
    public var from: String
    public var text: String
    public var profileName: String?
    /// A provider message id, to try duplicates; one is made when absent.
    public var providerMessageId: String?
}

public struct OutboxEntry: Codable, Sendable, Equatable {
    public var id: Int64
    public var channelId: ChannelID
    public var messageId: MessageID
    public var to: String
    public var body: String?
    public var payload: JSONValue
    public var createdAt: Date
}
