import Foundation
import Models
import ServiceKit

/// The rules of issuing and moving vouchers that are checked before anything is written.
struct VoucherRules: Sendable {
    /// How long a voucher lives when the request names no expiry (nil: no expiry).
    let defaultExpiry: TimeInterval?
    /// The latest expiry a voucher may have: ten years out.
    static let longestLife: TimeInterval = 10 * 366 * 86_400
    /// The largest amount of one voucher, in the currency's major units: fuel, not real estate.
    static let largestAmount: Int64 = 100_000_000

    /// An amount written as a decimal in `currency`, positive and not absurd.
    static func money(_ text: String, currency: Currency, field: String = "amount") throws -> Money {
        let money: Money
        do { money = try Money(decimal: text, currency: currency) } catch {
            throw APIError.unprocessable("invalid_amount", "\(field): \(error.description)")
        }
        guard money.minorUnits > 0 else { throw APIError.unprocessable("invalid_amount", "\(field) must be positive.") }
        let limit = Self.largestAmount.multipliedReportingOverflow(by: Int64(pow(10, Double(currency.exponent))))
        guard !limit.overflow, money.minorUnits <= limit.partialValue else {
            throw APIError.unprocessable("invalid_amount", "\(field) may be at most \(Self.largestAmount) \(currency.code).")
        }
        return money
    }

    /// The expiry to store: the one asked for (in the future, within ten years), or the default.
    func expiry(_ asked: Date?, now: Date = Date()) throws -> Date? {
        guard let asked else { return self.defaultExpiry.map { now.addingTimeInterval($0) } }
        guard asked > now else { throw APIError.unprocessable("invalid_expiry", "expiresAt must be in the future.") }
        guard asked <= now.addingTimeInterval(Self.longestLife) else {
            throw APIError.unprocessable("invalid_expiry", "expiresAt may be at most ten years away.")
        }
        return asked
    }

    static func phone(_ text: String, field: String = "msisdn") throws -> PhoneNumber {
        do { return try PhoneNumber(parsing: text) } catch { throw APIError.unprocessable("invalid_msisdn", "\(field): \(error.description)") }
    }

    /// Only `sent` and `void` are set by hand (redemption and expiry have their own paths), and never the status a
    /// voucher already has; the database's trigger checks the rest of the state machine.
    static func checkTransition(from current: VoucherStatus, to target: VoucherStatus) throws {
        guard [.sent, .void].contains(target) else {
            throw APIError.unprocessable("invalid_transition", "Only sent and void are set by hand; redemption and expiry have their own paths.")
        }
        guard current != target else { throw APIError.conflict("illegal_transition", "The voucher is already \(target.rawValue).") }
    }
}

/// Signed, expiring links to a voucher's QR and card images.
struct ImageLinks: Sendable {
    let signer: SignedURLs
    /// Where the links point (the gateway's public address).
    let baseURL: String
    let lifetime: Duration

    static func path(_ id: String, card: Bool) -> String { "/v1/voucher-images/\(id)/\(card ? "card" : "qr").png" }

    func adding(to voucher: VoucherDTO, now: Date = Date()) -> VoucherDTO {
        var voucher = voucher
        for card in [false, true] {
            let path = Self.path(voucher.id, card: card)
            let url = "\(self.baseURL)\(path)?\(self.signer.query(path: path, lifetime: self.lifetime, now: now))"
            if card { voucher.cardURL = url } else { voucher.qrURL = url }
        }
        return voucher
    }
}
