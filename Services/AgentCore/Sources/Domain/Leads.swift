import Foundation
import Models
import ServiceKit

enum LeadStatus: String, Codable, Sendable, CaseIterable {
    case cold, warm, hot, converted, lost
}

enum LeadTreatment: String, Codable, Sendable, CaseIterable {
    case automatedChat = "automated_chat"
    case automatedCall = "automated_call"
    case manualFollowUp = "manual_follow_up"
    case hold
}

enum LeadSource: String, Codable, Sendable, CaseIterable {
    case whatsapp, sms, telegram, instagram, webchat, email, voice, web, `import`, manual
}

/// A stage of the tenant's pipeline; `won` and `lost` close a lead (converted or lost).
struct PipelineStage: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable, CaseIterable {
        case open, won, lost
    }

    var key: String
    var name: String
    var kind: Kind

    /// Until a tenant sets its own: a general sales pipeline.
    static let defaults: [PipelineStage] = [
        .init(key: "new", name: "New", kind: .open), .init(key: "contacted", name: "Contacted", kind: .open),
        .init(key: "qualified", name: "Qualified", kind: .open), .init(key: "booked", name: "Booked", kind: .open),
        .init(key: "won", name: "Won", kind: .won), .init(key: "lost", name: "Lost", kind: .lost),
    ]

    /// Seed 003's real-estate pipeline.
    static let realEstate: [PipelineStage] = [
        .init(key: "entrada", name: "Entrada", kind: .open), .init(key: "perfilamiento", name: "Perfilamiento", kind: .open),
        .init(key: "calificacion_financiera", name: "Calificación financiera", kind: .open), .init(key: "agendado", name: "Agendado", kind: .open),
        .init(key: "seguimiento", name: "Seguimiento", kind: .open), .init(key: "referidos", name: "Referidos", kind: .open),
        .init(key: "ganado", name: "Ganado", kind: .won), .init(key: "perdido", name: "Perdido", kind: .lost),
    ]

    static let presets = ["default": defaults, "real_estate": realEstate]

    /// A pipeline a tenant may set: 2 to 20 stages with distinct keys, at least one open, one won and one lost.
    static func check(_ stages: [PipelineStage]) throws {
        guard (2...20).contains(stages.count) else { throw APIError.unprocessable("invalid_stages", "A pipeline has 2 to 20 stages.") }
        guard Set(stages.map(\.key)).count == stages.count else { throw APIError.unprocessable("invalid_stages", "Stage keys are distinct.") }
        for stage in stages {
            guard stage.key.range(of: "^[a-z][a-z0-9_]{0,39}$", options: .regularExpression) != nil else {
                throw APIError.unprocessable("invalid_stages", "A stage key is lower-case letters, digits and _ (up to 40), starting with a letter.")
            }
            try TextRules.check(stage.name, field: "stages.name", length: 1...80)
        }
        for kind in PipelineStage.Kind.allCases where !stages.contains(where: { $0.kind == kind }) {
            throw APIError.unprocessable("invalid_stages", "A pipeline has at least one \(kind.rawValue) stage.")
        }
    }
}

/// Scores that can be explained (seed 001's extraction model): a conversation yields features, each 1 to 3; their
/// total (5–15) makes a lead hot (≥ 12), warm (8–11) or cold (≤ 7). Numbers are never taken from the model: a
/// feature outside 1–3 refuses the whole extraction, and the total is computed here.
enum Scoring {
    struct Features: Codable, Sendable, Equatable {
        var intent: Int
        var urgency: Int
        var budget: Int
        var fit: Int
        var engagement: Int

        var total: Int { self.intent + self.urgency + self.budget + self.fit + self.engagement }

        static let names = ["intent", "urgency", "budget", "fit", "engagement"]
        var values: [Int] { [self.intent, self.urgency, self.budget, self.fit, self.engagement] }

        /// Refuses anything but whole numbers 1 to 3 (what a confused or malicious model might send).
        func checked() throws -> Features {
            for (name, value) in zip(Self.names, self.values) where !(1...3).contains(value) {
                throw APIError.unprocessable("invalid_features", "\(name) is 1, 2 or 3 (got \(value)); the extraction is not recorded.")
            }
            return self
        }
    }

    enum Temperature: String, Codable, Sendable {
        case hot, warm, cold
    }

    static func temperature(_ total: Int) -> Temperature {
        total >= 12 ? .hot : (total >= 8 ? .warm : .cold)
    }

    /// The parts of the 0–100 score: the latest extraction (0–50), behaviour (replies, clicks, bookings: 0–30) and
    /// engagement (20 at the last contact, halving every 14 days without one).
    struct Components: Codable, Sendable, Equatable {
        var base: Int
        var behavior: Int
        var engagement: Int

        var score: Int { self.base + self.behavior + self.engagement }
    }

    static let engagementHalfLife: TimeInterval = 14 * 86_400

    static func components(latestTotal: Int?, replies: Int, clicks: Int, bookings: Int, lastContact: Date?, now: Date) -> Components {
        let base = latestTotal.map { max(0, min(50, ($0 - 5) * 5)) } ?? 0
        let behavior = min(30, 2 * replies + 3 * clicks + 10 * bookings)
        let engagement =
            lastContact.map { contact -> Int in
                let age = max(0, now.timeIntervalSince(contact))
                return Int((20 * pow(0.5, age / Self.engagementHalfLife)).rounded())
            } ?? 0
        return Components(base: base, behavior: behavior, engagement: engagement)
    }

    /// Why the score moved, part by part: `score 20 → 45: base 0 → 25 (extraction 10/15, warm)`.
    static func explain(from old: Components, to new: Components, because reason: String) -> String {
        var parts: [String] = []
        if old.base != new.base { parts.append("base \(old.base) → \(new.base)") }
        if old.behavior != new.behavior { parts.append("behaviour \(old.behavior) → \(new.behavior)") }
        if old.engagement != new.engagement { parts.append("engagement \(old.engagement) → \(new.engagement)") }
        return "Score \(old.score) → \(new.score): " + parts.joined(separator: ", ") + " (\(reason))."
    }

    /// The reasoning kept with an extraction: each feature, and what it adds up to.
    static func reasoning(_ features: Features) -> String {
        let words = [1: "low", 2: "medium", 3: "high"]
        let parts = zip(Features.names, features.values).map { "\($0) \(words[$1] ?? "?") (\($1))" }
        return parts.joined(separator: ", ") + ": \(features.total)/15, \(Self.temperature(features.total).rawValue)."
    }

    /// The line the assignee is sent.
    static func notification(name: String?, phone: String, features: Features) -> String {
        let who = name.map { "\($0) (\(PhoneNumber.masked(e164: phone)))" } ?? PhoneNumber.masked(e164: phone)
        switch Self.temperature(features.total) {
        case .hot: return "🔥 \(who) is hot (\(features.total)/15): ready to act, follow up now."
        case .warm: return "\(who) is warm (\(features.total)/15): keep the conversation going."
        case .cold: return "\(who) is cold (\(features.total)/15): no action needed yet."
        }
    }
}
