/// The roles of ARCHITECTURE.md §4. Raw values are the wire and database form.
public enum Role: String, Codable, Sendable, CaseIterable, Hashable {
    case superAdmin = "super_admin"
    case support
    case dataOps = "data_ops"
    case readonly
    case tenantAdmin = "tenant_admin"
    case agent
    case stationOperator = "station_operator"
    case service

    /// Platform staff work across tenants; their tokens carry no tenant.
    public var isPlatformStaff: Bool {
        switch self {
        case .superAdmin, .support, .dataOps, .readonly: true
        case .tenantAdmin, .agent, .stationOperator, .service: false
        }
    }

    /// Roles that may only read.
    public static let staff: Set<Role> = [.superAdmin, .support, .dataOps, .readonly]
}
