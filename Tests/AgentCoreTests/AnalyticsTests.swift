import Contracts
import Foundation
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// Daily analytics across the services, equal to what each one's raw tables say when counted here independently;
/// a service that cannot count makes the answer partial and nothing is cached as complete; CSV; who may read.
@Suite struct AnalyticsTests {
    @Test func theDaysFiguresEqualTheRawCountsOfEveryService() async throws {
        try await TestWait.clearOfUTCMidnight()
        try await TestServices.with(
            [.gateway, .messaging, .calendarBooking, .vouchers, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]
        ) { platform in
            let desk = try await CRMEventsTests.desk(platform)
            // a day's work: customers write, a booking, two vouchers (one redeemed later is not needed), a lead converted
            for (phone, text) in [("+254712000901", "Hello"), ("+254712000901", "Price?"), ("+254712000902", "Habari")] {
                #expect(try await desk.send(.POST, "/v1/sandbox/inbound", #"{"from":"\#(phone)","text":"\#(text)"}"#).status == 202)
            }
            let created = try await desk.send(.POST, "/v1/calendar/agents", #"{"name":"Amina","timeZone":"Africa/Nairobi"}"#)
            guard case .string(let agent)? = try created.json(JSONValue.self)["id"] else {
                Issue.record("\(created.text)")
                return
            }
            let start = ISO8601.format(Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 2 * 86_400))
            let booked = try await desk.send(
                .POST, "/v1/appointments",
                #"{"agentId":"\#(agent)","title":"Viewing","startsAt":"\#(start)","durationMinutes":30,"status":"scheduled","source":"manual","contactPhone":"+254712000903"}"#
            )
            #expect(booked.status == 201, "\(booked.text)")
            for msisdn in ["+250788000901", "+250788000902"] {
                let voucher = try await desk.send(.POST, "/v1/vouchers", #"{"amount":"100","msisdn":"\#(msisdn)"}"#)
                #expect(voucher.status == 201, "\(voucher.text)")
            }
            let won = try await desk.lead("+254712000904")
            #expect(try await desk.send(.PUT, "/v1/leads/\(won.id)/stage", #"{"stage":"won","reason":"signed"}"#).status == 200)
            // the CRM's events have arrived (three leads from the conversations and the booking, one made by hand)
            #expect(try await TestWait.until(timeout: .seconds(60)) { try await desk.count("SELECT count(*)::int FROM agent.leads") == 4 })
            // and the booking's confirmation has opened its conversation (calendar-booking's loop sends it)
            let messaging = platform.environment(.messaging).postgres
            #expect(
                try await TestWait.until(timeout: .seconds(60)) {
                    let opened = try await messaging.query(
                        "SELECT count(*)::int FROM messaging.conversations WHERE tenant_id = \(desk.tenant.rawValue)", logger: TestLog.quiet
                    ).first(as: Int.self)
                    return opened == 3
                })

            let today = Day(Date()).description
            let answer = try await desk.send(.GET, "/v1/analytics/daily?from=\(today)&to=\(today)")
            #expect(answer.status == 200, "\(answer.text)")
            let figures = try answer.json(AnalyticsStore.Answer.self)
            #expect(figures.partial.isEmpty && figures.days.count == 1, "\(figures)")
            let day = try #require(figures.days.first)

            // counted independently, from each service's own tables
            let tenant = desk.tenant.rawValue
            func count(_ service: ServiceName, _ sql: String) async throws -> Int64 {
                try await platform.environment(service).postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int64.self) ?? 0
            }
            let since = "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
            #expect(
                day.conversations
                    == (try await count(.messaging, "SELECT count(*) FROM messaging.conversations WHERE tenant_id = '\(tenant)' AND created_at >= \(since)")))
            #expect(day.conversations == 3)  // two customers wrote, and the booking's confirmation went to a third
            #expect(
                day.messagesIn["sandbox"]
                    == (try await count(
                        .messaging, "SELECT count(*) FROM messaging.messages WHERE tenant_id = '\(tenant)' AND direction = 'inbound' AND created_at >= \(since)"
                    )))
            #expect(day.messagesIn["sandbox"] == 3)
            #expect(
                day.bookings
                    == (try await count(
                        .calendarBooking,
                        "SELECT count(*) FROM calendar.appointments WHERE tenant_id = '\(tenant)' AND created_at >= \(since) AND status NOT IN ('pending', 'expired')"
                    )))
            #expect(day.bookings == 1)
            #expect(
                day.vouchersIssued
                    == (try await count(.vouchers, "SELECT count(*) FROM vouchers.vouchers WHERE tenant_id = '\(tenant)' AND issued_at >= \(since)")))
            #expect(day.vouchersIssued == 2 && day.vouchersRedeemed == 0)
            #expect(
                day.leadsCreated
                    == (try await count(
                        .agentCore, "SELECT count(*) FROM agent.leads WHERE tenant_id = '\(tenant)' AND merged_into IS NULL AND created_at >= \(since)")))
            #expect(day.leadsCreated == 4 && day.leadsConverted == 1 && day.conversionRate == 0.25, "\(day)")
            #expect(day.calls == 0 && figures.totals.bookings == 1 && figures.totals.leadsCreated == 4)
            // today is never cached as complete: a later read counts again
            #expect(try await desk.count("SELECT count(*)::int FROM agent.analytics_daily WHERE complete") == 0)

            // the CSV: a header, the day, the totals
            let csv = try await desk.send(.GET, "/v1/analytics/daily?from=\(today)&to=\(today)&format=csv")
            #expect(csv.status == 200 && csv.headers["Content-Type"].first?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(separator: "\r\n").map(String.init)
            #expect(
                lines.count == 3 && lines[0].hasPrefix("day,conversations,messages_in") && lines[1].hasPrefix("\(today),\(day.conversations),3,"), "\(lines)")
            #expect(lines[2].hasPrefix("total,\(day.conversations),3,"))

            // bad ranges are 400; an agent may not read the tenant's figures; another tenant's are all zero
            for query in ["from=2026-02-30", "from=\(today)&to=2020-01-01", "from=2020-01-01&to=2020-12-31", "format=xml"] {
                let refused = try await desk.send(.GET, "/v1/analytics/daily?\(query)")
                #expect(refused.status == 400, "\(query): \(refused.text)")
            }
            let agentToken = try await TestKeys.token(tenant: desk.tenant, roles: [.agent])
            #expect(try await desk.send(.GET, "/v1/analytics/daily", token: agentToken).status == 403)
            let other = try await platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            let theirs = try await desk.send(.GET, "/v1/analytics/daily?from=\(today)&to=\(today)", token: otherAdmin).json(AnalyticsStore.Answer.self)
            #expect(theirs.totals.conversations == 0 && theirs.totals.bookings == 0 && theirs.totals.vouchersIssued == 0 && theirs.totals.leadsCreated == 0)
        }
    }

    @Test func aServiceThatCannotCountMakesThePastDaysPartialAndUncached() async throws {
        try await TestServices.with(
            [.gateway, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]],
            upstreams: [.messaging: "http://127.0.0.1:1", .calendarBooking: "http://127.0.0.1:1", .vouchers: "http://127.0.0.1:1"]
        ) { platform in
            let desk = try await CRMEventsTests.desk(platform)
            _ = try await desk.lead("+254712000950")
            let answer = try await desk.send(.GET, "/v1/analytics/daily?from=2026-01-01&to=2026-01-03").json(AnalyticsStore.Answer.self)
            #expect(answer.partial == ["calendar-booking", "messaging", "vouchers"] && answer.days.map(\.day) == ["2026-01-01", "2026-01-02", "2026-01-03"])
            #expect(try await desk.count("SELECT count(*)::int FROM agent.analytics_daily WHERE complete") == 0)
        }
    }
}
