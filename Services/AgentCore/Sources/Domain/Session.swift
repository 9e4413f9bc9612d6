// Domain: preview sessions ("Try it", seed 000 agent_chat_sessions): staff talk to an agent as a customer would,
// before it goes live. No I/O (docs/CONTRIBUTING.md).
import Contracts
import Foundation
import Models
import ServiceKit

public enum ChatSessionTag {}
/// A preview session's id.
public typealias ChatSessionID = Identifier<ChatSessionTag>

public struct ChatSessionDTO: Codable, Sendable, Equatable {
    public var id: ChatSessionID
    public var agentId: AgentID
    public var channelKind: String
    public var customerAddress: String
    public var customerName: String?
    public var language: String?
    public var turns: Int
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
    /// The conversation so far, oldest first (on `GET /v1/agent/sessions/{id}` and after a message; not in lists).
    public var messages: [ChatMessageDTO]?
}

public struct ChatMessageDTO: Codable, Sendable, Equatable {
    public var turn: Int
    /// `user` (the staff member playing the customer) or `agent`
    public var sender: String
    public var text: String?
    /// The agent's turn as messaging would have received it: tool calls, sources, tokens, cost, hand-off.
    public var reply: AgentAPI.Reply?
    /// `offline` or the provider that answered (agent turns).
    public var answeredBy: String?
    public var latencyMs: Int?
    public var createdAt: Date
}

public struct NewChatSession: Codable, Sendable {
    public var agentId: AgentID
    /// The channel the agent answers as (`webchat` when absent; `sms` uses the agent's sms prompt).
    public var channelKind: String?
    /// The customer played: a phone number for the voucher tool (a sample Rwandan number when absent).
    public var customerAddress: String?
    public var customerName: String?
    public var language: String?
}

public struct NewChatMessage: Codable, Sendable {
    public var text: String
    /// The language the customer writes in, when the caller knows it (otherwise the agent's first language).
    public var language: String?
}

/// One exchange: the staff member's message and the agent's answer.
public struct ChatExchangeDTO: Codable, Sendable, Equatable {
    public var message: ChatMessageDTO
    public var reply: ChatMessageDTO
}

enum SessionRules {
    static let channelKinds: Set<String> = ["whatsapp", "instagram", "sms", "telegram", "webchat", "email", "sandbox"]
    /// A preview is a conversation, not a load test: past this many turns, start a new session.
    static let maxTurns = 400
    /// How much of the session the agent sees, as in messaging's reply jobs.
    static let historyTurns = 20
    static let sampleCustomer = "+250788000111"

    static func check(_ new: NewChatSession) throws {
        if let kind = new.channelKind, !Self.channelKinds.contains(kind) {
            throw APIError.unprocessable("invalid_channel_kind", "channelKind is one of \(Self.channelKinds.sorted().joined(separator: ", ")).")
        }
        try TextRules.check(new.customerAddress, field: "customerAddress", length: 1...200)
        try TextRules.check(new.customerName, field: "customerName", length: 1...120)
        try Self.check(language: new.language)
    }

    static func check(_ message: NewChatMessage) throws {
        try TextRules.check(message.text, field: "text", length: 1...4000)
        try Self.check(language: message.language)
    }

    static func check(language: String?) throws {
        if let language, !AgentRules.languages.contains(language) {
            throw APIError.unprocessable("invalid_language", "language is en, sw, rw, fr or sheng.")
        }
    }
}
