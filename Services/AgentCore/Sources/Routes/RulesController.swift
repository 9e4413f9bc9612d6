import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// The pipeline's rules (`GET/PUT /v1/pipeline/rules`) and the feed of moves between stages
/// (`GET /v1/pipeline/moves?after=`), which other services (the campaigns) read to act on them.
struct RulesController: Sendable {
    let leads: LeadsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CRMAPI.getRules, use: self.get)
        router.on(CRMAPI.putRules, use: self.put)
        router.on(CRMAPI.stageMoves, use: self.moves)
    }

    struct RulesView: Codable, Sendable, Equatable {
        /// In the order they are tried: the first that matches moves the lead.
        var rules: [StageRule]
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RulesView> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, RulesView(rules: try await self.leads.rules(tenant: tenant, logger: context.logger)))
    }

    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RulesView> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(RulesView.self, context: context)
        let saved = try await self.leads.putRules(body.rules, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.ok, RulesView(rules: saved))
    }

    @Sendable func moves(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CRMAPI.StageMoves> {
        let (_, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let after = Int64(try query.int("after", range: 0...Int.max) ?? 0)
        let limit = try query.int("limit", range: 1...500) ?? 100
        let items = try await self.leads.moves(tenant: tenant, after: after, limit: limit, logger: context.logger)
        return JSONResponse(.ok, CRMAPI.StageMoves(items: items, next: items.last?.id ?? after))
    }
}
