import Contracts
import HTTPTypes
import Hummingbird

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
