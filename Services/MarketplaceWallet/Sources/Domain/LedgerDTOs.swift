import Foundation
import Models

/// An account as the API shows it: balance (posted), held (reserved by pending holds) and available (balance − held).
struct AccountDTO: Codable, Sendable, Equatable {
    var id: WalletAccountID
    var ownerType: OwnerType
    var ownerId: String
    var name: String?
    var currency: Currency
    var status: AccountStatus
    var allowNegative: Bool
    var balance: Money
    var held: Money
    var available: Money
    var createdAt: Date
    var updatedAt: Date
    /// The newest entries, on `GET /v1/wallet/accounts/{id}` only.
    var recentEntries: [EntryDTO]?
}

struct EntryDTO: Codable, Sendable, Equatable {
    var id: Int64
    var transactionId: WalletTransactionID
    var accountId: WalletAccountID
    var direction: EntryDirection
    var amount: Money
    /// The account's balance once this entry was posted.
    var balanceAfter: Money
    var createdAt: Date
}

/// A posted transaction with its entries, and each account's balance after it.
struct TransferDTO: Codable, Sendable, Equatable {
    var id: WalletTransactionID
    var type: TransactionType
    var reference: String
    var currency: Currency
    var reason: String?
    var metadata: [String: JSONValue]
    var reverses: WalletTransactionID?
    var reversedBy: WalletTransactionID?
    var holdId: WalletHoldID?
    var createdBy: String
    var createdAt: Date
    var entries: [EntryDTO]
    var balances: [Balance]

    struct Balance: Codable, Sendable, Equatable {
        var accountId: WalletAccountID
        var balance: Money
    }
}

struct HoldDTO: Codable, Sendable, Equatable {
    var id: WalletHoldID
    var type: TransactionType
    var reference: String
    var currency: Currency
    var legs: [LegDTO]
    var amount: Money
    var status: HoldStatus
    var expiresAt: Date
    var transactionId: WalletTransactionID?
    var reason: String?
    var metadata: [String: JSONValue]
    var createdBy: String
    var createdAt: Date
    var resolvedAt: Date?
}

struct LegDTO: Codable, Sendable, Equatable {
    var from: WalletAccountID
    var to: WalletAccountID
    var amount: Money
}

/// An account's entries over `[from, to)`, each with the balance after it.
struct StatementDTO: Codable, Sendable, Equatable {
    var account: AccountDTO
    var from: Date
    var to: Date
    var openingBalance: Money
    var closingBalance: Money
    var totalDebits: Money
    var totalCredits: Money
    var lines: [Line]

    struct Line: Codable, Sendable, Equatable {
        var entryId: Int64
        var at: Date
        var transactionId: WalletTransactionID
        var type: TransactionType
        var reference: String
        var reason: String?
        var direction: EntryDirection
        var amount: Money
        var balanceAfter: Money
    }
}

/// The ledger's invariants as checked in one snapshot. `holds` is true when every list is empty and every sum zero.
struct InvariantReport: Codable, Sendable, Equatable {
    var holds: Bool
    var checkedAt: Date
    var tenantId: TenantID?
    var accounts: Int
    var transactions: Int
    /// Per currency, the sum of all balances (zero when the books balance).
    var currencies: [CurrencySum]
    /// At most 20 ids per list.
    var unbalancedTransactions: [WalletTransactionID]
    var transactionsWithoutEntries: [WalletTransactionID]
    var balanceMismatches: [WalletAccountID]
    var heldMismatches: [WalletAccountID]
    var overdrawnAccounts: [WalletAccountID]

    struct CurrencySum: Codable, Sendable, Equatable {
        var currency: String
        var accounts: Int
        /// In minor units.
        var sum: Int64
    }
}

// MARK: request bodies

struct CreateAccount: Decodable, Sendable {
    var ownerType: String?
    var ownerId: String?
    var currency: String?
    var name: String?
    var allowNegative: Bool?
}

struct UpdateAccount: Decodable, Sendable {
    var status: String?
    var reason: String?
}

struct LegBody: Decodable, Sendable {
    var from: String?
    var to: String?
    var amount: String?
}

struct CreateTransfer: Decodable, Sendable {
    var type: String?
    var currency: String?
    var legs: [LegBody]?
    var reason: String?
    var metadata: [String: JSONValue]?
    /// For a hold: seconds until it voids itself (60 to 30 days; default 15 minutes).
    var timeoutSeconds: Int?
}

struct ReasonBody: Decodable, Sendable {
    var reason: String?
}
