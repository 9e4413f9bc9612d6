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
}

public struct UpdateTenant: Codable, Sendable {
    public var name: String?
    public var countries: [String]?
    public var timeZone: String?
    public var currency: String?
    public var language: String?
    public var plan: Plan?
    public var status: TenantStatus?
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
}

public struct UpdateUser: Codable, Sendable {
    public var name: String?
    public var active: Bool?
    public var password: String?
    public var stationId: String?
}

public struct SetRoles: Codable, Sendable {
    public var roles: [Role]
}

public struct LoginRequest: Codable, Sendable {
    public var email: String
    public var password: String
}

public struct RefreshRequest: Codable, Sendable {
    public var refreshToken: String
}

public struct TokenPair: Codable, Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    public var tokenType: String = "Bearer"
    public var expiresIn: Int
}

public struct Me: Codable, Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String
    public var tenantId: String?
    public var roles: [Role]
    public var stationId: String?
}

public struct CreateAPIKey: Codable, Sendable {
    public var name: String
    public var scopes: [Role]
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
