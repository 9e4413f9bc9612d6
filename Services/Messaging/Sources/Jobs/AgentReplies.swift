import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceClient
import ServiceKit

/// Asks agent-core what to answer an inbound message and sends the answer through the one outbox. Until
/// agent-core serves `POST /v1/agent/replies` the call fails and the job waits and retries (30 attempts, backoff).
struct AgentReplies: Sendable {
    let conversations: ConversationsStore
    let channels: ChannelsStore
    let outbox: OutboxStore
    let agent: AgentClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext

    /// How much of the conversation the agent sees.
    static let historyTurns = 20

    func reply(_ job: InboundProcessor.ReplyJob, requestID: String?, logger: Logger) async throws {
        guard let conversation = try await self.conversations.conversation(job.conversationId, tenant: job.tenantId, logger: logger),
            conversation.status == .aiActive,
            let channel = try await self.channels.find(conversation.channelId, logger: logger)
        else { return }
        let recent = try await self.conversations.messages(
            conversation: conversation.id, tenant: job.tenantId, after: max(0, conversation.messageCount - Self.historyTurns), limit: Self.historyTurns,
            logger: logger)
        // a newer customer message has its own job: answer once, to the latest
        if let last = recent.last(where: { $0.direction == .inbound }), last.id != job.messageId { return }
        let request = AgentAPI.ReplyRequest(
            conversationId: conversation.id, channelId: channel.id, channelKind: channel.kind.rawValue, agentId: channel.dto.agentId,
            contact: .init(
                address: conversation.contact.address, name: conversation.contact.name ?? conversation.contact.profileName,
                language: recent.last?.language),
            messages: Self.turns(recent))
        let answer = try await self.agent.reply(
            request, idempotencyKey: "reply-\(job.messageId)", context: try await self.callContext(job.tenantId, requestID))
        try await self.conversations.postgres.withTransaction(logger: logger) { connection in
            // the conversation may have been escalated while the agent thought
            guard
                let current = try await self.conversations.conversation(conversation.id, tenant: job.tenantId, on: connection, forUpdate: true, logger: logger),
                current.status == .aiActive
            else { return }
            if let text = answer.text, !text.isEmpty {
                var queued = OutboxStore.Queued(
                    tenant: job.tenantId, channel: channel, to: conversation.contact.address, sender: .agent, text: text, requestedBy: "agent")
                queued.options = ReplyOptions.valid(answer.options ?? [])
                _ = try await self.outbox.queue(queued, on: connection, requestID: requestID, logger: logger)
            }
            if answer.handoff == true {
                try await self.conversations.escalate(conversation.id, on: connection, logger: logger)
            }
        }
    }

    /// The conversation as the agent reads it. A tapped button or list row carries its option's id (`payload`); an
    /// answer of "2" to numbered choices (SMS, email) is read as the second choice offered just before.
    static func turns(_ messages: [MessageDTO]) -> [AgentAPI.ReplyRequest.Turn] {
        var offered: [ReplyOption] = []
        return messages.map { message in
            var turn = AgentAPI.ReplyRequest.Turn(
                sender: message.sender.rawValue, text: message.body, kind: message.kind, language: message.language, at: message.createdAt)
            if message.direction == .outbound {
                offered = message.payload?["options"].flatMap { try? $0.decode([ReplyOption].self) } ?? []
                return turn
            }
            if case .string(let payload)? = message.payload?["payload"] {
                turn.payload = payload
            } else if let text = message.body, let choice = ReplyOptions.chosen(text, from: offered) {
                turn.text = choice.title
                turn.payload = choice.id
            }
            offered = []
            return turn
        }
    }
}
