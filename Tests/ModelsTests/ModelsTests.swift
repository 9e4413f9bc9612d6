import Foundation
import Models
import Testing

@Suite struct MoneyTests {
    @Test func parsesAndFormatsWithTheCurrencyExponent() throws {
        #expect(try Money(decimal: "1500", currency: .RWF).minorUnits == 1500)
        #expect(try Money(decimal: "12.5", currency: .KES).minorUnits == 1250)
        #expect(try Money(decimal: "-3.25", currency: .USD).minorUnits == -325)
        #expect(Money(minorUnits: 1250, currency: .KES).decimalString == "12.50")
        #expect(Money(minorUnits: 5, currency: .EUR).decimalString == "0.05")
        #expect(Money(minorUnits: -5, currency: .EUR).decimalString == "-0.05")
        #expect(Money(minorUnits: 1500, currency: .RWF).decimalString == "1500")
    }

    @Test func refusesWhatIsNotAnAmountInThatCurrency() {
        #expect(throws: MoneyError.tooManyDecimals("10.5", currency: "RWF", allowed: 0)) { try Money(decimal: "10.5", currency: .RWF) }
        #expect(throws: MoneyError.tooManyDecimals("1.005", currency: "KES", allowed: 2)) { try Money(decimal: "1.005", currency: .KES) }
        for bad in ["", "abc", "1.", ".5", "1e3", "1,5", "--1", "1.2.3", " 1"] {
            #expect(throws: MoneyError.self, "\(bad)") { try Money(decimal: bad, currency: .KES) }
        }
        #expect(throws: MoneyError.overflow) { try Money(decimal: "99999999999999999999", currency: .KES) }
        #expect(throws: MoneyError.currencyMismatch("KES", "USD")) {
            try Money(minorUnits: 1, currency: .KES).adding(Money(minorUnits: 1, currency: .USD))
        }
        #expect(Currency(code: "XYZ") == nil)
    }

    @Test func jsonIsADecimalStringNeverAFloat() throws {
        let money = Money(minorUnits: 1999, currency: .USD)
        let json = String(decoding: try JSONEncoder().encode(money), as: UTF8.self)
        #expect(json.contains(#""amount":"19.99""#))
        #expect(try JSONDecoder().decode(Money.self, from: Data(json.utf8)) == money)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Money.self, from: Data(#"{"amount":19.99,"currency":"USD"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Money.self, from: Data(#"{"amount":"19.999","currency":"USD"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Money.self, from: Data(#"{"amount":"1","currency":"ZZZ"}"#.utf8)) }
    }
}

@Suite struct PhoneNumberTests {
    @Test func parsesE164AndKnowsTheCountry() throws {
        let rwanda = try PhoneNumber(parsing: "+250 788-123-456")
        #expect(rwanda.e164 == "+250788123456")
        #expect(rwanda.country == "RW")
        #expect(try PhoneNumber(parsing: "00254712345678").country == "KE")
        #expect(try PhoneNumber(parsing: "0712 345 678", defaultRegion: "KE").e164 == "+254712345678")
        #expect(try PhoneNumber(parsing: "+14155552671").country == "US")
        #expect(rwanda.masked == "+250*******56")
    }

    @Test func refusesWhatIsNotAPhoneNumber() {
        for bad in ["0788123456", "+", "+123", "+2507881234567890", "+250 78x 123 456", "+0250788123456", "hello"] {
            #expect(throws: PhoneNumber.ParseError.self, "\(bad)") { try PhoneNumber(parsing: bad) }
        }
        #expect(throws: PhoneNumber.ParseError.wrongLength("+25078812345")) { try PhoneNumber(parsing: "+25078812345") }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PhoneNumber.self, from: Data(#""12345""#.utf8)) }
    }
}

@Suite struct RoleAndIdentifierTests {
    @Test func rolesUseTheirWireNames() throws {
        #expect(Role(rawValue: "station_operator") == .stationOperator)
        #expect(Role.allCases.filter(\.isPlatformStaff) == [.superAdmin, .support, .dataOps, .readonly])
        let id = TenantID()
        let json = String(decoding: try JSONEncoder().encode(id), as: UTF8.self)
        #expect(json == "\"\(id.description)\"")
        #expect(TenantID("not-a-uuid") == nil)
    }
}
