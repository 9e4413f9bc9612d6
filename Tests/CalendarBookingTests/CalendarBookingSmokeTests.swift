import Contracts
import Foundation
import Gateway
import Models
import ServiceKit
import TestSupport
import Testing

@testable import CalendarBooking

/// calendar-booking starts, migrates its schema and answers who the caller is.
struct CalendarBookingSmokeTests {
    @Test func startsAndMigrates() async throws {
        try await TestServices.with([.gateway, .calendarBooking]) { platform in
            let token = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
            let whoami = try await TestHTTP.get("\(platform.url(.calendarBooking))/v1/calendar-booking/whoami", token: token)
            #expect(whoami.status == 200, "\(whoami.text)")
        }
    }

    /// `calendar-booking seed-demo` (twice, as `./Deploy/local` on every start): the demo tenant's two calendars with
    /// their rules and three appointments, once; the agent's free slots are offered.
    @Test func seedingTwiceMakesTheDemoCalendarsOnce() async throws {
        try await TestServices.with([.gateway, .calendarBooking]) { platform in
            // the demo tenant itself is the gateway's
            _ = try await Gateway.DemoSeed.seed(
                client: platform.environment(.gateway).postgres, password: "demo-sokoni-pass", cost: 4, logger: TestLog.quiet)
            let settings = try TestSettings.settings(for: .calendarBooking, database: platform.database)
            for _ in 0..<2 {
                #expect(try await CalendarBookingService.runCommand("seed-demo", arguments: [], settings: settings, logger: TestLog.quiet))
            }
            let postgres = platform.environment(.calendarBooking).postgres
            let counts = try await postgres.query(
                "SELECT (SELECT count(*)::int FROM calendar.agents), (SELECT count(*)::int FROM calendar.appointments)", logger: TestLog.quiet
            ).first(as: (Int, Int).self)
            #expect(counts?.0 == 2 && counts?.1 == 3)
            let token = try await TestKeys.token(tenant: DemoData.tenant, roles: [.tenantAdmin])
            let agents = try await TestHTTP.get("\(platform.url(.calendarBooking))/v1/calendar/agents", token: token).json(Page<CalendarAgentDTO>.self)
            let amina = try #require(agents.items.first { $0.name == "Amina Njeri" })
            let slots = try await TestHTTP.get(
                "\(platform.url(.calendarBooking))/v1/availability?agentId=\(amina.id)&serviceType=viewing&tz=Africa/Nairobi", token: token
            ).json(AvailabilityController.SlotsView.self)
            #expect(slots.durationMinutes == 45 && !slots.slots.isEmpty)
        }
    }
}
