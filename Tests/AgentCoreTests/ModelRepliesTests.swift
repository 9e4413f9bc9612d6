import Contracts
import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import AgentCore

/// Replies from a language model behind the OpenAI-compatible API (a fake on loopback speaking its wire format):
/// the agent's prompt, tone, language and FAQs in the system message, a tool round trip, and the offline responder
/// answering when every provider fails.
@Suite(.serialized) struct ModelRepliesTests {
    final class Seen: Sendable {
        let bodies = Mutex<[JSONValue]>([])
    }

    static func fakeModel(_ seen: Seen, failing: Bool = false) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/chat/completions") { request, _ -> Response in
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            seen.bodies.withLock { $0.append(body) }
            if failing {
                return Response(
                    status: .internalServerError, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"message":"The server had an error","type":"server_error","code":null}}"#)))
            }
            guard case .array(let messages)? = body["messages"] else { return Response(status: .badRequest) }
            let sawTool = messages.contains { $0["role"] == .string("tool") }
            let lastUser = messages.last { $0["role"] == .string("user") }?["content"]
            let message: String
            if sawTool {
                message = #"{"role":"assistant","content":"Ntabwo nshobora kureba voucher ubu."}"#
            } else if case .string(let text)? = lastUser, text.lowercased().contains("voucher") {
                message =
                    #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_v1","type":"function","function":{"name":"voucher_status","arguments":"{\"code\":\"k7m2q\"}"}}]}"#
            } else {
                message = #"{"role":"assistant","content":"Muraho! Twabafasha iki?"}"#
            }
            let json =
                #"{"id":"chatcmpl-1","object":"chat.completion","created":1764700000,"model":"test-model","choices":[{"index":0,"message":\#(message),"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":12,"total_tokens":132}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        return router
    }

    static func agent(_ platform: TestPlatform, tenant: TenantID) async throws {
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
        let agent = try await TestHTTP.post(
            "\(platform.url(.gateway))/v1/agents", token: admin, json: AgentRepliesTests.NewAgentBody(name: "Mama Fuel")
        ).json(AgentDTO.self)
        struct Prompt: Encodable {
            var channelType = "chat"
            var version = "1.0.0"
            var body = "You are Mama Fuel of Kigali Fuel. You help drivers with vouchers."
        }
        #expect(try await TestHTTP.post("\(platform.url(.gateway))/v1/agents/\(agent.id)/prompts", token: admin, json: Prompt()).status == 201)
        struct Faq: Encodable {
            var question = "What are your opening hours?"
            var answer = "Every day, 6am to 10pm."
            var keywords = ["open", "hours"]
        }
        #expect(try await TestHTTP.post("\(platform.url(.gateway))/v1/faqs", token: admin, json: Faq()).status == 201)
    }

    @Test func theModelAnswersWithTheAgentsPromptAndCallsTools() async throws {
        let seen = Seen()
        try await TestUpstream.with(Self.fakeModel(seen)) { fake in
            try await TestServices.with(
                [.gateway, .agentCore],
                settings: [.agentCore: ["AGENT_LLM_BASE_URL": "\(fake)/v1", "AGENT_LLM_MODEL": "test-model", "AGENT_LLM_API_KEY": "sk-test-key"]],
                upstreams: [.vouchers: "http://127.0.0.1:1"]
            ) { platform in
                let tenant = try await platform.createTenant()
                try await Self.agent(platform, tenant: tenant)
                let (status, hello) = try await AgentRepliesTests.reply(platform, tenant: tenant, text: "Muraho", language: "rw")
                #expect(status == 200)
                #expect(hello?.text == "Muraho! Twabafasha iki?" && hello?.tokens == 132 && hello?.language == "rw")
                // what the model was told: the active prompt, the tone, the language, the FAQs; and the tools it may call
                let first = try #require(seen.bodies.withLock { $0.first })
                #expect(first["model"] == .string("test-model"))
                guard case .array(let messages)? = first["messages"], case .string(let system)? = messages.first?["content"] else {
                    Issue.record("no system message in \(first)")
                    return
                }
                #expect(system.contains("You are Mama Fuel of Kigali Fuel") && system.contains("Answer in Kinyarwanda"))
                #expect(system.contains("Be warm and friendly.") && system.contains("Q: What are your opening hours? A: Every day, 6am to 10pm."))
                guard case .array(let tools)? = first["tools"] else {
                    Issue.record("no tools in \(first)")
                    return
                }
                // faq_lookup is a tool of its own now; knowledge_search comes with it only for a tenant with a knowledge base
                #expect(Set(tools.compactMap { $0["function"]?["name"] }) == [.string("voucher_status"), .string("faq_lookup"), .string("handoff")])

                // a tool round trip: the model asks for the voucher, the tool (vouchers is down) says so, the model answers
                let (_, voucher) = try await AgentRepliesTests.reply(platform, tenant: tenant, text: "Is my voucher K7M2Q valid?", language: "rw")
                #expect(voucher?.text == "Ntabwo nshobora kureba voucher ubu.")
                #expect(voucher?.toolCalls?.first?.name == "voucher_status" && voucher?.toolCalls?.first?.result.contains("unavailable") == true)
                let third = try #require(seen.bodies.withLock { $0.count >= 3 ? $0[2] : nil })
                guard case .array(let round)? = third["messages"] else { return }
                let toolMessage = round.first { $0["role"] == .string("tool") }
                #expect(toolMessage?["tool_call_id"] == .string("call_v1"))
                #expect(round.contains { $0["role"] == .string("assistant") && $0["tool_calls"] != nil })
                let answered = try await platform.environment(.agentCore).postgres.query(
                    "SELECT answered_by FROM agent.replies ORDER BY created_at", logger: TestLog.quiet
                ).all(as: String.self)
                #expect(answered == ["primary", "primary"])
            }
        }
    }

    @Test func whenEveryProviderFailsTheOfflineResponderAnswers() async throws {
        let seen = Seen()
        try await TestUpstream.with(Self.fakeModel(seen, failing: true)) { fake in
            try await TestServices.with(
                [.gateway, .agentCore], settings: [.agentCore: ["AGENT_LLM_BASE_URL": "\(fake)/v1", "AGENT_LLM_TIMEOUT_SECONDS": "5"]]
            ) { platform in
                let tenant = try await platform.createTenant()
                try await Self.agent(platform, tenant: tenant)
                let (status, reply) = try await AgentRepliesTests.reply(platform, tenant: tenant, text: "What are your opening hours?", language: "en")
                #expect(status == 200)
                #expect(reply?.text == "Every day, 6am to 10pm.")
                #expect(seen.bodies.withLock { $0.count } >= 1, "the model was asked first")
                let answered = try await platform.environment(.agentCore).postgres.query(
                    "SELECT answered_by FROM agent.replies", logger: TestLog.quiet
                ).all(as: String.self)
                #expect(answered == ["offline"])
            }
        }
    }
}
