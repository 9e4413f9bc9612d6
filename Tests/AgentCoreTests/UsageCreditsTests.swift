import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// Usage credits across agent-core and marketplace-wallet over real HTTP: each model-answered reply spends one
/// credit, reserved before the call; a tenant out of credits gets the offline responder and an alert; a retried
/// delivery spends nothing more; the wallet out of reach lets replies go ahead.
@Suite(.serialized) struct UsageCreditsTests {
    static func credits(_ platform: TestPlatform, tenant: TenantID) async throws -> (remaining: Int64, reserved: Int64, used: Int64, alerts: [String]) {
        let postgres = platform.environment(.marketplaceWallet).postgres
        let balance = try await postgres.query(
            "SELECT remaining, reserved, used FROM wallet.credit_balances WHERE tenant_id = \(tenant.rawValue)", logger: TestLog.quiet
        ).first(as: (Int64, Int64, Int64).self)
        let alerts = try await postgres.query(
            "SELECT kind FROM wallet.credit_alerts WHERE tenant_id = \(tenant.rawValue) ORDER BY kind", logger: TestLog.quiet
        ).all(as: String.self)
        return (balance?.0 ?? -1, balance?.1 ?? -1, balance?.2 ?? -1, alerts)
    }

    /// Replies that went ahead because the wallet did not answer the credit check.
    static func unmetered(_ platform: TestPlatform) -> Int {
        let line = platform.environment(.agentCore).metrics.render().split(separator: "\n").first { $0.hasPrefix("agent_credit_checks_unavailable_total ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test func aHundredConcurrentRepliesOnTenCreditsAskTheModelTenTimes() async throws {
        // each answer takes a while, so the replies are truly in flight together
        let fake = CostsTests.FakeProvider(delay: .milliseconds(300))
        try await TestUpstream.with(fake.router) { url in
            var settings = CostsTests.settings(url)
            settings[.marketplaceWallet] = ["WALLET_CREDITS_INITIAL_GRANT": "10", "WALLET_CREDITS_LOW_THRESHOLD": "2"]
            // a check that times out after the wallet reserved spends a credit on an unmetered reply, and the counts
            // below would be off by it: this test waits as long as the loaded machine needs
            settings[.agentCore, default: [:]]["AGENT_CREDIT_CHECK_TIMEOUT_MS"] = "60000"
            try await TestServices.with([.gateway, .agentCore, .marketplaceWallet], settings: settings) { platform in
                let tenant = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: tenant)
                let replies = try await withThrowingTaskGroup(of: (Int, AgentAPI.Reply?).self) { group in
                    for index in 0..<100 {
                        group.addTask { try await CostsTests.reply(platform, tenant: tenant, text: "Muraho \(index)") }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                // every customer got an answer: ten from the model, the rest from the offline responder (a check the
                // wallet did not answer in time on this loaded machine lets its reply go ahead unmetered, and is counted)
                #expect(replies.allSatisfy { $0.0 == 200 && $0.1?.text != nil })
                let unmetered = Self.unmetered(platform)
                #expect(unmetered <= 5, "unmetered replies: \(unmetered)")
                #expect(fake.calls == 10 + unmetered, "model calls: \(fake.calls), unmetered: \(unmetered)")
                let answeredBy = try await platform.environment(.agentCore).postgres.query(
                    "SELECT answered_by FROM agent.replies WHERE tenant_id = \(tenant.rawValue)", logger: TestLog.quiet
                ).all(as: String.self)
                #expect(answeredBy.count == 100 && answeredBy.filter { $0 == "offline" }.count == 90 - unmetered)
                let credits = try await Self.credits(platform, tenant: tenant)
                #expect(credits.remaining == 0 && credits.reserved == 0 && credits.used == 10, "\(credits)")
                #expect(credits.alerts == ["exhausted", "low"])

                // a message delivered again spends nothing more: its reply is the first one's
                let key = UUID().uuidString
                let other = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: other)
                let first = try await CostsTests.reply(platform, tenant: other, key: key)
                let again = try await CostsTests.reply(platform, tenant: other, key: key)
                #expect(first.reply?.text == again.reply?.text && first.reply?.text == "Muraho! Twabafasha iki?")
                #expect(try await Self.credits(platform, tenant: other).used == 1)
                #expect(fake.calls == 11 + Self.unmetered(platform))
            }
        }
    }

    @Test func withoutTheWalletRepliesGoAheadUnmetered() async throws {
        let fake = CostsTests.FakeProvider()
        try await TestUpstream.with(fake.router) { url in
            try await TestServices.with([.gateway, .agentCore], settings: CostsTests.settings(url), upstreams: [.marketplaceWallet: "http://127.0.0.1:1"]) {
                platform in
                let tenant = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: tenant)
                let answer = try await CostsTests.reply(platform, tenant: tenant)
                #expect(answer.status == 200 && answer.reply?.text == "Muraho! Twabafasha iki?")
                #expect(fake.calls == 1)
                #expect(platform.environment(.agentCore).metrics.render().contains("agent_credit_checks_unavailable_total 1"))
            }
        }
    }

    @Test func aReferenceIsTheKeyOrItsHash() {
        #expect(UsageCredits.reference("msg-123") == "msg-123")
        #expect(UsageCredits.reference("a/b").hasPrefix("sha256:") && UsageCredits.reference("a/b").count == 71)
        #expect(UsageCredits.reference(String(repeating: "x", count: 300)).hasPrefix("sha256:"))
    }
}
