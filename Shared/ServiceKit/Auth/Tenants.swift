import Contracts
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceClient
import ServiceLifecycle

/// What a service knows of the tenants it serves (standing, plan, currency, time zone), asked of its source and kept
/// for `ttl`: the gateway's own table in the gateway, the gateway's tenant endpoint everywhere else. Every request
/// that acts on a tenant checks its standing here, so a suspension reaches every service within `ttl`.
public final class Tenants: Sendable {
    public typealias Lookup = @Sendable (TenantID, Logger) async throws -> GatewayAPI.Tenant?

    let ttl: Duration
    let lookup: Lookup
    let cache = NIOLockedValueBox<[TenantID: (tenant: GatewayAPI.Tenant?, fetched: ContinuousClock.Instant)]>([:])

    public init(ttl: Duration, lookup: @escaping Lookup) {
        self.ttl = ttl
        self.lookup = lookup
    }

    /// Tenants as the gateway answers them, asked with this service's own token.
    public static func fromGateway(_ gateway: GatewayClient, tokens: ServiceTokens, ttl: Duration) -> Tenants {
        Tenants(ttl: ttl) { tenant, _ in
            try await gateway.tenant(tenant, context: CallContext(requestID: nil, bearerToken: try await tokens.token(tenant: nil)))
        }
    }

    /// The tenant, or nil when there is none with this id.
    /// A stale entry is refreshed by one caller (its clock is pushed on) while the others keep the old answer, so a
    /// busy tenant never sends a burst of lookups when its entry expires.
    public func tenant(_ id: TenantID, logger: Logger) async throws -> GatewayAPI.Tenant? {
        let now = ContinuousClock.now
        let cached = self.cache.withLockedValue { cache -> (tenant: GatewayAPI.Tenant?, refresh: Bool)? in
            guard let entry = cache[id] else { return nil }
            if now - entry.fetched < self.ttl { return (entry.tenant, false) }
            cache[id]?.fetched = now
            return (entry.tenant, true)
        }
        if let cached, !cached.refresh { return cached.tenant }
        let tenant = try await self.lookup(id, logger)
        self.cache.withLockedValue { $0[id] = (tenant, .now) }
        return tenant
    }

    /// Forgets what is known of a tenant (the gateway, after it changed one).
    public func forget(_ id: TenantID) {
        self.cache.withLockedValue { _ = $0.removeValue(forKey: id) }
    }

    /// Forgets every tenant (changes may have been missed while not listening).
    public func forgetAll() {
        self.cache.withLockedValue { $0.removeAll() }
    }

    /// 403 `tenant_suspended` when the tenant is suspended or gone (nil: no tenant, nothing to check).
    public func requireActive(_ id: TenantID?, logger: Logger) async throws {
        guard let id else { return }
        guard let tenant = try await self.tenant(id, logger: logger), !tenant.isSuspended else {
            throw APIError.forbidden("tenant_suspended", "This tenant is suspended.")
        }
    }
}

/// Refuses requests that act on a tenant that does not exist (404 `tenant_not_found`, e.g. a made-up `X-Tenant-ID`)
/// or is suspended (403 `tenant_suspended`). Platform staff may still read a suspended tenant's records (support
/// looks into why it was suspended) but change nothing in it.
public struct TenantStandingMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let tenants: Tenants

    public init(tenants: Tenants) {
        self.tenants = tenants
    }

    public func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let identity = context.identity, let id = identity.tenantID else {
            return try await next(request, context)
        }
        guard let tenant = try await self.tenants.tenant(id, logger: context.logger) else {
            throw APIError.notFound("tenant_not_found", "No tenant has this id.")
        }
        if tenant.isSuspended {
            let staffReading = identity.tokenTenantID == nil && (request.method == .get || request.method == .head)
            guard staffReading else { throw APIError.forbidden("tenant_suspended", "This tenant is suspended.") }
        }
        return try await next(request, context)
    }
}

/// Listens for changes to tenants (`sokoni_tenants`, announced by identity's trigger when a change commits) and
/// forgets the changed tenant at once, so a suspension reaches this process within a second whatever the cache's
/// lifetime; everything is forgotten whenever listening (re)starts, since changes may have been missed meanwhile.
public struct TenantChangeListener: Service {
    public static let channel = "sokoni_tenants"
    let postgres: PostgresClient
    let tenants: Tenants
    let logger: Logger

    public init(postgres: PostgresClient, tenants: Tenants, logger: Logger) {
        self.postgres = postgres
        self.tenants = tenants
        self.logger = logger
    }

    public func run() async throws {
        let tenants = self.tenants
        let logger = self.logger
        await PostgresListener.run(
            channel: Self.channel, postgres: self.postgres, logger: self.logger, listening: { _ in tenants.forgetAll() },
            received: { payload in
                if let id = TenantID(payload) {
                    tenants.forget(id)
                } else {
                    logger.warning("unreadable tenant change", metadata: ["payload": "\(payload.prefix(100))"])
                }
            })
    }
}
