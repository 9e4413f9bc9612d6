import Foundation
import Models
import ServiceClient

/// What agent-core answers other services.
public enum AgentAPI {
    /// `POST /v1/agent/replies`: messaging asks the channel's agent what to answer a customer's message. Idempotent
    /// by the caller's `Idempotency-Key` (the inbound message's id), so a retried job gets the same reply.
    public static let reply = Endpoint("POST", "/v1/agent/replies", .roles([.service]), service: .agentCore)

    public struct ReplyRequest: Codable, Sendable, Equatable {
        public var conversationId: ConversationID
        public var channelId: ChannelID
        /// `whatsapp`, `sms`, `telegram`, `webchat`, …: what the reply may contain.
        public var channelKind: String
        /// The channel's agent; nil when none is bound (agent-core answers with the tenant's default agent).
        public var agentId: AgentID?
        public var contact: Contact
        /// The conversation's recent messages, oldest first, the one to answer last.
        public var messages: [Turn]

        public struct Contact: Codable, Sendable, Equatable {
            public var address: String
            public var name: String?
            public var language: String?

            public init(address: String, name: String?, language: String?) {
                self.address = address
                self.name = name
                self.language = language
            }
        }

        public struct Turn: Codable, Sendable, Equatable {
            /// `user`, `agent`, `human` or `system`.
            public var sender: String
            public var text: String?
            public var kind: String
            public var language: String?
            public var at: Date

            public init(sender: String, text: String?, kind: String, language: String?, at: Date) {
                self.sender = sender
                self.text = text
                self.kind = kind
                self.language = language
                self.at = at
            }
        }

        public init(conversationId: ConversationID, channelId: ChannelID, channelKind: String, agentId: AgentID?, contact: Contact, messages: [Turn]) {
            self.conversationId = conversationId
            self.channelId = channelId
            self.channelKind = channelKind
            self.agentId = agentId
            self.contact = contact
            self.messages = messages
        }
    }

    public struct Reply: Codable, Sendable, Equatable {
        /// What to send; nil to send nothing.
        public var text: String?
        /// The agent hands the conversation to a person (`human_escalated`).
        public var handoff: Bool?
        public var tokens: Int?
        /// What the reply cost, in the currency's minor units.
        public var costMinor: Int64?
        public var costCurrency: String?

        public init(text: String?, handoff: Bool? = nil, tokens: Int? = nil, costMinor: Int64? = nil, costCurrency: String? = nil) {
            self.text = text
            self.handoff = handoff
            self.tokens = tokens
            self.costMinor = costMinor
            self.costCurrency = costCurrency
        }
    }
}

/// Typed calls to agent-core.
public struct AgentClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    public func reply(_ request: AgentAPI.ReplyRequest, idempotencyKey: String, context: CallContext) async throws -> AgentAPI.Reply {
        try await self.client.post(AgentAPI.reply.path, body: request, idempotencyKey: idempotencyKey, context: context)
    }
}
