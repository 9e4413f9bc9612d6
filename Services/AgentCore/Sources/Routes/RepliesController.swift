import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `POST /v1/agent/replies` (messaging, role `service`): the reply to a customer's message, once per inbound
/// message (its id is the `Idempotency-Key`): a retried job gets the stored reply, and nothing is billed twice.
struct RepliesController: Sendable {
    let engine: ReplyEngine
    let faqs: FaqsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(AgentAPI.reply, use: self.reply)
    }

    @Sendable func reply(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AgentAPI.Reply> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let key = request.headers[.idempotencyKey], (1...200).contains(key.count) else {
            throw APIError.badRequest("idempotency_key_required", "Send the inbound message's id as Idempotency-Key.")
        }
        let body = try await request.decodeJSON(AgentAPI.ReplyRequest.self, context: context)
        guard body.messages.count <= 200 else { throw APIError.unprocessable("too_many_messages", "Send at most 200 recent messages.") }
        if let stored = try await self.faqs.reply(tenant: tenant, key: key, logger: context.logger) { return JSONResponse(.ok, stored) }
        let answer = try await self.engine.answer(body, tenant: tenant, key: key, requestID: context.requestID, logger: context.logger)
        let reply = try await self.faqs.store(
            answer.reply, tenant: tenant, key: key, conversation: body.conversationId, agent: answer.agent, answeredBy: answer.answeredBy, faq: answer.faq,
            logger: context.logger)
        return JSONResponse(.ok, reply)
    }
}
