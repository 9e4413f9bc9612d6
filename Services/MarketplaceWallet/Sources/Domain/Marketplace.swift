import Foundation
import Models
import ServiceKit

enum VendorTag {}
enum BuyerTag {}
enum ProductTag {}
enum IntentTag {}
enum QuoteTag {}
enum PurchaseTag {}
enum CommissionScheduleTag {}
typealias VendorID = Identifier<VendorTag>
typealias BuyerID = Identifier<BuyerTag>
typealias ProductID = Identifier<ProductTag>
typealias IntentID = Identifier<IntentTag>
typealias QuoteID = Identifier<QuoteTag>
typealias PurchaseID = Identifier<PurchaseTag>
typealias CommissionScheduleID = Identifier<CommissionScheduleTag>

enum VendorStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended
}

enum IntentStatus: String, Codable, Sendable, CaseIterable {
    case pending, matched, expired, cancelled
}

enum IntentChannel: String, Codable, Sendable, CaseIterable {
    case whatsapp, instagram, sms, telegram, webchat, voice
    case leadForm = "lead_form"
    case web, api
}

enum QuoteStatus: String, Codable, Sendable, CaseIterable {
    case pending, accepted, rejected, expired
}

enum PurchaseStatus: String, Codable, Sendable, CaseIterable {
    case pending, completed, cancelled, failed
}

/// A commission schedule's terms: a rate in basis points (1/100 of a percent) plus an optional flat fee.
struct CommissionTerms: Sendable, Equatable {
    var rateBps: Int
    var flatFee: Int64

    /// The commission on `amount` (minor units): the rate rounded half up, plus the fee. Refused when larger than the
    /// amount: easyMO redirected the whole payment to the platform in that case, without a word.
    func commission(on amount: Int64) throws -> Int64 {
        // amount × rate in 128 bits, then ÷ 10,000 rounded half up: exact for every amount the ledger takes
        let (quotient, remainder) = Int64(10_000).dividingFullWidth(amount.multipliedFullWidth(by: Int64(self.rateBps)))
        let rated = quotient + (remainder >= 5_000 ? 1 : 0)
        let total = rated + self.flatFee
        guard total <= amount else {
            throw APIError.unprocessable(
                "commission_exceeds_amount", "The commission in force (\(total) minor units) is more than the purchase (\(amount)); nothing was charged.")
        }
        return total
    }
}

/// What the ranking knows of a vendor: its profile, never its wallet balance.
struct VendorProfile: Sendable, Equatable {
    var id: VendorID
    var name: String
    var region: String?
    var categories: [String]
    var rating: Double?
    var fulfilmentRate: Double?
    var avgResponseMs: Int64?
}

/// A vendor's open offer on an intent, as the ranking reads it.
struct Offer: Sendable, Equatable {
    var quoteID: QuoteID
    var price: Int64
    var etaMinutes: Int
}

/// One ranked vendor: its score (0–1), each component's contribution, and the reasons in words.
struct RankedVendor: Codable, Sendable, Equatable {
    var vendorId: VendorID
    var name: String
    var quoteId: QuoteID?
    var score: Double
    var components: [String: Double]
    var reasons: [String]
}

/// Ranks vendors for an intent, explainably: every component is a number from 0 to 1 times a fixed weight, the
/// score their sum, and each ranked vendor carries them. Wallet balances are never an input (a rich vendor is not a
/// better one).
enum VendorRanking {
    static let weights: [(name: String, weight: Double)] = [
        ("category", 0.25), ("region", 0.15), ("rating", 0.15), ("fulfilment", 0.15), ("responseTime", 0.05), ("price", 0.2), ("eta", 0.05),
    ]

    static func rank(category: String?, region: String?, vendors: [VendorProfile], offers: [VendorID: Offer], currency: Currency?) -> [RankedVendor] {
        let cheapest = offers.values.map(\.price).min()
        let fastest = offers.values.map(\.etaMinutes).min()
        let ranked = vendors.map { vendor -> RankedVendor in
            var parts: [String: Double] = [:]
            var reasons: [String] = []
            let offer = offers[vendor.id]
            if let category {
                let matches = vendor.categories.contains { $0.caseInsensitiveCompare(category) == .orderedSame }
                parts["category"] = matches ? 1 : 0
                if matches { reasons.append("sells \(category)") }
            } else {
                parts["category"] = 0
            }
            if let region, let own = vendor.region {
                let matches = own.caseInsensitiveCompare(region) == .orderedSame
                parts["region"] = matches ? 1 : 0
                if matches { reasons.append("in \(own)") }
            } else {
                parts["region"] = 0
            }
            if let rating = vendor.rating {
                parts["rating"] = min(max(rating / 5, 0), 1)
                reasons.append("rated \(String(format: "%.1f", rating))/5")
            } else {
                parts["rating"] = 0
            }
            if let fulfilment = vendor.fulfilmentRate {
                parts["fulfilment"] = min(max(fulfilment, 0), 1)
                reasons.append("fulfils \(Int((fulfilment * 100).rounded()))% of orders")
            } else {
                parts["fulfilment"] = 0
            }
            if let ms = vendor.avgResponseMs {
                // 1 for an instant answer, ½ at ten minutes, falling towards 0
                parts["responseTime"] = 1 / (1 + Double(ms) / 600_000)
                reasons.append("answers in about \(max(1, Int((Double(ms) / 60_000).rounded()))) min")
            } else {
                parts["responseTime"] = 0
            }
            if let offer, let cheapest, let fastest {
                parts["price"] = Double(cheapest) / Double(offer.price)
                parts["eta"] = 1 / (1 + Double(offer.etaMinutes - fastest) / 60)
                let price = currency.map { Money(minorUnits: offer.price, currency: $0) }
                let shown = price.map { "\($0.decimalString) \($0.currency.code)" } ?? "\(offer.price)"
                reasons.append(offer.price == cheapest ? "cheapest quote (\(shown))" : "quotes \(shown)")
                reasons.append(offer.etaMinutes == fastest ? "fastest (\(offer.etaMinutes) min)" : "ready in \(offer.etaMinutes) min")
            } else {
                parts["price"] = 0
                parts["eta"] = 0
                reasons.append("no quote yet")
            }
            var components: [String: Double] = [:]
            var score = 0.0
            for (name, weight) in Self.weights {
                let contribution = Self.rounded((parts[name] ?? 0) * weight)
                components[name] = contribution
                score += contribution
            }
            return RankedVendor(
                vendorId: vendor.id, name: vendor.name, quoteId: offer?.quoteID, score: Self.rounded(score), components: components, reasons: reasons)
        }
        return ranked.sorted { ($0.score, $1.name) > ($1.score, $0.name) }
    }

    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
}

/// The rules a marketplace request's input must meet.
enum MarketplaceRules {
    /// Intents live 10 minutes to 30 days; a day unless told.
    static let intentLifetimes = 600...(30 * 86_400)
    /// A purchase's funds are held until it completes: 30 days at most, 7 days unless configured.
    static let purchaseHoldSeconds = 7 * 86_400

    static func name(_ text: String?, field: String = "name") throws -> String {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) is required.")
        }
        try TextRules.check(text, field: field, length: 1...200)
        return text
    }

    static func phone(_ text: String?) throws -> PhoneNumber? {
        guard let text else { return nil }
        do {
            return try PhoneNumber(parsing: text)
        } catch {
            throw APIError.unprocessable("invalid_phone", "phone: \(error.description).")
        }
    }

    static func categories(_ values: [String]?) throws -> [String] {
        guard let values else { return [] }
        guard values.count <= 20 else { throw APIError.unprocessable("invalid_categories", "At most 20 categories.") }
        for value in values { try TextRules.check(value, field: "categories", length: 1...100) }
        return Array(Set(values.map { $0.lowercased() })).sorted()
    }

    static func fraction(_ value: Double?, field: String, upTo limit: Double) throws -> Double? {
        guard let value else { return nil }
        guard value.isFinite, (0...limit).contains(value) else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) is from 0 to \(limit).")
        }
        return value
    }

    static func price(_ text: String?, currency: Currency, field: String = "price") throws -> Int64 {
        try LedgerRules.amount(text, currency: currency, field: field)
    }
}
