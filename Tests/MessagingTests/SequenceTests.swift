import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// Sequences with agent-core: a lead moved to a stage enters the sequence (read from agent-core's stage-move feed),
/// its steps run in order (a template through the outbox, a stage move and a call in agent-core), each logged; a lead
/// who replies or opts out leaves at once.
@Suite(.serialized) struct SequenceTests {
    struct Lead: Codable {
        var id: LeadID
        var stage: String
        var phone: String
    }

    struct Platform {
        var gateway: String
        var admin: String
        var channel: ChannelID
        var template: TemplateDTO
        var postgres: PostgresClient

        func lead(_ phone: String, name: String) async throws -> Lead {
            let created = try await TestHTTP.post("\(self.gateway)/v1/leads", token: self.admin, json: ["phone": phone, "name": name])
            #expect(created.status == 201, "\(created.text)")
            return try created.json(Lead.self)
        }

        func enrollments(_ sequence: SequenceID) async throws -> [EnrollmentDTO] {
            try await TestHTTP.get("\(self.gateway)/v1/sequences/\(sequence)/enrollments", token: self.admin).json(Page<EnrollmentDTO>.self).items
        }

        func count(_ sql: String) async throws -> Int {
            try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }
    }

    static func with(calendar: Bool = false, _ body: (Platform) async throws -> Void) async throws {
        try await TestServices.with(
            [.gateway, .agentCore, .messaging] + (calendar ? [.calendarBooking] : []),
            settings: [
                .gateway: ["RATE_LIMIT_ENABLED": "false"],
                .messaging: ["JOBS_POLL_INTERVAL_MS": "20", "MESSAGING_SEQUENCE_TICK_MS": "50", "MESSAGING_SEQUENCE_TRIGGER_MS": "200"],
            ]
        ) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant(currency: "RWF")
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            try await TestMessaging.quietHoursOff(gateway: gateway, token: admin)
            let channel = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: ["kind": "sandbox", "name": "Follow-ups"]).json(ChannelDTO.self)
            let template = try await TestHTTP.post(
                "\(gateway)/v1/templates", token: admin,
                json: NewTemplate(channelId: channel.id, name: "follow_up", language: "en", category: .marketing, body: "Hi {{1}}, still looking?")
            ).json(TemplateDTO.self)
            try await body(
                Platform(gateway: gateway, admin: admin, channel: channel.id, template: template, postgres: platform.environment(.messaging).postgres))
        }
    }

    @Test func aStageChangeEntersTheLeadAndEachStepRunsInOrder() async throws {
        try await Self.with { p in
            let created = try await TestHTTP.post(
                "\(p.gateway)/v1/sequences", token: p.admin,
                json: NewSequence(
                    name: "Qualified follow-up", channelId: p.channel, trigger: .stageChange, triggerStage: "qualified",
                    steps: [
                        SequenceStep(delayMinutes: 0, action: .sendMessage, templateId: p.template.id, variables: ["{{lead.name}}"]),
                        SequenceStep(delayMinutes: 0, action: .updateStage, stage: "booked"),
                        SequenceStep(delayMinutes: 0, action: .makeCall, purpose: "A quick call about your search."),
                    ]))
            #expect(created.status == 201, "\(created.text)")
            let sequence = try created.json(SequenceDTO.self)
            // a lead moved elsewhere does not enter; the one moved to qualified does
            let other = try await p.lead("+250788400002", name: "Eric")
            #expect(
                try await TestHTTP.request(.PUT, "\(p.gateway)/v1/leads/\(other.id)/stage", token: p.admin, body: Data(#"{"stage":"contacted"}"#.utf8)).status
                    == 200)
            let lead = try await p.lead("+250788400001", name: "Aline")
            let moved = try await TestHTTP.request(.PUT, "\(p.gateway)/v1/leads/\(lead.id)/stage", token: p.admin, body: Data(#"{"stage":"qualified"}"#.utf8))
            #expect(moved.status == 200, "\(moved.text)")
            try await TestWait.until(timeout: .seconds(30)) {
                // the call is placed after its step commits (logged `started` first): completed, and every action answered
                guard let enrollment = try await p.enrollments(sequence.id).first else { return false }
                return enrollment.status == .completed && !enrollment.logs.contains { $0.outcome == "started" }
            }.expectTrue("the sequence completed for Aline")
            let enrollments = try await p.enrollments(sequence.id)
            #expect(enrollments.map(\.phone) == ["+250788400001"])
            let logs = try #require(enrollments.first).logs
            #expect(logs.map(\.action) == ["enrolled", "send_message", "update_stage", "make_call", "completed"], "\(logs)")
            #expect(logs.allSatisfy { $0.outcome == "done" }, "\(logs)")
            #expect(logs[0].detail == "stage_change" && logs[1].messageId != nil)
            // the message went through the outbox with the lead's name; agent-core moved the stage and recorded the call
            let body = try await p.postgres.query(
                "SELECT body FROM messaging.sandbox_outbox WHERE recipient = '+250788400001'", logger: TestLog.quiet
            ).first(as: String.self)
            #expect(body == "Hi Aline, still looking?")
            #expect(try await TestHTTP.get("\(p.gateway)/v1/leads/\(lead.id)", token: p.admin).json(Lead.self).stage == "booked")
            let calls = try await TestHTTP.get("\(p.gateway)/v1/calls?leadId=\(lead.id)", token: p.admin)
            #expect(calls.status == 200 && calls.text.contains(lead.id.description), "\(calls.text)")
            // entered once: the stage moved again (to booked, by the sequence itself) enrols no one twice
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await p.enrollments(sequence.id).count == 1)
        }
    }

    @Test func aLeadWhoRepliesOrOptsOutLeavesAtOnce() async throws {
        try await Self.with { p in
            let sequence = try await TestHTTP.post(
                "\(p.gateway)/v1/sequences", token: p.admin,
                json: NewSequence(
                    name: "Nurture", channelId: p.channel, trigger: .manual,
                    steps: [
                        SequenceStep(delayMinutes: 0, action: .sendMessage, templateId: p.template.id, variables: ["{{lead.name}}"]),
                        SequenceStep(delayMinutes: 60, action: .sendMessage, templateId: p.template.id, variables: ["again"]),
                    ])
            ).json(SequenceDTO.self)
            let replier = try await p.lead("+250788400011", name: "Jean")
            let quitter = try await p.lead("+250788400012", name: "Marie")
            for lead in [replier, quitter] {
                let enrolled = try await TestHTTP.post(
                    "\(p.gateway)/v1/sequences/\(sequence.id)/enrollments", token: p.admin, json: NewEnrollment(leadId: lead.id))
                #expect(enrolled.status == 201, "\(enrolled.text)")
            }
            // entered once by hand too
            #expect(
                try await TestHTTP.post("\(p.gateway)/v1/sequences/\(sequence.id)/enrollments", token: p.admin, json: NewEnrollment(leadId: replier.id))
                    .status == 200)
            try await TestWait.until(timeout: .seconds(30)) {
                try await p.count("SELECT count(*)::int FROM messaging.sandbox_outbox") == 2
            }.expectTrue("both first messages")
            // Jean answers; Marie opts out by the list
            let inbound = try await TestHTTP.post(
                "\(p.gateway)/v1/sandbox/inbound", token: p.admin,
                json: ["channelId": p.channel.description, "from": "+250788400011", "text": "Yes, tell me more"])
            #expect(inbound.status == 202, "\(inbound.text)")
            #expect(try await TestHTTP.post("\(p.gateway)/v1/opt-outs", token: p.admin, json: ["address": "+250788400012"]).status == 201)
            try await TestWait.until(timeout: .seconds(30)) {
                try await p.enrollments(sequence.id).allSatisfy { $0.status == .exited }
            }.expectTrue("both left")
            let reasons = try await p.enrollments(sequence.id).map { [$0.phone: $0.exitReason ?? ""] }
            #expect(reasons == [["+250788400011": "replied"], ["+250788400012": "opted_out"]])
            // an opted-out lead is not enrolled again by hand
            let other = try await TestHTTP.post(
                "\(p.gateway)/v1/sequences", token: p.admin,
                json: NewSequence(
                    name: "Other", channelId: p.channel, trigger: .manual,
                    steps: [SequenceStep(delayMinutes: 0, action: .sendMessage, templateId: p.template.id, variables: ["x"])])
            ).json(SequenceDTO.self)
            let refused = try await TestHTTP.post("\(p.gateway)/v1/sequences/\(other.id)/enrollments", token: p.admin, json: NewEnrollment(leadId: quitter.id))
            #expect(refused.status == 409 && refused.errorCode == "opted_out")
            // a bad sequence is refused with the reason
            let bad = try await TestHTTP.post(
                "\(p.gateway)/v1/sequences", token: p.admin,
                json: NewSequence(name: "Bad", channelId: p.channel, trigger: .stageChange, steps: [SequenceStep(delayMinutes: 0, action: .updateStage)]))
            #expect(bad.status == 422 && bad.errorCode == "invalid_sequence")
            let stray = try await TestHTTP.post(
                "\(p.gateway)/v1/sequences", token: p.admin,
                json: NewSequence(
                    name: "Stray", channelId: p.channel, trigger: .manual, steps: [SequenceStep(delayMinutes: 0, action: .makeCall, stage: "won")]))
            #expect(stray.status == 422 && stray.text.contains("make_call takes no stage"), "\(stray.text)")
            // the enrolled numbers are for the target roles only
            let dataOps = try await TestKeys.token(tenant: nil, roles: [.dataOps])
            let tenantID = try await p.postgres.query("SELECT tenant_id FROM messaging.sequences LIMIT 1", logger: TestLog.quiet).first(as: UUID.self)!
            let hidden = try await TestHTTP.get(
                "\(p.gateway)/v1/sequences/\(sequence.id)/enrollments", token: dataOps, headers: ["X-Tenant-ID": tenantID.uuidString.lowercased()])
            #expect(hidden.status == 403)
        }
    }

    struct CalendarAgent: Codable {
        var id: CalendarAgentID
    }

    struct Appointment: Codable {
        var id: String
        var contactPhone: String?
        var status: String
        var startsAt: Date
    }

    @Test func aMeetingStepBooksTheFirstFreeSlotInCalendarBooking() async throws {
        try await Self.with(calendar: true) { p in
            let agent = try await TestHTTP.request(
                .POST, "\(p.gateway)/v1/calendar/agents", token: p.admin,
                body: Data(#"{"name":"Amina","timeZone":"Africa/Nairobi","serviceDurations":{"visit":30}}"#.utf8)
            ).json(CalendarAgent.self)
            let days = (1...7).map { #"{"weekday":\#($0),"start":"00:00","end":"23:30"}"# }.joined(separator: ",")
            let rules = try await TestHTTP.request(
                .PUT, "\(p.gateway)/v1/availability/rules", token: p.admin,
                body: Data(#"{"agentId":"\#(agent.id)","schedule":{"timeZone":"Africa/Nairobi","weekly":[\#(days)],"overrides":[]}}"#.utf8))
            #expect(rules.status == 200, "\(rules.text)")
            let sequence = try await TestHTTP.post(
                "\(p.gateway)/v1/sequences", token: p.admin,
                json: NewSequence(
                    name: "Visit", channelId: p.channel, trigger: .manual,
                    steps: [SequenceStep(delayMinutes: 0, action: .scheduleMeeting, calendarAgentId: agent.id, serviceType: "visit")])
            ).json(SequenceDTO.self)
            let lead = try await p.lead("+250788400021", name: "Grace")
            #expect(
                try await TestHTTP.post("\(p.gateway)/v1/sequences/\(sequence.id)/enrollments", token: p.admin, json: NewEnrollment(leadId: lead.id))
                    .status == 201)
            try await TestWait.until(timeout: .seconds(30)) {
                guard let enrollment = try await p.enrollments(sequence.id).first else { return false }
                return enrollment.status == .completed && !enrollment.logs.contains { $0.outcome == "started" }
            }.expectTrue("the meeting step done")
            let log = try #require(try await p.enrollments(sequence.id).first?.logs.first { $0.action == "schedule_meeting" })
            #expect(log.outcome == "done" && log.detail?.hasPrefix("booked") == true, "\(log)")
            // calendar-booking has the appointment, for the lead's number, in the first free slot
            let booked = try await TestHTTP.get("\(p.gateway)/v1/appointments?agentId=\(agent.id)", token: p.admin).json(Page<Appointment>.self).items
            #expect(booked.count == 1 && booked.first?.contactPhone == "+250788400021" && booked.first?.status == "scheduled", "\(booked)")
            #expect((booked.first?.startsAt ?? .distantPast) > Date())
        }
    }
}
