import Contracts
import ServiceClient
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers

/// Whether a tenant exists and is active, asked of its source (the gateway's own table in the gateway, the
/// gateway's tenant endpoint everywhere else) and kept for a few seconds. Every service checks it on every request
/// that acts on a tenant, so a suspended tenant is refused everywhere within `ttl`, not only at the gateway's proxy.
public final class TenantStandings: Sendable {
    public enum Standing: Sendable, Equatable {
        case active
        case suspended
        case unknown
    }

    let ttl: Duration
    let lookup: @Sendable (TenantID, Logger) async throws -> Standing
    let cache = NIOLockedValueBox<[TenantID: (standing: Standing, fetched: ContinuousClock.Instant)]>([:])

    public init(ttl: Duration = .seconds(5), lookup: @escaping @Sendable (TenantID, Logger) async throws -> Standing) {
        self.ttl = ttl
        self.lookup = lookup
    }

    /// Standings from the gateway, asked with this service's own token.
    public static func fromGateway(_ gateway: GatewayClient, tokens: ServiceTokens, ttl: Duration = .seconds(5)) -> TenantStandings {
        TenantStandings(ttl: ttl) { tenant, _ in
            let context = CallContext(requestID: nil, bearerToken: try await tokens.token(tenant: nil))
            guard let found = try await gateway.tenant(tenant, context: context) else { return .unknown }
            return found.isSuspended ? .suspended : .active
        }
    }

    public func standing(_ tenant: TenantID, logger: Logger) async throws -> Standing {
        let now = ContinuousClock.now
        if let cached = self.cache.withLockedValue({ $0[tenant] }), now - cached.fetched < self.ttl {
            return cached.standing
        }
        let standing = try await self.lookup(tenant, logger)
        self.cache.withLockedValue { $0[tenant] = (standing, now) }
        return standing
    }

    /// Forgets what is known (the gateway, after it changed a tenant).
    public func forget(_ tenant: TenantID) {
        self.cache.withLockedValue { _ = $0.removeValue(forKey: tenant) }
    }
}

/// Refuses requests that act on a tenant that does not exist (404 `tenant_not_found`, e.g. a made-up `X-Tenant-ID`)
/// or is suspended (403 `tenant_suspended`). Platform staff may still read a suspended tenant's records (support
/// looks into why it was suspended) but change nothing in it.
public struct TenantStandingMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let standings: TenantStandings

    public init(standings: TenantStandings) {
        self.standings = standings
    }

    public func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let identity = context.identity, let tenant = identity.tenantID else {
            return try await next(request, context)
        }
        switch try await self.standings.standing(tenant, logger: context.logger) {
        case .active:
            break
        case .unknown:
            throw APIError.notFound("tenant_not_found", "No tenant has this id.")
        case .suspended:
            let staffReading = identity.tokenTenantID == nil && (request.method == .get || request.method == .head)
            guard staffReading else { throw APIError.forbidden("tenant_suspended", "This tenant is suspended.") }
        }
        return try await next(request, context)
    }
}
