import Foundation
import Models

/// The demo tenant and its station, which `gateway seed-demo` and `vouchers seed-demo` each create in their own
/// schema (the demo station operator is bound to the station).
public enum DemoData {
    public static let tenant = TenantID(rawValue: UUID(uuidString: "00000000-0000-4000-8000-000000000001")!)
    public static let station = StationID(rawValue: UUID(uuidString: "00000000-0000-4000-8000-000000000501")!)
}
