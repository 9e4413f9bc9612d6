import Foundation
import Models

/// A vendor as the API shows it: its ranking inputs and its wallet account (the balance is read from the ledger).
struct VendorDTO: Codable, Sendable, Equatable {
    var id: VendorID
    var name: String
    var phone: String?
    var region: String?
    var categories: [String]
    var rating: Double?
    var fulfilmentRate: Double?
    var avgResponseMs: Int64?
    var totalTrips: Int
    var status: VendorStatus
    var accountId: WalletAccountID
    var currency: Currency
    var createdAt: Date
    var updatedAt: Date
}

struct BuyerDTO: Codable, Sendable, Equatable {
    var id: BuyerID
    var name: String
    var phone: String?
    var segment: String?
    var accountId: WalletAccountID
    var currency: Currency
    var createdAt: Date
    var updatedAt: Date
}

struct ProductDTO: Codable, Sendable, Equatable {
    var id: ProductID
    var vendorId: VendorID
    var name: String
    var description: String?
    var category: String?
    var price: Money
    var available: Bool
    var metadata: [String: JSONValue]
    var createdAt: Date
    var updatedAt: Date
}

struct CommissionScheduleDTO: Codable, Sendable, Equatable {
    var id: CommissionScheduleID
    /// nil: the tenant's default, for every product without a schedule of its own.
    var productId: ProductID?
    var rateBps: Int
    var flatFee: Money?
    var effectiveFrom: Date
    var createdBy: String
    var createdAt: Date
}

struct QuoteDTO: Codable, Sendable, Equatable {
    var id: QuoteID
    var intentId: IntentID
    var vendorId: VendorID
    var productId: ProductID?
    var price: Money
    var etaMinutes: Int
    var note: String?
    var status: QuoteStatus
    var createdBy: String
    var createdAt: Date
    var decidedAt: Date?
}

struct IntentDTO: Codable, Sendable, Equatable {
    var id: IntentID
    var buyerId: BuyerID
    var channel: IntentChannel
    var category: String?
    var region: String?
    var productId: ProductID?
    var description: String?
    var payload: [String: JSONValue]
    var status: IntentStatus
    var expiresAt: Date
    var conversationId: String?
    var createdBy: String
    var createdAt: Date
    var updatedAt: Date
    /// On `GET /v1/intents/{id}`: its quotes, and the tenant's vendors ranked for it with their reasons.
    var quotes: [QuoteDTO]?
    var ranking: [RankedVendor]?
    var purchaseId: PurchaseID?
}

struct PurchaseDTO: Codable, Sendable, Equatable {
    var id: PurchaseID
    var quoteId: QuoteID
    var intentId: IntentID
    var buyerId: BuyerID
    var vendorId: VendorID
    /// The accepted quote's price: what the buyer pays.
    var amount: Money
    /// What goes to the tenant's commission account; the vendor receives `amount − commission`.
    var commission: Money
    var vendorNet: Money
    var commissionScheduleId: CommissionScheduleID?
    var status: PurchaseStatus
    var holdId: WalletHoldID
    var transactionId: WalletTransactionID?
    var failureReason: String?
    var createdBy: String
    var createdAt: Date
    var resolvedAt: Date?
}

// MARK: request bodies

struct VendorBody: Decodable, Sendable {
    var name: String?
    var phone: String?
    var region: String?
    var categories: [String]?
    var rating: Double?
    var fulfilmentRate: Double?
    var avgResponseMs: Int64?
    var totalTrips: Int?
    var status: String?
    var currency: String?
}

struct BuyerBody: Decodable, Sendable {
    var name: String?
    var phone: String?
    var segment: String?
    var currency: String?
}

struct ProductBody: Decodable, Sendable {
    var vendorId: String?
    var name: String?
    var description: String?
    var category: String?
    var price: String?
    var currency: String?
    var available: Bool?
    var metadata: [String: JSONValue]?
}

struct CommissionScheduleBody: Decodable, Sendable {
    var productId: String?
    var rateBps: Int?
    var flatFee: String?
    var currency: String?
    var effectiveFrom: Date?
}

struct IntentBody: Decodable, Sendable {
    var buyerId: String?
    var channel: String?
    var category: String?
    var region: String?
    var productId: String?
    var description: String?
    var payload: [String: JSONValue]?
    var expiresInSeconds: Int?
    var conversationId: String?
}

struct QuoteBody: Decodable, Sendable {
    var intentId: String?
    var vendorId: String?
    var productId: String?
    var price: String?
    var currency: String?
    var etaMinutes: Int?
    var note: String?
}
