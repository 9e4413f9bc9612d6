import Contracts
import Foundation
import Models
import NIOConcurrencyHelpers
import ServiceClient
import ServiceKit

/// A tenant's currency (the default of its vouchers), asked of the gateway with this service's token and kept for
/// ten minutes.
final class TenantCurrencies: Sendable {
    let gateway: GatewayClient
    let tokens: ServiceTokens
    let cache = NIOLockedValueBox<[TenantID: (currency: Currency, fetched: ContinuousClock.Instant)]>([:])

    init(gateway: GatewayClient, tokens: ServiceTokens) {
        self.gateway = gateway
        self.tokens = tokens
    }

    func currency(of tenant: TenantID, requestID: String) async throws -> Currency {
        if let cached = self.cache.withLockedValue({ $0[tenant] }), ContinuousClock.now - cached.fetched < .seconds(600) {
            return cached.currency
        }
        let context = CallContext(requestID: requestID, bearerToken: try await self.tokens.token(tenant: nil))
        guard let found = try await self.gateway.tenant(tenant, context: context) else {
            throw APIError.notFound("tenant_not_found", "No tenant has this id.")
        }
        guard let currency = Currency(code: found.currency) else {
            throw APIError.unprocessable("unknown_currency", "The tenant's currency \(found.currency) is not one Sokoni knows.")
        }
        self.cache.withLockedValue { $0[tenant] = (currency, .now) }
        return currency
    }
}
