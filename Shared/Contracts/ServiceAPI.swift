import Foundation
import Models

/// What every service answers under its own prefix, `/v1/<service>/…`.
public enum ServiceAPI {
    /// `GET /v1/<service>/whoami`: the caller's identity as that service verified it.
    public static func whoami(_ service: ServiceName) -> Endpoint {
        Endpoint("GET", "/v1/\(service.rawValue)/whoami", .roles(Roles.signedIn), service: service)
    }

    /// `GET /v1/<service>/audit`: who changed what in that service's schema, for the caller's tenant.
    public static func audit(_ service: ServiceName) -> Endpoint {
        Endpoint("GET", "/v1/\(service.rawValue)/audit", .roles(Roles.readers), service: service)
    }

    public static func all(_ service: ServiceName) -> [Endpoint] { [whoami(service), audit(service)] }

    /// One row of a service's audit log, as the admin console shows it.
    public struct AuditEntry: Codable, Sendable, Equatable {
        public var id: Int64
        public var actor: String
        public var action: String
        public var targetType: String
        public var targetId: String
        /// What the service recorded: usually `{"before": {...}, "after": {...}}` or the fields that changed.
        public var diff: JSONValue
        public var requestId: String?
        public var createdAt: Date

        public init(
            id: Int64, actor: String, action: String, targetType: String, targetId: String, diff: JSONValue, requestId: String?, createdAt: Date
        ) {
            self.id = id
            self.actor = actor
            self.action = action
            self.targetType = targetType
            self.targetId = targetId
            self.diff = diff
            self.requestId = requestId
            self.createdAt = createdAt
        }
    }
}
