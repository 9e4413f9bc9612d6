import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// Preview sessions ("Try it") through the gateway with a real database: a draft agent answers staff and no
/// customer, every agent turn keeps its trace, turns stay ordered under concurrent messages, and only the people
/// who build agents may talk to them.
@Suite(.serialized) struct SessionsTests {
    struct NewAgentBody: Encodable {
        var name: String
        var kind = "support"
        var languages = ["en", "sw"]
        var status: String?
    }

    struct Faq: Encodable {
        var question: String
        var answer: String
        var keywords: [String]
        var language: String
    }

    struct NewSession: Encodable {
        var agentId: String
        var channelKind: String?
        var customerAddress: String?
        var language: String?
    }

    struct Message: Encodable {
        var text: String
        var language: String?
    }

    @Test func aDraftAgentAnswersItsPreviewSessionWithATraceAndNoCustomer() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let created = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Draft Desk", status: "draft"))
            #expect(created.status == 201, "\(created.text)")
            let agent = try created.json(AgentDTO.self)
            #expect(agent.status == "draft")
            let faq = try await TestHTTP.post(
                "\(gateway)/v1/faqs", token: admin,
                json: Faq(
                    question: "What are your opening hours?", answer: "We are open every day from 6am to 10pm.", keywords: ["open", "hours"], language: "en"))
            let faqID = try faq.json(FaqDTO.self).id

            // a draft is not live: a customer's message gets no answer
            let (_, silent) = try await AgentRepliesTests.reply(platform, tenant: tenant, text: "What are your opening hours?", language: "en")
            #expect(silent?.text == nil)

            let opened = try await TestHTTP.post("\(gateway)/v1/agent/sessions", token: admin, json: NewSession(agentId: agent.id.description))
            #expect(opened.status == 201, "\(opened.text)")
            let session = try opened.json(ChatSessionDTO.self)
            #expect(session.agentId == agent.id && session.turns == 0 && session.channelKind == "webchat" && session.messages == [])

            let asked = try await TestHTTP.post(
                "\(gateway)/v1/agent/sessions/\(session.id)/messages", token: admin, json: Message(text: "Hi, what are your opening hours?", language: "en"))
            #expect(asked.status == 201, "\(asked.text)")
            let first = try asked.json(ChatExchangeDTO.self)
            #expect(first.message.turn == 1 && first.message.sender == "user" && first.message.text == "Hi, what are your opening hours?")
            #expect(first.reply.turn == 2 && first.reply.sender == "agent" && first.reply.answeredBy == "offline")
            #expect(first.reply.text == "We are open every day from 6am to 10pm.")
            #expect(first.reply.reply?.sources == [.init(kind: "faq", id: faqID.uuidString.lowercased(), title: "What are your opening hours?")])
            #expect(first.reply.reply?.tokens == 0 && first.reply.latencyMs != nil)

            let handoff = try await TestHTTP.post(
                "\(gateway)/v1/agent/sessions/\(session.id)/messages", token: admin, json: Message(text: "Nataka kuongea na mtu tafadhali", language: "sw"))
            let second = try handoff.json(ChatExchangeDTO.self)
            #expect(second.reply.reply?.handoff == true && second.reply.reply?.language == "sw")
            #expect(second.reply.reply?.toolCalls?.map(\.name) == ["handoff"])

            // the whole session, in order, with each agent turn's trace
            let read = try await TestHTTP.get("\(gateway)/v1/agent/sessions/\(session.id)", token: admin).json(ChatSessionDTO.self)
            #expect(read.turns == 4)
            #expect(read.messages?.map(\.turn) == [1, 2, 3, 4])
            #expect(read.messages?.map(\.sender) == ["user", "agent", "user", "agent"])
            #expect(read.messages?[1] == first.reply && read.messages?[3] == second.reply)
            // a preview is not a customer's reply: the FAQ's usage count does not move
            let faqs = try await TestHTTP.get("\(gateway)/v1/faqs", token: admin).json(Page<FaqDTO>.self).items
            #expect(faqs.first { $0.id == faqID }?.usageCount == 0)

            // listed newest first, filtered by agent
            let other = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Second Desk"))
            let otherAgent = try other.json(AgentDTO.self)
            let second2 = try await TestHTTP.post("\(gateway)/v1/agent/sessions", token: admin, json: NewSession(agentId: otherAgent.id.description))
                .json(ChatSessionDTO.self)
            let all = try await TestHTTP.get("\(gateway)/v1/agent/sessions", token: admin).json(Page<ChatSessionDTO>.self).items
            #expect(all.map(\.id) == [second2.id, session.id])
            #expect(all.allSatisfy { $0.messages == nil })
            let mine = try await TestHTTP.get("\(gateway)/v1/agent/sessions?agentId=\(agent.id)", token: admin).json(Page<ChatSessionDTO>.self).items
            #expect(mine.map(\.id) == [session.id])
            let paged = try await TestHTTP.get("\(gateway)/v1/agent/sessions?limit=1", token: admin).json(Page<ChatSessionDTO>.self)
            let next = try #require(paged.nextCursor)
            let rest = try await TestHTTP.get("\(gateway)/v1/agent/sessions?limit=1&cursor=\(next)", token: admin).json(Page<ChatSessionDTO>.self)
            #expect(paged.items.map(\.id) == [second2.id] && rest.items.map(\.id) == [session.id])

            // going live: the same agent now answers customers
            #expect(
                try await TestHTTP.request(.PATCH, "\(gateway)/v1/agents/\(agent.id)", token: admin, body: Data(#"{"status":"active"}"#.utf8)).status == 200)
            let (_, live) = try await AgentRepliesTests.reply(platform, tenant: tenant, text: "What are your opening hours?", language: "en")
            #expect(live?.text == "We are open every day from 6am to 10pm.")
            // archived: no more previews
            #expect(
                try await TestHTTP.request(.PATCH, "\(gateway)/v1/agents/\(agent.id)", token: admin, body: Data(#"{"status":"archived"}"#.utf8)).status
                    == 200)
            #expect(
                try await TestHTTP.post("\(gateway)/v1/agent/sessions/\(session.id)/messages", token: admin, json: Message(text: "Still there?")).errorCode
                    == "agent_archived")
            #expect(
                try await TestHTTP.post("\(gateway)/v1/agent/sessions", token: admin, json: NewSession(agentId: agent.id.description)).errorCode
                    == "agent_archived")
        }
    }

    @Test func onlyTheTenantsAgentBuildersTalkToItsAgentsAndBadInputIsRefused() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let agent = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Desk")).json(AgentDTO.self)
            let session = try await TestHTTP.post("\(gateway)/v1/agent/sessions", token: admin, json: NewSession(agentId: agent.id.description))
                .json(ChatSessionDTO.self)
            let messages = "\(gateway)/v1/agent/sessions/\(session.id)/messages"

            for role in Role.allCases where role != .service {
                let isStaff = role.isPlatformStaff
                let token = try await TestKeys.token(tenant: isStaff ? nil : tenant, roles: [role])
                let headers = isStaff ? ["X-Tenant-ID": tenant.description] : [:]
                let allowed = [Role.superAdmin, .dataOps, .tenantAdmin].contains(role)
                let read = try await TestHTTP.request(.GET, "\(gateway)/v1/agent/sessions/\(session.id)", token: token, headers: headers)
                #expect(read.status == (allowed ? 200 : 403), "\(role) reads a session")
                let list = try await TestHTTP.request(.GET, "\(gateway)/v1/agent/sessions", token: token, headers: headers)
                #expect(list.status == (allowed ? 200 : 403), "\(role) lists sessions")
                let open = try await TestHTTP.post(
                    "\(gateway)/v1/agent/sessions", token: token, headers: headers, json: NewSession(agentId: agent.id.description))
                #expect(open.status == (allowed ? 201 : 403), "\(role) opens a session")
                let talk = try await TestHTTP.post(messages, token: token, headers: headers, json: Message(text: "Hello"))
                #expect(talk.status == (allowed ? 201 : 403), "\(role) talks")
            }
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/sessions", token: nil).status == 401)

            // another tenant's admin: neither the session nor the agent exists for them
            let otherTenant = try await platform.createTenant()
            let other = try await TestKeys.token(tenant: otherTenant, roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/sessions/\(session.id)", token: other).errorCode == "session_not_found")
            #expect(try await TestHTTP.post(messages, token: other, json: Message(text: "Hello")).errorCode == "session_not_found")
            #expect(
                try await TestHTTP.post("\(gateway)/v1/agent/sessions", token: other, json: NewSession(agentId: agent.id.description)).errorCode
                    == "agent_not_found")
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/sessions", token: other).json(Page<ChatSessionDTO>.self).items.isEmpty)

            // bad input: the actual bad bytes, each a JSON 4xx and nothing stored
            let before = try await TestHTTP.get("\(gateway)/v1/agent/sessions/\(session.id)", token: admin).json(ChatSessionDTO.self).turns
            let bad: [(String, String, Int, String?)] = [
                (messages, #"{"text":"#, 400, nil),
                (messages, #"{"text":42}"#, 400, nil),
                (messages, #"{"text":""}"#, 422, "invalid_text"),
                (messages, #"{"text":"a\u0000b"}"#, 422, nil),
                (messages, #"{"text":"\#(String(repeating: "x", count: 4001))"}"#, 422, "invalid_text"),
                (messages, #"{"text":"Hi","language":"de"}"#, 422, "invalid_language"),
                ("\(gateway)/v1/agent/sessions", #"{"agentId":"\#(agent.id)","channelKind":"fax"}"#, 422, "invalid_channel_kind"),
                ("\(gateway)/v1/agent/sessions", #"{"agentId":"not-a-uuid"}"#, 400, nil),
                ("\(gateway)/v1/agent/sessions", #"{"agentId":"\#(UUID())"}"#, 404, "agent_not_found"),
                ("\(gateway)/v1/agent/sessions", #"{"agentId":"\#(agent.id)","language":"fr"}"#, 422, "invalid_language"),
                ("\(gateway)/v1/agent/sessions/\(UUID())/messages", #"{"text":"Hi"}"#, 404, "session_not_found"),
            ]
            for (url, body, status, code) in bad {
                let answer = try await TestHTTP.request(.POST, url, token: admin, headers: ["Content-Type": "application/json"], body: Data(body.utf8))
                #expect(answer.status == status, "\(body.prefix(60)) → \(answer.status) \(answer.text.prefix(200))")
                #expect(answer.errorCode != nil, "\(body.prefix(60)) answers a JSON error")
                if let code { #expect(answer.errorCode == code, "\(body.prefix(60))") }
            }
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/sessions/not-a-uuid", token: admin).status == 400)
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/sessions?agentId=nope", token: admin).status == 400)
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/sessions?cursor=bogus", token: admin).errorCode == "invalid_cursor")
            let after = try await TestHTTP.get("\(gateway)/v1/agent/sessions/\(session.id)", token: admin).json(ChatSessionDTO.self).turns
            #expect(after == before)
        }
    }

    @Test func concurrentMessagesIntoOneSessionGetDistinctOrderedTurns() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let agent = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Busy Desk")).json(AgentDTO.self)
            let session = try await TestHTTP.post("\(gateway)/v1/agent/sessions", token: admin, json: NewSession(agentId: agent.id.description))
                .json(ChatSessionDTO.self)
            let exchanges = try await withThrowingTaskGroup(of: ChatExchangeDTO.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let answer = try await TestHTTP.post(
                            "\(gateway)/v1/agent/sessions/\(session.id)/messages", token: admin, json: Message(text: "Message number \(index)"))
                        #expect(answer.status == 201, "\(answer.text)")
                        return try answer.json(ChatExchangeDTO.self)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(exchanges.count == 10)
            // every turn once, 1…20; each answer comes after its question
            let turns = exchanges.flatMap { [$0.message.turn, $0.reply.turn] }
            #expect(turns.sorted() == Array(1...20))
            #expect(exchanges.allSatisfy { $0.reply.turn > $0.message.turn })
            let read = try await TestHTTP.get("\(gateway)/v1/agent/sessions/\(session.id)", token: admin).json(ChatSessionDTO.self)
            #expect(read.turns == 20 && read.messages?.count == 20)
            #expect(Set(read.messages?.filter { $0.sender == "user" }.compactMap(\.text) ?? []) == Set((0..<10).map { "Message number \($0)" }))
        }
    }
}
