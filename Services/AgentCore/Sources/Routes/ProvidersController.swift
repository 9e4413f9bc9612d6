import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/PUT /v1/agent/providers`: a tenant's own OpenAI-compatible providers in fallback order (base URL, model, cheap
/// model, API key: write-only, shown by its hint) and its monthly LLM cap. Its providers answer its replies instead
/// of the platform's; an empty list gives the platform's back.
struct ProvidersController: Sendable {
    let providers: ProvidersStore
    /// Whether a provider may be on a private network or plain http (a lab, the tests); never in production.
    let allowPrivateHosts: Bool

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(AgentAPI.getProviders, use: self.get)
        router.on(AgentAPI.putProviders, use: self.put)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ProvidersConfigDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, try await self.providers.config(tenant: tenant, logger: context.logger))
    }

    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ProvidersConfigDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(PutProviders.self, context: context)
        try ProviderRules.check(body, allowPrivateHosts: self.allowPrivateHosts)
        return JSONResponse(
            .ok, try await self.providers.put(body, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger))
    }
}
