import Foundation
import Models
import ServiceKit

// MARK: templates

public enum TemplateCategory: String, Codable, Sendable, CaseIterable {
    case marketing, utility, authentication
}

/// Meta's review of a WhatsApp template; templates of other channels are `approved` when written.
public enum TemplateStatus: String, Codable, Sendable, CaseIterable {
    case pending, approved, rejected, paused, disabled

    /// Meta's event or status word (`APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `PENDING`, `IN_APPEAL`, …).
    init?(meta: String) {
        switch meta.uppercased() {
        case "APPROVED": self = .approved
        case "REJECTED": self = .rejected
        case "PAUSED": self = .paused
        case "DISABLED", "DELETED", "PENDING_DELETION", "ARCHIVED": self = .disabled
        case "PENDING", "IN_APPEAL", "REINSTATED", "LIMIT_EXCEEDED": self = .pending
        default: return nil
        }
    }
}

public struct TemplateHeader: Codable, Sendable, Equatable {
    /// `text`, `image` or `document`: an image or document header takes its link at send time (a voucher's card).
    public var type: String
    public var text: String?

    public init(type: String, text: String? = nil) {
        self.type = type
        self.text = text
    }
}

public struct TemplateButton: Codable, Sendable, Equatable {
    /// `quick_reply`, `url` or `phone_number`.
    public var type: String
    public var text: String
    public var url: String?
    public var phoneNumber: String?

    public init(type: String, text: String, url: String? = nil, phoneNumber: String? = nil) {
        self.type = type
        self.text = text
        self.url = url
        self.phoneNumber = phoneNumber
    }
}

public struct TemplateDTO: Codable, Sendable, Equatable {
    public var id: TemplateID
    public var channelId: ChannelID
    public var name: String
    public var language: String
    public var category: TemplateCategory
    public var header: TemplateHeader?
    public var body: String
    public var footer: String?
    public var buttons: [TemplateButton]
    public var variableCount: Int
    public var status: TemplateStatus
    public var rejectionReason: String?
    public var providerTemplateId: String?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct NewTemplate: Codable, Sendable {
    public var channelId: ChannelID
    public var name: String
    public var language: String
    public var category: TemplateCategory
    public var header: TemplateHeader?
    public var body: String
    public var footer: String?
    public var buttons: [TemplateButton]?

    public init(
        channelId: ChannelID, name: String, language: String, category: TemplateCategory, header: TemplateHeader? = nil, body: String,
        footer: String? = nil, buttons: [TemplateButton]? = nil
    ) {
        self.channelId = channelId
        self.name = name
        self.language = language
        self.category = category
        self.header = header
        self.body = body
        self.footer = footer
        self.buttons = buttons
    }
}

public struct UpdateTemplate: Codable, Sendable {
    public var category: TemplateCategory?
    public var header: TemplateHeader?
    public var body: String?
    public var footer: String?
    public var buttons: [TemplateButton]?
}

/// A template's text and its numbered variables (`{{1}}`, `{{2}}`, …), as WhatsApp writes them.
enum TemplateText {
    /// The numbers used, in order of appearance.
    static func placeholders(_ body: String) -> [Int] {
        var numbers: [Int] = []
        var rest = body[...]
        while let open = rest.range(of: "{{") {
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else { break }
            let inside = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let number = Int(inside), inside.allSatisfy(\.isASCII) { numbers.append(number) }
            rest = after[close.upperBound...]
        }
        return numbers
    }

    /// The variable count of a body, or what is wrong with its numbering (WhatsApp wants 1…n, each present).
    static func variableCount(_ body: String) throws -> Int {
        let numbers = Set(Self.placeholders(body))
        guard let highest = numbers.max() else { return 0 }
        guard numbers == Set(1...max(1, highest)), numbers.min() == 1 else {
            throw APIError.unprocessable(
                "invalid_template_body", "The body's variables are numbered {{1}}, {{2}}, … without gaps; it has \(numbers.sorted()).")
        }
        return highest
    }

    struct Missing: Error, Equatable {
        var number: Int
    }

    /// The body with each `{{n}}` replaced; a missing or empty value names its number.
    static func render(_ body: String, variables: [String], count: Int) throws(Missing) -> String {
        for number in 1...max(1, count) where count > 0 {
            guard number <= variables.count, !variables[number - 1].trimmingCharacters(in: .whitespaces).isEmpty else { throw Missing(number: number) }
        }
        var text = body
        for number in stride(from: count, through: 1, by: -1) {
            text = text.replacingOccurrences(of: "{{\(number)}}", with: variables[number - 1])
        }
        return text
    }
}

public struct TemplatePreview: Codable, Sendable {
    public var variables: [String]
}

public struct TemplatePreviewResult: Codable, Sendable, Equatable {
    public var text: String
}

public struct TemplateSync: Codable, Sendable {
    public var channelId: ChannelID
}

public struct TemplateSyncResult: Codable, Sendable, Equatable {
    public var created: Int
    public var updated: Int
    public var unchanged: Int
    /// The number's WhatsApp messaging tier (`TIER_1K`, …), when Meta said.
    public var messagingTier: String?
}

/// WhatsApp's messaging tiers: unique customers a number may start conversations with per day.
enum MessagingTier {
    static func dailyLimit(_ tier: String?) -> Int? {
        guard let tier, tier.hasPrefix("TIER_"), tier != "TIER_UNLIMITED" else { return nil }
        var digits = tier.dropFirst(5)
        var factor = 1
        if digits.hasSuffix("K") {
            digits = digits.dropLast()
            factor = 1000
        }
        return Int(digits).map { $0 * factor }
    }
}

// MARK: campaigns

public enum CampaignType: String, Codable, Sendable, CaseIterable {
    case promo, voucher
}

/// `draft → scheduled → running ⇄ paused → done`, and `cancelled` from anything not final. Seed 000 let a done
/// campaign run again (research/seeds.md §4.2); here `done` and `cancelled` are final.
public enum CampaignStatus: String, Codable, Sendable, CaseIterable {
    case draft, scheduled, running, paused, done, cancelled

    enum Action: String, Sendable {
        case schedule, start, pause, resume, cancel, finish
    }

    /// Where `action` takes a campaign in this status, or why it cannot.
    func after(_ action: Action) -> Result<CampaignStatus, APIError> {
        switch (action, self) {
        case (.schedule, .draft), (.schedule, .scheduled): return .success(.scheduled)
        case (.start, .draft), (.start, .scheduled): return .success(.running)
        case (.pause, .running): return .success(.paused)
        case (.resume, .paused): return .success(.running)
        case (.cancel, .draft), (.cancel, .scheduled), (.cancel, .running), (.cancel, .paused): return .success(.cancelled)
        case (.finish, .running): return .success(.done)
        default:
            let why: String =
                switch self {
                case .done: "A done campaign cannot \(action.rawValue): it is finished for good. Copy it into a new campaign instead."
                case .cancelled: "A cancelled campaign cannot \(action.rawValue): cancelling is final."
                default: "A \(self.rawValue) campaign cannot \(action.rawValue)."
                }
            return .failure(APIError.conflict("invalid_transition", why))
        }
    }

    /// Targets and settings change only before the campaign runs.
    var isEditable: Bool { self == .draft || self == .scheduled }
}

public struct CampaignMetadata: Codable, Sendable, Equatable {
    /// Replaces the tenant's quiet hours for this campaign, in each recipient's local time.
    public var quietHours: MessagingSettings.QuietHours?
    /// Sends at any hour (a utility message the customer expects at once).
    public var ignoreQuietHours: Bool?
    /// The campaign's own rate, messages a minute (the channel's throttle still applies under it).
    public var perMinute: Int?
    /// A name several campaigns share a rate under (seed 000's throttle bucket).
    public var throttleBucket: String?

    public init(quietHours: MessagingSettings.QuietHours? = nil, ignoreQuietHours: Bool? = nil, perMinute: Int? = nil, throttleBucket: String? = nil) {
        self.quietHours = quietHours
        self.ignoreQuietHours = ignoreQuietHours
        self.perMinute = perMinute
        self.throttleBucket = throttleBucket
    }

    var problem: String? {
        if let hours = self.quietHours, !hours.isValid { return "metadata.quietHours: start and end are different HH:MM times" }
        if let rate = self.perMinute, !(1...100_000).contains(rate) { return "metadata.perMinute is 1 to 100000" }
        if let bucket = self.throttleBucket,
            !(1...100).contains(bucket.count) || !bucket.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        {
            return "metadata.throttleBucket is 1 to 100 letters, digits, - _ or ."
        }
        return nil
    }
}

public struct CampaignVoucher: Codable, Sendable, Equatable {
    public var amount: String
    public var currency: String?
    public var stationScope: StationID?
    public var expiresAt: Date?

    public init(amount: String, currency: String? = nil, stationScope: StationID? = nil, expiresAt: Date? = nil) {
        self.amount = amount
        self.currency = currency
        self.stationScope = stationScope
        self.expiresAt = expiresAt
    }
}

public enum TargetStatus: String, Codable, Sendable, CaseIterable {
    case queued
    case queuedThrottled = "queued_throttled"
    case sent, delivered, read, failed
    case optedOut = "opted_out"
    case expired, cancelled
}

/// Targets by status: every status present, zero included.
public struct CampaignCounts: Codable, Sendable, Equatable {
    public var total: Int
    public var queued: Int
    public var queuedThrottled: Int
    public var sent: Int
    public var delivered: Int
    public var read: Int
    public var failed: Int
    public var optedOut: Int
    public var expired: Int
    public var cancelled: Int

    enum CodingKeys: String, CodingKey {
        case total, queued, sent, delivered, read, failed, expired, cancelled
        case queuedThrottled = "queued_throttled"
        case optedOut = "opted_out"
    }

    init(_ counts: [TargetStatus: Int]) {
        self.queued = counts[.queued] ?? 0
        self.queuedThrottled = counts[.queuedThrottled] ?? 0
        self.sent = counts[.sent] ?? 0
        self.delivered = counts[.delivered] ?? 0
        self.read = counts[.read] ?? 0
        self.failed = counts[.failed] ?? 0
        self.optedOut = counts[.optedOut] ?? 0
        self.expired = counts[.expired] ?? 0
        self.cancelled = counts[.cancelled] ?? 0
        self.total = counts.values.reduce(0, +)
    }
}

public struct CampaignDTO: Codable, Sendable, Equatable {
    public var id: CampaignID
    public var name: String
    public var type: CampaignType
    public var channelId: ChannelID
    public var templateId: TemplateID
    public var status: CampaignStatus
    public var startAt: Date?
    public var validUntil: Date?
    public var metadata: CampaignMetadata
    public var voucher: CampaignVoucher?
    public var counts: CampaignCounts
    public var waitingReason: String?
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
}

public struct NewCampaign: Codable, Sendable {
    public var name: String
    public var type: CampaignType
    public var channelId: ChannelID
    public var templateId: TemplateID
    public var startAt: Date?
    public var validUntil: Date?
    public var metadata: CampaignMetadata?
    public var voucher: CampaignVoucher?

    public init(
        name: String, type: CampaignType, channelId: ChannelID, templateId: TemplateID, startAt: Date? = nil, validUntil: Date? = nil,
        metadata: CampaignMetadata? = nil, voucher: CampaignVoucher? = nil
    ) {
        self.name = name
        self.type = type
        self.channelId = channelId
        self.templateId = templateId
        self.startAt = startAt
        self.validUntil = validUntil
        self.metadata = metadata
        self.voucher = voucher
    }
}

public struct UpdateCampaign: Codable, Sendable {
    public var name: String?
    public var templateId: TemplateID?
    public var validUntil: Date?
    public var metadata: CampaignMetadata?
    public var voucher: CampaignVoucher?
}

public struct CampaignSchedule: Codable, Sendable {
    public var startAt: Date
}

public struct TargetDTO: Codable, Sendable, Equatable {
    public var id: Int64
    public var msisdn: String
    public var contactId: ContactID?
    /// agent-core's lead, lower-case like every id.
    public var leadId: String?
    public var variables: [String]
    public var status: TargetStatus
    public var errorCode: String?
    public var errorMessage: String?
    public var messageId: MessageID?
    public var voucherId: VoucherID?
    public var needsReview: Bool
    public var updatedAt: Date
}

/// The JSON form of a targets import.
public struct CampaignTargets: Codable, Sendable {
    public struct Target: Codable, Sendable {
        public var msisdn: String
        public var contactId: String?
        public var leadId: String?
        public var variables: [String]?

        public init(msisdn: String, contactId: String? = nil, leadId: String? = nil, variables: [String]? = nil) {
            self.msisdn = msisdn
            self.contactId = contactId
            self.leadId = leadId
            self.variables = variables
        }
    }

    public var targets: [Target]

    public init(targets: [Target]) { self.targets = targets }
}

public struct ImportProblem: Codable, Sendable, Equatable {
    /// 1 is the first data row (the line after a CSV's header).
    public var row: Int
    public var msisdn: String?
    /// `invalid_msisdn`, `missing_variable`, `duplicate`, `opted_out`, `invalid_id`, `invalid_row`.
    public var code: String
    public var message: String
}

public struct ImportReport: Codable, Sendable, Equatable {
    public var dryRun: Bool
    /// Data rows read.
    public var rows: Int
    /// Stored to be sent.
    public var accepted: Int
    /// Stored as `opted_out`: on the tenant's opt-out list at import.
    public var optedOut: Int
    /// Not stored: a bad number, a missing variable, a bad id.
    public var rejected: Int
    /// Not stored: the number is already in the campaign or earlier in the file.
    public var duplicates: Int
    /// The first 1,000 problems, by row.
    public var problems: [ImportProblem]
}

public struct CampaignProgress: Codable, Sendable, Equatable {
    public struct Reason: Codable, Sendable, Equatable {
        public var code: String
        public var count: Int
    }

    public var status: CampaignStatus
    public var counts: CampaignCounts
    public var failureReasons: [Reason]
    public var needsReview: Int
    public var waitingReason: String?
    /// The rate of the last ten seconds, per minute: targets that reached `sent` or beyond then, times six (a live
    /// gauge that reads a few thousand rows at most, not a minute's worth).
    public var sentPerMinute: Int
}

/// What a campaign's message carries for the sender (in its payload): the campaign's own quiet hours and validity,
/// so the one policy applies them to this send.
struct CampaignRef: Codable, Sendable, Equatable {
    var id: CampaignID
    var quietHours: MessagingSettings.QuietHours?
    var ignoreQuietHours: Bool?
    var validUntil: Date?

    init(id: CampaignID, metadata: CampaignMetadata, validUntil: Date?) {
        self.id = id
        self.quietHours = metadata.quietHours
        self.ignoreQuietHours = metadata.ignoreQuietHours
        self.validUntil = validUntil
    }

    /// The quiet hours that hold this campaign's sends: none, the campaign's own in every country whose zone is
    /// known, or the tenant's.
    func quietHours(over tenant: [String: MessagingSettings.QuietHours]) -> [String: MessagingSettings.QuietHours] {
        CampaignRef.effective(ignore: self.ignoreQuietHours, override: self.quietHours, tenant: tenant)
    }

    static func effective(ignore: Bool?, override: MessagingSettings.QuietHours?, tenant: [String: MessagingSettings.QuietHours])
        -> [String: MessagingSettings.QuietHours]
    {
        if ignore == true { return [:] }
        guard let override else { return tenant }
        return RecipientTimeZone.byCountry.mapValues { _ in override }
    }

    /// The countries in quiet hours at `now` under `hours`.
    static func quietCountries(_ hours: [String: MessagingSettings.QuietHours], now: Date) -> [String] {
        hours.compactMap { country, window in
            guard let zone = RecipientTimeZone.zone(country: country), SendPolicy.quietEnd(window, zone: zone, now: now) != nil else { return nil }
            return country
        }.sorted()
    }
}
