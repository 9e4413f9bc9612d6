import Contracts
import Foundation
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The CRM's leads through the gateway with a real database: one lead per phone however many create it at once,
/// merges that keep the history, scores computed in code at every boundary (a model's out-of-range numbers move
/// nothing), pipeline moves with their reason, the pipeline's figures, and who sees which leads.
@Suite struct LeadsTests {
    struct Desk {
        let gateway: String
        let tenant: TenantID
        let admin: String
        let postgres: PostgresClient
        let platform: TestPlatform

        func send(_ method: HTTPMethod, _ path: String, _ json: String? = nil, token: String? = nil) async throws -> TestResponse {
            try await TestHTTP.request(method, "\(self.gateway)\(path)", token: token ?? self.admin, body: json.map { Data($0.utf8) })
        }

        func lead(_ phone: String, _ extra: String = "", token: String? = nil) async throws -> LeadDTO {
            let created = try await self.send(.POST, "/v1/leads", #"{"phone":"\#(phone)"\#(extra)}"#, token: token)
            #expect(created.status == 201, "\(created.text)")
            return try created.json(LeadDTO.self)
        }

        func count(_ sql: String) async throws -> Int {
            try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }
    }

    static func with(_ body: (Desk) async throws -> Void) async throws {
        try await TestServices.with([.gateway, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            try await body(
                Desk(
                    gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.agentCore).postgres, platform: platform))
        }
    }

    @Test func fortyCreatesOfOnePhoneAtOnceMakeOneLead() async throws {
        try await Self.with { desk in
            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await desk.send(
                            .POST, "/v1/leads",
                            #"{"phone":"+254712000001","source":"whatsapp","tags":["t\#(index % 3)"]\#(index == 7 ? #","name":"Wanjiru""# : "")}"#)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0.status == 201 }.count == 1, "\(answers.map(\.status))")
            #expect(answers.filter { $0.status == 200 }.count == 39, "\(answers.filter { $0.status != 200 && $0.status != 201 }.map(\.text))")
            #expect(Set(try answers.map { try $0.json(LeadDTO.self).id }).count == 1)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.leads") == 1)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.lead_phones") == 1)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.lead_activity WHERE kind = 'merged'") == 39)
            let lead = try await desk.send(.GET, "/v1/leads?q=254712000001").json(Page<LeadDTO>.self).items
            #expect(lead.count == 1 && lead[0].name == "Wanjiru" && lead[0].tags == ["t0", "t1", "t2"], "\(lead)")
        }
    }

    @Test func aMergeKeepsBothHistoriesAndTheOtherIdAndPhoneFindTheSurvivor() async throws {
        try await Self.with { desk in
            let kept = try await desk.lead("+254712000010", #","name":"Amina""#)
            let other = try await desk.lead("+254712000011", #","email":"amina@example.com","tags":["vip"]"#)
            #expect(try await desk.send(.POST, "/v1/leads/\(other.id)/notes", #"{"text":"Wants a 2-bedroom"}"#).status == 201)
            let merged = try await desk.send(.POST, "/v1/leads/merge", #"{"survivorId":"\#(kept.id)","otherId":"\#(other.id)"}"#)
            #expect(merged.status == 200, "\(merged.text)")
            let survivor = try merged.json(LeadDTO.self)
            #expect(survivor.phones == ["+254712000010", "+254712000011"] && survivor.email == "amina@example.com" && survivor.tags == ["vip"])
            // the other's id and phone lead to the survivor
            #expect(try await desk.send(.GET, "/v1/leads/\(other.id)").json(LeadDTO.self).id == kept.id)
            let again = try await desk.send(.POST, "/v1/leads", #"{"phone":"+254712000011"}"#)
            #expect(again.status == 200)
            #expect(try again.json(LeadDTO.self).id == kept.id)
            let timeline = try await desk.send(.GET, "/v1/leads/\(kept.id)/activity").json(Page<LeadActivityDTO>.self).items
            #expect(timeline.contains { $0.kind == "note" && $0.summary == "Wants a 2-bedroom" })
            #expect(timeline.contains { $0.kind == "merged" && $0.summary.contains("Merged with") })
            #expect(try await desk.send(.GET, "/v1/leads").json(Page<LeadDTO>.self).items.count == 1)
            // the search finds the survivor by the other lead's phone too
            #expect(try await desk.send(.GET, "/v1/leads?q=712000011").json(Page<LeadDTO>.self).items.map(\.id) == [kept.id])
            // tags stay within 30 however many the same phone brings
            let many = (0..<30).map { #""m\#($0)""# }.joined(separator: ",")
            let full = try await desk.send(.POST, "/v1/leads", #"{"phone":"+254712000010","tags":[\#(many)]}"#)
            #expect(full.status == 200, "\(full.text)")
            #expect(try full.json(LeadDTO.self).tags.count == 30)
            let twice = try await desk.send(.POST, "/v1/leads/merge", #"{"survivorId":"\#(kept.id)","otherId":"\#(other.id)"}"#)
            #expect(twice.status == 404)
            let itself = try await desk.send(.POST, "/v1/leads/merge", #"{"survivorId":"\#(kept.id)","otherId":"\#(kept.id)"}"#)
            #expect(itself.status == 422 && itself.errorCode == "invalid_merge")
        }
    }

    @Test func theTemperatureAtEveryBoundaryAndTheScoreFromItsParts() {
        for (total, expected) in [(5, "cold"), (7, "cold"), (8, "warm"), (11, "warm"), (12, "hot"), (15, "hot")] {
            #expect(Scoring.temperature(total).rawValue == expected, "\(total)")
        }
        let now = Date()
        #expect(
            Scoring.components(latestTotal: 15, replies: 0, clicks: 0, bookings: 0, lastContact: nil, now: now) == .init(base: 50, behavior: 0, engagement: 0))
        #expect(
            Scoring.components(latestTotal: 5, replies: 3, clicks: 1, bookings: 1, lastContact: now, now: now) == .init(base: 0, behavior: 19, engagement: 20))
        // behaviour stops at 30; engagement halves every 14 days without contact
        #expect(
            Scoring.components(latestTotal: nil, replies: 40, clicks: 0, bookings: 0, lastContact: now.addingTimeInterval(-14 * 86_400), now: now).behavior
                == 30)
        #expect(
            Scoring.components(latestTotal: nil, replies: 0, clicks: 0, bookings: 0, lastContact: now.addingTimeInterval(-14 * 86_400), now: now).engagement
                == 10)
        #expect(
            Scoring.components(latestTotal: nil, replies: 0, clicks: 0, bookings: 0, lastContact: now.addingTimeInterval(-28 * 86_400), now: now).engagement
                == 5)
        #expect(Scoring.components(latestTotal: 15, replies: 100, clicks: 100, bookings: 100, lastContact: now, now: now).score == 100)
    }

    @Test func anExtractionMovesTheScoreAsTheCodeComputesItAndAnOutOfRangeOneMovesNothing() async throws {
        try await Self.with { desk in
            let lead = try await desk.lead("+254712000020")
            func extract(_ values: [Int]) async throws -> TestResponse {
                try await desk.send(
                    .POST, "/v1/leads/\(lead.id)/extractions",
                    #"{"intent":\#(values[0]),"urgency":\#(values[1]),"budget":\#(values[2]),"fit":\#(values[3]),"engagement":\#(values[4]),"source":"llm","name":"Baraka"}"#
                )
            }
            for (values, total, status) in [
                ([1, 2, 1, 2, 1], 7, LeadStatus.cold), ([2, 2, 1, 2, 1], 8, .warm), ([3, 2, 2, 2, 2], 11, .warm), ([3, 3, 2, 2, 2], 12, .hot),
            ] {
                let recorded = try await extract(values)
                #expect(recorded.status == 201, "\(recorded.text)")
                let answer = try recorded.json(LeadsController.Recorded.self)
                #expect(answer.extraction.total == total && answer.lead.status == status, "\(values)")
                #expect(answer.lead.score == (total - 5) * 5 && answer.lead.scoreComponents.base == (total - 5) * 5)
            }
            #expect(try await desk.send(.GET, "/v1/leads/\(lead.id)").json(LeadDTO.self).name == "Baraka")
            // a model that answers numbers out of range (or not whole) changes nothing
            for bad in [
                #"{"intent":9,"urgency":3,"budget":3,"fit":3,"engagement":3}"#, #"{"intent":0,"urgency":1,"budget":1,"fit":1,"engagement":1}"#,
                #"{"intent":-3,"urgency":3,"budget":3,"fit":3,"engagement":3}"#, #"{"intent":2.5,"urgency":3,"budget":3,"fit":3,"engagement":3}"#,
                #"{"intent":"3","urgency":3,"budget":3,"fit":3,"engagement":3}"#, #"{"intent":3,"urgency":3,"budget":3,"fit":3}"#,
                #"{"intent":3,"urgency":3,"budget":3,"fit":3,"engagement":3,"total":99,"score":100}"#,
            ] {
                let refused = try await desk.send(.POST, "/v1/leads/\(lead.id)/extractions", bad)
                if bad.contains("99") {
                    // extra fields are ignored: the total is computed (15), never taken
                    #expect(refused.status == 201)
                    #expect(try refused.json(LeadsController.Recorded.self).extraction.total == 15)
                    continue
                }
                #expect([400, 422].contains(refused.status), "\(bad): \(refused.status) \(refused.text)")
            }
            #expect(try await desk.count("SELECT count(*)::int FROM agent.extractions") == 5)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.extractions WHERE is_latest") == 1)
            let latest = try await desk.send(.GET, "/v1/extractions?leadId=\(lead.id)&latest=true").json(Page<ExtractionDTO>.self).items
            #expect(latest.count == 1 && latest[0].total == 15 && latest[0].reasoning.hasSuffix("15/15, hot."))
            // each change of the score says why
            let timeline = try await desk.send(.GET, "/v1/leads/\(lead.id)/activity?limit=200").json(Page<LeadActivityDTO>.self).items
            let changes = timeline.filter { $0.kind == "score_changed" }.map(\.summary)
            #expect(changes.contains("Score 10 → 15: base 10 → 15 (extraction 8/15, warm)."), "\(changes)")
        }
    }

    @Test func stagesMoveWithAReasonAndThePipelineCountsThem() async throws {
        try await Self.with { desk in
            let first = try await desk.lead("+254712000030", #","dealValue":{"amount":"1500.00","currency":"KES"}"#)
            let second = try await desk.lead("+254712000031", #","dealValue":{"amount":"500.00","currency":"KES"}"#)
            _ = try await desk.lead("+254712000032")
            let moved = try await desk.send(.PUT, "/v1/leads/\(first.id)/stage", #"{"stage":"qualified","reason":"budget confirmed"}"#)
            #expect(moved.status == 200, "\(moved.text)")
            let qualified = try moved.json(LeadDTO.self)
            #expect(qualified.stage == "qualified" && qualified.stageEnteredAt > first.stageEnteredAt)
            let won = try await desk.send(.PUT, "/v1/leads/\(first.id)/stage", #"{"stage":"won"}"#).json(LeadDTO.self)
            #expect(won.status == .converted)
            #expect(try await desk.send(.PUT, "/v1/leads/\(second.id)/stage", #"{"stage":"nowhere"}"#).errorCode == "unknown_stage")
            let timeline = try await desk.send(.GET, "/v1/leads/\(first.id)/activity").json(Page<LeadActivityDTO>.self).items
            #expect(timeline.contains { $0.summary == "Moved from new to qualified: budget confirmed." })

            let pipeline = try await desk.send(.GET, "/v1/pipeline").json(LeadsController.PipelineView.self).stages
            let byKey = Dictionary(uniqueKeysWithValues: pipeline.map { ($0.key, $0) })
            #expect(byKey["new"]?.leads == 2 && byKey["won"]?.leads == 1 && byKey["qualified"]?.leads == 0)
            #expect(byKey["new"]?.value == ["KES": 50_000] && byKey["won"]?.value == ["KES": 150_000])
            // three reached `new`, one of them converted; the one that reached `qualified` converted
            #expect(byKey["new"].map { abs($0.conversion - 1.0 / 3.0) < 0.001 } == true && byKey["qualified"]?.conversion == 1)

            // the real-estate preset cannot drop stages that hold leads
            let refused = try await desk.send(.PUT, "/v1/pipeline/stages", #"{"preset":"real_estate"}"#)
            #expect(refused.status == 409 && refused.errorCode == "stage_in_use", "\(refused.text)")
            let stages =
                #"{"stages":[{"key":"new","name":"New","kind":"open"},{"key":"entrada","name":"Entrada","kind":"open"},{"key":"won","name":"Won","kind":"won"},{"key":"perdido","name":"Perdido","kind":"lost"}]}"#
            #expect(try await desk.send(.PUT, "/v1/pipeline/stages", stages).status == 200)
            #expect(try await desk.send(.PUT, "/v1/pipeline/stages", #"{"stages":[{"key":"a","name":"A","kind":"open"}]}"#).errorCode == "invalid_stages")
            let keys = try await desk.send(.GET, "/v1/pipeline/stages").json(LeadsController.StagesView.self).stages.map(\.key)
            #expect(keys == ["new", "entrada", "won", "perdido"])
        }
    }

    @Test func anAgentSeesOnlyTheirLeadsAndNoOtherTenantSeesAny() async throws {
        try await Self.with { desk in
            let agentID = UUID()
            let agent = try await TestKeys.token(subject: agentID.uuidString.lowercased(), tenant: desk.tenant, roles: [.agent])
            let theirs = try await desk.lead("+254712000040", #","assigneeId":"\#(agentID.uuidString)""#)
            let notTheirs = try await desk.lead("+254712000041")
            let own = try await desk.lead("+254712000042", token: agent)
            #expect(own.assigneeId?.rawValue == agentID)
            let seen = try await desk.send(.GET, "/v1/leads", token: agent).json(Page<LeadDTO>.self).items.map(\.id)
            #expect(Set(seen) == [theirs.id, own.id])
            #expect(try await desk.send(.GET, "/v1/leads/\(notTheirs.id)", token: agent).status == 404)
            #expect(try await desk.send(.PATCH, "/v1/leads/\(notTheirs.id)", #"{"name":"X"}"#, token: agent).status == 404)
            #expect(try await desk.send(.PATCH, "/v1/leads/\(theirs.id)", #"{"name":"Mine"}"#, token: agent).status == 200)
            // assigning and merging are the admins'
            #expect(try await desk.send(.PUT, "/v1/leads/\(theirs.id)/assign", #"{"assigneeId":null}"#, token: agent).status == 403)
            #expect(try await desk.send(.POST, "/v1/leads/merge", #"{"survivorId":"\#(theirs.id)","otherId":"\#(own.id)"}"#, token: agent).status == 403)
            // reassigned away: gone from the agent's view, and the move is in the timeline
            let reassigned = try await desk.send(.PUT, "/v1/leads/\(theirs.id)/assign", #"{"assigneeId":null,"reason":"on leave"}"#)
            #expect(reassigned.status == 200)
            #expect(try reassigned.json(LeadDTO.self).assigneeId == nil)
            #expect(try await desk.send(.GET, "/v1/leads/\(theirs.id)", token: agent).status == 404)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.lead_activity WHERE kind = 'assigned' AND summary = 'Unassigned (on leave).'") == 1)
            // read-only staff read, and write nothing
            let readonly = try await TestKeys.token(tenant: desk.tenant, roles: [.readonly])
            #expect(try await desk.send(.GET, "/v1/leads", token: readonly).json(Page<LeadDTO>.self).items.count == 3)
            #expect(try await desk.send(.POST, "/v1/leads", #"{"phone":"+254712000043"}"#, token: readonly).status == 403)
            #expect(
                try await desk.send(
                    .POST, "/v1/leads", #"{"phone":"+254712000043"}"#, token: try await TestKeys.token(tenant: desk.tenant, roles: [.stationOperator])
                ).status == 403)
            // another tenant: nothing of these, and the same phone is its own lead there
            let other = try await desk.platform.createTenant()
            let stranger = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.send(.GET, "/v1/leads", token: stranger).json(Page<LeadDTO>.self).items.isEmpty)
            #expect(try await desk.send(.GET, "/v1/leads/\(theirs.id)", token: stranger).status == 404)
            #expect(try await desk.send(.POST, "/v1/leads/merge", #"{"survivorId":"\#(theirs.id)","otherId":"\#(own.id)"}"#, token: stranger).status == 404)
            #expect(try await desk.send(.POST, "/v1/leads", #"{"phone":"+254712000040"}"#, token: stranger).status == 201)
            // bad input: clear 4xx
            for bad in [
                #"{"phone":"0712000040"}"#, #"{"phone":"+254712000044","email":"nope"}"#, #"{"phone":"+254712000044","source":"fax"}"#,
                #"{"phone":"+254712000044","tags":[""]}"#, "{", #"{"phone":"+254712000044","dealValue":{"amount":"-5","currency":"KES"}}"#,
            ] {
                let answer = try await desk.send(.POST, "/v1/leads", bad)
                #expect([400, 422].contains(answer.status), "\(bad): \(answer.status) \(answer.text)")
            }
        }
    }

    @Test func aThousandNewLeadsAreSharedOutEvenlyAmongThoseOnDuty() async throws {
        try await Self.with { desk in
            let people = (0..<4).map { _ in UUID() }
            // the fourth is off duty; a fifth takes only French-speaking leads
            let french = UUID()
            let members =
                people.enumerated().map { #"{"userId":"\#($1)","onDuty":\#($0 < 3),"languages":[],"tags":[]}"# } + [
                    #"{"userId":"\#(french)","onDuty":true,"languages":["fr"],"tags":[]}"#
                ]
            let put = try await desk.send(.PUT, "/v1/assignment", #"{"members":[\#(members.joined(separator: ","))]}"#)
            #expect(put.status == 200, "\(put.text)")
            try await withThrowingTaskGroup(of: Int.self) { group in
                // eight at a time: concurrent enough to race for the turn, gentle on a runner busy with the whole suite
                for batch in 0..<8 {
                    group.addTask {
                        for index in 0..<125 {
                            let answer = try await desk.send(.POST, "/v1/leads", #"{"phone":"+2547130\#(String(format: "%05d", batch * 125 + index))"}"#)
                            guard answer.status == 201 else { return answer.status }
                        }
                        return 201
                    }
                }
                for try await status in group { #expect(status == 201) }
            }
            let counts = try await desk.postgres.query(
                "SELECT assignee_id, count(*)::int FROM agent.leads GROUP BY assignee_id", logger: TestLog.quiet
            ).all(as: (UUID?, Int).self)
            let byPerson = Dictionary(uniqueKeysWithValues: counts.map { ($0.0, $0.1) })
            // in turn: 1000 among three people, 334/333/333, nobody off duty, nobody unassigned, no French lead came
            #expect(Set(people.prefix(3).map { byPerson[$0] ?? 0 }) == [333, 334], "\(counts)")
            #expect(people.prefix(3).map { byPerson[$0] ?? 0 }.reduce(0, +) == 1000)
            #expect(byPerson[people[3]] == nil && byPerson[french] == nil && byPerson[nil] == nil, "\(counts)")
            // a French-speaking lead may go to the French speaker too; a Swahili one never does
            var seen: Set<UUID> = []
            for index in 0..<8 {
                let created = try await desk.send(.POST, "/v1/leads", #"{"phone":"+25471400000\#(index)","locale":"fr-RW"}"#)
                #expect(created.status == 201, "\(created.text)")
                let lead = try created.json(LeadDTO.self)
                seen.insert(try #require(lead.assigneeId?.rawValue))
            }
            #expect(seen.contains(french))
            #expect(try await desk.count("SELECT count(*)::int FROM agent.lead_activity WHERE kind = 'assigned' AND actor = 'assignment'") == 1008)
            #expect(try await desk.send(.GET, "/v1/assignment").json(LeadsController.AssignmentView.self).members.count == 5)
            let agent = try await TestKeys.token(tenant: desk.tenant, roles: [.agent])
            #expect(try await desk.send(.PUT, "/v1/assignment", #"{"members":[]}"#, token: agent).status == 403)
        }
    }

    @Test func aLeadGoesToWhoeverCoversItsRegion() async throws {
        try await Self.with { desk in
            let nairobi = UUID()
            let mombasa = UUID()
            let put = try await desk.send(
                .PUT, "/v1/assignment",
                #"{"members":[{"userId":"\#(nairobi)","onDuty":true,"languages":[],"tags":[],"regions":["Nairobi"]},{"userId":"\#(mombasa)","onDuty":true,"languages":[],"tags":[],"regions":["Mombasa","Kilifi"]}]}"#
            )
            #expect(put.status == 200, "\(put.text)")
            #expect(try put.json(LeadsController.AssignmentView.self).members.map(\.regions) == [["Nairobi"], ["Mombasa", "Kilifi"]])
            let city = try await desk.lead("+254712004001", #","region":"nairobi""#)
            #expect(city.assigneeId?.rawValue == nairobi && city.region == "nairobi")
            let coast = try await desk.lead("+254712004002", #","region":"Kilifi""#)
            #expect(coast.assigneeId?.rawValue == mombasa)
            // no region given: nobody covers it, it waits unassigned
            let nowhere = try await desk.lead("+254712004003")
            #expect(nowhere.assigneeId == nil)
            let moved = try await desk.send(.PATCH, "/v1/leads/\(nowhere.id)", #"{"region":"Mombasa"}"#).json(LeadDTO.self)
            #expect(moved.region == "Mombasa")
            for blank in ["", "   "] {
                let refused = try await desk.send(.PATCH, "/v1/leads/\(nowhere.id)", #"{"region":"\#(blank)"}"#)
                #expect(refused.status == 422 && refused.errorCode == "invalid_region", "\(refused.text)")
            }
            let spaces = try await desk.send(
                .PUT, "/v1/assignment", #"{"members":[{"userId":"\#(nairobi)","onDuty":true,"languages":[],"tags":[],"regions":["  "]}]}"#)
            #expect(spaces.status == 422 && spaces.errorCode == "invalid_region", "\(spaces.text)")
            #expect(try await desk.send(.PATCH, "/v1/leads/\(nowhere.id)", #"{"region":null}"#).json(LeadDTO.self).region == nil)
        }
    }
}
