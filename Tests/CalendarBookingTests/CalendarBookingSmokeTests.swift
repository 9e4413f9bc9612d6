import Foundation
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
}
