import HTTPTypes
import Hummingbird
import Models

/// Reads `Authorization: Bearer …`, verifies it, and sets `context.identity`. No token: no identity (a route
/// policy then answers 401). A bad token: 401 at once. The tenant comes from the token; only callers without
/// one in their token (platform staff, services) may name a tenant in `X-Tenant-ID`.
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let verifier: TokenVerifier

    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    public func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        // an earlier authenticator (the gateway's API keys) already decided
        guard context.identity == nil, let token = Self.bearerToken(request) else {
            return try await next(request, context)
        }
        let claims = try await self.verifier.verify(token)
        var context = context
        context.identity = try Self.identity(claims: claims, token: token, tenantHeader: request.headers[.tenantID])
        context.logger[metadataKey: "auth.subject"] = .string(claims.sub.value)
        if let tenant = context.identity?.tenantID { context.logger[metadataKey: "tenant.id"] = .string(tenant.description) }
        return try await next(request, context)
    }

    /// The token of `Authorization: Bearer <token>`. Works on the UTF-8 bytes: it runs on every request.
    public static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        var bytes = Substring(header).utf8[...]
        let prefix = "bearer ".utf8
        guard bytes.count > prefix.count, zip(bytes, prefix).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        bytes = bytes.dropFirst(prefix.count)
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        return bytes.isEmpty ? nil : String(Substring(bytes))
    }

    public static func identity(claims: AccessClaims, token: String, tenantHeader: String?) throws -> Identity {
        let tokenTenant: TenantID?
        if let tid = claims.tid {
            guard let parsed = TenantID(tid) else { throw APIError.unauthorized("invalid_token", "The token's tenant is malformed.") }
            tokenTenant = parsed
        } else {
            tokenTenant = nil
        }
        var tenant = tokenTenant
        if let header = tenantHeader?.trimmingCharacters(in: .whitespaces), !header.isEmpty {
            guard let named = TenantID(header) else {
                throw APIError.badRequest("invalid_tenant", "X-Tenant-ID must be a tenant id.")
            }
            if let tokenTenant {
                guard named == tokenTenant else {
                    throw APIError.forbidden("tenant_mismatch", "You cannot act on another tenant.")
                }
            } else {
                tenant = named
            }
        }
        var stationID: StationID?
        if let stn = claims.stn {
            guard let parsed = StationID(stn) else { throw APIError.unauthorized("invalid_token", "The token's station is malformed.") }
            stationID = parsed
        }
        return Identity(
            subject: claims.sub.value, tenantID: tenant, tokenTenantID: tokenTenant, roles: Set(claims.roles),
            stationID: stationID, token: token)
    }
}

/// Lets a request through only when the caller holds one of the roles: 401 without identity, 403 otherwise.
public struct RequireRoles: RouterMiddleware {
    public typealias Context = AppRequestContext
    let roles: Set<Role>

    public init(_ roles: Set<Role>) {
        self.roles = roles
    }

    public init(_ roles: Role...) {
        self.roles = Set(roles)
    }

    /// Any authenticated caller.
    public static var anyRole: RequireRoles { RequireRoles(Set(Role.allCases)) }

    public func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let identity = try context.requireCaller()
        guard identity.has(anyOf: self.roles) else {
            throw APIError.forbidden("forbidden", "Your role may not do this.")
        }
        return try await next(request, context)
    }
}
