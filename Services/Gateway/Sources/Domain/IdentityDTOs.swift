import Contracts
import Foundation
import Models

public enum Plan: String, Codable, Sendable, CaseIterable { case lite, pro, enterprise }
public enum TenantStatus: String, Codable, Sendable, CaseIterable { case active, suspended, trial }

public struct TenantDTO: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var slug: String
    public var countries: [String]
    public var timeZone: String
    public var currency: String
    public var language: String
    public var plan: Plan
    public var status: TenantStatus
    public var createdAt: Date
    public var updatedAt: Date

    /// The tenant as other services read it (`GET /v1/gateway/tenants/{id}` answers this DTO, a superset).
    public var view: GatewayAPI.Tenant {
        GatewayAPI.Tenant(
            id: TenantID(self.id)!, name: self.name, currency: self.currency, timeZone: self.timeZone, language: self.language,
            plan: self.plan.rawValue, status: self.status.rawValue)
    }
}

public struct CreateTenant: Codable, Sendable {
    public var name: String
    public var slug: String
    public var countries: [String]?
    public var timeZone: String?
    public var currency: String?
    public var language: String?
    public var plan: Plan?
    public var status: TenantStatus?

    public init(
        name: String, slug: String, countries: [String]? = nil, timeZone: String? = nil, currency: String? = nil, language: String? = nil, plan: Plan? = nil,
        status: TenantStatus? = nil
    ) {
        self.name = name
        self.slug = slug
        self.countries = countries
        self.timeZone = timeZone
        self.currency = currency
        self.language = language
        self.plan = plan
        self.status = status
    }
}

public struct UpdateTenant: Codable, Sendable {
    public var name: String?
    public var countries: [String]?
    public var timeZone: String?
    public var currency: String?
    public var language: String?
    public var plan: Plan?
    public var status: TenantStatus?

    public init(
        name: String? = nil, countries: [String]? = nil, timeZone: String? = nil, currency: String? = nil, language: String? = nil, plan: Plan? = nil,
        status: TenantStatus? = nil
    ) {
        self.name = name
        self.countries = countries
        self.timeZone = timeZone
        self.currency = currency
        self.language = language
        self.plan = plan
        self.status = status
    }
}

public struct UserDTO: Codable, Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String
    public var tenantId: String?
    public var roles: [Role]
    public var stationId: String?
    public var active: Bool
    public var lastSeenAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct CreateUser: Codable, Sendable {
    public var email: String
    public var password: String
    public var name: String?
    /// super_admin only; a tenant_admin's users always join the admin's tenant.
    public var tenantId: String?
    public var roles: [Role]?
    public var stationId: String?

    public init(email: String, password: String, name: String? = nil, tenantId: String? = nil, roles: [Role]? = nil, stationId: String? = nil) {
        self.email = email
        self.password = password
        self.name = name
        self.tenantId = tenantId
        self.roles = roles
        self.stationId = stationId
    }
}

public struct UpdateUser: Codable, Sendable {
    public var name: String?
    public var active: Bool?
    public var password: String?
    public var stationId: String?

    public init(name: String? = nil, active: Bool? = nil, password: String? = nil, stationId: String? = nil) {
        self.name = name
        self.active = active
        self.password = password
        self.stationId = stationId
    }
}

public struct SetRoles: Codable, Sendable {
    public var roles: [Role]

    public init(roles: [Role]) {
        self.roles = roles
    }
}

public struct LoginRequest: Codable, Sendable {
    public var email: String
    public var password: String
    /// The tenant's slug (empty for platform staff), needed only when the email and password open accounts in several tenants
    /// (409 `tenant_required` lists them).
    public var tenant: String?

    public init(email: String, password: String, tenant: String? = nil) {
        self.email = email
        self.password = password
        self.tenant = tenant
    }
}

/// 409 `tenant_required`: the error body of a login whose email and password open accounts in several tenants,
/// with those tenants to choose from. Only a caller who knows the password for each of them sees the list.
public struct TenantChoiceBody: Codable, Sendable {
    public struct Choice: Codable, Sendable, Equatable {
        public var slug: String
        public var name: String
    }
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
        public var tenants: [Choice]
    }
    public var error: Detail
}

public struct RefreshRequest: Codable, Sendable {
    public var refreshToken: String

    public init(refreshToken: String) {
        self.refreshToken = refreshToken
    }
}

public struct TokenPair: Codable, Sendable, Equatable {
    public var accessToken: String
    /// Absent for web clients (`X-Sokoni-Client: web`), which get it as an HttpOnly cookie instead.
    public var refreshToken: String?
    public var tokenType: String = "Bearer"
    public var expiresIn: Int

    public init(accessToken: String, refreshToken: String?, tokenType: String = "Bearer", expiresIn: Int) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
    }
}

public struct Me: Codable, Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String
    public var tenantId: String?
    public var roles: [Role]
    public var stationId: String?
    /// The operations (`METHOD /path` as in the API documents) the gateway's route table lets this caller call: what a
    /// console shows. Each service still checks its own resources.
    public var allowed: [String]

    public init(id: String, email: String, name: String, tenantId: String? = nil, roles: [Role], stationId: String? = nil, allowed: [String] = []) {
        self.id = id
        self.email = email
        self.name = name
        self.allowed = allowed
        self.tenantId = tenantId
        self.roles = roles
        self.stationId = stationId
    }
}

public struct CreateAPIKey: Codable, Sendable {
    public var name: String
    public var scopes: [Role]

    public init(name: String, scopes: [Role]) {
        self.name = name
        self.scopes = scopes
    }
}

public struct APIKeyDTO: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var prefix: String
    public var scopes: [Role]
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// The whole key, shown once, in the answer to its creation only.
    public var key: String?
}
