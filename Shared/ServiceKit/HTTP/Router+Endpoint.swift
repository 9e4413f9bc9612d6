import Contracts
import HTTPTypes
import Hummingbird
import Models

extension Router where Context == AppRequestContext {
    /// Registers `handler` for a declared endpoint, behind the endpoint's role check: the route, its method and who
    /// may call it come from `Shared/Contracts`, the same declarations the gateway's route table is made of.
    public func on<Output: ResponseGenerator>(
        _ endpoint: Endpoint, use handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Output
    ) {
        let path = RouterPath(endpoint.path)
        let method = HTTPRequest.Method(endpoint.method)!
        switch endpoint.access {
        case .public:
            self.on(path, method: method, use: handler)
        case .roles(let roles):
            self.group().add(middleware: RequireRoles(roles)).on(path, method: method, use: handler)
        }
    }
}

extension Router where Context == AppRequestContext {
    /// A service's daily counts (`DailyCounts`): `from` and `to` (UTC days, at most 92), the caller's tenant, and
    /// the service's own count of each day.
    public func dailyCounts(
        _ endpoint: Endpoint,
        count: @escaping @Sendable (_ tenant: TenantID, _ from: Day, _ to: Day, _ context: AppRequestContext) async throws -> [DailyCounts.Day]
    ) {
        self.on(endpoint) { request, context -> JSONResponse<DailyCounts> in
            let (_, tenant) = try context.requireTenantCaller()
            let (from, to) = try request.queryValues.dayRange(defaultDays: 30, maxDays: DailyCounts.maxDays)
            return JSONResponse(.ok, DailyCounts(days: try await count(tenant, from, to, context)))
        }
    }
}
