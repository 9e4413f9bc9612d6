import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The tool registry: every tool the agent settings name has one entry with its schema, role and timeout; a tool
/// past its timeout answers "unavailable" without failing the reply; the model can look up FAQs, and one it uses
/// counts as used.
@Suite struct ToolRegistryTests {
    @Test func everyToolHasOneEntryWithASchemaARoleAndATimeout() throws {
        let names = ToolRegistry.all.map(\.name)
        #expect(Set(names).count == names.count, "a tool named twice")
        for permission in ToolName.allCases {
            #expect(ToolRegistry.all.contains { $0.permission == permission }, "\(permission) allows no tool")
        }
        for tool in ToolRegistry.all {
            #expect(tool.role == .service && tool.timeout > .zero && tool.timeout <= .seconds(10))
            let properties = Set(tool.parameters.map(\.name))
            #expect(Set(tool.required).isSubset(of: properties), "\(tool.name) requires what it does not describe")
            let schema = try JSONEncoder().encode(tool.spec.parameters)
            #expect(String(decoding: schema, as: UTF8.self).contains(#""type":"object""#))
        }
        // knowledge search only where there is knowledge; nothing an agent was not allowed
        #expect(ToolRegistry.offered(to: [.faqLookup], hasKnowledge: false).map(\.name) == ["faq_lookup"])
        #expect(ToolRegistry.offered(to: [.faqLookup], hasKnowledge: true).map(\.name) == ["knowledge_search", "faq_lookup"])
        #expect(ToolRegistry.offered(to: [], hasKnowledge: true).isEmpty)
    }

    @Test func aToolPastItsTimeoutAnswersUnavailable() async throws {
        let slow = AgentTool(
            name: "slow", permission: .handoff, description: "hangs", parameters: [], required: [], timeout: .milliseconds(200), offered: { _ in true },
            handler: { _, _ in
                try? await Task.sleep(for: .seconds(30))
                return ToolOutcome(result: "late")
            })
        let context = ToolCallContext(
            request: AgentAPI.ReplyRequest(
                conversationId: ConversationID(), channelId: ChannelID(), channelKind: "whatsapp", agentId: nil,
                contact: .init(address: "+250788123456", name: nil, language: nil), messages: []),
            tenant: TenantID(), language: "en", requestID: nil, logger: TestLog.quiet,
            tools: Tools(vouchers: { fatalError("not called") }, callContext: { _, _ in fatalError("not called") }), faqs: [])
        let started = ContinuousClock.now
        let outcome = await ToolRegistry.run("slow", arguments: [:], offered: [slow], context: context)
        #expect(outcome.result == ToolRegistry.unavailable)
        #expect(started.duration(to: .now) < .seconds(5))
        #expect(await ToolRegistry.run("not_offered", arguments: [:], offered: [slow], context: context).result == #"{"error":"unknown tool"}"#)

        // agent.toolTimeoutPercent stretches every deadline: a tool 400 ms late for its own 200 ms answers at 400 %
        let late = AgentTool(
            name: "late", permission: .handoff, description: "slow", parameters: [], required: [], timeout: .milliseconds(200), offered: { _ in true },
            handler: { _, _ in
                try? await Task.sleep(for: .milliseconds(400))
                return ToolOutcome(result: "late but there")
            })
        #expect(await ToolRegistry.run("late", arguments: [:], offered: [late], context: context).result == ToolRegistry.unavailable)
        let patient = ToolCallContext(
            request: context.request, tenant: context.tenant, language: "en", requestID: nil, logger: TestLog.quiet,
            tools: Tools(vouchers: { fatalError("not called") }, callContext: { _, _ in fatalError("not called") }, timeoutPercent: 400), faqs: [])
        #expect(await ToolRegistry.run("late", arguments: [:], offered: [late], context: patient).result == "late but there")
    }

    @Test func theModelLooksUpAnFaqAndTheFaqCountsAsUsed() async throws {
        try await TestUpstream.with(MarketplaceToolsTests.scriptedModel) { url in
            try await TestServices.with([.gateway, .agentCore], settings: CostsTests.settings(url), upstreams: [.marketplaceWallet: "http://127.0.0.1:1"]) {
                platform in
                let tenant = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: tenant)
                let answer = try await AgentRepliesTests.reply(
                    platform, tenant: tenant, text: #"tool:faq_lookup {"question":"what are your opening hours"}"#, language: "en")
                let reply = try #require(answer.reply)
                #expect(reply.text?.contains("Every day, 6am to 10pm.") == true, "\(reply.text ?? "")")
                #expect(reply.sources?.first?.kind == "faq" && reply.sources?.first?.title == "What are your opening hours?")
                #expect(reply.toolCalls?.map(\.name) == ["faq_lookup"])
                let used = try await platform.environment(.agentCore).postgres.query(
                    "SELECT usage_count FROM agent.faqs WHERE tenant_id = \(tenant.rawValue)", logger: TestLog.quiet
                ).first(as: Int.self)
                #expect(used == 1)
                // a question no FAQ answers: the model is told so
                let none = try await AgentRepliesTests.reply(
                    platform, tenant: tenant, text: #"tool:faq_lookup {"question":"zebra migration"}"#, language: "en")
                #expect(none.reply?.text == #"{"found":false}"#)
            }
        }
    }
}
