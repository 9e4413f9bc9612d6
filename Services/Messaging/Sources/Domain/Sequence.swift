import Foundation
import Models
import ServiceKit

public enum SequenceTrigger: String, Codable, Sendable, CaseIterable {
    case manual
    case leadScore = "lead_score"
    case stageChange = "stage_change"
    case inactivity
}

public enum SequenceAction: String, Codable, Sendable, CaseIterable {
    case sendMessage = "send_message"
    case updateStage = "update_stage"
    case scheduleMeeting = "schedule_meeting"
    case makeCall = "make_call"
}

public enum SequenceStatus: String, Codable, Sendable, CaseIterable {
    case active, paused
}

/// One step: after `delayMinutes` (from entry for the first, from the step before for the others), its action.
public struct SequenceStep: Codable, Sendable, Equatable {
    public var delayMinutes: Int
    public var action: SequenceAction
    /// `send_message`: the template (of the sequence's channel) and its variables; `{{lead.name}}` in a variable is
    /// the lead's name.
    public var templateId: TemplateID?
    public var variables: [String]?
    /// `update_stage`: the stage the lead moves to.
    public var stage: String?
    /// `schedule_meeting`: the calendar (calendar-booking's agent) whose first free slot is booked, and its service type.
    public var calendarAgentId: CalendarAgentID?
    public var serviceType: String?
    /// `make_call`: what the call says.
    public var purpose: String?

    public init(
        delayMinutes: Int, action: SequenceAction, templateId: TemplateID? = nil, variables: [String]? = nil, stage: String? = nil,
        calendarAgentId: CalendarAgentID? = nil, serviceType: String? = nil, purpose: String? = nil
    ) {
        self.delayMinutes = delayMinutes
        self.action = action
        self.templateId = templateId
        self.variables = variables
        self.stage = stage
        self.calendarAgentId = calendarAgentId
        self.serviceType = serviceType
        self.purpose = purpose
    }

    /// What is wrong with the step (its number in `index`), or nil.
    func problem(_ index: Int) -> String? {
        let name = "steps[\(index)]"
        guard (0...525_600).contains(self.delayMinutes) else { return "\(name).delayMinutes is 0 to 525600 (a year)" }
        // only the action's own fields: a stray one would be stored and shown, and never used
        let given: [(String, Bool)] = [
            ("templateId", self.templateId != nil), ("variables", self.variables != nil), ("stage", self.stage != nil),
            ("calendarAgentId", self.calendarAgentId != nil), ("serviceType", self.serviceType != nil), ("purpose", self.purpose != nil),
        ]
        let allowed: Set<String> =
            switch self.action {
            case .sendMessage: ["templateId", "variables"]
            case .updateStage: ["stage"]
            case .scheduleMeeting: ["calendarAgentId", "serviceType"]
            case .makeCall: ["purpose"]
            }
        if let stray = given.first(where: { $0.1 && !allowed.contains($0.0) }) {
            return "\(name): \(self.action.rawValue) takes no \(stray.0)"
        }
        func length(_ text: String) -> Int { TextRules.length(text) }
        switch self.action {
        case .sendMessage:
            guard self.templateId != nil else { return "\(name): send_message names its templateId" }
            guard (self.variables ?? []).count <= 20, (self.variables ?? []).allSatisfy({ (1...1024).contains(length($0)) && !TextRules.containsNUL($0) })
            else { return "\(name).variables: at most 20, each 1 to 1024 characters" }
        case .updateStage:
            guard let stage = self.stage, (1...40).contains(length(stage)), !TextRules.containsNUL(stage) else {
                return "\(name): update_stage names its stage (1 to 40 characters)"
            }
        case .scheduleMeeting:
            guard self.calendarAgentId != nil else { return "\(name): schedule_meeting names its calendarAgentId" }
            if let type = self.serviceType, !(1...40).contains(length(type)) || TextRules.containsNUL(type) {
                return "\(name).serviceType is 1 to 40 characters"
            }
        case .makeCall:
            if let purpose = self.purpose, !(1...500).contains(length(purpose)) || TextRules.containsNUL(purpose) {
                return "\(name).purpose is 1 to 500 characters"
            }
        }
        return nil
    }

    /// The template's variables for one lead.
    func variables(leadName: String?) -> [String] {
        (self.variables ?? []).map { $0.replacingOccurrences(of: "{{lead.name}}", with: leadName ?? "there") }
    }
}

public struct SequenceDTO: Codable, Sendable, Equatable {
    public var id: SequenceID
    public var name: String
    public var channelId: ChannelID
    public var trigger: SequenceTrigger
    /// `stage_change`: the stage whose entry enrols; `lead_score`: the score at or above which; `inactivity`: days.
    public var triggerStage: String?
    public var triggerScore: Int?
    public var triggerInactiveDays: Int?
    public var status: SequenceStatus
    public var steps: [SequenceStep]
    public var enrolled: Int
    public var active: Int
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
}

public struct NewSequence: Codable, Sendable {
    public var name: String
    public var channelId: ChannelID
    public var trigger: SequenceTrigger
    public var triggerStage: String?
    public var triggerScore: Int?
    public var triggerInactiveDays: Int?
    public var steps: [SequenceStep]

    public init(
        name: String, channelId: ChannelID, trigger: SequenceTrigger, triggerStage: String? = nil, triggerScore: Int? = nil,
        triggerInactiveDays: Int? = nil, steps: [SequenceStep]
    ) {
        self.name = name
        self.channelId = channelId
        self.trigger = trigger
        self.triggerStage = triggerStage
        self.triggerScore = triggerScore
        self.triggerInactiveDays = triggerInactiveDays
        self.steps = steps
    }

    /// What is wrong with it, or nil: the trigger's one parameter, and each step.
    var problem: String? {
        if let problem = TextRulesProblem.length(self.name, "name", 1...200) { return problem }
        switch self.trigger {
        case .manual:
            guard self.triggerStage == nil, self.triggerScore == nil, self.triggerInactiveDays == nil else {
                return "A manual sequence takes no trigger parameter."
            }
        case .stageChange:
            guard let stage = self.triggerStage, (1...40).contains(TextRules.length(stage)), !TextRules.containsNUL(stage), self.triggerScore == nil,
                self.triggerInactiveDays == nil
            else {
                return "A stage_change sequence names its triggerStage (1 to 40 characters) and nothing else."
            }
        case .leadScore:
            guard let score = self.triggerScore, (0...100).contains(score), self.triggerStage == nil, self.triggerInactiveDays == nil else {
                return "A lead_score sequence names its triggerScore (0 to 100) and nothing else."
            }
        case .inactivity:
            guard let days = self.triggerInactiveDays, (1...3650).contains(days), self.triggerStage == nil, self.triggerScore == nil else {
                return "An inactivity sequence names its triggerInactiveDays (1 to 3650) and nothing else."
            }
        }
        guard (1...20).contains(self.steps.count) else { return "A sequence has 1 to 20 steps." }
        for (index, step) in self.steps.enumerated() {
            if let problem = step.problem(index) { return problem }
        }
        return nil
    }
}

enum TextRulesProblem {
    static func length(_ text: String, _ field: String, _ range: ClosedRange<Int>) -> String? {
        guard range.contains(TextRules.length(text)), !TextRules.containsNUL(text) else {
            return "\(field) is \(range.lowerBound) to \(range.upperBound) characters"
        }
        return nil
    }
}

public struct UpdateSequence: Codable, Sendable {
    public var name: String?
    public var status: SequenceStatus?
    public var steps: [SequenceStep]?
}

public struct NewEnrollment: Codable, Sendable {
    public var leadId: LeadID
}

public enum EnrollmentStatus: String, Codable, Sendable {
    case active, completed, exited
}

public struct EnrollmentDTO: Codable, Sendable, Equatable {
    public struct Log: Codable, Sendable, Equatable {
        public var step: Int?
        public var action: String
        public var outcome: String
        public var detail: String?
        public var messageId: MessageID?
        public var at: Date
    }

    public var id: Int64
    public var sequenceId: SequenceID
    public var leadId: LeadID
    public var phone: String
    public var leadName: String?
    public var step: Int
    public var nextAt: Date?
    public var status: EnrollmentStatus
    public var exitReason: String?
    public var enrolledBy: String
    public var createdAt: Date
    public var logs: [Log]
}
