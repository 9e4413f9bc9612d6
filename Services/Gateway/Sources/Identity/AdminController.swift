import Crypto
import Foundation
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `/v1/tenants` (super_admin), `/v1/users` and `PUT /v1/users/{id}/roles` (super_admin anywhere, tenant_admin in
/// their tenant and never granting platform roles), `/v1/api-keys` (tenant_admin).
struct AdminController: Sendable {
    let store: IdentityStore
    let tenants: TenantDirectory
    let passwords: Passwords

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group("v1/tenants").add(middleware: RequireRoles(.superAdmin))
            .post(use: self.createTenant).get(use: self.listTenants).get("{id}", use: self.getTenant).patch("{id}", use: self.updateTenant)
        router.group("v1/users").add(middleware: RequireRoles(.superAdmin, .tenantAdmin))
            .post(use: self.createUser).get(use: self.listUsers).get("{id}", use: self.getUser).patch("{id}", use: self.updateUser)
            .put("{id}/roles", use: self.setRoles)
        // for other services (a tenant's currency, time zone, plan)
        router.group("v1/gateway/tenants").add(middleware: RequireRoles(.service, .superAdmin)).get("{id}", use: self.getTenant)
        router.group("v1/api-keys").add(middleware: RequireRoles(.tenantAdmin, .superAdmin))
            .post(use: self.createKey).get(use: self.listKeys).delete("{id}", use: self.revokeKey)
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
        let limit = Self.limit(request)
        let items = try await self.store.tenants(after: request.uri.queryParameters["cursor"].map(String.init), limit: limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: items.count == limit ? items.last?.slug : nil))
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
        self.tenants.forget(id)
        return JSONResponse(.ok, tenant)
    }

    /// A known currency, in the upper-case form the table stores ("kes" is KES).
    static func currency(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard let currency = Currency(code: text) else { throw APIError.unprocessable("unknown_currency", "Unknown currency \(text).") }
        return currency.code
    }

    static func checkName(_ name: String) throws {
        guard (1...200).contains(name.count) else { throw APIError.unprocessable("invalid_name", "A tenant's name is 1 to 200 characters.") }
    }

    // MARK: users

    /// The tenant a caller may manage users in: any (nil = all) for super_admin, their own for tenant_admin.
    static func scope(_ caller: Identity) -> UUID? {
        caller.roles.contains(.superAdmin) && caller.tokenTenantID == nil ? caller.tenantID?.rawValue : caller.tokenTenantID?.rawValue
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
            tenant = try body.tenantId.map { text in
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
        let email = body.email.trimmingCharacters(in: .whitespaces)
        guard email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) != nil, email.count <= 254 else {
            throw APIError.unprocessable("invalid_email", "That is not an email address.")
        }
        try self.passwords.validate(body.password)
        let station = try body.stationId.map { text -> UUID in
            guard let id = UUID(uuidString: text) else { throw APIError.badRequest("invalid_station", "stationId must be a UUID.") }
            return id
        }
        if roles.contains(.stationOperator), station == nil {
            throw APIError.unprocessable("station_required", "A station operator needs a stationId.")
        }
        let hash = try await self.passwords.hash(body.password)
        let user = try await self.store.createUser(
            email: email, passwordHash: hash, name: body.name ?? "", tenant: tenant, roles: roles, station: station, actor: caller.subject,
            requestID: context.requestID, logger: context.logger)
        return JSONResponse(.created, user)
    }

    @Sendable func listUsers(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<UserDTO>> {
        let caller = try context.requireCaller()
        let limit = Self.limit(request)
        let items = try await self.store.users(
            tenant: Self.scope(caller), after: request.uri.queryParameters["cursor"].map(String.init), limit: limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: items.count == limit ? items.last?.email.lowercased() : nil))
    }

    @Sendable func getUser(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UserDTO> {
        JSONResponse(.ok, try await self.manageableUser(try context.uuidParameter(), caller: try context.requireCaller(), logger: context.logger))
    }

    @Sendable func updateUser(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<UserDTO> {
        let caller = try context.requireCaller()
        let id = try context.uuidParameter()
        _ = try await self.manageableUser(id, caller: caller, logger: context.logger)
        let body = try await request.decodeJSON(UpdateUser.self, context: context)
        var hash: String?
        if let password = body.password {
            try self.passwords.validate(password)
            hash = try await self.passwords.hash(password)
        }
        let user = try await self.store.updateUser(id, body, passwordHash: hash, actor: caller.subject, requestID: context.requestID, logger: context.logger)
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
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let body = try await request.decodeJSON(CreateAPIKey.self, context: context)
        guard !body.scopes.isEmpty, !body.name.isEmpty else {
            throw APIError.unprocessable("invalid_api_key", "An API key needs a name and at least one scope.")
        }
        if let forbidden = body.scopes.first(where: { $0.isPlatformStaff || $0 == .service }) {
            throw APIError.forbidden("role_not_grantable", "An API key cannot carry \(forbidden.rawValue).")
        }
        let store = self.store
        return try await store.idempotency.run(request, context: context, postgres: store.postgres) { connection in
            let id = UUID()
            let prefix = String(Base64URL.encode(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }).filter(\.isLetter).prefix(8)).lowercased()
            let secret = Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
            let row = try await connection.query(
                """
                INSERT INTO identity.api_keys (id, tenant_id, name, prefix, secret_hash, scopes, created_by)
                VALUES (\(id), \(tenant.rawValue), \(body.name), \(prefix), \(IdentityStore.hash(secret)), \(body.scopes.map(\.rawValue)), \(caller.subject))
                RETURNING \(unescaped: IdentityStore.keyColumns)
                """, logger: context.logger
            ).first(as: IdentityStore.KeyRow.self)!
            var key = IdentityStore.apiKey(row)
            try await store.audit.record(
                on: connection, tenantID: tenant, actor: caller.subject, action: "api_key.create", table: "api_keys", targetID: key.id,
                before: nil as APIKeyDTO?, after: key, requestID: context.requestID, logger: context.logger)
            key.key = "sk_\(prefix)_\(secret)"
            return JSONResponse(.created, key)
        }
    }

    @Sendable func listKeys(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<APIKeyDTO>> {
        let tenant = try context.requireCaller().requireTenant()
        let items = try await self.store.postgres.query(
            "SELECT \(unescaped: IdentityStore.keyColumns) FROM identity.api_keys WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at, id",
            logger: context.logger
        ).all(as: IdentityStore.KeyRow.self).map(IdentityStore.apiKey)
        return JSONResponse(.ok, Page(items: items, nextCursor: nil))
    }

    @Sendable func revokeKey(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let id = try context.uuidParameter()
        let revoked = try await self.store.postgres.withTransaction(logger: context.logger) { connection -> Bool in
            guard try await connection.query(
                """
                UPDATE identity.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
                RETURNING id
                """, logger: context.logger
            ).first(as: UUID.self) != nil else { return false }
            try await self.store.audit.record(
                on: connection, tenantID: tenant, actor: caller.subject, action: "api_key.revoke", table: "api_keys",
                targetID: id.uuidString.lowercased(), before: nil as [String: String]?, after: ["revoked": "true"], requestID: context.requestID,
                logger: context.logger)
            return true
        }
        guard revoked else { throw APIError.notFound("api_key_not_found", "No such API key.") }
        return Response(status: .noContent)
    }


    static func limit(_ request: Request) -> Int {
        min(max(Int(request.uri.queryParameters["limit"] ?? "") ?? 50, 1), 200)
    }
}
