import Crypto
import Foundation
import Logging
import Models
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceKit

/// SQL for the `identity` schema.
public struct IdentityStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let idempotency: Idempotency

    // MARK: tenants

    static let tenantColumns = "id, name, slug, countries, time_zone, currency, language, plan, status, created_at, updated_at"

    static func tenant(_ row: TenantRow) throws -> TenantDTO {
        TenantDTO(
            id: row.0.uuidString.lowercased(), name: row.1, slug: row.2, countries: row.3, timeZone: row.4, currency: row.5,
            language: row.6, plan: try CorruptRow.known(row.7), status: try CorruptRow.known(row.8), createdAt: row.9,
            updatedAt: row.10)
    }

    typealias TenantRow = (UUID, String, String, [String], String, String, String, String, String, Date, Date)

    static let tenantErrors = ConstraintErrors(["tenants_slug_key": .conflict("slug_taken", "A tenant with this slug exists.")])

    func createTenant(_ input: CreateTenant, actor: String, requestID: String, logger: Logger) async throws -> TenantDTO {
        let id = UUID()
        return try await Self.tenantErrors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                let row = try await connection.query(
                    """
                    INSERT INTO identity.tenants (id, name, slug, countries, time_zone, currency, language, plan, status)
                    VALUES (\(id), \(input.name), \(input.slug), \(input.countries ?? []), \(input.timeZone ?? "Africa/Kigali"),
                            \(input.currency ?? "RWF"), \(input.language ?? "en"), \((input.plan ?? .lite).rawValue), \((input.status ?? .active).rawValue))
                    RETURNING \(unescaped: Self.tenantColumns)
                    """, logger: logger
                ).first(as: TenantRow.self)!
                let tenant = try Self.tenant(row)
                try await self.audit.record(
                    on: connection, tenantID: TenantID(id), actor: actor, action: "tenant.create", table: "tenants", targetID: tenant.id,
                    before: nil as TenantDTO?, after: tenant, requestID: requestID, logger: logger)
                return tenant
            }
        }
    }

    func tenant(_ id: UUID, logger: Logger) async throws -> TenantDTO? {
        try await self.postgres.query("SELECT \(unescaped: Self.tenantColumns) FROM identity.tenants WHERE id = \(id)", logger: logger)
            .first(as: TenantRow.self).map(Self.tenant)
    }

    func tenants(after cursor: String?, limit: Int, logger: Logger) async throws -> [TenantDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.tenantColumns) FROM identity.tenants WHERE slug > \(cursor ?? "")
            ORDER BY slug LIMIT \(limit)
            """, logger: logger
        ).all(as: TenantRow.self).map(Self.tenant)
    }

    func updateTenant(_ id: UUID, _ input: UpdateTenant, actor: String, requestID: String, logger: Logger) async throws -> TenantDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.tenantColumns) FROM identity.tenants WHERE id = \(id) FOR UPDATE", logger: logger
                ).first(as: TenantRow.self).map({ try Self.tenant($0) })
            else { return nil }
            let row = try await connection.query(
                """
                UPDATE identity.tenants SET name = coalesce(\(input.name), name), countries = coalesce(\(input.countries), countries),
                    time_zone = coalesce(\(input.timeZone), time_zone), currency = coalesce(\(input.currency), currency),
                    language = coalesce(\(input.language), language), plan = coalesce(\(input.plan?.rawValue), plan),
                    status = coalesce(\(input.status?.rawValue), status), updated_at = now()
                WHERE id = \(id) RETURNING \(unescaped: Self.tenantColumns)
                """, logger: logger
            ).first(as: TenantRow.self)!
            let after = try Self.tenant(row)
            try await self.audit.record(
                on: connection, tenantID: TenantID(id), actor: actor, action: "tenant.update", table: "tenants", targetID: after.id,
                before: before, after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    // MARK: users

    static let userSelect = """
        SELECT u.id, u.email, u.name, u.tenant_id, coalesce(array_agg(r.role ORDER BY r.role) FILTER (WHERE r.role IS NOT NULL), '{}'),
               u.station_id, u.active, u.last_seen_at, u.created_at, u.updated_at
        FROM identity.users u LEFT JOIN identity.user_roles r ON r.user_id = u.id
        """
    typealias UserRow = (UUID, String, String, UUID?, [String], UUID?, Bool, Date?, Date, Date)

    static func user(_ row: UserRow) throws -> UserDTO {
        UserDTO(
            id: row.0.uuidString.lowercased(), email: row.1, name: row.2, tenantId: row.3?.uuidString.lowercased(),
            roles: try row.4.map { try CorruptRow.known($0) }, stationId: row.5?.uuidString.lowercased(), active: row.6, lastSeenAt: row.7,
            createdAt: row.8, updatedAt: row.9)
    }

    func user(_ id: UUID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> UserDTO? {
        let query: PostgresQuery = "\(unescaped: Self.userSelect) WHERE u.id = \(id) GROUP BY u.id"
        let rows: PostgresRowSequence
        if let connection {
            rows = try await connection.query(query, logger: logger)
        } else {
            rows = try await self.postgres.query(query, logger: logger)
        }
        return try await rows.first(as: UserRow.self).map { try Self.user($0) }
    }

    /// Users in email order, optionally only those bound to a station or holding a role.
    func users(tenant: UUID?, station: StationID?, role: Role?, after cursor: String?, limit: Int, logger: Logger) async throws -> [UserDTO] {
        try await self.postgres.query(
            """
            \(unescaped: Self.userSelect)
            WHERE (\(tenant)::uuid IS NULL OR u.tenant_id = \(tenant)) AND lower(u.email) > \(cursor ?? "")
              AND (\(station?.rawValue)::uuid IS NULL OR u.station_id = \(station?.rawValue))
              AND (\(role?.rawValue)::text IS NULL OR EXISTS (SELECT 1 FROM identity.user_roles g WHERE g.user_id = u.id AND g.role = \(role?.rawValue)))
            GROUP BY u.id ORDER BY lower(u.email) LIMIT \(limit)
            """, logger: logger
        ).all(as: UserRow.self).map(Self.user)
    }

    static let userErrors = ConstraintErrors([
        "users_email": .conflict("email_taken", "Someone in this tenant already uses this email."),
        "users_tenant_id_fkey": .unprocessable("unknown_tenant", "No such tenant."),
    ])

    func createUser(
        email: String, passwordHash: String, name: String, tenant: UUID?, roles: [Role], station: StationID?, actor: String, requestID: String,
        logger: Logger
    ) async throws -> UserDTO {
        let id = UUID()
        return try await Self.userErrors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO identity.users (id, tenant_id, email, password_hash, name, station_id)
                    VALUES (\(id), \(tenant), \(email), \(passwordHash), \(name), \(station?.rawValue))
                    """, logger: logger)
                for role in Set(roles) {
                    try await connection.query(
                        "INSERT INTO identity.user_roles (user_id, role, granted_by) VALUES (\(id), \(role.rawValue), \(actor))", logger: logger)
                }
                let user = try await self.user(id, on: connection, logger: logger)!
                try await self.audit.record(
                    on: connection, tenantID: tenant.map { TenantID(rawValue: $0) }, actor: actor, action: "user.create", table: "users",
                    targetID: user.id, before: nil as UserDTO?, after: user, requestID: requestID, logger: logger)
                return user
            }
        }
    }

    func updateUser(
        _ id: UUID, _ input: UpdateUser, station: StationID?, passwordHash: String?, actor: String, requestID: String, logger: Logger
    ) async throws -> UserDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let before = try await self.user(id, on: connection, logger: logger) else { return nil }
            try await connection.query(
                """
                UPDATE identity.users SET name = coalesce(\(input.name), name), active = coalesce(\(input.active), active),
                    password_hash = coalesce(\(passwordHash), password_hash), station_id = coalesce(\(station?.rawValue), station_id), updated_at = now()
                WHERE id = \(id)
                """, logger: logger)
            if input.active == false || passwordHash != nil {
                // a disabled user or a changed password ends every session
                try await connection.query(
                    "UPDATE identity.refresh_tokens SET revoked_at = now() WHERE user_id = \(id) AND revoked_at IS NULL", logger: logger)
            }
            let after = try await self.user(id, on: connection, logger: logger)!
            try await self.audit.record(
                on: connection, tenantID: after.tenantId.flatMap { TenantID($0) }, actor: actor,
                action: passwordHash != nil ? "user.update_password" : "user.update", table: "users", targetID: after.id, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    /// Replaces a user's roles: each grant records who and when, each grant and removal writes an audit row.
    func setRoles(_ id: UUID, roles: Set<Role>, actor: String, requestID: String, logger: Logger) async throws -> UserDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            // concurrent replacements of one user's roles take turns on the user's row: each sees the other's result
            guard try await connection.query("SELECT 1 FROM identity.users WHERE id = \(id) FOR UPDATE", logger: logger).first(as: Int.self) != nil,
                let before = try await self.user(id, on: connection, logger: logger)
            else { return nil }
            let current = Set(before.roles)
            for role in roles.subtracting(current) {
                try await connection.query(
                    "INSERT INTO identity.user_roles (user_id, role, granted_by) VALUES (\(id), \(role.rawValue), \(actor)) ON CONFLICT DO NOTHING",
                    logger: logger)
                try await self.audit.record(
                    on: connection, tenantID: before.tenantId.flatMap { TenantID($0) }, actor: actor, action: "role.grant", table: "user_roles",
                    targetID: "\(before.id):\(role.rawValue)", before: nil as [String: String]?, after: ["role": role.rawValue],
                    requestID: requestID, logger: logger)
            }
            for role in current.subtracting(roles) {
                try await connection.query("DELETE FROM identity.user_roles WHERE user_id = \(id) AND role = \(role.rawValue)", logger: logger)
                try await self.audit.record(
                    on: connection, tenantID: before.tenantId.flatMap { TenantID($0) }, actor: actor, action: "role.remove", table: "user_roles",
                    targetID: "\(before.id):\(role.rawValue)", before: ["role": role.rawValue], after: nil as [String: String]?,
                    requestID: requestID, logger: logger)
            }
            return try await self.user(id, on: connection, logger: logger)
        }
    }

    struct Credentials: Sendable {
        var id: UUID
        var tenant: UUID?
        /// The tenant's slug and name, to tell apart accounts of one email in several tenants; nil for staff.
        var tenantSlug: String?
        var tenantName: String?
        var passwordHash: String
        var active: Bool
    }

    /// At most this many accounts share an email (one per tenant); login checks the password against each.
    static let accountsPerEmailChecked = 8

    /// The accounts an email opens, optionally only the one in the tenant with `tenantSlug`; staff first.
    func credentials(email: String, tenantSlug: String?, logger: Logger) async throws -> [Credentials] {
        try await self.postgres.query(
            """
            SELECT u.id, u.tenant_id, t.slug, t.name, u.password_hash, u.active
            FROM identity.users u LEFT JOIN identity.tenants t ON t.id = u.tenant_id
            WHERE lower(u.email) = lower(\(email)) AND (\(tenantSlug)::text IS NULL OR coalesce(t.slug, '') = \(tenantSlug))
            ORDER BY t.slug NULLS FIRST LIMIT \(Self.accountsPerEmailChecked)
            """, logger: logger
        ).all(as: (UUID, UUID?, String?, String?, String, Bool).self).map {
            Credentials(id: $0.0, tenant: $0.1, tenantSlug: $0.2, tenantName: $0.3, passwordHash: $0.4, active: $0.5)
        }
    }

    func touchLastSeen(_ id: UUID, logger: Logger) async throws {
        try await self.postgres.query("UPDATE identity.users SET last_seen_at = now() WHERE id = \(id)", logger: logger)
    }

    // MARK: refresh tokens

    static func hash(_ secret: String) -> String {
        sha256Hex(Data(secret.utf8))
    }

    func insertRefreshToken(user: UUID, family: UUID, secret: String, lifetime: Duration, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO identity.refresh_tokens (id, family_id, user_id, token_hash, expires_at)
            VALUES (\(UUID()), \(family), \(user), \(Self.hash(secret)), now() + make_interval(secs => \(Double(lifetime.components.seconds))))
            """, logger: logger)
    }

    /// Rotates a refresh token: the presented one is used up; one presented a second time revokes its whole family.
    enum Rotation: Sendable {
        case rotated(user: UUID, family: UUID)
        case reused
        case invalid
    }

    func useRefreshToken(_ secret: String, on connection: PostgresConnection, logger: Logger) async throws -> Rotation {
        guard
            let (id, family, user, expired, used, justUsed, revoked) = try await connection.query(
                """
                SELECT id, family_id, user_id, expires_at < now(), used_at IS NOT NULL, used_at > now() - interval '10 seconds',
                       revoked_at IS NOT NULL
                FROM identity.refresh_tokens WHERE token_hash = \(Self.hash(secret)) FOR UPDATE
                """, logger: logger
            ).first(as: (UUID, UUID, UUID, Bool, Bool, Bool?, Bool).self)
        else { return .invalid }
        if revoked || expired { return .invalid }
        // two tabs of one browser share the cookie and may refresh at the same moment: the loser is refused, but the
        // session is not revoked (it retries with the rotated cookie); a token replayed later means theft
        if used, justUsed == true { return .invalid }
        if used {
            try await connection.query(
                "UPDATE identity.refresh_tokens SET revoked_at = now() WHERE family_id = \(family) AND revoked_at IS NULL", logger: logger)
            return .reused
        }
        try await connection.query("UPDATE identity.refresh_tokens SET used_at = now() WHERE id = \(id)", logger: logger)
        return .rotated(user: user, family: family)
    }

    /// Logs out: revokes the token's whole family.
    func revokeFamily(of secret: String, logger: Logger) async throws {
        try await self.postgres.query(
            """
            UPDATE identity.refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id =
                (SELECT family_id FROM identity.refresh_tokens WHERE token_hash = \(Self.hash(secret)))
            """, logger: logger)
    }

    // MARK: API keys

    static let keyErrors = ConstraintErrors(["api_keys_prefix_key": .conflict("conflict", "Try again.")])

    /// Creates a key with the caller's audit row, on the caller's (idempotent) transaction.
    func createKey(
        tenant: TenantID, name: String, prefix: String, secret: String, scopes: [Role], actor: String, on connection: PostgresConnection,
        requestID: String, logger: Logger
    ) async throws -> APIKeyDTO {
        try await Self.keyErrors.map {
            let row = try await connection.query(
                """
                INSERT INTO identity.api_keys (id, tenant_id, name, prefix, secret_hash, scopes, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(name), \(prefix), \(Self.hash(secret)), \(scopes.map(\.rawValue)), \(actor))
                RETURNING \(unescaped: Self.keyColumns)
                """, logger: logger
            ).first(as: KeyRow.self)!
            let key = try Self.apiKey(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "api_key.create", table: "api_keys", targetID: key.id,
                before: nil as APIKeyDTO?, after: key, requestID: requestID, logger: logger)
            return key
        }
    }

    func keys(tenant: TenantID, logger: Logger) async throws -> [APIKeyDTO] {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.keyColumns) FROM identity.api_keys WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at, id",
            logger: logger
        ).all(as: KeyRow.self).map(Self.apiKey)
    }

    /// Revokes a key and every key it created (a key may not outlive the key that made it); false when the tenant
    /// has no such key.
    func revokeKey(_ id: UUID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection -> Bool in
            let revoked = try await connection.query(
                """
                WITH RECURSIVE family AS (
                    SELECT id FROM identity.api_keys WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
                    UNION SELECT k.id FROM identity.api_keys k JOIN family f ON k.created_by = 'apikey:' || f.id::text)
                UPDATE identity.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id IN (SELECT id FROM family)
                RETURNING id
                """, logger: logger
            ).all(as: UUID.self)
            for key in revoked {
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "api_key.revoke", table: "api_keys",
                    targetID: key.uuidString.lowercased(), before: nil as [String: String]?, after: ["revoked": "true"], requestID: requestID,
                    logger: logger)
            }
            return !revoked.isEmpty
        }
    }

    struct StoredKey: Sendable {
        var id: UUID
        var tenant: TenantID
        var secretHash: String
        var scopes: [Role]
        var revoked: Bool
        var usedLongAgo: Bool
    }

    /// The key with this prefix, and whether its `last_used_at` is over a minute old (see `touchKey`).
    func key(prefix: String, logger: Logger) async throws -> StoredKey? {
        guard
            let (id, tenant, secretHash, scopes, revoked, stale) = try await self.postgres.query(
                """
                SELECT id, tenant_id, secret_hash, scopes, revoked_at IS NOT NULL,
                    last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
                FROM identity.api_keys WHERE prefix = \(prefix)
                """, logger: logger
            ).first(as: (UUID, UUID, String, [String], Bool, Bool).self)
        else { return nil }
        return StoredKey(
            id: id, tenant: TenantID(rawValue: tenant), secretHash: secretHash, scopes: try scopes.map { try CorruptRow.known($0) },
            revoked: revoked, usedLongAgo: stale)
    }

    /// Marks a verified key used. Called only when its mark is over a minute old: a write on every request would add
    /// a row version and WAL to every API-key call.
    func touchKey(_ id: UUID, logger: Logger) async throws {
        try await self.postgres.query("UPDATE identity.api_keys SET last_used_at = now() WHERE id = \(id)", logger: logger)
    }

    static let keyColumns = "id, name, prefix, scopes, created_at, last_used_at, revoked_at"
    typealias KeyRow = (UUID, String, String, [String], Date, Date?, Date?)

    static func apiKey(_ row: KeyRow) throws -> APIKeyDTO {
        APIKeyDTO(
            id: row.0.uuidString.lowercased(), name: row.1, prefix: row.2, scopes: try row.3.map { try CorruptRow.known($0) }, createdAt: row.4,
            lastUsedAt: row.5, revokedAt: row.6)
    }
}
