import Contracts
import Foundation
import Models
import ServiceKit

/// A tenant's rule that moves leads by itself (seed 003's campaign triggers `lead_score`, `inactivity` and events):
/// after a lead's score changes or an event reaches it, the first enabled rule that matches, in the tenant's order,
/// moves it; the inactivity rules are applied by a sweeper. A rule never moves a lead out of a won or lost stage
/// unless it names that stage in `fromStages`.
struct StageRule: Codable, Sendable, Equatable {
    enum Trigger: String, Codable, Sendable, CaseIterable {
        case scoreAtLeast = "score_at_least"
        case scoreBelow = "score_below"
        case inactiveDays = "inactive_days"
        case event
    }

    var id: StageRuleID?
    var name: String
    var trigger: Trigger
    /// The score (0–100) of `score_at_least`/`score_below`, the days of `inactive_days`.
    var threshold: Int?
    /// The event of `event` (`appointment_booked`, `purchase`, …).
    var event: CRMAPI.Event.Kind?
    /// The stages it moves leads out of; none: any open stage.
    var fromStages: [String]
    var toStage: String
    var enabled: Bool

    /// Up to 30 rules, each naming stages of the pipeline and what its trigger needs.
    static func check(_ rules: [StageRule], stages: [PipelineStage]) throws {
        guard rules.count <= 30 else { throw APIError.unprocessable("invalid_rules", "A pipeline has up to 30 rules.") }
        let keys = Set(stages.map(\.key))
        for rule in rules {
            try TextRules.check(rule.name, field: "rules.name", length: 1...80)
            guard keys.contains(rule.toStage) else { throw APIError.unprocessable("unknown_stage", "rules.toStage \(rule.toStage) is not a stage.") }
            for stage in rule.fromStages where !keys.contains(stage) {
                throw APIError.unprocessable("unknown_stage", "rules.fromStages names \(stage), which is not a stage.")
            }
            guard !rule.fromStages.contains(rule.toStage) else {
                throw APIError.unprocessable("invalid_rules", "\(rule.name): a rule does not move leads into the stage they are in.")
            }
            switch rule.trigger {
            case .scoreAtLeast, .scoreBelow:
                guard let score = rule.threshold, (0...100).contains(score), rule.event == nil else {
                    throw APIError.unprocessable("invalid_rules", "\(rule.name): a score rule has a threshold from 0 to 100 and no event.")
                }
            case .inactiveDays:
                guard let days = rule.threshold, (1...365).contains(days), rule.event == nil else {
                    throw APIError.unprocessable("invalid_rules", "\(rule.name): an inactivity rule has a threshold of 1 to 365 days and no event.")
                }
            case .event:
                guard rule.event != nil, rule.threshold == nil else {
                    throw APIError.unprocessable("invalid_rules", "\(rule.name): an event rule names its event and no threshold.")
                }
            }
        }
    }

    /// Whether it moves a lead in `stage` with `score`, after `event` (nil: a score change).
    func moves(from stage: PipelineStage, score: Int, event: CRMAPI.Event.Kind?) -> Bool {
        guard self.enabled, stage.key != self.toStage else { return false }
        guard self.fromStages.isEmpty ? stage.kind == .open : self.fromStages.contains(stage.key) else { return false }
        switch self.trigger {
        case .scoreAtLeast: return score >= (self.threshold ?? 101)
        case .scoreBelow: return score < (self.threshold ?? -1)
        case .event: return event != nil && event == self.event
        case .inactiveDays: return false  // the sweeper's
        }
    }

    /// What the timeline says moved the lead.
    func reason(score: Int) -> String {
        let why =
            switch self.trigger {
            case .scoreAtLeast: "score \(score) ≥ \(self.threshold ?? 0)"
            case .scoreBelow: "score \(score) < \(self.threshold ?? 0)"
            case .inactiveDays: "no contact for \(self.threshold ?? 0) days"
            case .event: self.event.map { "event \($0.rawValue)" } ?? "event"
            }
        return "rule “\(self.name)”: \(why)"
    }
}
