import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/POST/PATCH /v1/agents`, their prompt versions (`GET/POST /v1/agents/{id}/prompts`, activation and rollback,
/// a diff between two versions).
struct AgentsController: Sendable {
    let agents: AgentsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(AgentAPI.listAgents, use: self.list)
        router.on(AgentAPI.createAgent, use: self.create)
        router.on(AgentAPI.getAgent, use: self.get)
        router.on(AgentAPI.updateAgent, use: self.update)
        router.on(AgentAPI.listPrompts, use: self.prompts)
        router.on(AgentAPI.createPrompt, use: self.addPrompt)
        router.on(AgentAPI.activatePrompt, use: self.activate)
        router.on(AgentAPI.promptDiff, use: self.diff)
    }

    static let notFound = APIError.notFound("agent_not_found", "No such agent.")

    func agent(_ context: AppRequestContext, tenant: TenantID) async throws -> AgentDTO {
        guard let agent = try await self.agents.find(try context.idParameter(as: AgentID.self), tenant: tenant, logger: context.logger) else {
            throw Self.notFound
        }
        return agent
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<AgentDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
        let items = try await self.agents.list(tenant: tenant, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AgentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(NewAgent.self, context: context)
        try AgentRules.check(name: body.name, product: body.product, languages: body.languages, policy: body.policy)
        if let status = body.status, !["draft", "active"].contains(status) {
            throw APIError.unprocessable("invalid_status", "A new agent is draft or active.")
        }
        return JSONResponse(
            .created, try await self.agents.create(body, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AgentDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, try await self.agent(context, tenant: tenant))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AgentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: AgentID.self)
        let body = try await request.decodeJSON(UpdateAgent.self, context: context)
        try AgentRules.check(name: body.name, product: body.product, languages: body.languages, policy: body.policy)
        if let status = body.status, !["draft", "active", "archived"].contains(status) {
            throw APIError.unprocessable("invalid_status", "status is draft, active or archived.")
        }
        guard let updated = try await self.agents.update(id, tenant: tenant, body, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, updated)
    }

    @Sendable func prompts(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<PromptVersionDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let agent = try await self.agent(context, tenant: tenant)
        return JSONResponse(.ok, Page(items: try await self.agents.prompts(agent: agent.id, tenant: tenant, logger: context.logger), nextCursor: nil))
    }

    @Sendable func addPrompt(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PromptVersionDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let agent = try await self.agent(context, tenant: tenant)
        let body = try await request.decodeJSON(NewPromptVersion.self, context: context)
        guard SemanticVersion(body.version) != nil else {
            throw APIError.unprocessable("invalid_version", "version is a semantic version such as 1.2.0.")
        }
        try TextRules.check(body.body, field: "body", length: 1...32000)
        try TextRules.check(body.notes, field: "notes", length: 1...2000)
        return JSONResponse(
            .created,
            try await self.agents.addPrompt(body, agent: agent.id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    struct Activation: Decodable {
        var channelType: ChannelType?
    }

    /// Activates a version (of `?channelType=`, `chat` by default); activating an older one is the rollback.
    @Sendable func activate(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PromptVersionDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let agent = try await self.agent(context, tenant: tenant)
        let version = context.parameters.get("version") ?? ""
        let type = try request.queryValues.value("channelType", as: ChannelType.self) ?? .chat
        guard SemanticVersion(version) != nil,
            let active = try await self.agents.activate(
                agent: agent.id, tenant: tenant, channelType: type, version: version, actor: caller.subject, requestID: context.requestID,
                logger: context.logger)
        else { throw APIError.notFound("version_not_found", "This agent has no \(type.rawValue) prompt version \(version).") }
        return JSONResponse(.ok, active)
    }

    @Sendable func diff(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PromptDiff> {
        let (_, tenant) = try context.requireTenantCaller()
        let agent = try await self.agent(context, tenant: tenant)
        let query = request.queryValues
        let type = try query.value("channelType", as: ChannelType.self) ?? .chat
        guard let from = try query.string("from", maxLength: 20), let to = try query.string("to", maxLength: 20) else {
            throw APIError.badRequest("versions_required", "Name from and to, two versions.")
        }
        guard let old = try await self.agents.prompt(agent: agent.id, tenant: tenant, channelType: type, version: from, logger: context.logger),
            let new = try await self.agents.prompt(agent: agent.id, tenant: tenant, channelType: type, version: to, logger: context.logger)
        else { throw APIError.notFound("version_not_found", "Both versions must exist for \(type.rawValue).") }
        return JSONResponse(.ok, PromptDiff.between(old.body, new.body, from: from, to: to))
    }
}
