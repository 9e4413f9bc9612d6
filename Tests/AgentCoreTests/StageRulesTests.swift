import Contracts
import Foundation
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The pipeline's rules: an event moves a lead (booked → the booked stage), a score crosses a threshold, a lead left
/// without contact moves by the sweeper; every automatic move names its rule in the timeline and in the feed of
/// moves other services read; bad rules are refused whole, and a stage a rule names cannot be removed.
@Suite struct StageRulesTests {
    static func with(_ body: (LeadsTests.Desk) async throws -> Void) async throws {
        try await TestServices.with(
            [.gateway, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .agentCore: ["AGENT_STAGE_RULES_SWEEP_MS": "200"]]
        ) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            try await body(
                LeadsTests.Desk(
                    gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.agentCore).postgres, platform: platform))
        }
    }

    static let rules = """
        {"rules":[
          {"name":"Booked","trigger":"event","event":"appointment_booked","fromStages":[],"toStage":"booked","enabled":true},
          {"name":"Hot","trigger":"score_at_least","threshold":45,"fromStages":["new","contacted"],"toStage":"qualified","enabled":true},
          {"name":"Gone quiet","trigger":"inactive_days","threshold":30,"fromStages":["qualified"],"toStage":"lost","enabled":true},
          {"name":"Off","trigger":"score_at_least","threshold":0,"fromStages":[],"toStage":"won","enabled":false}
        ]}
        """

    @Test func rulesMoveLeadsAndSaySoAndTheFeedCarriesEveryMove() async throws {
        try await Self.with { desk in
            let saved = try await desk.send(.PUT, "/v1/pipeline/rules", Self.rules)
            #expect(saved.status == 200, "\(saved.text)")
            let rules = try saved.json(RulesController.RulesView.self).rules
            #expect(rules.map(\.name) == ["Booked", "Hot", "Gone quiet", "Off"] && rules.allSatisfy { $0.id != nil })

            // an event: booked moves the lead, the timeline names the rule
            let service = try await TestKeys.token(subject: "service:calendar-booking", tenant: desk.tenant, roles: [.service])
            let event =
                #"{"events":[{"id":"a-1","source":"calendar-booking","kind":"appointment_booked","phone":"+254712000701","at":"\#(ISO8601.format(Date()))","title":"Viewing"}]}"#
            let posted = try await TestHTTP.request(
                .POST, "\(desk.gateway)/v1/crm/events", token: service, headers: ["X-Tenant-ID": desk.tenant.description], body: Data(event.utf8))
            #expect(posted.status == 200, "\(posted.text)")
            let booked = try #require(try await desk.send(.GET, "/v1/leads?q=254712000701").json(Page<LeadDTO>.self).items.first)
            #expect(booked.stage == "booked", "\(booked)")
            let moves = try await desk.send(.GET, "/v1/leads/\(booked.id)/activity").json(Page<LeadActivityDTO>.self).items.filter {
                $0.kind == "stage_changed"
            }
            #expect(moves.first?.summary == "Moved from new to booked: rule “Booked”: event appointment_booked.", "\(moves)")

            // a score: an extraction above the threshold moves the lead from new; a lead elsewhere stays
            let fresh = try await desk.lead("+254712000702")
            let extraction = #"{"intent":3,"urgency":3,"budget":3,"fit":3,"engagement":3,"source":"person"}"#
            let scored = try await desk.send(.POST, "/v1/leads/\(fresh.id)/extractions", extraction)
            #expect(scored.status == 201, "\(scored.text)")
            #expect(try scored.json(LeadsController.Recorded.self).lead.stage == "qualified")
            let elsewhere = try await desk.lead("+254712000703", #","stage":"booked""#)
            _ = try await desk.send(.POST, "/v1/leads/\(elsewhere.id)/extractions", extraction)
            #expect(try await desk.send(.GET, "/v1/leads/\(elsewhere.id)").json(LeadDTO.self).stage == "booked")

            // inactivity: thirty days without contact in qualified → lost, by the sweeper
            try await desk.postgres.query(
                "UPDATE agent.leads SET created_at = now() - interval '31 days', last_contact_at = NULL WHERE id = \(fresh.id.rawValue)",
                logger: TestLog.quiet)
            #expect(try await TestWait.until { try await desk.send(.GET, "/v1/leads/\(fresh.id)").json(LeadDTO.self).stage == "lost" })
            let lost = try await desk.send(.GET, "/v1/leads/\(fresh.id)").json(LeadDTO.self)
            #expect(lost.status == .lost)

            // the feed: every move in order, the automatic ones with their rule; a person's move too
            #expect(try await desk.send(.PUT, "/v1/leads/\(elsewhere.id)/stage", #"{"stage":"won","reason":"signed"}"#).status == 200)
            let feed = try await desk.send(.GET, "/v1/pipeline/moves").json(CRMAPI.StageMoves.self)
            #expect(feed.items.map(\.to) == ["booked", "qualified", "lost", "won"], "\(feed.items)")
            #expect(feed.items.prefix(3).allSatisfy { $0.automatic && $0.rule != nil } && !feed.items[3].automatic)
            #expect(feed.items[1].rule == rules[1].id?.description)
            let rest = try await desk.send(.GET, "/v1/pipeline/moves?after=\(feed.items[1].id)").json(CRMAPI.StageMoves.self)
            #expect(rest.items.map(\.to) == ["lost", "won"] && rest.next == feed.next)
            #expect(try await desk.send(.GET, "/v1/pipeline/moves?after=\(feed.next)").json(CRMAPI.StageMoves.self).items.isEmpty)
        }
    }

    @Test func badRulesAreRefusedWholeAndARulesStageStays() async throws {
        try await Self.with { desk in
            #expect(try await desk.send(.PUT, "/v1/pipeline/rules", Self.rules).status == 200)
            for (body, code) in [
                (#"{"rules":[{"name":"x","trigger":"event","event":"purchase","fromStages":[],"toStage":"nowhere","enabled":true}]}"#, "unknown_stage"),
                (#"{"rules":[{"name":"x","trigger":"score_at_least","fromStages":[],"toStage":"won","enabled":true}]}"#, "invalid_rules"),
                (#"{"rules":[{"name":"x","trigger":"score_at_least","threshold":101,"fromStages":[],"toStage":"won","enabled":true}]}"#, "invalid_rules"),
                (#"{"rules":[{"name":"x","trigger":"inactive_days","threshold":0,"fromStages":[],"toStage":"lost","enabled":true}]}"#, "invalid_rules"),
                (#"{"rules":[{"name":"x","trigger":"event","fromStages":[],"toStage":"won","enabled":true}]}"#, "invalid_rules"),
                (#"{"rules":[{"name":"x","trigger":"event","event":"purchase","fromStages":["won"],"toStage":"won","enabled":true}]}"#, "invalid_rules"),
                (#"{"rules":[{"name":"","trigger":"event","event":"purchase","fromStages":[],"toStage":"won","enabled":true}]}"#, "invalid_rules.name"),
            ] {
                let refused = try await desk.send(.PUT, "/v1/pipeline/rules", body)
                #expect(refused.status == 422 && refused.errorCode == code, "\(body): \(refused.text)")
            }
            let unknownTrigger = try await desk.send(
                .PUT, "/v1/pipeline/rules", #"{"rules":[{"name":"x","trigger":"moon","fromStages":[],"toStage":"won","enabled":true}]}"#)
            #expect(unknownTrigger.status == 400, "\(unknownTrigger.text)")
            #expect(try await desk.send(.GET, "/v1/pipeline/rules").json(RulesController.RulesView.self).rules.count == 4)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.stage_rules") == 4)

            // the stage "booked" is named by a rule: the pipeline cannot lose it
            let without =
                #"{"stages":[{"key":"new","name":"New","kind":"open"},{"key":"contacted","name":"C","kind":"open"},{"key":"qualified","name":"Q","kind":"open"},{"key":"won","name":"Won","kind":"won"},{"key":"lost","name":"Lost","kind":"lost"}]}"#
            let refused = try await desk.send(.PUT, "/v1/pipeline/stages", without)
            #expect(refused.status == 409 && refused.errorCode == "stage_in_use" && refused.text.contains("Booked"), "\(refused.text)")

            // who may: readers read, managers write; an agent reads but does not write, nor read the feed
            let agent = try await TestKeys.token(tenant: desk.tenant, roles: [.agent])
            #expect(try await desk.send(.GET, "/v1/pipeline/rules", token: agent).status == 200)
            #expect(try await desk.send(.PUT, "/v1/pipeline/rules", Self.rules, token: agent).status == 403)
            #expect(try await desk.send(.GET, "/v1/pipeline/moves", token: agent).status == 403)
            let readonly = try await TestKeys.token(tenant: desk.tenant, roles: [.readonly])
            #expect(try await desk.send(.PUT, "/v1/pipeline/rules", Self.rules, token: readonly).status == 403)
            // another tenant has none of these rules
            let other = try await desk.platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.send(.GET, "/v1/pipeline/rules", token: otherAdmin).json(RulesController.RulesView.self).rules.isEmpty)
        }
    }
}
