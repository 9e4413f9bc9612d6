/// An ISO 4217 currency with its minor-unit exponent (RWF 0, KES 2, USD 2, EUR 2).
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String
    public let exponent: Int

    /// The currencies Sokoni settles in. Unknown codes are refused rather than guessed.
    public static let known: [String: Int] = [
        "RWF": 0, "UGX": 0, "BIF": 0, "KES": 2, "TZS": 2, "ETB": 2, "SSP": 2, "CDF": 2,
        "NGN": 2, "GHS": 2, "ZAR": 2, "USD": 2, "EUR": 2, "GBP": 2,
    ]

    public static let RWF = Currency(uncheckedCode: "RWF", exponent: 0)
    public static let KES = Currency(uncheckedCode: "KES", exponent: 2)
    public static let USD = Currency(uncheckedCode: "USD", exponent: 2)
    public static let EUR = Currency(uncheckedCode: "EUR", exponent: 2)

    private init(uncheckedCode: String, exponent: Int) {
        self.code = uncheckedCode
        self.exponent = exponent
    }

    public init?(code: String) {
        let upper = code.uppercased()
        guard let exponent = Self.known[upper] else { return nil }
        self.init(uncheckedCode: upper, exponent: exponent)
    }

    public var description: String { self.code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let currency = Currency(code: code) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown currency \(code)")
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.code)
    }
}

public enum MoneyError: Error, Equatable, CustomStringConvertible {
    case malformedAmount(String)
    case tooManyDecimals(String, currency: String, allowed: Int)
    case overflow
    case currencyMismatch(String, String)

    public var description: String {
        switch self {
        case .malformedAmount(let text): "amount \"\(text)\" is not a decimal number"
        case .tooManyDecimals(let text, let currency, let allowed):
            "amount \"\(text)\" has more than \(allowed) decimal places for \(currency)"
        case .overflow: "amount is out of range"
        case .currencyMismatch(let a, let b): "cannot combine \(a) with \(b)"
        }
    }
}

/// An amount of money in integer minor units. Never floating point.
/// JSON: `{"amount":"12.50","currency":"KES"}`; the amount is a decimal string.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses a decimal string such as `"1500"`, `"12.5"` or `"-3.25"` in the given currency.
    public init(decimal text: String, currency: Currency) throws(MoneyError) {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty,
            whole.allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw .malformedAmount(text) }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else {
            throw .malformedAmount(text)
        }
        guard fraction.count <= currency.exponent else {
            throw .tooManyDecimals(text, currency: currency.code, allowed: currency.exponent)
        }
        let padded = String(whole) + String(fraction) + String(repeating: "0", count: currency.exponent - fraction.count)
        guard let value = Int64(padded) else { throw .overflow }
        self.init(minorUnits: negative ? -value : value, currency: currency)
    }

    /// The amount as a decimal string with exactly the currency's number of decimals.
    public var decimalString: String {
        let exponent = self.currency.exponent
        let magnitude = self.minorUnits.magnitude
        let sign = self.minorUnits < 0 ? "-" : ""
        guard exponent > 0 else { return sign + String(magnitude) }
        var scale: UInt64 = 1
        for _ in 0..<exponent { scale *= 10 }
        let fraction = String(magnitude % scale)
        return sign + String(magnitude / scale) + "." + String(repeating: "0", count: exponent - fraction.count) + fraction
    }

    public var description: String { "\(self.decimalString) \(self.currency.code)" }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard other.currency == self.currency else { throw .currencyMismatch(self.currency.code, other.currency.code) }
        let (sum, overflow) = self.minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: sum, currency: self.currency)
    }

    public var negated: Money { Money(minorUnits: -self.minorUnits, currency: self.currency) }

    private enum CodingKeys: String, CodingKey { case amount, currency }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let currency = try container.decode(Currency.self, forKey: .currency)
        // A JSON number would invite float rounding; only the decimal string form is accepted.
        let text = try container.decode(String.self, forKey: .amount)
        do {
            try self.init(decimal: text, currency: currency)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: .amount, in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.decimalString, forKey: .amount)
        try container.encode(self.currency, forKey: .currency)
    }
}
