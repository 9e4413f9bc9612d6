import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `POST/GET/PATCH /v1/channels`, `PUT /v1/channels/{id}/agent`. Secrets are write-only: answers carry hints.
struct ChannelsController: Sendable {
    let channels: ChannelsStore
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.createChannel, use: self.create)
        router.on(MessagingAPI.listChannels, use: self.list)
        router.on(MessagingAPI.getChannel, use: self.get)
        router.on(MessagingAPI.updateChannel, use: self.update)
        router.on(MessagingAPI.bindAgent, use: self.bind)
    }

    static let notFound = APIError.notFound("channel_not_found", "No such channel.")

    static func check(_ kind: ChannelKind, _ config: ChannelConfig, _ secrets: ChannelSecrets) throws {
        if let problem = ChannelRules.problem(kind: kind, config: config, secrets: secrets) { throw APIError.unprocessable("invalid_channel", problem) }
        for (name, value) in ChannelSecrets.fields.compactMap({ field in secrets[keyPath: field.path].map { (field.name, $0) } }) {
            try TextRules.check(value, field: "secrets.\(name)", length: 1...2000)
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateChannel.self, context: context)
        try TextRules.check(body.name, field: "name", length: 1...200)
        let config = body.config ?? ChannelConfig()
        let secrets = body.secrets ?? ChannelSecrets()
        try Self.check(body.kind, config, secrets)
        let new = ChannelsStore.NewChannel(kind: body.kind, name: body.name, agent: body.agentId, config: config, secrets: secrets)
        return try await self.idempotency.write(request, context: context, postgres: self.channels.postgres) { connection in
            JSONResponse(
                .created,
                try await self.channels.create(new, tenant: tenant, actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger)
            )
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ChannelDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(cursorValues: 2)
        let cursor = try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
        let items = try await self.channels.list(tenant: tenant, after: cursor, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ChannelDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let channel = try await self.channels.find(try context.idParameter(as: ChannelID.self), tenant: tenant, logger: context.logger) else {
            throw Self.notFound
        }
        return JSONResponse(.ok, channel.dto)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ChannelDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: ChannelID.self)
        let body = try await request.decodeJSON(UpdateChannel.self, context: context)
        try TextRules.check(body.name, field: "name", length: 1...200)
        guard
            let channel = try await self.channels.update(
                id, tenant: tenant, body, check: Self.check, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, channel)
    }

    @Sendable func bind(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<BindAgentResult> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: ChannelID.self)
        let body = try await request.decodeJSON(BindAgent.self, context: context)
        try TextRules.check(body.reason, field: "reason", length: 1...500)
        guard
            let result = try await self.channels.bindAgent(
                id, tenant: tenant, agent: body.agentId, reason: body.reason ?? "agent relinked", actor: caller.subject, requestID: context.requestID,
                logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, result)
    }
}
