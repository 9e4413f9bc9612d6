import Contracts
import Foundation
import Hummingbird
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import AgentCore

/// Extractions from conversations: the rules read features in four languages (each 1–3, the scores computed in
/// code), and a conversation is read after every few messages of the customer and when a person closes it, once
/// per trigger however often its job runs.
@Suite struct ExtractionTests {
    @Test func theRulesReadBuyingHurryMoneyAndTheCustomersNameInFourLanguages() {
        let keen = FeatureRules.extract([
            "Hello, my name is Amina Njeri", "I want to buy the 2 bedroom flat, how much is it?", "My budget is 8,500,000 KES and I can pay today",
            "Where is it? Please call me, amina@example.com",
        ])
        #expect(keen.features == .init(intent: 3, urgency: 2, budget: 3, fit: 3, engagement: 2), "\(keen.features)")
        #expect(keen.name == "Amina Njeri" && keen.email == "amina@example.com")
        #expect(keen.flags == ["wantsCall": true, "wantsVisit": false, "askedPrice": true])
        #expect(Scoring.temperature(keen.features.total) == .hot)

        let idle = FeatureRules.extract(["hi"])
        #expect(idle.features == .init(intent: 1, urgency: 1, budget: 1, fit: 1, engagement: 1) && idle.name == nil && idle.email == nil)
        #expect(Scoring.temperature(idle.features.total) == .cold)

        let swahili = FeatureRules.extract(["Habari, naitwa Baraka", "Nataka kununua gari, bei ngapi? Nina pesa leo"])
        #expect(swahili.name == "Baraka" && swahili.features.intent == 3 && swahili.features.urgency == 2 && swahili.features.budget == 2)
        let french = FeatureRules.extract(["Bonjour, je m'appelle Claire", "Je veux acheter, quel est le prix ? C'est urgent, demain"])
        #expect(french.name == "Claire" && french.features.intent == 3 && french.features.urgency >= 2)
        let kinyarwanda = FeatureRules.extract(["Muraho, nitwa Aline", "Ndashaka kugura, igiciro ni angahe? Uyu munsi"])
        #expect(kinyarwanda.name == "Aline" && kinyarwanda.features.intent == 3 && kinyarwanda.features.urgency == 2)
        // a lower-case word after "i am" is not a name
        #expect(FeatureRules.extract(["i am interested in the offer"]).name == nil)
    }

    @Test func aConversationIsReadEveryFewMessagesAndWhenClosedOnceEach() async throws {
        try await TestServices.with(
            [.gateway, .messaging, .agentCore],
            settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .agentCore: ["AGENT_EXTRACT_AFTER_MESSAGES": "3"]]
        ) { platform in
            let desk = try await CRMEventsTests.desk(platform)
            let phone = "+254712000801"
            for text in ["Hi, my name is Wanjiru", "I want to rent a flat today", "My budget is 40,000 KES"] {
                #expect(try await desk.send(.POST, "/v1/sandbox/inbound", #"{"from":"\#(phone)","text":"\#(text)"}"#).status == 202)
            }
            var extractions: [ExtractionDTO] = []
            let read = try await TestWait.until(timeout: .seconds(60)) {
                extractions = try await desk.send(.GET, "/v1/extractions").json(Page<ExtractionDTO>.self).items
                return !extractions.isEmpty
            }
            #expect(read, "no extraction after three messages")
            let first = try #require(extractions.first)
            #expect(first.source == "rules" && first.features == .init(intent: 3, urgency: 2, budget: 3, fit: 2, engagement: 2), "\(first)")
            #expect(first.found["trigger"] == .string("messages:3") && first.conversationId != nil)
            let lead = try await desk.send(.GET, "/v1/leads/\(first.leadId)").json(LeadDTO.self)
            #expect(lead.name == "Wanjiru" && lead.status == .hot && lead.scoreComponents.base == 35, "\(lead)")

            // a person closes the conversation: it is read again, once
            let conversation = try #require(first.conversationId)
            let closed = try await desk.send(.PATCH, "/v1/conversations/\(conversation)", #"{"status":"closed"}"#)
            #expect(closed.status == 200, "\(closed.text)")
            #expect(
                try await TestWait.until(timeout: .seconds(60)) {
                    try await desk.send(.GET, "/v1/extractions?leadId=\(first.leadId)").json(Page<ExtractionDTO>.self).items.count == 2
                })
            // the job run again records nothing more
            try await desk.postgres.query(
                "UPDATE agent.jobs SET status = 'queued', run_at = now() WHERE kind = 'crm.extract'", logger: TestLog.quiet)
            #expect(
                try await TestWait.until {
                    try await desk.count("SELECT count(*)::int FROM agent.jobs WHERE kind = 'crm.extract' AND status <> 'done'") == 0
                })
            #expect(try await desk.count("SELECT count(*)::int FROM agent.extractions") == 2)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.extractions WHERE is_latest") == 1)
        }
    }
}

/// A language model reads the conversation when one is configured: asked for a strict JSON schema, its call recorded
/// with its cost; an answer with a feature outside 1–3 is refused and the rules read the conversation instead.
@Suite struct ModelExtractionTests {
    final class Model: Sendable {
        let bodies = Mutex<[JSONValue]>([])
        let answers: [String]

        init(answers: [String]) {
            self.answers = answers
        }

        /// OpenAI's chat completions, answering the n-th request with the n-th content.
        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("v1/chat/completions") { request, context -> Response in
                let body = try await request.decode(as: JSONValue.self, context: context)
                let index = self.bodies.withLock { bodies in
                    bodies.append(body)
                    return bodies.count - 1
                }
                let content = self.answers[min(index, self.answers.count - 1)].replacingOccurrences(of: "\"", with: "\\\"")
                let completion = CostsTests.FakeProvider.completion(model: "gpt-4o-mini", content: content, prompt: 400, completion: 40, cached: 0)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: completion)))
            }
            return router
        }
    }

    @Test func theModelsFeaturesAreCheckedAndAnOutOfRangeAnswerMovesNothing() async throws {
        let model = Model(answers: [
            #"{"intent":3,"urgency":3,"budget":2,"fit":3,"engagement":2,"name":"Achieng Otieno","email":"Achieng@Example.com","company":"Otieno Farms","wantsCall":true,"wantsVisit":false,"askedPrice":true}"#,
            #"{"intent":7,"urgency":3,"budget":3,"fit":3,"engagement":3,"name":null,"email":null,"company":null,"wantsCall":false,"wantsVisit":false,"askedPrice":false}"#,
        ])
        try await TestUpstream.with(model.router) { url in
            var settings = CostsTests.settings(url)
            settings[.agentCore]?["AGENT_EXTRACT_AFTER_MESSAGES"] = "2"
            settings[.gateway] = ["RATE_LIMIT_ENABLED": "false"]
            try await TestServices.with([.gateway, .messaging, .agentCore], settings: settings) { platform in
                let desk = try await CRMEventsTests.desk(platform)
                // no agent answers (none is bound): only the extraction asks the model
                for text in ["Hi, we farm maize", "We need a tractor this week"] {
                    #expect(try await desk.send(.POST, "/v1/sandbox/inbound", #"{"from":"+254712003001","text":"\#(text)"}"#).status == 202)
                }
                var first: [ExtractionDTO] = []
                #expect(
                    try await TestWait.until(timeout: .seconds(60)) {
                        first = try await desk.send(.GET, "/v1/extractions").json(Page<ExtractionDTO>.self).items
                        return !first.isEmpty
                    })
                let read = try #require(first.first)
                #expect(read.source == "llm" && read.features == .init(intent: 3, urgency: 3, budget: 2, fit: 3, engagement: 2) && read.total == 13)
                let lead = try await desk.send(.GET, "/v1/leads/\(read.leadId)").json(LeadDTO.self)
                #expect(lead.name == "Achieng Otieno" && lead.email == "achieng@example.com" && lead.company == "Otieno Farms" && lead.status == .hot)
                // what the model was asked: the customer's words, under a strict schema
                let asked = try #require(model.bodies.withLock { $0.first })
                #expect(asked["response_format"]?["json_schema"]?["strict"] == .bool(true), "\(asked)")
                #expect("\(asked["messages"] ?? .null)".contains("We need a tractor this week"))
                #expect(try await desk.count("SELECT count(*)::int FROM agent.llm_calls WHERE call_type = 'extraction' AND cost_micros > 0") == 1)

                // the next one comes back with intent 7: refused, the rules read it, the model's numbers move nothing
                for text in ["Price?", "Call me"] {
                    #expect(try await desk.send(.POST, "/v1/sandbox/inbound", #"{"from":"+254712003001","text":"\#(text)"}"#).status == 202)
                }
                var all: [ExtractionDTO] = []
                #expect(
                    try await TestWait.until(timeout: .seconds(60)) {
                        all = try await desk.send(.GET, "/v1/extractions?leadId=\(read.leadId)").json(Page<ExtractionDTO>.self).items
                        return all.count == 2
                    })
                let second = try #require(all.first { $0.isLatest })
                #expect(second.source == "rules" && second.features.intent != 7 && second.features.values.allSatisfy { (1...3).contains($0) }, "\(second)")
                #expect(try await desk.count("SELECT count(*)::int FROM agent.llm_calls WHERE call_type = 'extraction'") == 2)
            }
        }
    }
}
