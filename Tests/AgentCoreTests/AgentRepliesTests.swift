import Contracts
import Foundation
import Messaging
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// Agents, prompt versions, FAQs and replies through the gateway with a real database; the voucher tool against the
/// real vouchers service; and a customer's message through messaging to agent-core and back to the sandbox outbox.
@Suite(.serialized) struct AgentRepliesTests {
    static func reply(
        _ platform: TestPlatform, tenant: TenantID, text: String, language: String?, from: String = "+250788123456", key: String = UUID().uuidString
    ) async throws -> (status: Int, reply: AgentAPI.Reply?) {
        let service = try await TestKeys.token(subject: "service:messaging", tenant: nil, roles: [.service])
        let request = AgentAPI.ReplyRequest(
            conversationId: ConversationID(), channelId: ChannelID(), channelKind: "whatsapp", agentId: nil,
            contact: .init(address: from, name: "Aline", language: nil),
            messages: [.init(sender: "user", text: text, kind: "text", language: language, at: Date())])
        let answer = try await TestHTTP.post(
            "\(platform.url(.agentCore))/v1/agent/replies", token: service, headers: ["X-Tenant-ID": tenant.description, "Idempotency-Key": key],
            json: request)
        return (answer.status, answer.status == 200 ? try answer.json(AgentAPI.Reply.self) : nil)
    }

    struct NewAgentBody: Encodable {
        var name: String
        var kind = "support"
        var languages = ["en", "sw", "rw"]
        var tone = "rafiki"
    }

    @Test func agentsAndPromptVersionsWithActivationRollbackAndDiff() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let created = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Mama Fuel"))
            #expect(created.status == 201, "\(created.text)")
            let agent = try created.json(AgentDTO.self)
            #expect(agent.tone == .rafiki && agent.tools == ToolName.defaults)
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "mama fuel")).errorCode == "agent_name_taken")
            var bad = NewAgentBody(name: "Babel")
            bad.languages = ["xx"]
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: bad).status == 422)
            // roles: readonly and agents read, do not write; another tenant sees nothing
            for (role, read, write) in [(Role.readonly, 200, 403), (.agent, 200, 403), (.stationOperator, 403, 403), (.dataOps, 200, 201)] {
                let token = try await TestKeys.token(tenant: tenant, roles: [role])
                #expect(try await TestHTTP.get("\(gateway)/v1/agents/\(agent.id)", token: token).status == read, "\(role) reads")
                #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: token, json: NewAgentBody(name: "By \(role)")).status == write, "\(role) writes")
            }
            let other = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(gateway)/v1/agents/\(agent.id)", token: other).status == 404)

            struct Prompt: Encodable {
                var channelType = "chat"
                var version: String
                var body: String
            }
            let prompts = "\(gateway)/v1/agents/\(agent.id)/prompts"
            let first = try await TestHTTP.post(prompts, token: admin, json: Prompt(version: "1.0.0", body: "You help drivers.\nAnswer briefly."))
            #expect(first.status == 201, "\(first.text)")
            #expect(try first.json(PromptVersionDTO.self).active, "the first version of a channel type is active")
            let second = try await TestHTTP.post(prompts, token: admin, json: Prompt(version: "1.1.0", body: "You help drivers.\nAnswer in their language."))
            #expect(try second.json(PromptVersionDTO.self).active == false)
            #expect(try await TestHTTP.post(prompts, token: admin, json: Prompt(version: "1.1.0", body: "changed")).errorCode == "version_taken")
            #expect(try await TestHTTP.post(prompts, token: admin, json: Prompt(version: "1.2", body: "x")).errorCode == "invalid_version")
            #expect(try await TestHTTP.post("\(prompts)/1.1.0/activate", token: admin, json: [String: String]()).status == 200)
            func active() async throws -> String? {
                try await TestHTTP.get(prompts, token: admin).json(Page<PromptVersionDTO>.self).items.first { $0.active }?.version
            }
            #expect(try await active() == "1.1.0")
            // the rollback: the older version again, with its audit row
            #expect(try await TestHTTP.post("\(prompts)/1.0.0/activate", token: admin, json: [String: String]()).status == 200)
            #expect(try await active() == "1.0.0")
            #expect(try await TestHTTP.post("\(prompts)/9.9.9/activate", token: admin, json: [String: String]()).status == 404)
            let audit = try await TestHTTP.get("\(gateway)/v1/agent-core/audit?targetType=active_prompts", token: admin).text
            #expect(audit.components(separatedBy: "prompt.activated").count - 1 == 2, "\(audit.prefix(400))")
            let diff = try await TestHTTP.get("\(prompts)/diff?from=1.0.0&to=1.1.0", token: admin).json(PromptDiff.self)
            #expect(
                diff.lines == [
                    .init(change: "same", text: "You help drivers."), .init(change: "added", text: "Answer in their language."),
                    .init(change: "removed", text: "Answer briefly."),
                ]
                    || diff.lines == [
                        .init(change: "same", text: "You help drivers."), .init(change: "removed", text: "Answer briefly."),
                        .init(change: "added", text: "Answer in their language."),
                    ], "\(diff.lines)")
        }
    }

    @Test func theOfflineResponderAnswersFaqsInTheCustomersLanguageOncePerInboundMessage() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Mama Fuel")).status == 201)
            struct Faq: Encodable {
                var question: String
                var answer: String
                var keywords: [String]
                var language: String
            }
            let english = try await TestHTTP.post(
                "\(gateway)/v1/faqs", token: admin,
                json: Faq(
                    question: "What are your opening hours?", answer: "We are open every day from 6am to 10pm.", keywords: ["open", "hours"], language: "en"))
            #expect(english.status == 201, "\(english.text)")
            let swahili = try await TestHTTP.post(
                "\(gateway)/v1/faqs", token: admin,
                json: Faq(
                    question: "Mnafungua saa ngapi?", answer: "Tunafungua kila siku kuanzia saa 12 asubuhi hadi saa 4 usiku.",
                    keywords: ["saa", "fungua", "mnafungua"], language: "sw"))
            #expect(swahili.status == 201)
            let faqID = try english.json(FaqDTO.self).id

            let key = UUID().uuidString
            let (status, answer) = try await Self.reply(
                platform, tenant: tenant, text: "Hi, what time do you open? Opening hours please", language: "en", key: key)
            #expect(status == 200)
            #expect(answer?.text == "We are open every day from 6am to 10pm." && answer?.language == "en")
            #expect(answer?.sources?.first?.kind == "faq" && answer?.sources?.first?.id == faqID.uuidString.lowercased())
            // the same inbound message again: the same reply, the FAQ counted once
            let (_, again) = try await Self.reply(platform, tenant: tenant, text: "something else entirely", language: "en", key: key)
            #expect(again == answer)
            let used = try await TestHTTP.get("\(gateway)/v1/faqs", token: admin).json(Page<FaqDTO>.self).items.first { $0.id == faqID }
            #expect(used?.usageCount == 1)

            let (_, kiswahili) = try await Self.reply(platform, tenant: tenant, text: "Habari, mnafungua saa ngapi leo?", language: "sw")
            #expect(kiswahili?.text?.hasPrefix("Tunafungua") == true && kiswahili?.language == "sw", "\(String(describing: kiswahili))")
            let (_, person) = try await Self.reply(platform, tenant: tenant, text: "Nataka kuongea na mtu tafadhali", language: "sw")
            #expect(person?.handoff == true && person?.handoffReason == "asked_for_person" && person?.text?.contains("mhudumu") == true)
            let (_, greeting) = try await Self.reply(platform, tenant: tenant, text: "Muraho", language: "rw")
            #expect(greeting?.text == "Muraho! Ndi Mama Fuel. Nagufasha iki uyu munsi?")
            let (_, lost) = try await Self.reply(platform, tenant: tenant, text: "The quantum flux capacitor is purple", language: "en")
            #expect(lost?.text?.hasPrefix("Sorry") == true && lost?.handoff == nil)
            // another tenant: without an agent nothing is answered; with one, this tenant's FAQs never answer for it
            let other = try await platform.createTenant()
            let (_, silent) = try await Self.reply(platform, tenant: other, text: "What are your opening hours?", language: "en")
            #expect(silent?.text == nil)
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: otherAdmin, json: NewAgentBody(name: "Other")).status == 201)
            let (_, stranger) = try await Self.reply(platform, tenant: other, text: "What are your opening hours?", language: "en")
            #expect(stranger?.text?.hasPrefix("Sorry") == true, "\(String(describing: stranger?.text))")
            // only messaging calls it: a tenant admin may not, and the key is required
            let request = AgentAPI.ReplyRequest(
                conversationId: ConversationID(), channelId: ChannelID(), channelKind: "sms", agentId: nil,
                contact: .init(address: "+250788123456", name: nil, language: nil),
                messages: [])
            #expect(try await TestHTTP.post("\(gateway)/v1/agent/replies", token: admin, headers: ["Idempotency-Key": "k"], json: request).status == 403)
            let service = try await TestKeys.token(subject: "service:messaging", tenant: nil, roles: [.service])
            #expect(
                try await TestHTTP.post(
                    "\(platform.url(.agentCore))/v1/agent/replies", token: service, headers: ["X-Tenant-ID": tenant.description], json: request
                )
                .errorCode == "idempotency_key_required")
        }
    }

    struct Voucher: Encodable {
        var amount = "5000"
        var currency = "RWF"
        var msisdn = "+250788123456"
    }

    @Test func theVoucherToolTellsACustomerAboutTheirOwnVoucherOnly() async throws {
        try await TestServices.with([.gateway, .agentCore, .vouchers]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant(currency: "RWF")
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Mama Fuel")).status == 201)
            let voucher = try await TestHTTP.post("\(gateway)/v1/vouchers", token: admin, headers: ["Idempotency-Key": "v"], json: Voucher())
            #expect(voucher.status == 201, "\(voucher.text)")
            struct Code: Decodable { var code: String }
            let code = try voucher.json(Code.self).code
            let (_, mine) = try await Self.reply(platform, tenant: tenant, text: "Is my voucher \(code) still valid?", language: "en")
            #expect(mine?.text?.hasPrefix("Voucher \(code) for 5000 RWF is valid") == true, "\(String(describing: mine?.text))")
            #expect(mine?.toolCalls?.first?.name == "voucher_status" && mine?.toolCalls?.first?.result == "issued")
            let (_, swahili) = try await Self.reply(platform, tenant: tenant, text: "Vocha yangu \(code) bado inafanya kazi?", language: "sw")
            #expect(swahili?.text?.hasPrefix("Vocha \(code)") == true)
            // someone else asking about that code learns nothing
            let (_, theirs) = try await Self.reply(platform, tenant: tenant, text: "Is voucher \(code) valid?", language: "en", from: "+250788999000")
            #expect(theirs?.text == "I couldn't find voucher \(code) for your number.")
            #expect(theirs?.toolCalls?.first?.result == "not_found")
        }
        // vouchers not running: a graceful answer, not a failed reply
        try await TestServices.with([.gateway, .agentCore], upstreams: [.vouchers: "http://127.0.0.1:1"]) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(platform.url(.gateway))/v1/agents", token: admin, json: NewAgentBody(name: "Mama Fuel")).status == 201)
            let (status, down) = try await Self.reply(platform, tenant: tenant, text: "Is my voucher K7M2Q valid?", language: "en")
            #expect(status == 200)
            #expect(down?.text == "I can't check vouchers right now. Please try again a little later.")
            #expect(down?.toolCalls?.first?.result == "unavailable")
        }
    }

    @Test func aCustomersMessageGoesThroughMessagingToTheAgentAndItsReplyToTheSandbox() async throws {
        try await TestServices.with([.gateway, .messaging, .agentCore], settings: [.messaging: ["JOBS_POLL_INTERVAL_MS": "20"]]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            var settings = MessagingSettings.defaults
            settings.quietHours = [:]
            #expect(
                try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings)).status == 200)
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgentBody(name: "Mama Fuel")).status == 201)
            let inbound = try await TestHTTP.post(
                "\(gateway)/v1/sandbox/inbound", token: admin, json: ["from": "+250788123456", "text": "Muraho, nagufasha iki? Ndashaka umuntu"])
            #expect(inbound.status == 202, "\(inbound.text)")
            var outbox: [OutboxEntry] = []
            _ = try await TestWait.until(timeout: .seconds(20)) {
                outbox = try await TestHTTP.get("\(gateway)/v1/sandbox/outbox", token: admin).json(Page<OutboxEntry>.self).items
                return !outbox.isEmpty
            }
            // the customer asked for a person: the agent says so in Kinyarwanda and the conversation is escalated
            #expect(outbox.first?.body == OfflineResponder.handoffText("rw"), "\(outbox.map(\.body))")
            let conversations = try await TestHTTP.get("\(gateway)/v1/conversations", token: admin).json(Page<ConversationDTO>.self).items
            #expect(conversations.first?.status == .humanEscalated)
        }
    }
}
