// Domain: agents, prompt versions and FAQs, their rules, no I/O (docs/CONTRIBUTING.md).
import Foundation
import Models
import ServiceKit

public enum AgentKind: String, Codable, Sendable, CaseIterable { case broker, support, sales, marketing }

/// The voice an agent answers in (seed 002): street Sheng, friendly, businesslike, very polite, or plain.
public enum Tone: String, Codable, Sendable, CaseIterable { case mtaa, rafiki, kazi, sana, neutral }

public enum ChannelType: String, Codable, Sendable, CaseIterable { case chat, sms, voice }

/// The tools an agent may be allowed, by name (the reply loop's registry).
public enum ToolName: String, Codable, Sendable, CaseIterable {
    case voucherStatus = "voucher_status"
    case faqLookup = "faq_lookup"
    case handoff
    /// The marketplace (marketplace-wallet): find products, ask vendors for quotes, read them, accept one.
    case productSearch = "product_search"
    case createIntent = "create_intent"
    case listQuotes = "list_quotes"
    case acceptQuote = "accept_quote"
    /// The calendar (calendar-booking): free slots, and the customer's own appointments booked, cancelled, moved.
    case findSlots = "find_slots"
    case bookAppointment = "book_appointment"
    case cancelAppointment = "cancel_appointment"
    case rescheduleAppointment = "reschedule_appointment"
    /// The CRM: the customer's lead, the fields the conversation revealed, a hand-off to the lead's assignee.
    case lookupLead = "lookup_lead"
    case updateLead = "update_lead"
    case handoffToAssignee = "handoff_to_assignee"

    /// What a new agent may use unless told: selling through the marketplace and booking are chosen per agent.
    public static let defaults: [ToolName] = [.voucherStatus, .faqLookup, .handoff]
}

public struct AgentPolicy: Codable, Sendable, Equatable {
    /// Words that hand the conversation to a person at once, besides the built-in ones.
    public var handoffKeywords: [String]?
    /// The longest answer, in characters (SMS agents keep it short).
    public var maxAnswerLength: Int?
    /// The tenant's monthly LLM spend cap for this agent, in micro-USD.
    public var monthlySpendCapMicros: Int64?
}

public struct AgentDTO: Codable, Sendable, Equatable {
    public var id: AgentID
    public var name: String
    public var kind: AgentKind
    public var product: String?
    public var languages: [String]
    public var tone: Tone
    public var tools: [ToolName]
    public var policy: AgentPolicy
    public var isDefault: Bool
    public var status: String
    public var createdAt: Date
    public var updatedAt: Date
}

public struct NewAgent: Codable, Sendable {
    public var name: String
    public var kind: AgentKind
    public var product: String?
    public var languages: [String]?
    public var tone: Tone?
    public var tools: [ToolName]?
    public var policy: AgentPolicy?
    public var isDefault: Bool?
    /// `active` (answers customers at once, the default) or `draft` (only preview sessions talk to it).
    public var status: String?
}

public struct UpdateAgent: Codable, Sendable {
    public var name: String?
    public var product: String?
    public var languages: [String]?
    public var tone: Tone?
    public var tools: [ToolName]?
    public var policy: AgentPolicy?
    public var isDefault: Bool?
    /// `draft`, `active` or `archived`
    public var status: String?
}

public struct PromptVersionDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var channelType: ChannelType
    public var version: String
    public var body: String
    public var notes: String?
    public var active: Bool
    public var createdBy: String
    public var createdAt: Date
}

public struct NewPromptVersion: Codable, Sendable {
    public var channelType: ChannelType
    public var version: String
    public var body: String
    public var notes: String?
}

public struct FaqDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var category: String?
    public var question: String
    public var answer: String
    public var keywords: [String]
    public var language: String
    public var active: Bool
    public var displayOrder: Int
    public var usageCount: Int
    public var createdAt: Date
    public var updatedAt: Date
}

public struct NewFaq: Codable, Sendable {
    public var category: String?
    public var question: String
    public var answer: String
    public var keywords: [String]?
    public var language: String?
    public var active: Bool?
    public var displayOrder: Int?
}

public struct UpdateFaq: Codable, Sendable {
    public var category: String?
    public var question: String?
    public var answer: String?
    public var keywords: [String]?
    public var language: String?
    public var active: Bool?
    public var displayOrder: Int?
}

enum AgentRules {
    static let languages: Set<String> = ["en", "sw", "rw", "fr", "sheng"]

    static func check(name: String?, product: String?, languages: [String]?, policy: AgentPolicy?) throws {
        try TextRules.check(name, field: "name", length: 1...120)
        try TextRules.check(product, field: "product", length: 1...200)
        if let languages {
            guard !languages.isEmpty, languages.count <= 5, languages.allSatisfy(Self.languages.contains) else {
                throw APIError.unprocessable("invalid_languages", "languages are 1 to 5 of en, sw, rw, fr, sheng.")
            }
        }
        if let length = policy?.maxAnswerLength, !(20...4000).contains(length) {
            throw APIError.unprocessable("invalid_policy", "policy.maxAnswerLength is 20 to 4000.")
        }
        if let cap = policy?.monthlySpendCapMicros, cap < 0 { throw APIError.unprocessable("invalid_policy", "policy.monthlySpendCapMicros is not negative.") }
        for word in policy?.handoffKeywords ?? [] where word.isEmpty || word.count > 40 {
            throw APIError.unprocessable("invalid_policy", "policy.handoffKeywords: each word is 1 to 40 characters.")
        }
    }

    static func check(_ faq: NewFaq) throws {
        try TextRules.check(faq.question, field: "question", length: 1...500)
        try TextRules.check(faq.answer, field: "answer", length: 1...4000)
        try self.checkFaqExtras(category: faq.category, keywords: faq.keywords, language: faq.language, displayOrder: faq.displayOrder)
    }

    static func checkFaqExtras(category: String?, keywords: [String]?, language: String?, displayOrder: Int?) throws {
        if let order = displayOrder, !(-1_000_000...1_000_000).contains(order) {
            throw APIError.unprocessable("invalid_display_order", "displayOrder is -1000000 to 1000000.")
        }
        try TextRules.check(category, field: "category", length: 1...80)
        if let keywords, keywords.count > 30 || keywords.contains(where: { $0.isEmpty || $0.count > 40 }) {
            throw APIError.unprocessable("invalid_keywords", "keywords are up to 30 words of 1 to 40 characters.")
        }
        if let language, !Self.languages.contains(language) { throw APIError.unprocessable("invalid_language", "language is en, sw, rw, fr or sheng.") }
    }
}

/// `MAJOR.MINOR.PATCH`, compared as numbers.
struct SemanticVersion: Comparable, Sendable {
    var parts: [Int]

    init?(_ text: String) {
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count == 3,
            pieces.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) && !($0.count > 1 && $0.first == "0") })
        else { return nil }
        self.parts = pieces.map { Int($0)! }
    }

    static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool { lhs.parts.lexicographicallyPrecedes(rhs.parts) }
}

/// A line diff of two prompt versions (longest common subsequence): what a reviewer reads before activating.
public struct PromptDiff: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        /// `same`, `added`, `removed`
        public var change: String
        public var text: String
    }
    public var from: String
    public var to: String
    public var lines: [Line]

    static func between(_ old: String, _ new: String, from: String, to: String) -> PromptDiff {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // lengths of the longest common subsequences of the suffixes
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var lines: [Line] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                lines.append(Line(change: "same", text: a[i]))
                i += 1
                j += 1
            } else if j < b.count, i == a.count || table[i][j + 1] >= table[i + 1][j] {
                lines.append(Line(change: "added", text: b[j]))
                j += 1
            } else {
                lines.append(Line(change: "removed", text: a[i]))
                i += 1
            }
        }
        return PromptDiff(from: from, to: to, lines: lines)
    }
}
