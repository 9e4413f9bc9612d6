import Models

/// What the gateway answers other services.
public enum GatewayAPI {
    /// `GET /v1/gateway/tenants/{id}`, for services (role `service`) and super admins.
    public static let tenant = Endpoint("GET", "/v1/gateway/tenants/{id}", .roles([.service, .superAdmin]), service: .gateway)
    /// `PUT /v1/gateway/tenants/{id}/plan` `{plan}`: marketplace-wallet keeps the tenant's plan in step with its paid
    /// subscription (a service token acting in a tenant may set only that tenant's plan).
    public static let setTenantPlan = Endpoint("PUT", "/v1/gateway/tenants/{id}/plan", .roles([.service, .superAdmin]), service: .gateway)

    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .gateway)
    }

    /// Who manages users: platform super admins, and tenant admins inside their tenant.
    static let userManagers: Set<Role> = [.superAdmin, .tenantAdmin]
    static let keyManagers: Set<Role> = [.superAdmin, .tenantAdmin]

    public static let login = endpoint("POST", "/v1/auth/login", .public)
    public static let refresh = endpoint("POST", "/v1/auth/refresh", .public)
    public static let logout = endpoint("POST", "/v1/auth/logout", .public)
    public static let me = endpoint("GET", "/v1/auth/me", .roles(Roles.signedIn))

    public static let createTenant = endpoint("POST", "/v1/tenants", .roles([.superAdmin]))
    public static let listTenants = endpoint("GET", "/v1/tenants", .roles([.superAdmin]))
    public static let getTenant = endpoint("GET", "/v1/tenants/{id}", .roles([.superAdmin]))
    public static let updateTenant = endpoint("PATCH", "/v1/tenants/{id}", .roles([.superAdmin]))

    public static let createUser = endpoint("POST", "/v1/users", .roles(userManagers))
    public static let listUsers = endpoint("GET", "/v1/users", .roles(userManagers))
    public static let getUser = endpoint("GET", "/v1/users/{id}", .roles(userManagers))
    public static let updateUser = endpoint("PATCH", "/v1/users/{id}", .roles(userManagers))
    public static let setRoles = endpoint("PUT", "/v1/users/{id}/roles", .roles(userManagers))

    public static let createKey = endpoint("POST", "/v1/api-keys", .roles(keyManagers))
    public static let listKeys = endpoint("GET", "/v1/api-keys", .roles(keyManagers))
    public static let revokeKey = endpoint("DELETE", "/v1/api-keys/{id}", .roles(keyManagers))

    /// The gateway's own routes (besides what every service has: `ServiceAPI`).
    public static let own: [Endpoint] = [
        login, refresh, logout, me, createTenant, listTenants, getTenant, updateTenant, createUser, listUsers, getUser, updateUser,
        setRoles, createKey, listKeys, revokeKey, tenant, setTenantPlan,
    ]

    /// The body of `setTenantPlan`: `lite`, `pro` or `enterprise`.
    public struct TenantPlan: Codable, Sendable, Equatable {
        public var plan: String

        public init(plan: String) {
            self.plan = plan
        }
    }

    /// A tenant as other services see it: its standing (checked on every request) and its defaults.
    public struct Tenant: Codable, Sendable, Equatable {
        public var id: TenantID
        public var name: String
        public var currency: String
        public var timeZone: String
        public var language: String
        public var plan: String
        public var status: String

        public init(id: TenantID, name: String, currency: String, timeZone: String, language: String, plan: String, status: String) {
            self.id = id
            self.name = name
            self.currency = currency
            self.timeZone = timeZone
            self.language = language
            self.plan = plan
            self.status = status
        }

        public var isSuspended: Bool { self.status == "suspended" }
    }
}
