import Contracts
import Crypto
import Foundation
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceClient
import ServiceKit

/// `/v1/tenants` (super_admin), `/v1/users` and `PUT /v1/users/{id}/roles` (super_admin anywhere, tenant_admin in
/// their tenant and never granting platform roles), `/v1/api-keys` (tenant_admin).
struct AdminController: Sendable {
    let store: IdentityStore
    let tenants: Tenants
    let passwords: Passwords
    let stations: StationDirectory

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(GatewayAPI.createTenant, use: self.createTenant)
        router.on(GatewayAPI.listTenants, use: self.listTenants)
        router.on(GatewayAPI.getTenant, use: self.getTenant)
        router.on(GatewayAPI.updateTenant, use: self.updateTenant)
        router.on(GatewayAPI.createUser, use: self.createUser)
        router.on(GatewayAPI.listUsers, use: self.listUsers)
        router.on(GatewayAPI.getUser, use: self.getUser)
        router.on(GatewayAPI.updateUser, use: self.updateUser)
        router.on(GatewayAPI.setRoles, use: self.setRoles)
        // for other services (a tenant's currency, time zone, plan)
        router.on(GatewayAPI.tenant, use: self.getTenant)
        router.on(GatewayAPI.setTenantPlan, use: self.setTenantPlan)
        router.on(GatewayAPI.createKey, use: self.createKey)
        router.on(GatewayAPI.listKeys, use: self.listKeys)
        router.on(GatewayAPI.revokeKey, use: self.revokeKey)
    }

    // MARK: tenants

    @Sendable func createTenant(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TenantDTO> {
        let caller = try context.requireCaller()
        var body = try await request.decodeJSON(CreateTenant.self, context: context)
        body.currency = try Self.currency(body.currency)
        try Self.checkName(body.name)
        guard body.slug.range(of: "^[a-z0-9][a-z0-9-]{1,62}$", options: .regularExpression) != nil else {
            throw APIError.unprocessable("invalid_slug", "A slug is 2 to 63 lower-case letters, digits and dashes.")
        }
        let tenant = try await self.store.createTenant(body, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.created, tenant)
    }

    @Sendable func listTenants(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<TenantDTO>> {
        let page = try request.page(cursorValues: 1)
        let items = try await self.store.tenants(after: page.cursor?.string(0), limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.slug] }))
    }

    @Sendable func getTenant(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TenantDTO> {
        guard let tenant = try await self.store.tenant(try context.uuidParameter(), logger: context.logger) else {
            throw APIError.notFound("tenant_not_found", "No such tenant.")
        }
        return JSONResponse(.ok, tenant)
    }

    @Sendable func updateTenant(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TenantDTO> {
        let caller = try context.requireCaller()
        let id = try context.uuidParameter()
        var body = try await request.decodeJSON(UpdateTenant.self, context: context)
        body.currency = try Self.currency(body.currency)
        if let name = body.name { try Self.checkName(name) }
        guard let tenant = try await self.store.updateTenant(id, body, actor: caller.subject, requestID: context.requestID, logger: context.logger) else {
            throw APIError.notFound("tenant_not_found", "No such tenant.")
        }
        self.tenants.forget(TenantID(rawValue: id))
        return JSONResponse(.ok, tenant)
    }

    /// A tenant's plan, set by marketplace-wallet when a subscription is paid: a service acting in a tenant sets only
    /// that tenant's.
    @Sendable func setTenantPlan(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TenantDTO> {
        let caller = try context.requireCaller()
        let id = try context.uuidParameter()
        if caller.isService, let acting = caller.tenantID, acting.rawValue != id {
            throw APIError.forbidden("other_tenant", "A service acting in one tenant sets only that tenant's plan.")
        }
        let body = try await request.decodeJSON(GatewayAPI.TenantPlan.self, context: context)
        guard let plan = Plan(rawValue: body.plan) else { throw APIError.unprocessable("invalid_plan", "plan is lite, pro or enterprise.") }
        guard
            let tenant = try await self.store.updateTenant(
                id, UpdateTenant(plan: plan), actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw APIError.notFound("tenant_not_found", "No such tenant.") }
        self.tenants.forget(TenantID(rawValue: id))
        return JSONResponse(.ok, tenant)
    }

    /// A known currency, in the upper-case form the table stores ("kes" is KES).
    static func currency(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard let currency = Currency(code: text) else { throw APIError.unprocessable("unknown_currency", "Unknown currency \(text).") }
        return currency.code
    }

    static func checkName(_ name: String) throws {
        try TextRules.check(name, field: "name", length: 1...200)
    }

    // MARK: users

    /// The tenant a caller may manage users in: any (nil = all) for super_admin, their own for tenant_admin.
    static func scope(_ caller: Identity) -> UUID? {
        caller.roles.contains(.superAdmin) && caller.tokenTenantID == nil ? caller.tenantID?.rawValue : caller.tokenTenantID?.rawValue
    }

    /// A station operator is only that: mixing the role with others would give one account both a station's narrow
    /// view and the wide view of the other role, and services then could not tell which one a request means.
    static func checkRoleMix(_ roles: [Role]) throws {
        if roles.contains(.stationOperator), Set(roles).count > 1 {
            throw APIError.unprocessable("role_conflict", "station_operator cannot be combined with other roles.")
        }
    }

    static func ensureGrantable(_ roles: [Role], by caller: Identity) throws {
        guard !caller.roles.contains(.superAdmin) else { return }
        if let forbidden = roles.first(where: { $0.isPlatformStaff || $0 == .service }) {
            throw APIError.forbidden("role_not_grantable", "You may not grant \(forbidden.rawValue).")
        }
    }

    /// Loads a user the caller may manage, or 404 (another tenant's users do not exist for them).
    func manageableUser(_ id: UUID, caller: Identity, logger: Logger) async throws -> UserDTO {
        guard let user = try await self.store.user(id, logger: logger) else { throw APIError.notFound("user_not_found", "No such user.") }
        if !caller.roles.contains(.superAdmin) {
            guard let tenant = caller.tokenTenantID, user.tenantId == tenant.description else {
                throw APIError.notFound("user_not_found", "No such user.")
            }
            if user.roles.contains(where: \.isPlatformStaff) { throw APIError.notFound("user_not_found", "No such user.") }
        }
        return user
    }

    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UserDTO> {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSON(CreateUser.self, context: context)
        let roles = body.roles ?? []
        try Self.ensureGrantable(roles, by: caller)
        let tenant: UUID?
        if caller.roles.contains(.superAdmin) {
            tenant =
                try body.tenantId.map { text in
                    guard let id = UUID(uuidString: text) else { throw APIError.badRequest("invalid_tenant", "tenantId must be a UUID.") }
                    return id
                } ?? caller.tenantID?.rawValue
        } else {
            tenant = caller.tokenTenantID?.rawValue
        }
        if tenant == nil, roles.contains(where: { !$0.isPlatformStaff }) {
            throw APIError.unprocessable("tenant_required", "Tenant roles need a tenantId.")
        }
        if tenant != nil, roles.contains(where: \.isPlatformStaff) {
            throw APIError.unprocessable("staff_without_tenant", "Platform roles belong to users without a tenant.")
        }
        try Self.checkRoleMix(roles)
        let email = body.email.trimmingCharacters(in: .whitespaces)
        guard !TextRules.containsNUL(email), TextRules.length(email) <= 254,
            email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) != nil
        else {
            throw APIError.unprocessable("invalid_email", "That is not an email address.")
        }
        try TextRules.check(body.name, field: "name", length: 0...200)
        try self.passwords.validate(body.password)
        let station = try BodyValues.id(body.stationId, field: "stationId", as: StationID.self)
        if roles.contains(.stationOperator), station == nil {
            throw APIError.unprocessable("station_required", "A station operator needs a stationId.")
        }
        if let station {
            guard let tenant else { throw APIError.unprocessable("tenant_required", "Only users of a tenant work at a station.") }
            try await self.stations.requireStation(station, tenant: TenantID(rawValue: tenant), requestID: context.requestID)
        }
        let hash = try await self.passwords.hash(body.password)
        let user = try await self.store.createUser(
            email: email, passwordHash: hash, name: body.name ?? "", tenant: tenant, roles: roles, station: station, actor: caller.subject,
            requestID: context.requestID, logger: context.logger)
        return JSONResponse(.created, user)
    }

    @Sendable func listUsers(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<UserDTO>> {
        let caller = try context.requireCaller()
        let page = try request.page(cursorValues: 1)
        let query = request.queryValues
        let items = try await self.store.users(
            tenant: Self.scope(caller), station: try query.id("stationId", as: StationID.self), role: try query.value("role", as: Role.self),
            after: page.cursor?.string(0), limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.email.lowercased()] }))
    }

    @Sendable func getUser(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UserDTO> {
        JSONResponse(.ok, try await self.manageableUser(try context.uuidParameter(), caller: try context.requireCaller(), logger: context.logger))
    }

    @Sendable func updateUser(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UserDTO> {
        let caller = try context.requireCaller()
        let id = try context.uuidParameter()
        let target = try await self.manageableUser(id, caller: caller, logger: context.logger)
        let body = try await request.decodeJSON(UpdateUser.self, context: context)
        try TextRules.check(body.name, field: "name", length: 0...200)
        let station = try BodyValues.id(body.stationId, field: "stationId", as: StationID.self)
        if let station {
            guard let tenant = target.tenantId.flatMap(TenantID.init) else {
                throw APIError.unprocessable("tenant_required", "Only users of a tenant work at a station.")
            }
            try await self.stations.requireStation(station, tenant: tenant, requestID: context.requestID)
        }
        var hash: String?
        if let password = body.password {
            try self.passwords.validate(password)
            hash = try await self.passwords.hash(password)
        }
        let user = try await self.store.updateUser(
            id, body, station: station, passwordHash: hash, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        // the user can vanish between the check above and the write
        guard let user else { throw APIError.notFound("user_not_found", "No such user.") }
        return JSONResponse(.ok, user)
    }

    @Sendable func setRoles(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UserDTO> {
        let caller = try context.requireCaller()
        let id = try context.uuidParameter()
        let target = try await self.manageableUser(id, caller: caller, logger: context.logger)
        let body = try await request.decodeJSON(SetRoles.self, context: context)
        try Self.ensureGrantable(body.roles, by: caller)
        try Self.checkRoleMix(body.roles)
        if body.roles.contains(.stationOperator), target.stationId == nil {
            throw APIError.unprocessable("station_required", "Bind the user to a station (stationId) before making them its operator.")
        }
        if target.tenantId == nil, body.roles.contains(where: { !$0.isPlatformStaff }) {
            throw APIError.unprocessable("tenant_required", "Tenant roles need a user in a tenant.")
        }
        if target.tenantId != nil, body.roles.contains(where: \.isPlatformStaff) {
            throw APIError.unprocessable("staff_without_tenant", "Platform roles belong to users without a tenant.")
        }
        let user = try await self.store.setRoles(id, roles: Set(body.roles), actor: caller.subject, requestID: context.requestID, logger: context.logger)
        // the user can vanish between the check above and the write
        guard let user else { throw APIError.notFound("user_not_found", "No such user.") }
        return JSONResponse(.ok, user)
    }

    // MARK: API keys

    @Sendable func createKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        // a key may not mint keys: one stolen key would otherwise outlive its own revocation through its children
        guard !caller.subject.hasPrefix("apikey:") else {
            throw APIError.forbidden("api_key_cannot_create_keys", "API keys are created by people, not by other keys.")
        }
        let body = try await request.decodeJSON(CreateAPIKey.self, context: context)
        try TextRules.check(body.name, field: "name", length: 1...100)
        guard !body.scopes.isEmpty, body.scopes.count <= Role.allCases.count else {
            throw APIError.unprocessable("invalid_api_key", "An API key needs at least one scope.")
        }
        if let forbidden = body.scopes.first(where: { $0.isPlatformStaff || $0 == .service || $0 == .stationOperator }) {
            throw APIError.forbidden("role_not_grantable", "An API key cannot carry \(forbidden.rawValue).")
        }
        return try await self.store.idempotency.write(request, context: context, postgres: self.store.postgres) { connection in
            let prefix = String(Base64URL.encode(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }).filter(\.isLetter).prefix(8)).lowercased()
            let secret = Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
            var key = try await self.store.createKey(
                tenant: tenant, name: body.name, prefix: prefix, secret: secret, scopes: Array(Set(body.scopes)).sorted { $0.rawValue < $1.rawValue },
                actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger)
            key.key = "sk_\(prefix)_\(secret)"
            return JSONResponse(.created, key)
        }
    }

    @Sendable func listKeys(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<APIKeyDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        return JSONResponse(.ok, Page(items: try await self.store.keys(tenant: tenant, logger: context.logger), nextCursor: nil))
    }

    @Sendable func revokeKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        guard try await self.store.revokeKey(id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger) else {
            throw APIError.notFound("api_key_not_found", "No such API key.")
        }
        return Response(status: .noContent)
    }
}

/// Asks the vouchers service whether a station exists in a tenant, before the gateway binds an operator to it.
struct StationDirectory: Sendable {
    let vouchers: VouchersClient
    let tokens: ServiceTokens

    func requireStation(_ station: StationID, tenant: TenantID, requestID: String) async throws {
        let context = try await CallContext(requestID: requestID, bearerToken: self.tokens.token(tenant: tenant))
        guard try await self.vouchers.station(station, context: context) != nil else {
            throw APIError.unprocessable("unknown_station", "stationId is not a station of this tenant.")
        }
    }
}
