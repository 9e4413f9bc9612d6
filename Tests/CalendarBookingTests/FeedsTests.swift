import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

@testable import CalendarBooking

/// The secret feed URL per agent (public: the path is the key) and the `.ics` of one appointment, through the gateway.
@Suite struct FeedsTests {
    @Test func aFeedServesTheAgentsAppointmentsUntilItsTokenIsReplaced() async throws {
        try await AppointmentsTests.with { desk in
            let agent = try await desk.agent()
            let booked = try await desk.post(
                "/v1/appointments",
                #"{"agentId":"\#(agent.id)","title":"Viewing, flat 3; Kilimani","startsAt":"\#(AppointmentsTests.tomorrow(6))","durationMinutes":60,"contactEmail":"wanjiru@example.com","timeZone":"Europe/Malta"}"#
            ).json(AppointmentDTO.self)
            let cancelled = try await desk.book(agent, AppointmentsTests.tomorrow(9)).json(AppointmentDTO.self)
            _ = try await desk.post("/v1/appointments/\(cancelled.id)/cancel", "")

            let made = try await desk.post("/v1/calendar/agents/\(agent.id)/feed", "")
            #expect(made.status == 201, "\(made.text)")
            let url = try made.json(FeedsController.FeedView.self).url
            #expect(url.hasPrefix("\(desk.gateway)/v1/calendar/feeds/") && url.hasSuffix(".ics"))
            // no token: the URL is the key
            let feed = try await TestHTTP.get(url)
            #expect(feed.status == 200, "\(feed.text)")
            #expect(feed.headers.first(name: "Content-Type") == ICS.contentType)
            #expect(feed.text.hasPrefix("BEGIN:VCALENDAR\r\n") && feed.text.contains("UID:\(ICS.uid(for: booked.id))"))
            #expect(feed.text.contains("SUMMARY:Viewing\\, flat 3\\; Kilimani") && feed.text.contains("DTSTART;TZID=Europe/Malta:"))
            #expect(feed.text.contains("UID:\(ICS.uid(for: cancelled.id))") && feed.text.contains("STATUS:CANCELLED"))
            #expect(feed.text.contains("BEGIN:VTIMEZONE") && feed.text.contains("TZID:Europe/Malta"))
            // a new URL replaces the old one; a made-up or malformed one is no feed
            let renewed = try await desk.post("/v1/calendar/agents/\(agent.id)/feed", "").json(FeedsController.FeedView.self).url
            #expect(try await TestHTTP.get(url).status == 404)
            #expect(try await TestHTTP.get(renewed).status == 200)
            for bad in ["nope.ics", "..%2F..%2Fetc.ics", String(repeating: "a", count: 200) + ".ics"] {
                #expect(try await TestHTTP.get("\(desk.gateway)/v1/calendar/feeds/\(bad)").status == 404, "\(bad)")
            }
            // only the tenant's planners make feed URLs
            let agentRole = try await TestKeys.token(tenant: desk.tenant, roles: [.agent])
            #expect(try await desk.post("/v1/calendar/agents/\(agent.id)/feed", "", token: agentRole).status == 403)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.audit_log WHERE action = 'calendar_agent.feed'") == 2)
            #expect(
                try await desk.count(
                    "SELECT count(*)::int FROM calendar.audit_log WHERE diff::text LIKE '%\(renewed.split(separator: "/").last!.dropLast(4))%'") == 0)
        }
    }

    @Test func oneAppointmentDownloadsAsAnICSFileForItsTenantOnly() async throws {
        try await AppointmentsTests.with { desk in
            let agent = try await desk.agent()
            let booked = try await desk.book(agent, AppointmentsTests.tomorrow(7)).json(AppointmentDTO.self)
            let file = try await desk.get("/v1/appointments/\(booked.id).ics")
            #expect(file.status == 200, "\(file.text)")
            #expect(file.headers.first(name: "Content-Disposition") == "attachment; filename=\"viewing.ics\"")
            #expect(file.text.contains("UID:\(ICS.uid(for: booked.id))") && file.text.contains("DTSTART;TZID=Africa/Nairobi:"))
            #expect(file.text.contains("ATTENDEE;") && file.text.contains("tel:+254712345678"))
            // the JSON beside it is unchanged
            #expect(try await desk.get("/v1/appointments/\(booked.id)").json(AppointmentDTO.self).id == booked.id)
            #expect(try await TestHTTP.get("\(desk.gateway)/v1/appointments/\(booked.id).ics").status == 401)
            let stranger = try await TestKeys.token(tenant: try await desk.platform.createTenant(), roles: [.tenantAdmin])
            #expect(try await desk.get("/v1/appointments/\(booked.id).ics", token: stranger).status == 404)
        }
    }
}
