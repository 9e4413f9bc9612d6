import Foundation
import Models
import ServiceClient

/// What agent-core answers other services.
public enum AgentAPI {
    /// `POST /v1/agent/replies`: messaging asks the channel's agent what to answer a customer's message. Idempotent
    /// by the caller's `Idempotency-Key` (the inbound message's id), so a retried job gets the same reply.
    public static let reply = Endpoint("POST", "/v1/agent/replies", .roles([.service]), service: .agentCore)

    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .agentCore)
    }

    /// Who shapes what agents say: platform staff who build agents, and the tenant's admins.
    static let builders: Set<Role> = [.superAdmin, .dataOps, .tenantAdmin]

    public static let listAgents = endpoint("GET", "/v1/agents", .roles(Roles.readers.union([.agent])))
    public static let createAgent = endpoint("POST", "/v1/agents", .roles(builders))
    public static let getAgent = endpoint("GET", "/v1/agents/{id}", .roles(Roles.readers.union([.agent])))
    public static let updateAgent = endpoint("PATCH", "/v1/agents/{id}", .roles(builders))
    public static let listPrompts = endpoint("GET", "/v1/agents/{id}/prompts", .roles(Roles.readers))
    public static let createPrompt = endpoint("POST", "/v1/agents/{id}/prompts", .roles(builders))
    public static let activatePrompt = endpoint("POST", "/v1/agents/{id}/prompts/{version}/activate", .roles(builders))
    public static let promptDiff = endpoint("GET", "/v1/agents/{id}/prompts/diff", .roles(Roles.readers))
    public static let listFaqs = endpoint("GET", "/v1/faqs", .roles(Roles.readers.union([.agent])))
    public static let createFaq = endpoint("POST", "/v1/faqs", .roles(builders.union([.support])))
    public static let updateFaq = endpoint("PATCH", "/v1/faqs/{id}", .roles(builders.union([.support])))
    /// Preview sessions ("Try it"): staff who build agents and the tenant's admins talk to an agent before it is live.
    public static let listSessions = endpoint("GET", "/v1/agent/sessions", .roles(builders))
    public static let createSession = endpoint("POST", "/v1/agent/sessions", .roles(builders))
    public static let getSession = endpoint("GET", "/v1/agent/sessions/{id}", .roles(builders))
    public static let sendSessionMessage = endpoint("POST", "/v1/agent/sessions/{id}/messages", .roles(builders))
    /// LLM spend per day, model, agent or provider, with the cap (JSON or CSV); the price table (platform admins
    /// change it); a tenant's own LLM providers and monthly cap (keys write-only).
    public static let costs = endpoint("GET", "/v1/agent/costs", .roles(Roles.readers))
    public static let listPrices = endpoint("GET", "/v1/agent/prices", .roles(Roles.readers))
    public static let putPrices = endpoint("PUT", "/v1/agent/prices", .roles([.superAdmin]))
    public static let getProviders = endpoint("GET", "/v1/agent/providers", .roles(Roles.readers))
    public static let putProviders = endpoint("PUT", "/v1/agent/providers", .roles([.superAdmin, .tenantAdmin]))
    /// The knowledge base: builders write, readers and the tenant's agents read and search.
    public static let listKnowledge = endpoint("GET", "/v1/knowledge", .roles(Roles.readers.union([.agent])))
    public static let createKnowledge = endpoint("POST", "/v1/knowledge", .roles(builders))
    public static let searchKnowledge = endpoint("POST", "/v1/knowledge/search", .roles(Roles.readers.union([.agent])))
    public static let getKnowledge = endpoint("GET", "/v1/knowledge/{id}", .roles(Roles.readers.union([.agent])))
    public static let updateKnowledge = endpoint("PATCH", "/v1/knowledge/{id}", .roles(builders))
    public static let deleteKnowledge = endpoint("DELETE", "/v1/knowledge/{id}", .roles(builders))

    /// Everything the gateway routes to agent-core (the replies endpoint is called service to service).
    public static let all: [Endpoint] = [
        listAgents, createAgent, getAgent, updateAgent, listPrompts, createPrompt, activatePrompt, promptDiff, listFaqs, createFaq, updateFaq, reply,
        listSessions, createSession, getSession, sendSessionMessage,
        costs, listPrices, putPrices, getProviders, putProviders,
        listKnowledge, createKnowledge, searchKnowledge, getKnowledge, updateKnowledge, deleteKnowledge,
    ]

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
            /// The id of the option the customer tapped (a button or list row the agent offered), when they did.
            public var payload: String?

            public init(sender: String, text: String?, kind: String, language: String?, at: Date, payload: String? = nil) {
                self.sender = sender
                self.text = text
                self.kind = kind
                self.language = language
                self.at = at
                self.payload = payload
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
        /// What the reply cost, in the currency's minor units (rounded up; `costMicros` is exact).
        public var costMinor: Int64?
        public var costCurrency: String?
        /// What the reply's LLM calls cost, in micro-USD: the sum of the calls recorded for it (`GET /v1/agent/costs`).
        public var costMicros: Int64?
        /// Why the agent handed over (`asked_for_person`, `no_answer`, …).
        public var handoffReason: String?
        /// The language answered in (`en`, `sw`, `rw`, `fr`).
        public var language: String?
        /// The tools the agent called, in order, with what they answered.
        public var toolCalls: [ToolCall]?
        /// Where the answer came from (an FAQ, a knowledge document), for the reply to cite and the console to show.
        public var sources: [Source]?
        /// Choices offered with the text: buttons or a list where the channel has them (WhatsApp, Instagram's
        /// quick replies, Telegram's keyboard, web chat), numbered lines of the text elsewhere. A tapped option
        /// comes back as the customer's message, its id as the turn's `payload`.
        public var options: [Option]?

        public struct Option: Codable, Sendable, Equatable {
            /// Comes back as the tapped turn's `payload` (1 to 200 characters).
            public var id: String
            /// What the customer sees and sends (1 to 100 characters; channels shorten it to their limits).
            public var title: String

            public init(id: String, title: String) {
                self.id = id
                self.title = title
            }
        }

        public struct ToolCall: Codable, Sendable, Equatable {
            public var name: String
            public var arguments: String
            public var result: String

            public init(name: String, arguments: String, result: String) {
                self.name = name
                self.arguments = arguments
                self.result = result
            }
        }

        public struct Source: Codable, Sendable, Equatable {
            /// `faq`, `knowledge`
            public var kind: String
            public var id: String
            public var title: String

            public init(kind: String, id: String, title: String) {
                self.kind = kind
                self.id = id
                self.title = title
            }
        }

        public init(
            text: String?, handoff: Bool? = nil, tokens: Int? = nil, costMinor: Int64? = nil, costCurrency: String? = nil, handoffReason: String? = nil,
            language: String? = nil, toolCalls: [ToolCall]? = nil, sources: [Source]? = nil, costMicros: Int64? = nil
        ) {
            self.costMicros = costMicros
            self.text = text
            self.handoff = handoff
            self.tokens = tokens
            self.costMinor = costMinor
            self.costCurrency = costCurrency
            self.handoffReason = handoffReason
            self.language = language
            self.toolCalls = toolCalls
            self.sources = sources
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
