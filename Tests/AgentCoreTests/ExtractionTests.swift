import Contracts
import Foundation
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
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
