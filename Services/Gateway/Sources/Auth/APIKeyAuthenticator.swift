import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Models
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceKit

/// Accepts `Authorization: Bearer sk_…` or `X-API-Key: sk_…`: checks the key against its stored hash, refuses
/// revoked keys (the tenant's standing is checked after, as for every caller), and sets an identity whose token is a short-lived access token minted for
/// the key, which is what the services receive.
struct APIKeyAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext
    let store: IdentityStore
    let issuer: TokenIssuer
    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    /// Minted tokens per key id, reused until a minute before they expire.
    let minted = NIOLockedValueBox<[UUID: (token: String, expires: ContinuousClock.Instant)]>([:])

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        // most requests carry a JWT: look no further unless a key is there
        let presented: String
        if let header = request.headers[Self.apiKeyHeader] {
            presented = header
        } else if let authorization = request.headers[.authorization], authorization.utf8.count > 10,
            authorization.utf8.dropFirst(7).starts(with: "sk_".utf8), let token = AuthMiddleware.bearerToken(request)
        {
            presented = token
        } else {
            return try await next(request, context)
        }
        let parts = presented.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, parts[0] == "sk" else { throw APIError.unauthorized("invalid_api_key", "The API key is malformed.") }
        guard let key = try await self.store.key(prefix: String(parts[1]), logger: context.logger),
            Self.constantTimeEquals(key.secretHash, IdentityStore.hash(String(parts[2])))
        else { throw APIError.unauthorized("invalid_api_key", "The API key is not valid.") }
        let (id, tenant, roles) = (key.id, key.tenant, key.scopes)
        guard !key.revoked else {
            self.minted.withLockedValue { _ = $0.removeValue(forKey: id) }
            throw APIError.unauthorized("api_key_revoked", "The API key was revoked.")
        }
        if key.usedLongAgo { try await self.store.touchKey(id, logger: context.logger) }
        let token: String
        if let cached = self.minted.withLockedValue({ $0[id] }), cached.expires > .now {
            token = cached.token
        } else {
            token = try await self.issuer.issue(subject: "apikey:\(id.uuidString.lowercased())", tenantID: tenant, roles: roles, lifetime: .seconds(300))
            self.minted.withLockedValue { $0[id] = (token, .now + .seconds(240)) }
        }
        var context = context
        context.identity = Identity(
            subject: "apikey:\(id.uuidString.lowercased())", tenantID: tenant, tokenTenantID: tenant, roles: Set(roles),
            stationID: nil, token: token)
        if let header = request.headers[.tenantID], TenantID(header) != tenant {
            throw APIError.forbidden("tenant_mismatch", "You cannot act on another tenant.")
        }
        return try await next(request, context)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// CORS for the configured origins: answers preflights itself and marks responses to allowed origins.
struct CORSPolicy: RouterMiddleware {
    typealias Context = AppRequestContext
    let origins: Set<String>

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], self.origins.contains(origin) || self.origins.contains("*") else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: origin, .vary: "Origin",
                    .accessControlAllowMethods: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
                    .accessControlAllowHeaders: "Authorization, Content-Type, Idempotency-Key, X-Request-ID, X-Tenant-ID, X-API-Key",
                    .accessControlMaxAge: "600",
                ])
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // errors too must carry the CORS headers, or a browser cannot read them
            response = APIError.from(error).response()
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        response.headers[.accessControlExposeHeaders] = "X-Request-ID, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Idempotent-Replayed"
        return response
    }
}
