import Foundation
import Models

/// A tenant's messaging settings. Each part the tenant has not set takes the platform default.
public struct MessagingSettings: Codable, Sendable, Equatable {
    /// Local hours, by ISO country, when nothing but a reply to the customer is sent (`"RW": 22:00–06:00`).
    public var quietHours: [String: QuietHours]
    public var sendThrottle: SendThrottle
    /// The tenant's own opt-out and opt-in words, besides the built-in ones in four languages.
    public var optOutKeywords: Keywords
    /// The approved WhatsApp templates other services' notices go out as, by notice kind (`voucher_issued`,
    /// `voucher_redeemed`): WhatsApp takes free-form text only within 24 hours of the customer's last message, and a
    /// voucher usually reaches someone who never wrote. Body variables: the code, then the amount; a notice with an
    /// image (the voucher's card) puts it in the template's image header. None for a kind: free-form text, which
    /// the policy blocks outside the window (`outside_window`).
    public var noticeTemplates: [String: NoticeTemplate]?

    public struct NoticeTemplate: Codable, Sendable, Equatable {
        public var name: String
        public var language: String

        public init(name: String, language: String) {
            self.name = name
            self.language = language
        }
    }

    public struct QuietHours: Codable, Sendable, Equatable {
        /// `HH:MM`, local time of the recipient.
        public var start: String
        public var end: String

        public init(start: String, end: String) {
            self.start = start
            self.end = end
        }

        var startMinute: Int? { Self.minute(self.start) }
        /// Two different `HH:MM` times.
        var isValid: Bool { self.startMinute != nil && self.endMinute != nil && self.startMinute != self.endMinute }
        var endMinute: Int? { Self.minute(self.end) }

        static func minute(_ text: String) -> Int? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }), let hour = Int(parts[0]),
                let minute = Int(parts[1]),
                (0..<24).contains(hour), (0..<60).contains(minute)
            else { return nil }
            return hour * 60 + minute
        }
    }

    public struct SendThrottle: Codable, Sendable, Equatable {
        /// Messages per minute per channel kind (`whatsapp: 60`), shared by every replica.
        public var perMinute: [String: Int]
        /// Messages per hour to one recipient on one channel.
        public var perRecipientPerHour: Int

        public init(perMinute: [String: Int], perRecipientPerHour: Int) {
            self.perMinute = perMinute
            self.perRecipientPerHour = perRecipientPerHour
        }
    }

    public struct Keywords: Codable, Sendable, Equatable {
        public var optOut: [String]
        public var optIn: [String]

        public init(optOut: [String] = [], optIn: [String] = []) {
            self.optOut = optOut
            self.optIn = optIn
        }
    }

    public init(quietHours: [String: QuietHours], sendThrottle: SendThrottle, optOutKeywords: Keywords) {
        self.quietHours = quietHours
        self.sendThrottle = sendThrottle
        self.optOutKeywords = optOutKeywords
    }

    /// The platform's defaults: quiet nights in the East African countries the seeds serve (seed 000: Rwanda
    /// 22:00–06:00), WhatsApp at the seed's 60 a minute.
    public static let defaults = MessagingSettings(
        quietHours: [
            "RW": .init(start: "22:00", end: "06:00"), "KE": .init(start: "22:00", end: "06:00"), "UG": .init(start: "22:00", end: "06:00"),
            "TZ": .init(start: "22:00", end: "06:00"), "BI": .init(start: "22:00", end: "06:00"),
        ],
        sendThrottle: .init(
            perMinute: ["whatsapp": 60, "instagram": 60, "sms": 60, "telegram": 60, "email": 120, "webchat": 600, "sandbox": 600],
            perRecipientPerHour: 30),
        optOutKeywords: .init())

    /// What is wrong with a settings document a tenant sends, or nil.
    var problem: String? {
        for (country, hours) in self.quietHours {
            guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                return "quietHours: \(country) is not an ISO country code such as RW"
            }
            guard hours.isValid else { return "quietHours.\(country): start and end are different HH:MM times" }
        }
        for (kind, rate) in self.sendThrottle.perMinute {
            guard ChannelKind(rawValue: kind) != nil else { return "sendThrottle.perMinute: \(kind) is not a channel kind" }
            guard (1...100_000).contains(rate) else { return "sendThrottle.perMinute.\(kind) is 1 to 100000" }
        }
        guard (1...10_000).contains(self.sendThrottle.perRecipientPerHour) else { return "sendThrottle.perRecipientPerHour is 1 to 10000" }
        for word in self.optOutKeywords.optOut + self.optOutKeywords.optIn where word.isEmpty || word.count > 40 {
            return "optOutKeywords: each word is 1 to 40 characters"
        }
        for (kind, template) in self.noticeTemplates ?? [:] {
            guard Notices.kinds.contains(kind) else {
                return "noticeTemplates: \(kind) is not a notice kind (\(Notices.kinds.sorted().joined(separator: ", ")))"
            }
            guard (1...512).contains(template.name.count), template.name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                return "noticeTemplates.\(kind).name is the template's name at Meta: lower-case letters, digits and _"
            }
            guard (2...15).contains(template.language.count) else { return "noticeTemplates.\(kind).language is a locale such as en or en_US" }
        }
        return nil
    }
}

/// Where a phone number's owner is, for quiet hours: the IANA zone of its country.
enum RecipientTimeZone {
    static let byCountry: [String: String] = [
        "RW": "Africa/Kigali", "KE": "Africa/Nairobi", "TZ": "Africa/Dar_es_Salaam", "UG": "Africa/Kampala", "BI": "Africa/Bujumbura",
        "SS": "Africa/Juba", "CD": "Africa/Lubumbashi", "ET": "Africa/Addis_Ababa", "SO": "Africa/Mogadishu", "DJ": "Africa/Djibouti",
        "NG": "Africa/Lagos", "GH": "Africa/Accra", "ZA": "Africa/Johannesburg", "ZM": "Africa/Lusaka", "MW": "Africa/Blantyre",
        "US": "America/New_York", "GB": "Europe/London", "FR": "Europe/Paris", "BE": "Europe/Brussels", "DE": "Europe/Berlin",
        "IN": "Asia/Kolkata", "AE": "Asia/Dubai", "CN": "Asia/Shanghai", "MT": "Europe/Malta", "CL": "America/Santiago",
    ]

    static func zone(country: String?) -> TimeZone? {
        country.flatMap { Self.byCountry[$0] }.flatMap(TimeZone.init(identifier:))
    }
}

/// What the one send policy decided for a message.
public enum SendDecision: Sendable, Equatable {
    case send
    /// Not now: the message waits as `queued_throttled` until `until`, and says why.
    case hold(until: Date, reason: String)
    /// Never: the message is `blocked`, with a code and a reason.
    case block(code: String, reason: String)
}

/// The one policy every send passes, in this order: opt-out → the 24-hour customer-service window → quiet hours in
/// the recipient's local time → throttle. The throttle needs shared counters, so the store applies it after this
/// says `send`.
enum SendPolicy {
    struct Input: Sendable {
        var kind: ChannelKind
        var optedOut: Bool
        /// A pre-approved template (allowed outside the 24-hour window); free-form text otherwise.
        var isTemplate: Bool
        /// The customer's last message in this conversation.
        var lastInboundAt: Date?
        /// The recipient's country, from the number (nil for chat ids and web visitors).
        var country: String?
        var settings: MessagingSettings
        var now: Date
    }

    static let window: TimeInterval = 24 * 3600
    /// A reply within this long of the customer's own message is a conversation, not an interruption: quiet hours
    /// do not hold it (a customer writing at 23:00 gets their answer at 23:00).
    static let conversationalReply: TimeInterval = 30 * 60

    static func decide(_ input: Input) -> SendDecision {
        if input.optedOut {
            return .block(code: "opted_out", reason: "The recipient opted out of messages from this business.")
        }
        if input.kind.hasCustomerServiceWindow, !input.isTemplate {
            guard let last = input.lastInboundAt, input.now.timeIntervalSince(last) < Self.window else {
                return .block(
                    code: "outside_window",
                    reason: "More than 24 hours since the customer's last message: only an approved template may be sent.")
            }
        }
        if let last = input.lastInboundAt, input.now.timeIntervalSince(last) < Self.conversationalReply { return .send }
        if let country = input.country, let hours = input.settings.quietHours[country], let zone = RecipientTimeZone.zone(country: country),
            let end = Self.quietEnd(hours, zone: zone, now: input.now)
        {
            return .hold(until: end, reason: "Quiet hours in \(country) (\(hours.start)–\(hours.end) local time) until \(Self.stamp(end, zone: zone)).")
        }
        return .send
    }

    /// When the quiet period `now` falls in ends, or nil when `now` is outside it. Works across midnight and
    /// across daylight-saving changes, since it counts in the zone's own calendar.
    static func quietEnd(_ hours: MessagingSettings.QuietHours, zone: TimeZone, now: Date) -> Date? {
        guard let start = hours.startMinute, let end = hours.endMinute else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let inside = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
        guard inside else { return nil }
        let day = calendar.startOfDay(for: now)
        // the end is today when it is still ahead, else tomorrow (a night that crosses midnight)
        let endDay = minute < end ? day : calendar.date(byAdding: .day, value: 1, to: day)!
        return calendar.date(bySettingHour: end / 60, minute: end % 60, second: 0, of: endDay)
    }

    static func stamp(_ date: Date, zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
    }
}
