import Foundation
import Models
import ServiceKit

enum SubscriptionTag {}
enum SubscriptionPaymentTag {}
typealias SubscriptionID = Identifier<SubscriptionTag>
typealias SubscriptionPaymentID = Identifier<SubscriptionPaymentTag>

/// The plans (seed 002), the same names as the gateway's tenant plan.
enum SubscriptionPlan: String, Codable, Sendable, CaseIterable {
    case lite, pro, enterprise
}

enum SubscriptionStatus: String, Codable, Sendable, CaseIterable {
    /// Never paid yet.
    case pendingPayment = "pending_payment"
    case active
    /// Its period ended without a new payment.
    case pastDue = "past_due"
    case cancelled
}

enum PaymentProvider: String, Codable, Sendable, CaseIterable {
    case mpesa, revolut
}

enum PaymentStatus: String, Codable, Sendable, CaseIterable {
    case pending, succeeded, failed, cancelled, timeout

    /// What a confirmed Daraja result code means: 0 paid; 1032 cancelled by the user; 1037 (phone unreachable, no
    /// answer) and 1019 (expired) timed out, where money may still move, so never called failed; the rest (2001
    /// wrong PIN, 1 insufficient funds, 1001 another transaction in progress, …) failed.
    static func of(resultCode code: Int) -> PaymentStatus {
        switch code {
        case 0: .succeeded
        case 1032: .cancelled
        case 1037, 1019: .timeout
        default: .failed
        }
    }
}

struct SubscriptionDTO: Codable, Sendable, Equatable {
    var id: SubscriptionID
    var plan: SubscriptionPlan
    var status: SubscriptionStatus
    var amount: Money
    var periodStart: Date?
    var periodEnd: Date?
    var receiptNumber: String?
    var activatedAt: Date?
    var createdAt: Date
    var updatedAt: Date
}

struct SubscriptionPaymentDTO: Codable, Sendable, Equatable {
    var id: SubscriptionPaymentID
    var subscriptionId: SubscriptionID
    var provider: PaymentProvider
    var plan: SubscriptionPlan
    var amount: Money
    var phone: String?
    /// Made against the offline sandbox: nothing was paid.
    var sandbox: Bool
    var merchantRequestId: String?
    var checkoutRequestId: String?
    var status: PaymentStatus
    var resultCode: Int?
    var resultDescription: String?
    var receiptNumber: String?
    var callbackReceivedAt: Date?
    var requestedAt: Date
    var confirmedAt: Date?
}

/// `GET /v1/subscriptions`: the tenant's subscription (none before its first payment attempt) and its payments,
/// newest first.
struct SubscriptionView: Codable, Sendable, Equatable {
    var subscription: SubscriptionDTO?
    var payments: [SubscriptionPaymentDTO]
    /// Whether M-Pesa is the offline sandbox here (payments are settled through the API, nothing is paid).
    var sandbox: Bool
}

/// `POST /v1/subscriptions`: the plan to pay for and the M-Pesa phone that gets the prompt.
struct StartSubscriptionBody: Codable, Sendable {
    var plan: String?
    var phone: String?
}

/// `POST /v1/subscriptions/payments/{id}/simulate` (sandbox only): how the prompt ends, and whether the callback
/// arrives (without it, the query job settles the payment).
struct SimulatePaymentBody: Codable, Sendable {
    var resultCode: Int?
    var callback: Bool?
}

/// `GET /v1/subscriptions/payment-options`.
struct PaymentOptionsDTO: Codable, Sendable, Equatable {
    struct Option: Codable, Sendable, Equatable {
        var provider: PaymentProvider
        var currency: Currency
        /// The price of each plan for one period.
        var prices: [String: Money]
        /// M-Pesa: paid by STK push through `POST /v1/subscriptions`. Revolut: paid at `url`.
        var url: String?
        var sandbox: Bool?
    }
    var options: [Option]
    var periodDays: Int
}

/// Prices of the plans for one period, per provider, from settings.
struct PlanPrices: Sendable, Equatable {
    var prices: [SubscriptionPlan: Money]

    func price(_ plan: SubscriptionPlan) -> Money { self.prices[plan]! }

    var json: [String: Money] { Dictionary(uniqueKeysWithValues: self.prices.map { ($0.key.rawValue, $0.value) }) }

    /// `lite:1000,pro:3000,enterprise:10000` in major units; every plan priced. M-Pesa takes whole shillings, so a KES
    /// price has no cents.
    static func parse(_ text: String, currency: Currency, key: String) throws -> PlanPrices {
        var prices: [SubscriptionPlan: Money] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let plan = SubscriptionPlan(rawValue: pair[0]), let money = try? Money(decimal: pair[1], currency: currency),
                money.minorUnits > 0
            else { throw ConfigurationError(key: key, reason: "must be plan:price pairs (lite:1000,pro:3000,enterprise:10000), got \"\(text)\"") }
            if currency == .KES && money.minorUnits % 100 != 0 {
                throw ConfigurationError(key: key, reason: "M-Pesa takes whole shillings: \(pair[1]) has cents")
            }
            prices[plan] = money
        }
        guard prices.count == SubscriptionPlan.allCases.count else {
            throw ConfigurationError(key: key, reason: "must price every plan (lite, pro, enterprise), got \"\(text)\"")
        }
        return PlanPrices(prices: prices)
    }
}

/// The subscription flow's settings (see `MarketplaceWalletService`).
struct BillingSettings: Sendable {
    /// Daraja's app and paybill; nil: the offline sandbox.
    var daraja: DarajaConfiguration?
    /// The last path segment of the callback URL, the only thing that tells Daraja's callbacks from anyone else's.
    var callbackSecret: String
    /// Where Daraja reaches this platform (the gateway's public URL).
    var publicURL: String
    var mpesaPrices: PlanPrices
    var eurPrices: PlanPrices
    var revolutLink: String?
    var periodDays: Int
    /// A payment with no callback is queried this long after the push…
    var queryAfter: Duration
    /// … and again this often while Daraja says it is being processed…
    var queryEvery: Duration
    /// … until this long after the push, when it is settled as timed out.
    var expiry: Duration
    var sweepInterval: Duration
    /// A push Daraja accepted whose payment row is still missing this long after (its request's transaction failed)
    /// is adopted as a pending payment.
    var adoptAfter: Duration

    var callbackURL: String { "\(self.publicURL)/webhooks/mpesa/\(self.callbackSecret)" }

    static func read(_ settings: Settings, gatewayURL: URL) throws -> BillingSettings {
        let key = settings.string("wallet.darajaConsumerKey", secret: true)
        let secret = settings.string("wallet.darajaConsumerSecret", secret: true)
        let shortcode = settings.string("wallet.darajaShortcode")
        let passkey = settings.string("wallet.darajaPasskey", secret: true)
        var daraja: DarajaConfiguration? = nil
        var callbackSecret = settings.string("wallet.mpesaCallbackSecret", secret: true)
        let given = [key, secret, shortcode, passkey].compactMap { $0 }.count
        if given == 4, let key, let secret, let shortcode, let passkey {
            guard shortcode.allSatisfy(\.isNumber), (5...7).contains(shortcode.count) else {
                throw ConfigurationError(key: "wallet.darajaShortcode", reason: "must be the 5 to 7 digit paybill")
            }
            guard let callback = callbackSecret, callback.count >= 24, callback.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ConfigurationError(
                    key: "wallet.mpesaCallbackSecret", reason: "is required with Daraja credentials: at least 24 letters, digits, - or _ (the callback path)")
            }
            callbackSecret = callback
            daraja = DarajaConfiguration(
                baseURL: try settings.url("wallet.darajaBaseUrl", default: "https://sandbox.safaricom.co.ke")!.absoluteString, consumerKey: key,
                consumerSecret: secret, shortcode: shortcode, passkey: passkey)
        } else if given > 0 {
            throw ConfigurationError(
                key: "wallet.darajaConsumerKey",
                reason: "Daraja needs all of WALLET_DARAJA_CONSUMER_KEY, _CONSUMER_SECRET, _SHORTCODE and _PASSKEY (or none, for the sandbox)")
        }
        var publicURL = try settings.url("wallet.publicUrl", default: gatewayURL.absoluteString)!.absoluteString
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        var revolut: String? = nil
        if let link = try settings.url("wallet.revolutPaymentLink") {
            guard link.scheme == "https" else { throw ConfigurationError(key: "wallet.revolutPaymentLink", reason: "must be an https URL") }
            revolut = link.absoluteString
        }
        return BillingSettings(
            daraja: daraja, callbackSecret: callbackSecret ?? UUID().uuidString + UUID().uuidString, publicURL: publicURL,
            mpesaPrices: try PlanPrices.parse(
                settings.string("wallet.planPricesKes", default: "lite:1000,pro:3000,enterprise:10000"), currency: .KES, key: "wallet.planPricesKes"),
            eurPrices: try PlanPrices.parse(
                settings.string("wallet.planPricesEur", default: "lite:10.00,pro:30.00,enterprise:100.00"), currency: .EUR, key: "wallet.planPricesEur"),
            revolutLink: revolut, periodDays: try settings.int("wallet.subscriptionPeriodDays", default: 30, range: 1...366),
            queryAfter: .milliseconds(try settings.int("wallet.mpesaQueryAfterMs", default: 60_000, range: 10...3_600_000)),
            queryEvery: .milliseconds(try settings.int("wallet.mpesaQueryEveryMs", default: 30_000, range: 10...3_600_000)),
            expiry: .milliseconds(try settings.int("wallet.mpesaExpiryMs", default: 600_000, range: 10...86_400_000)),
            sweepInterval: .milliseconds(try settings.int("wallet.mpesaSweepIntervalMs", default: 5_000, range: 10...3_600_000)),
            adoptAfter: .milliseconds(try settings.int("wallet.mpesaAdoptAfterMs", default: 120_000, range: 10...3_600_000)))
    }
}

enum SubscriptionRules {
    static func plan(_ text: String?) throws -> SubscriptionPlan {
        guard let text, let plan = SubscriptionPlan(rawValue: text) else {
            throw APIError.unprocessable("invalid_plan", "plan is lite, pro or enterprise.")
        }
        return plan
    }

    /// A Kenyan mobile number (M-Pesa's), `07…`, `2547…` or `+2547…`.
    static func mpesaPhone(_ text: String?) throws -> PhoneNumber {
        guard let text, !text.isEmpty else { throw APIError.unprocessable("invalid_phone", "phone (the M-Pesa number to prompt) is required.") }
        let phone: PhoneNumber
        do {
            phone = try PhoneNumber(parsing: text.hasPrefix("254") ? "+" + text : text, defaultRegion: "KE")
        } catch {
            throw APIError.unprocessable("invalid_phone", "phone: \(error.description).")
        }
        guard phone.e164.hasPrefix("+254"), phone.e164.count == 13 else {
            throw APIError.unprocessable("phone_not_mpesa", "M-Pesa prompts Kenyan mobile numbers (+254…).")
        }
        return phone
    }

    /// The secret in the callback's path, compared in constant time.
    static func sameSecret(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<b.count {
            difference |= (index < a.count ? a[index] : 0) ^ b[index]
        }
        return difference == 0
    }
}
