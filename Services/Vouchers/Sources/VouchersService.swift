import Hummingbird
import ServiceKit

/// The vouchers service. Its own routes, repositories and jobs arrive with the issues that build it;
/// for now it starts, migrates its schema, and answers health, metrics and `GET /v1/vouchers/whoami`.
public struct VouchersService: ServiceModule {
    public static let name = ServiceName.vouchers
    let environment: ServiceEnvironment

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
    }

    public func addRoutes(to router: Router<AppRequestContext>) {}
}
