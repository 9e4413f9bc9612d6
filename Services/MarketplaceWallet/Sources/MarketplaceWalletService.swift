import Foundation
import Hummingbird
import ServiceKit

/// The marketplace-wallet service. Its own routes, repositories and jobs arrive with the issues that build it;
/// for now it starts, migrates its schema, and answers health, metrics and `GET /v1/marketplace-wallet/whoami`.
public struct MarketplaceWalletService: ServiceModule {
    public static let name = ServiceName.marketplaceWallet
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
    }

    public func addRoutes(to router: Router<AppRequestContext>) {}
}
