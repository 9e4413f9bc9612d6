import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The CRM tools over real HTTP with the scripted model: the conversation's lead looked up (made for the contact's
/// phone), the fields the conversation revealed written, features scored in code (a model's out-of-range numbers
/// refused in words it reads), and a hand-off to the lead's assignee.
@Suite struct LeadToolsTests {
    struct NewAgent: Encodable {
        var name = "Sales"
        var kind = "sales"
        var languages = ["en"]
        var tools = ["lookup_lead", "update_lead", "handoff_to_assignee"]
    }

    static func reply(_ platform: TestPlatform, tenant: TenantID, text: String, from: String = "+254712000500") async throws -> AgentAPI.Reply {
        let service = try await TestKeys.token(subject: "service:messaging", tenant: nil, roles: [.service])
        let request = AgentAPI.ReplyRequest(
            conversationId: ConversationID(), channelId: ChannelID(), channelKind: "whatsapp", agentId: nil,
            contact: .init(address: from, name: "Aline", language: nil), messages: [.init(sender: "user", text: text, kind: "text", language: "en", at: Date())]
        )
        let answer = try await TestHTTP.post(
            "\(platform.url(.agentCore))/v1/agent/replies", token: service,
            headers: ["X-Tenant-ID": tenant.description, "Idempotency-Key": UUID().uuidString], json: request)
        #expect(answer.status == 200, "\(answer.text)")
        return try answer.json(AgentAPI.Reply.self)
    }

    static func json(_ reply: AgentAPI.Reply) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data((reply.text ?? "").utf8))
    }

    @Test func theAgentReadsAndFillsInItsCustomersLeadAndHandsOffToTheAssignee() async throws {
        try await TestUpstream.with(MarketplaceToolsTests.scriptedModel) { url in
            try await TestServices.with([.gateway, .agentCore], settings: CostsTests.settings(url)) { platform in
                let tenant = try await platform.createTenant()
                let gateway = platform.url(.gateway)
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgent()).status == 201)

                let found = try Self.json(try await Self.reply(platform, tenant: tenant, text: "tool:lookup_lead {}"))
                #expect(found["name"] == .string("Aline") && found["stage"] == .string("new") && found["assigned"] == .bool(false), "\(found)")
                guard case .string(let leadID)? = found["leadId"] else {
                    Issue.record("no lead: \(found)")
                    return
                }
                let updated = try Self.json(
                    try await Self.reply(
                        platform, tenant: tenant,
                        text:
                            #"tool:update_lead {"email":"aline@example.com","company":"Duka Ltd","intent":"3","urgency":"3","budget":"2","fit":"2","engagement":"2"}"#
                    ))
                #expect(updated == .object(["status": .string("hot"), "stage": .string("new"), "score": .string("35")]), "\(updated)")
                // out of range: refused in words the model reads; nothing recorded
                let refused = try Self.json(
                    try await Self.reply(
                        platform, tenant: tenant, text: #"tool:update_lead {"intent":"9","urgency":"3","budget":"3","fit":"3","engagement":"3"}"#))
                guard case .string(let error)? = refused["error"] else {
                    Issue.record("\(refused)")
                    return
                }
                #expect(error.contains("intent is 1, 2 or 3"), "\(error)")
                let partial = try Self.json(try await Self.reply(platform, tenant: tenant, text: #"tool:update_lead {"intent":"2"}"#))
                #expect(partial["error"] != nil)
                let lead = try await TestHTTP.get("\(gateway)/v1/leads/\(leadID)", token: admin).json(LeadDTO.self)
                #expect(lead.email == "aline@example.com" && lead.company == "Duka Ltd" && lead.score == 35 && lead.status == .hot)
                let extractions = try await TestHTTP.get("\(gateway)/v1/extractions?leadId=\(leadID)", token: admin).json(Page<ExtractionDTO>.self).items
                #expect(extractions.count == 1 && extractions[0].source == "agent")

                // nobody follows the lead: the team; assigned: that person
                let toTeam = try await Self.reply(platform, tenant: tenant, text: #"tool:handoff_to_assignee {"reason":"wants a visit"}"#)
                #expect(toTeam.handoff == true && toTeam.handoffReason == "wants a visit", "\(toTeam)")
                let person = UUID()
                let assigned = try await TestHTTP.request(
                    .PUT, "\(gateway)/v1/leads/\(leadID)/assign", token: admin, body: Data(#"{"assigneeId":"\#(person.uuidString)"}"#.utf8))
                #expect(assigned.status == 200)
                let toPerson = try await Self.reply(platform, tenant: tenant, text: #"tool:handoff_to_assignee {"reason":"wants a visit"}"#)
                #expect(toPerson.handoff == true && toPerson.handoffReason == "assignee:\(person.uuidString.lowercased()) wants a visit", "\(toPerson)")
                // another customer's conversation reaches only their own lead
                let other = try Self.json(try await Self.reply(platform, tenant: tenant, text: "tool:lookup_lead {}", from: "+254712000501"))
                #expect(other["leadId"] != .string(leadID) && other["email"] == nil)
            }
        }
    }
}
