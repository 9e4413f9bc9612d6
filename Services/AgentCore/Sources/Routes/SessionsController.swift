import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/POST /v1/agent/sessions`, `GET /v1/agent/sessions/{id}`, `POST /v1/agent/sessions/{id}/messages`: preview
/// sessions ("Try it"). The agent answers through the same engine as a customer's message (prompt, tools,
/// knowledge, model, spend), as a draft or a live agent, and each of its turns keeps what it did.
struct SessionsController: Sendable {
    let sessions: SessionsStore
    let agents: AgentsStore
    let engine: ReplyEngine

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(AgentAPI.listSessions, use: self.list)
        router.on(AgentAPI.createSession, use: self.create)
        router.on(AgentAPI.getSession, use: self.get)
        router.on(AgentAPI.sendSessionMessage, use: self.send)
    }

    static let notFound = APIError.notFound("session_not_found", "No such session.")

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ChatSessionDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let before = try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
        let agent = try request.queryValues.id("agentId", as: AgentID.self)
        let items = try await self.sessions.list(tenant: tenant, agent: agent, before: before, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ChatSessionDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(NewChatSession.self, context: context)
        try SessionRules.check(body)
        guard let agent = try await self.agents.find(body.agentId, tenant: tenant, logger: context.logger) else { throw AgentsController.notFound }
        guard agent.status != "archived" else { throw APIError.conflict("agent_archived", "This agent is archived: restore it to talk to it.") }
        if let language = body.language, !agent.languages.contains(language) {
            throw APIError.unprocessable("invalid_language", "The agent speaks \(agent.languages.joined(separator: ", ")).")
        }
        let session = try await self.sessions.create(
            agent: agent.id, channelKind: body.channelKind ?? "webchat", customerAddress: body.customerAddress ?? SessionRules.sampleCustomer,
            customerName: body.customerName, language: body.language, tenant: tenant, actor: caller.subject, requestID: context.requestID,
            logger: context.logger)
        return JSONResponse(.created, session)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ChatSessionDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let session = try await self.sessions.find(try context.idParameter(as: ChatSessionID.self), tenant: tenant, logger: context.logger) else {
            throw Self.notFound
        }
        return JSONResponse(.ok, session)
    }

    @Sendable func send(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ChatExchangeDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: ChatSessionID.self)
        let body = try await request.decodeJSON(NewChatMessage.self, context: context)
        try SessionRules.check(body)
        guard let (session, history) = try await self.sessions.customerTurn(id, tenant: tenant, text: body.text, logger: context.logger) else {
            throw Self.notFound
        }
        guard let agent = try await self.agents.find(session.agentId, tenant: tenant, logger: context.logger), agent.status != "archived" else {
            throw APIError.conflict("agent_archived", "This agent was archived: restore it to talk to it.")
        }
        let language = body.language ?? session.language
        let ask = AgentAPI.ReplyRequest(
            // a preview session stands for both the conversation and the channel: its id is the one it has
            conversationId: ConversationID(rawValue: session.id.rawValue), channelId: ChannelID(rawValue: session.id.rawValue),
            channelKind: session.channelKind,
            agentId: agent.id, contact: .init(address: session.customerAddress, name: session.customerName, language: language),
            messages: history.map {
                .init(sender: $0.sender, text: $0.text, kind: "text", language: $0.sender == "user" ? language : $0.reply?.language, at: $0.createdAt)
            })
        let started = ContinuousClock.now
        let answer = try await self.engine.answer(ask, as: agent, tenant: tenant, requestID: context.requestID, logger: context.logger)
        let elapsed = ContinuousClock.now - started
        let latency = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let reply = try await self.sessions.agentTurn(
            session.id, tenant: tenant, reply: answer.reply, answeredBy: answer.answeredBy, latencyMs: latency, logger: context.logger)
        guard let message = history.last else { throw CorruptRow("chat session \(session.id) lost the turn just stored") }
        return JSONResponse(.created, ChatExchangeDTO(message: message, reply: reply))
    }
}
