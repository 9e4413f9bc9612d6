import Foundation
import Models
import ServiceKit

/// Whose money an account holds.
enum OwnerType: String, Codable, Sendable, CaseIterable {
    case vendor, buyer, platform, commission
}

enum AccountStatus: String, Codable, Sendable, CaseIterable {
    case active, frozen, closed
}

enum TransactionType: String, Codable, Sendable, CaseIterable {
    case purchase, payout, commission, adjustment, topup, reversal
}

enum EntryDirection: String, Codable, Sendable {
    case debit, credit
}

enum HoldStatus: String, Codable, Sendable, CaseIterable {
    case pending, posted, voided, expired
}

/// One movement of a posting: `amount` (minor units, > 0) from one account to another, in the posting's currency.
struct Leg: Sendable, Equatable, Codable {
    var from: WalletAccountID
    var to: WalletAccountID
    var amount: Int64
}

/// What a caller asks the ledger to post, checked: legs in one currency, positive amounts, no account paying itself.
struct Posting: Sendable {
    var tenant: TenantID
    var type: TransactionType
    /// The caller's idempotency reference (unique per tenant).
    var reference: String
    var currency: Currency
    var legs: [Leg]
    var reason: String?
    var metadata: [String: JSONValue]
    var actor: String

    /// What each debited account gives up, per account.
    var debits: [WalletAccountID: Int64] {
        self.legs.reduce(into: [:]) { $0[$1.from, default: 0] += $1.amount }
    }

    var accounts: Set<WalletAccountID> { Set(self.legs.flatMap { [$0.from, $0.to] }) }

    /// The entries, debits and credits, in leg order.
    var entries: [(account: WalletAccountID, direction: EntryDirection, amount: Int64)] {
        self.legs.flatMap { [($0.from, .debit, $0.amount), ($0.to, .credit, $0.amount)] }
    }

    /// SHA-256 over what was asked, so that a reference reused for another request is refused rather than replayed.
    var fingerprint: String {
        let canonical = CanonicalPosting(
            type: self.type.rawValue, currency: self.currency.code, legs: self.legs, reason: self.reason, metadata: self.metadata)
        return sha256Hex((try? JSONEncoder.hashing.encode(canonical)) ?? Data())
    }

    struct CanonicalPosting: Encodable {
        var type: String
        var currency: String
        var legs: [Leg]
        var reason: String?
        var metadata: [String: JSONValue]
    }
}

extension JSONEncoder {
    /// Sorted keys, for hashing (dates as JSONEncoder's default: hashes already stored must not change).
    static let hashing: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// The rules a posting's input must meet before the ledger sees it.
enum LedgerRules {
    static let maxLegs = 20
    /// 10^15 minor units: far beyond any real transfer, far from Int64's end, so sums of many cannot overflow.
    static let maxAmount: Int64 = 1_000_000_000_000_000

    static func amount(_ text: String?, currency: Currency, field: String) throws -> Int64 {
        guard let text else { throw APIError.unprocessable("invalid_amount", "\(field) is required.") }
        let money: Money
        do {
            money = try Money(decimal: text, currency: currency)
        } catch {
            throw APIError.unprocessable("invalid_amount", "\(field): \(error.description).")
        }
        guard money.minorUnits > 0 else { throw APIError.unprocessable("invalid_amount", "\(field) must be more than zero.") }
        guard money.minorUnits <= Self.maxAmount else { throw APIError.unprocessable("invalid_amount", "\(field) is too large.") }
        return money.minorUnits
    }

    static func currency(_ code: String?) throws -> Currency {
        guard let code, let currency = Currency(code: code), code == currency.code else {
            throw APIError.unprocessable("invalid_currency", "currency is one of \(Currency.known.keys.sorted().joined(separator: ", ")).")
        }
        return currency
    }

    static func legs(_ legs: [Leg]) throws -> [Leg] {
        guard (1...Self.maxLegs).contains(legs.count) else {
            throw APIError.unprocessable("invalid_legs", "A transfer has 1 to \(Self.maxLegs) legs.")
        }
        for leg in legs where leg.from == leg.to {
            throw APIError.unprocessable("same_account", "A leg moves money between two different accounts.")
        }
        return legs
    }

    /// The references the service gives its own postings (a hold posted, a purchase's hold, a reversal without a
    /// key, the demo data, the initial credit grant): a caller's key never takes one of them.
    static let internalPrefixes = ["hold/", "purchase/", "reversal/", "seed-demo/", "initial-grant"]

    /// A reference is the caller's `Idempotency-Key`: printable ASCII, 1 to 255 characters.
    static func reference(_ text: String?) throws -> String {
        guard let text else {
            throw APIError.badRequest("idempotency_key_required", "Send an Idempotency-Key header: the transfer's reference, posted at most once.")
        }
        guard !text.isEmpty, text.count <= 255, text.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value < 0x7F }) else {
            throw APIError.badRequest("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters.")
        }
        guard !Self.internalPrefixes.contains(where: text.hasPrefix) else {
            let prefixes = Self.internalPrefixes.joined(separator: ", ")
            throw APIError.badRequest("invalid_idempotency_key", "Idempotency-Key may not start with \(prefixes): the ledger names its own postings so.")
        }
        return text
    }

    static func reason(_ text: String?, required: Bool) throws -> String? {
        try TextRules.check(text, field: "reason", length: 1...500)
        if required && (text?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true) {
            throw APIError.unprocessable("reason_required", "An adjustment says why: give a reason.")
        }
        return text
    }

    static func metadata(_ value: [String: JSONValue]?) throws -> [String: JSONValue] {
        guard let value else { return [:] }
        guard value.count <= 50, let bytes = try? JSONEncoder.hashing.encode(value), bytes.count <= 8192 else {
            throw APIError.unprocessable("invalid_metadata", "metadata is at most 50 keys and 8 KiB.")
        }
        guard !TextRules.jsonContainsNUL(bytes) else { throw APIError.unprocessable("invalid_metadata", "metadata may not contain NUL.") }
        return value
    }
}
