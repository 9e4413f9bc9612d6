import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/POST/PATCH /v1/faqs`: the answers the agents give by keyword, with how often each was used.
struct FaqsController: Sendable {
    let faqs: FaqsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(AgentAPI.listFaqs, use: self.list)
        router.on(AgentAPI.createFaq, use: self.create)
        router.on(AgentAPI.updateFaq, use: self.update)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<FaqDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, Page(items: try await self.faqs.list(tenant: tenant, activeOnly: false, logger: context.logger), nextCursor: nil))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<FaqDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(NewFaq.self, context: context)
        try AgentRules.check(body)
        return JSONResponse(
            .created, try await self.faqs.create(body, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<FaqDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        let body = try await request.decodeJSON(UpdateFaq.self, context: context)
        try TextRules.check(body.question, field: "question", length: 1...500)
        try TextRules.check(body.answer, field: "answer", length: 1...4000)
        try AgentRules.checkFaqExtras(category: body.category, keywords: body.keywords, language: body.language, displayOrder: body.displayOrder)
        guard let updated = try await self.faqs.update(id, tenant: tenant, body, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw APIError.notFound("faq_not_found", "No such FAQ.") }
        return JSONResponse(.ok, updated)
    }
}
