import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceClient
import ServiceKit
import ServiceLifecycle

/// Runs sequences: enrols the leads their triggers select (agent-core's stage-move feed, leads by score, leads
/// without contact), then runs due steps one at a time. A message step goes through the one outbox in the step's
/// own transaction; a step in another service (a stage move in agent-core, a booking in calendar-booking, a call) is
/// logged `started` first and done after the commit, so a crash never repeats it.
struct SequenceRunner: Service {
    let sequences: SequencesStore
    let templates: TemplatesStore
    let channels: ChannelsStore
    let policy: PolicyStore
    let outbox: OutboxStore
    let leads: @Sendable () -> LeadsClient
    let calendar: @Sendable () -> CalendarClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext
    let interval: Duration
    /// How often triggers are read (each reads agent-core over HTTP).
    let triggerInterval: Duration
    let logger: Logger
    static let stepsPerPass = 200

    func run() async throws {
        let clock = ContinuousClock()
        var lastTriggers = clock.now - self.triggerInterval
        await PeriodicWork.run("sequences", every: self.interval, logger: self.logger) {
            if clock.now - lastTriggers >= self.triggerInterval {
                lastTriggers = clock.now
                try await self.enrolTriggered()
            }
            try await self.runDue()
        }
    }

    func enrolTriggered() async throws {
        for sequence in try await self.sequences.triggered(logger: self.logger) {
            do {
                try await self.enrol(sequence)
            } catch {
                self.logger.error("sequence trigger failed", metadata: ["sequence.id": "\(sequence.id)", "error": "\(String(reflecting: error))"])
            }
        }
    }

    func enrol(_ sequence: SequencesStore.Triggered) async throws {
        let context = try await self.callContext(sequence.tenant, nil)
        let leads = self.leads()
        switch sequence.trigger {
        case .manual:
            return
        case .stageChange:
            let moves = try await leads.moves(after: sequence.cursor, context: context)
            for move in moves.items where move.to == sequence.stage {
                if let lead = try await leads.lead(move.leadId, context: context) {
                    _ = try await self.enrol(lead, in: sequence.id, tenant: sequence.tenant, firstDelay: sequence.firstDelay, by: "stage_change")
                }
            }
            try await self.sequences.setCursor(sequence.id, to: moves.next, logger: self.logger)
        case .leadScore:
            for lead in try await leads.leads(minScore: sequence.score, context: context) {
                _ = try await self.enrol(lead, in: sequence.id, tenant: sequence.tenant, firstDelay: sequence.firstDelay, by: "lead_score")
            }
        case .inactivity:
            for lead in try await leads.leads(inactiveDays: sequence.inactiveDays, context: context) {
                _ = try await self.enrol(lead, in: sequence.id, tenant: sequence.tenant, firstDelay: sequence.firstDelay, by: "inactivity")
            }
        }
    }

    /// A lead enters unless it opted out (in the CRM or on messaging's list) or has no usable number.
    func enrol(_ lead: CRMAPI.LeadSummary, in sequence: UUID, tenant: TenantID, firstDelay: Int, by: String) async throws -> Bool {
        guard lead.optIn, let phone = try? PhoneNumber(parsing: lead.phone).e164,
            !(try await self.policy.isOptedOut(tenant: tenant, address: phone, logger: self.logger))
        else { return false }
        return try await self.sequences.enroll(
            sequence, tenant: tenant, firstDelayMinutes: firstDelay, lead: lead, phone: phone, by: by, logger: self.logger)
    }

    func runDue() async throws {
        for _ in 0..<Self.stepsPerPass {
            guard
                let (due, started) = try await self.sequences.runNextDue(
                    logger: self.logger,
                    { due, connection in
                        try await self.start(due, on: connection)
                    })
            else { return }
            guard let started else { continue }
            let step = due.steps[due.step]
            do {
                let detail = try await self.act(step, due: due)
                try await self.sequences.finished(log: started, outcome: "done", detail: detail, logger: self.logger)
            } catch {
                try await self.sequences.finished(log: started, outcome: "failed", detail: "\(error)".prefix(500).description, logger: self.logger)
            }
        }
    }

    /// Inside the step's transaction: a message is queued in the outbox and logged; any other action is logged
    /// `started` (its log id answered, to be acted on after the commit).
    func start(_ due: SequencesStore.Due, on connection: PostgresConnection) async throws -> Int64? {
        let step = due.steps[due.step]
        guard step.action == .sendMessage else {
            return try await self.sequences.log(
                due.id, tenant: due.tenant, step: due.step, action: step.action.rawValue, outcome: "started", detail: nil, on: connection,
                logger: self.logger)
        }
        guard let templateID = step.templateId, let template = try await self.templates.find(templateID, tenant: due.tenant, logger: self.logger),
            let channel = try await self.channels.find(due.channel, logger: self.logger)
        else {
            try await self.sequences.log(
                due.id, tenant: due.tenant, step: due.step, action: step.action.rawValue, outcome: "failed", detail: "The template no longer exists.",
                on: connection, logger: self.logger)
            return nil
        }
        guard template.status == .approved else {
            try await self.sequences.log(
                due.id, tenant: due.tenant, step: due.step, action: step.action.rawValue, outcome: "failed",
                detail: "The template \(template.name) is \(template.status.rawValue), not approved.", on: connection, logger: self.logger)
            return nil
        }
        let variables = step.variables(leadName: due.leadName)
        let text: String
        do {
            text = try TemplateText.render(template.body, variables: variables, count: template.variableCount)
        } catch {
            try await self.sequences.log(
                due.id, tenant: due.tenant, step: due.step, action: step.action.rawValue, outcome: "failed",
                detail: "Variable {{\(error.number)}} of the template has no value.", on: connection, logger: self.logger)
            return nil
        }
        let used = Array(variables.prefix(template.variableCount))
        let message = try await self.outbox.queue(
            .init(
                tenant: due.tenant, channel: channel, to: due.phone, sender: .system, text: text,
                template: channel.kind == .whatsapp
                    ? TemplateRef(name: template.name, language: template.language, variables: used.isEmpty ? nil : used) : nil,
                requestedBy: "sequence:\(due.sequence)"),
            on: connection, requestID: nil, logger: self.logger)
        try await self.sequences.log(
            due.id, tenant: due.tenant, step: due.step, action: step.action.rawValue, outcome: "done", detail: template.name, message: message,
            on: connection, logger: self.logger)
        return nil
    }

    /// An action in another service, through its contract; answers what to log.
    func act(_ step: SequenceStep, due: SequencesStore.Due) async throws -> String {
        let context = try await self.callContext(due.tenant, nil)
        let key = "sequence-\(due.id)-\(due.step)"
        switch step.action {
        case .sendMessage:
            return ""
        case .updateStage:
            let stage = step.stage ?? ""
            try await self.leads().move(due.lead, to: stage, reason: "Sequence step \(due.step + 1)", context: context)
            return "moved to \(stage)"
        case .makeCall:
            try await self.leads().call(due.lead, purpose: step.purpose, idempotencyKey: key, context: context)
            return "call requested"
        case .scheduleMeeting:
            guard let agent = step.calendarAgentId else { return "no calendar named" }
            let calendar = self.calendar()
            let slots = try await calendar.slots(agentId: agent, serviceType: step.serviceType, context: context)
            guard let slot = slots.slots.first else { throw SequenceStepFailed(reason: "The calendar has no free slot in the coming week.") }
            let booked = try await calendar.book(
                CalendarAPI.NewAppointment(
                    agentId: agent.description, startsAt: slot.startsAt, serviceType: step.serviceType, title: "Meeting", status: "scheduled",
                    contactName: due.leadName, contactPhone: due.phone, source: "agent"), idempotencyKey: key, context: context)
            return "booked \(booked.localStart) (\(booked.id))"
        }
    }
}

struct SequenceStepFailed: Error, CustomStringConvertible {
    var reason: String
    var description: String { self.reason }
}
