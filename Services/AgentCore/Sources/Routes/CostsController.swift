import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import ServiceKit

/// `GET /v1/agent/costs?from=&to=&groupBy=day|model|agent|provider` (JSON, or CSV with `Accept: text/csv` or
/// `format=csv`): the tenant's LLM spend with its cap and alerts; platform staff may name a tenant (`tenantId` or
/// `X-Tenant-ID`) or see the whole platform. `GET/PUT /v1/agent/prices`: the price table, changed by platform
/// admins without a deploy (a reply reads the prices in force when it is made).
struct CostsController: Sendable {
    let costs: CostsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(AgentAPI.costs, use: self.report)
        router.on(AgentAPI.listPrices, use: self.prices)
        router.on(AgentAPI.putPrices, use: self.putPrices)
    }

    /// The tenant a report is about: a tenant's own people see their own (naming another is 403); platform staff the
    /// one they name, or all.
    static func tenant(_ request: Request, context: AppRequestContext) throws -> TenantID? {
        let caller = try context.requireCaller()
        let named = try request.queryValues.id("tenantId", as: TenantID.self)
        if caller.isPlatformStaff {
            if let named, let header = caller.tenantID, named != header {
                throw APIError.badRequest("tenant_mismatch", "tenantId and X-Tenant-ID name different tenants.")
            }
            return named ?? caller.tenantID
        }
        let own = try caller.requireTenant()
        if let named, named != own { throw APIError.forbidden("forbidden", "You may only see your own tenant's costs.") }
        return own
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        let tenant = try Self.tenant(request, context: context)
        let query = request.queryValues
        let (from, to) = try query.dayRange(defaultDays: 30, maxDays: 367)
        let groupBy = try query.value("groupBy", as: CostGroup.self) ?? .day
        let csv = try request.wantsCSV()
        let report = try await self.costs.report(tenant: tenant, from: from, to: to, groupBy: groupBy, logger: context.logger)
        if csv {
            return Request.csv(CostsCSV.render(report), filename: "llm-costs-\(from)-\(to)-by-\(groupBy.rawValue).csv")
        }
        return try JSONResponse(.ok, report).response(from: request, context: context)
    }

    @Sendable func prices(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PricesPage> {
        _ = try context.requireCaller()
        return JSONResponse(.ok, PricesPage(items: try await self.costs.prices(logger: context.logger)))
    }

    @Sendable func putPrices(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PricesPage> {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSON(PutPrices.self, context: context)
        try Self.check(body)
        try await self.costs.putPrices(body.prices, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.ok, PricesPage(items: try await self.costs.prices(logger: context.logger)))
    }

    /// $1,000 per million tokens, in micro-USD: beyond it is a typo.
    static let maxPerMillion: Int64 = 1_000_000_000

    static func check(_ body: PutPrices) throws {
        guard (1...200).contains(body.prices.count) else { throw APIError.unprocessable("invalid_prices", "Send 1 to 200 prices.") }
        var keys: Set<String> = []
        for price in body.prices {
            try TextRules.check(price.model, field: "model", length: 1...120)
            if let provider = price.provider, provider != LLMPrices.anyProvider, !ProviderRules.isName(provider) {
                throw APIError.unprocessable("invalid_provider_name", "provider is * (any) or 1 to 40 of a-z, 0-9, - and _.")
            }
            for value in [price.inputPerMillion, price.outputPerMillion, price.cachedInputPerMillion ?? 0] where !(0...Self.maxPerMillion).contains(value) {
                throw APIError.unprocessable("invalid_price", "Prices are 0 to \(Self.maxPerMillion) micro-USD per million tokens.")
            }
            if let from = price.effectiveFrom, !(Date(timeIntervalSince1970: 0)...Date(timeIntervalSince1970: 253_402_300_799)).contains(from) {
                throw APIError.unprocessable("invalid_effective_from", "effectiveFrom is between 1970 and 9999.")
            }
            let key = "\(price.provider ?? LLMPrices.anyProvider)/\(price.model)/\(price.effectiveFrom?.timeIntervalSince1970 ?? -1)"
            guard keys.insert(key).inserted else {
                throw APIError.unprocessable("duplicate_price", "\(price.model) is priced twice for the same provider and instant.")
            }
        }
    }
}
