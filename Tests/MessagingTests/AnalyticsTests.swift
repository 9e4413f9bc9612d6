import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// `GET /v1/messaging/analytics` counts what the channels really carried, per day, for the caller's tenant only.
@Suite(.serialized) struct AnalyticsTests {
    @Test func countsPerDayFailureReasonsAndCostAreTheTenantsOwn() async throws {
        try await MessagingFlowTests.with { p in
            // what is written now must be "today" for the test and the server alike when the counts are read
            try await TestWait.clearOfUTCMidnight()
            for index in 0..<3 {
                let posted = try await p.post("/v1/sandbox/inbound", MessagingFlowTests.Inbound(from: "+25078812345\(index)", text: "Muraho \(index)"))
                #expect(posted.status == 202)
            }
            // one number opted out: a send to it is blocked, and counted among the failures with its reason
            #expect(try await p.post("/v1/opt-outs", ["address": "+250788000111"]).status == 201)
            #expect(try await p.post("/v1/messages", ["to": "+250788000111", "text": "Promo"]).status == 202)
            try await p.eventually("three replies sent and one send blocked") {
                try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'outbound' AND status IN ('sent', 'blocked')") == 4
            }
            // a provider's price (RWF has no minor unit: 1250 francs each), and one message of yesterday
            try await p.postgres.query(
                "UPDATE messaging.messages SET cost_minor = 1250, cost_currency = 'RWF' WHERE direction = 'outbound' AND status = 'sent'",
                logger: TestLog.quiet)
            try await p.postgres.query(
                """
                UPDATE messaging.messages SET created_at = now() - interval '1 day'
                WHERE id = (SELECT id FROM messaging.messages WHERE direction = 'inbound' ORDER BY sequence_no, id LIMIT 1)
                """, logger: TestLog.quiet)

            let today = Day(Date()).description
            let yesterday = Day(Date().addingTimeInterval(-86_400)).description
            let analytics = try await p.get("/v1/messaging/analytics").json(MessagingAnalytics.self)
            #expect(analytics.to == today)
            #expect(analytics.totals.inbound == 3 && analytics.totals.outbound == 4 && analytics.totals.failed == 1, "\(analytics.totals)")
            #expect(analytics.days.contains(.init(day: yesterday, channelKind: "sandbox", direction: "inbound", status: "received", count: 1)))
            #expect(analytics.days.contains(.init(day: today, channelKind: "sandbox", direction: "inbound", status: "received", count: 2)))
            #expect(analytics.days.contains(.init(day: today, channelKind: "sandbox", direction: "outbound", status: "sent", count: 3)))
            #expect(analytics.failures == [.init(code: "opted_out", reason: analytics.failures.first?.reason, count: 1)])
            #expect(analytics.failures.first?.reason?.isEmpty == false)
            #expect(analytics.costs == [.init(currency: "RWF", amount: "3750")])

            // today only: yesterday's message is out of the range
            let todayOnly = try await p.get("/v1/messaging/analytics?from=\(today)&to=\(today)").json(MessagingAnalytics.self)
            #expect(todayOnly.totals.inbound == 2)
            // another tenant sees none of it
            let theirs = try await TestHTTP.get("\(p.gateway)/v1/messaging/analytics", token: p.otherAdmin).json(MessagingAnalytics.self)
            #expect(theirs.days.isEmpty && theirs.totals.inbound == 0 && theirs.costs.isEmpty)

            for query in ["from=2026-02-30", "from=\(today)&to=2020-01-01", "from=2020-01-01&to=2021-06-01", "to=yesterday"] {
                let refused = try await p.get("/v1/messaging/analytics?\(query)")
                #expect(refused.status == 400 && refused.text.contains("invalid_"), "\(query): \(refused.status) \(refused.text)")
            }
            for (role, status) in [(Role.readonly, 200), (.support, 200), (.agent, 403), (.stationOperator, 403)] {
                let token = try await TestKeys.token(tenant: p.tenant, roles: [role])
                #expect(try await p.get("/v1/messaging/analytics", token: token).status == status, "\(role)")
            }
        }
    }
}
