/// A validated E.164 phone number (`+` then 8–15 digits) with the country its calling code belongs to.
/// JSON: the bare E.164 string.
public struct PhoneNumber: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `+250788123456`
    public let e164: String
    /// ISO 3166-1 alpha-2 country, when the calling code is one Sokoni knows.
    public let country: String?
    public let callingCode: String

    /// Calling code → (country, national significant number lengths). Lengths are checked where known.
    static let plans: [String: (country: String, lengths: Set<Int>)] = [
        "250": ("RW", [9]), "254": ("KE", [9]), "255": ("TZ", [9]), "256": ("UG", [9]), "257": ("BI", [8]),
        "211": ("SS", [9]), "243": ("CD", [9]), "251": ("ET", [9]), "252": ("SO", [7, 8, 9]), "253": ("DJ", [8]),
        "234": ("NG", [8, 10]), "233": ("GH", [9]), "27": ("ZA", [9]), "260": ("ZM", [9]), "265": ("MW", [9]),
        "1": ("US", [10]), "44": ("GB", [10]), "33": ("FR", [9]), "32": ("BE", [8, 9]), "49": ("DE", Set(6...13)),
        "91": ("IN", [10]), "971": ("AE", [8, 9]), "86": ("CN", [11]),
    ]

    /// Every country calling code the ITU has assigned (E.164 Annex), 1 to 3 digits; prefix-free like the codes.
    static let assignedCallingCodes: Set<String> = {
        var codes: Set<String> = ["1", "7"]
        codes.formUnion(["20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49"])
        codes.formUnion(["51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66"])
        codes.formUnion(["81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"])
        let threeDigit: [ClosedRange<Int>] = [
            211...213, 216...216, 218...218, 220...258, 260...269, 290...291, 297...299, 350...359, 370...383, 385...387, 389...389,
            420...421, 423...423, 500...509, 590...599, 670...670, 672...692, 800...800, 808...808, 850...850, 852...853, 855...856,
            870...870, 878...878, 880...883, 886...886, 888...888, 960...968, 970...977, 979...979, 991...996, 998...998,
        ]
        for range in threeDigit { codes.formUnion(range.map(String.init)) }
        return codes
    }()

    /// Trunk-prefix dialling for local input such as `0788 123 456` in Rwanda.
    static let callingCodeByCountry: [String: String] = Dictionary(
        uniqueKeysWithValues: plans.map { ($0.value.country, $0.key) })

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notANumber(String)
        case wrongLength(String)
        case unknownRegion(String)

        public var description: String {
            switch self {
            case .notANumber(let text): "\"\(text)\" is not a phone number in E.164 form (+ and 8 to 15 digits)"
            case .wrongLength(let text): "\"\(text)\" has the wrong number of digits for its country"
            case .unknownRegion(let region): "unknown region \(region)"
            }
        }
    }

    /// Parses `+250 788-123-456`, `00250788123456`, or with `defaultRegion` a national `0788123456`.
    public init(parsing text: String, defaultRegion: String? = nil) throws(ParseError) {
        let trimmed = text.filter { !" -().\u{00A0}".contains($0) }
        var digits: Substring
        if trimmed.hasPrefix("+") {
            digits = trimmed.dropFirst()
        } else if trimmed.hasPrefix("00") {
            digits = trimmed.dropFirst(2)
        } else if let region = defaultRegion, trimmed.hasPrefix("0") {
            guard let code = Self.callingCodeByCountry[region.uppercased()] else { throw .unknownRegion(region) }
            digits = Substring(code + trimmed.dropFirst())
        } else {
            throw .notANumber(text)
        }
        guard (8...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0"
        else { throw .notANumber(text) }
        // calling codes are prefix-free: at most one of the 1-, 2- and 3-digit prefixes is known
        let code = (1...3).lazy.map { String(digits.prefix($0)) }.first { Self.plans[$0] != nil }
        if let code, let plan = Self.plans[code] {
            guard plan.lengths.contains(digits.count - code.count) else { throw .wrongLength(text) }
            self.country = plan.country
            self.callingCode = code
        } else {
            // a number in a region Sokoni has no plan for must still start with a calling code the ITU assigned
            guard let assigned = (1...3).lazy.map({ String(digits.prefix($0)) }).first(where: { Self.assignedCallingCodes.contains($0) }) else {
                throw .notANumber(text)
            }
            self.country = nil
            self.callingCode = assigned
        }
        self.e164 = "+" + digits
    }

    public var description: String { self.e164 }

    /// `+2507******56`: enough for a cashier to recognise, not enough to harvest.
    public var masked: String { Self.masked(e164: self.e164) }

    /// `masked` for a number already stored in E.164 form, without parsing it again.
    public static func masked(e164: String) -> String {
        let visibleHead = min(4, e164.count)
        let visibleTail = 2
        guard e164.count > visibleHead + visibleTail else { return e164 }
        return String(e164.prefix(visibleHead)) + String(repeating: "*", count: e164.count - visibleHead - visibleTail) + String(e164.suffix(visibleTail))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.e164)
    }
}
