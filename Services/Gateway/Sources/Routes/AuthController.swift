import Contracts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `POST /v1/auth/login`, `/refresh`, `/logout` and `GET /v1/auth/me`.
///
/// Web clients (the admin console, the Station app) send `X-Sokoni-Client: web`: their refresh token travels only as
/// an HttpOnly, SameSite=Strict cookie scoped to `/v1/auth`, so no script can read it, and the access token stays in
/// the page's memory. The custom header makes a cross-site request need a CORS preflight, which only configured
/// origins pass: another site can neither refresh nor end a session with the cookie.
struct AuthController: Sendable {
    let store: IdentityStore
    let tenants: Tenants
    let passwords: Passwords
    let throttle: LoginThrottle
    let issuer: TokenIssuer
    let accessLifetime: Duration
    let refreshLifetime: Duration
    /// Whether the refresh cookie is `Secure` (HTTPS only); off only for plain-HTTP development on loopback.
    let secureCookie: Bool
    /// What `me.allowed` is computed from: every endpoint the gateway's route table knows with its roles.
    let endpoints: [Endpoint]

    static let webClientHeader = HTTPField.Name("X-Sokoni-Client")!
    static let cookieName = "sokoni_refresh"
    static let cookiePath = "/v1/auth"

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(GatewayAPI.login, use: self.login)
        router.on(GatewayAPI.refresh, use: self.refresh)
        router.on(GatewayAPI.logout, use: self.logout)
        router.on(GatewayAPI.me, use: self.me)
    }

    static func isWebClient(_ request: Request) -> Bool { request.headers[Self.webClientHeader] == "web" }

    /// The pair as the client gets it: whole in the body, or for a web client the refresh token as a cookie.
    func answer(_ pair: TokenPair, request: Request, context: AppRequestContext) throws -> Response {
        guard Self.isWebClient(request), let secret = pair.refreshToken else {
            return try JSONResponse(.ok, pair).response(from: request, context: context)
        }
        var body = pair
        body.refreshToken = nil
        var response = try JSONResponse(.ok, body).response(from: request, context: context)
        response.setCookie(self.cookie(secret, maxAge: Int(self.refreshLifetime.components.seconds)))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func cookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(name: Self.cookieName, value: value, maxAge: maxAge, path: Self.cookiePath, secure: self.secureCookie, httpOnly: true, sameSite: .strict)
    }

    /// The refresh token a request presents: the web client's cookie, or the JSON body's.
    func presentedRefreshToken(_ request: Request, context: AppRequestContext) async throws -> String {
        if Self.isWebClient(request) {
            guard let value = request.cookies[Self.cookieName]?.value, !value.isEmpty else {
                throw APIError.unauthorized("invalid_refresh_token", "No session: sign in again.")
            }
            return value
        }
        return try await request.decodeJSON(RefreshRequest.self, context: context).refreshToken
    }

    static let invalidCredentials = APIError.unauthorized("invalid_credentials", "The email or password is wrong.")

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(LoginRequest.self, context: context)
        let account = LoginThrottle.accountKey(body.email)
        let address = LoginThrottle.addressKey(context.remoteAddress)
        try await self.throttle.check(account: account, address: address, logger: context.logger)
        let accounts = try await self.store.credentials(email: body.email, tenantSlug: body.tenant, logger: context.logger)
        // an unknown email costs one bcrypt check too, so both failures look and take the same
        var opened: [IdentityStore.Credentials] = []
        for account in accounts.isEmpty ? [nil] : accounts.map(Optional.some) {
            if try await self.passwords.verify(body.password, hash: account?.passwordHash), let account, account.active {
                opened.append(account)
            }
        }
        guard let credentials = opened.first else {
            let delay = try await self.throttle.recordFailure(account: account, address: address, logger: context.logger)
            if delay > .zero { try await Task.sleep(for: delay) }
            throw Self.invalidCredentials
        }
        if opened.count > 1 {
            return try Self.tenantRequired(opened, request: request, context: context)
        }
        try await self.tenants.requireActive(credentials.tenant.map { TenantID(rawValue: $0) }, logger: context.logger)
        try await self.throttle.recordSuccess(account: account, logger: context.logger)
        let pair = try await self.postgres.withTransaction(logger: context.logger) { connection in
            try await self.issuePair(user: credentials.id, family: UUID(), on: connection, logger: context.logger)
        }
        try await self.store.touchLastSeen(credentials.id, logger: context.logger)
        return try self.answer(pair, request: request, context: context)
    }

    /// The same person with accounts in several tenants, all opened by this password: they name one.
    static func tenantRequired(_ accounts: [IdentityStore.Credentials], request: Request, context: AppRequestContext) throws -> Response {
        let choices = accounts.map { TenantChoiceBody.Choice(slug: $0.tenantSlug ?? "", name: $0.tenantName ?? "Sokoni staff") }
        let body = TenantChoiceBody(
            error: .init(code: "tenant_required", message: "This email signs in to several organisations: choose one.", tenants: choices))
        return try JSONResponse(.conflict, body).response(from: request, context: context)
    }

    var postgres: PostgresClient { self.store.postgres }

    /// Rotates: the presented token is used up and a new one of the same family returned. A token presented a
    /// second time means it was stolen (or the client is confused): the whole family is revoked.
    @Sendable func refresh(_ request: Request, context: AppRequestContext) async throws -> Response {
        let presented = try await self.presentedRefreshToken(request, context: context)
        enum Outcome: Sendable {
            case pair(TokenPair)
            case reused, invalid
        }
        let outcome: Outcome = try await self.postgres.withTransaction(logger: context.logger) { connection in
            switch try await self.store.useRefreshToken(presented, on: connection, logger: context.logger) {
            case .invalid: return .invalid
            case .reused: return .reused
            case .rotated(let user, let family):
                return .pair(try await self.issuePair(user: user, family: family, on: connection, logger: context.logger))
            }
        }
        switch outcome {
        case .pair(let pair): return try self.answer(pair, request: request, context: context)
        case .reused: throw APIError.unauthorized("refresh_token_reused", "This refresh token was already used; the session is revoked.")
        case .invalid: throw APIError.unauthorized("invalid_refresh_token", "The refresh token is invalid or expired.")
        }
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        var response = Response(status: .noContent)
        if Self.isWebClient(request) {
            // signing out always ends the cookie, even when it was already gone or stale
            if let value = request.cookies[Self.cookieName]?.value, !value.isEmpty {
                try await self.store.revokeFamily(of: value, logger: context.logger)
            }
            response.setCookie(self.cookie("", maxAge: 0))
            return response
        }
        let body = try await request.decodeJSON(RefreshRequest.self, context: context)
        try await self.store.revokeFamily(of: body.refreshToken, logger: context.logger)
        return response
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Me> {
        let caller = try context.requireCaller()
        let allowed = self.endpoints.filter { !$0.isPublic && $0.allows(caller.roles) }.map(\.description)
        guard let id = UUID(uuidString: caller.subject), let user = try await self.store.user(id, logger: context.logger) else {
            // API keys and services have no user record: answer from the token
            return JSONResponse(
                .ok,
                Me(
                    id: caller.subject, email: "", name: "", tenantId: caller.tokenTenantID?.description,
                    roles: caller.roles.sorted { $0.rawValue < $1.rawValue }, stationId: caller.stationID?.description, allowed: allowed))
        }
        return JSONResponse(
            .ok,
            Me(
                id: user.id, email: user.email, name: user.name, tenantId: user.tenantId, roles: user.roles, stationId: user.stationId, allowed: allowed))
    }

    /// A new access token (from the user's current roles) and a new refresh token in `family`.
    func issuePair(user id: UUID, family: UUID, on connection: PostgresConnection, logger: Logger) async throws -> TokenPair {
        guard let user = try await self.store.user(id, on: connection, logger: logger), user.active else {
            throw APIError.unauthorized("invalid_refresh_token", "The refresh token is invalid or expired.")
        }
        if let tenant = user.tenantId.flatMap { TenantID($0) } {
            try await self.tenants.requireActive(tenant, logger: logger)
        }
        let access = try await self.issuer.issue(
            subject: user.id, tenantID: user.tenantId.flatMap { TenantID($0) }, roles: user.roles, stationID: user.stationId.flatMap { StationID($0) },
            lifetime: self.accessLifetime)
        let secret = "rt_" + Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        try await self.store.insertRefreshToken(user: id, family: family, secret: secret, lifetime: self.refreshLifetime, on: connection, logger: logger)
        return TokenPair(accessToken: access, refreshToken: secret, expiresIn: Int(self.accessLifetime.components.seconds))
    }
}
