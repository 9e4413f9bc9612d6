import Foundation
import Models

/// marketplace-wallet's public API (who may call what). Money moves only for platform admins and the tenant's
/// admins (and other services); everyone who reads a tenant's books may read the ledger.
public enum WalletAPI {
    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .marketplaceWallet)
    }

    /// Who may move money or open and freeze accounts.
    static let bookkeepers: Set<Role> = [.superAdmin, .tenantAdmin, .service]
    static let readers = Roles.readers.union([.service])

    public static let listAccounts = endpoint("GET", "/v1/wallet/accounts", .roles(readers))
    public static let createAccount = endpoint("POST", "/v1/wallet/accounts", .roles(bookkeepers))
    public static let getAccount = endpoint("GET", "/v1/wallet/accounts/{id}", .roles(readers))
    /// Freeze, unfreeze or close (a closed account is empty and stays closed).
    public static let updateAccount = endpoint("PATCH", "/v1/wallet/accounts/{id}", .roles(bookkeepers))
    /// A posting: balanced legs in one currency, at most once per `Idempotency-Key` (the transaction's reference).
    public static let createTransfer = endpoint("POST", "/v1/wallet/transfers", .roles(bookkeepers))
    public static let listTransfers = endpoint("GET", "/v1/wallet/transfers", .roles(readers))
    public static let getTransfer = endpoint("GET", "/v1/wallet/transfers/{id}", .roles(readers))
    /// The correction of a posting: a reversal transaction linked to it (at most one).
    public static let reverseTransfer = endpoint("POST", "/v1/wallet/transfers/{id}/reverse", .roles(bookkeepers))
    /// Two-phase transfers: reserve now, post or void later, or let the timeout void it.
    public static let createHold = endpoint("POST", "/v1/wallet/holds", .roles(bookkeepers))
    public static let listHolds = endpoint("GET", "/v1/wallet/holds", .roles(readers))
    public static let getHold = endpoint("GET", "/v1/wallet/holds/{id}", .roles(readers))
    public static let postHold = endpoint("POST", "/v1/wallet/holds/{id}/post", .roles(bookkeepers))
    public static let voidHold = endpoint("POST", "/v1/wallet/holds/{id}/void", .roles(bookkeepers))
    /// An account's entries over a period with the running balance (JSON, or CSV).
    public static let statement = endpoint("GET", "/v1/wallet/statements", .roles(readers))
    /// The ledger's invariants, checked now: balances sum to zero per currency, every transaction balances, every
    /// balance is the sum of its entries, nothing is overdrawn.
    public static let invariants = endpoint("GET", "/v1/wallet/invariants", .roles(readers))

    // MARK: the marketplace

    /// Who reads the catalogue and the purchase flow: the books' readers and the tenant's agents.
    static let marketReaders = readers.union([.agent])
    /// Who takes part in a sale: the tenant's admins and agents, and agent-core's tools.
    static let sellers: Set<Role> = [.superAdmin, .tenantAdmin, .agent, .service]

    public static let listVendors = endpoint("GET", "/v1/vendors", .roles(marketReaders))
    /// A vendor, opened with its wallet account in the given currency.
    public static let createVendor = endpoint("POST", "/v1/vendors", .roles(bookkeepers))
    public static let getVendor = endpoint("GET", "/v1/vendors/{id}", .roles(marketReaders))
    public static let updateVendor = endpoint("PATCH", "/v1/vendors/{id}", .roles(bookkeepers))
    public static let listBuyers = endpoint("GET", "/v1/buyers", .roles(marketReaders))
    /// A buyer, opened with its wallet account; one per phone number.
    public static let createBuyer = endpoint("POST", "/v1/buyers", .roles(sellers))
    public static let getBuyer = endpoint("GET", "/v1/buyers/{id}", .roles(marketReaders))
    public static let updateBuyer = endpoint("PATCH", "/v1/buyers/{id}", .roles(bookkeepers))
    /// Products by words (`q`), metadata containment (`metadata`, a JSON object), vendor, category, availability.
    public static let listProducts = endpoint("GET", "/v1/products", .roles(marketReaders))
    public static let createProduct = endpoint("POST", "/v1/products", .roles(bookkeepers))
    public static let getProduct = endpoint("GET", "/v1/products/{id}", .roles(marketReaders))
    public static let updateProduct = endpoint("PATCH", "/v1/products/{id}", .roles(bookkeepers))
    /// Commission schedules: a rate and an optional flat fee per product (or the tenant's default), from a moment on.
    public static let listCommissionSchedules = endpoint("GET", "/v1/commission-schedules", .roles(readers))
    public static let createCommissionSchedule = endpoint("POST", "/v1/commission-schedules", .roles(bookkeepers))
    public static let listIntents = endpoint("GET", "/v1/intents", .roles(marketReaders))
    public static let createIntent = endpoint("POST", "/v1/intents", .roles(sellers))
    /// An intent with its quotes and the vendors ranked for it, each with its score components and reasons.
    public static let getIntent = endpoint("GET", "/v1/intents/{id}", .roles(marketReaders))
    public static let cancelIntent = endpoint("POST", "/v1/intents/{id}/cancel", .roles(sellers))
    public static let listQuotes = endpoint("GET", "/v1/quotes", .roles(marketReaders))
    public static let createQuote = endpoint("POST", "/v1/quotes", .roles(sellers))
    public static let getQuote = endpoint("GET", "/v1/quotes/{id}", .roles(marketReaders))
    /// Accepting a quote rejects the intent's others and opens a purchase at the quote's price, its funds held.
    public static let acceptQuote = endpoint("POST", "/v1/quotes/{id}/accept", .roles(sellers))
    public static let rejectQuote = endpoint("POST", "/v1/quotes/{id}/reject", .roles(sellers))
    public static let listPurchases = endpoint("GET", "/v1/purchases", .roles(marketReaders))
    public static let getPurchase = endpoint("GET", "/v1/purchases/{id}", .roles(marketReaders))
    /// Completing posts the purchase's hold: buyer → vendor (net), buyer → commission.
    public static let completePurchase = endpoint("POST", "/v1/purchases/{id}/complete", .roles(bookkeepers))
    /// Cancelling voids the hold: the buyer's funds are released.
    public static let cancelPurchase = endpoint("POST", "/v1/purchases/{id}/cancel", .roles(sellers))

    // MARK: usage credits

    /// The tenant's credits: remaining, reserved, used, usage per day, top-ups and alerts.
    public static let credits = endpoint("GET", "/v1/credits", .roles(readers))
    /// Credits granted to a tenant (platform admins, or the billing that sold them), once per `Idempotency-Key`.
    public static let topUpCredits = endpoint("POST", "/v1/credits/topups", .roles([.superAdmin, .service]))
    /// agent-core, before it calls a model: one reservation per reference (the inbound message); 409
    /// `credits_exhausted` when none are left.
    public static let reserveCredits = endpoint("POST", "/v1/credits/reservations", .roles([.service]))
    /// After the reply: settled (the model was called) or released (it was not).
    public static let settleCredits = endpoint("POST", "/v1/credits/reservations/{reference}/settle", .roles([.service]))
    public static let releaseCredits = endpoint("POST", "/v1/credits/reservations/{reference}/release", .roles([.service]))

    public struct ReserveCredits: Codable, Sendable, Equatable {
        public var reference: String
        public var credits: Int
        public init(reference: String, credits: Int = 1) {
            self.reference = reference
            self.credits = credits
        }
    }

    public struct CreditReservation: Codable, Sendable, Equatable {
        public var reference: String
        public var credits: Int
        /// `reserved`, `settled`, `released` or `expired`.
        public var status: String
        public var expiresAt: Date
        /// What the tenant can still reserve after this.
        public var available: Int64
        public init(reference: String, credits: Int, status: String, expiresAt: Date, available: Int64) {
            self.reference = reference
            self.credits = credits
            self.status = status
            self.expiresAt = expiresAt
            self.available = available
        }
    }

    // MARK: what other services read of the marketplace (agent-core's tools); the service's answers carry more

    public struct ProductView: Codable, Sendable, Equatable {
        public var id: UUID
        public var vendorId: UUID
        public var name: String
        public var description: String?
        public var category: String?
        public var price: Money
        public var available: Bool
    }

    public struct BuyerView: Codable, Sendable, Equatable {
        public var id: UUID
        public var name: String
        public var phone: String?
        public var currency: String
    }

    public struct NewBuyer: Codable, Sendable, Equatable {
        public var name: String
        public var phone: String?
        public var currency: String
        public init(name: String, phone: String?, currency: String) {
            self.name = name
            self.phone = phone
            self.currency = currency
        }
    }

    public struct NewIntent: Codable, Sendable, Equatable {
        public var buyerId: String
        public var channel: String
        public var category: String?
        public var region: String?
        public var productId: String?
        public var description: String?
        public var conversationId: String?
        public init(
            buyerId: String, channel: String, category: String?, region: String?, productId: String?, description: String?, conversationId: String?
        ) {
            self.buyerId = buyerId
            self.channel = channel
            self.category = category
            self.region = region
            self.productId = productId
            self.description = description
            self.conversationId = conversationId
        }
    }

    public struct QuoteView: Codable, Sendable, Equatable {
        public var id: UUID
        public var intentId: UUID
        public var vendorId: UUID
        public var price: Money
        public var etaMinutes: Int
        public var status: String
        public var note: String?
    }

    public struct RankedVendorView: Codable, Sendable, Equatable {
        public var vendorId: UUID
        public var name: String
        public var quoteId: UUID?
        public var score: Double
        public var reasons: [String]
    }

    public struct IntentView: Codable, Sendable, Equatable {
        public var id: UUID
        public var buyerId: UUID
        public var status: String
        public var category: String?
        public var description: String?
        public var expiresAt: Date
        public var quotes: [QuoteView]?
        public var ranking: [RankedVendorView]?
        public var purchaseId: UUID?
    }

    public struct PurchaseView: Codable, Sendable, Equatable {
        public var id: UUID
        public var quoteId: UUID
        public var intentId: UUID
        public var amount: Money
        public var status: String
    }

    public static let all: [Endpoint] = [
        listAccounts, createAccount, getAccount, updateAccount, createTransfer, listTransfers, getTransfer, reverseTransfer,
        createHold, listHolds, getHold, postHold, voidHold, statement, invariants,
        listVendors, createVendor, getVendor, updateVendor, listBuyers, createBuyer, getBuyer, updateBuyer, listProducts, createProduct, getProduct,
        updateProduct, listCommissionSchedules, createCommissionSchedule, listIntents, createIntent, getIntent, cancelIntent, listQuotes, createQuote,
        getQuote, acceptQuote, rejectQuote, listPurchases, getPurchase, completePurchase, cancelPurchase, credits, topUpCredits, reserveCredits,
        settleCredits, releaseCredits,
    ]
}
