import Models

/// What the gateway answers other services.
public enum GatewayAPI {
    /// `GET /v1/gateway/tenants/{id}`, for services (role `service`) and super admins.
    public static let tenant = Endpoint("GET", "/v1/gateway/tenants/{id}", .roles([.service, .superAdmin]), service: .gateway)

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
