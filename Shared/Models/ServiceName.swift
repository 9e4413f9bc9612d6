import Foundation

/// The six services, with their default dev port and the schema each owns.
public enum ServiceName: String, Sendable, CaseIterable, Codable {
    case gateway
    case messaging
    case vouchers
    case marketplaceWallet = "marketplace-wallet"
    case agentCore = "agent-core"
    case calendarBooking = "calendar-booking"

    public var schema: String {
        switch self {
        case .gateway: "identity"
        case .messaging: "messaging"
        case .vouchers: "vouchers"
        case .marketplaceWallet: "wallet"
        case .agentCore: "agent"
        case .calendarBooking: "calendar"
        }
    }

    public var defaultPort: Int {
        switch self {
        case .gateway: 8080
        case .messaging: 8081
        case .vouchers: 8082
        case .marketplaceWallet: 8083
        case .agentCore: 8084
        case .calendarBooking: 8085
        }
    }

    /// `services.marketplaceWallet.url` → `SERVICES_MARKETPLACE_WALLET_URL`.
    public var urlKey: String {
        let camel = self.rawValue.split(separator: "-").enumerated()
            .map { $0.offset == 0 ? String($0.element) : $0.element.capitalized }.joined()
        return "services.\(camel).url"
    }
}
