import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import CalendarBooking

/// The link each reminder carries (`/booking/#<token>`): the customer sees the appointment and confirms, cancels or
/// moves it to a slot the agent offers, without an account; a changed or expired link opens nothing. The
/// confirmation also brings the appointment as an `.ics` document.
@Suite struct ManageLinkTests {
    /// The token in the confirmation the customer was sent (of `appointment`, when given: the token starts with its id).
    static func token(_ desk: AppointmentsTests.Desk, phone: String = "+254712345678", of appointment: AppointmentID? = nil) async throws -> String {
        var token: String?
        let sent = try await TestWait.until(timeout: .seconds(20), every: .milliseconds(50)) {
            let outbox = try await RemindersTests.outbox(desk)
            token = outbox.compactMap { entry -> String? in
                guard entry.to == phone, entry.body?.hasPrefix("Booked:") == true else { return nil }
                return entry.body?.components(separatedBy: "/booking/#").last
            }.first { appointment == nil || $0.hasPrefix("\(appointment!).") }
            return token != nil
        }
        #expect(sent)
        return try #require(token)
    }

    static func manage(_ desk: AppointmentsTests.Desk, _ token: String, _ action: String = "", body: String? = nil) async throws -> TestResponse {
        let path = "\(desk.gateway)/v1/calendar/manage/\(token)\(action.isEmpty ? "" : "/\(action)")"
        return try await TestHTTP.request(body == nil ? .GET : .POST, path, body: body.map { Data($0.utf8) })
    }

    @Test func theConfirmationCarriesTheLinkAndTheCalendarFile() async throws {
        try await RemindersTests.with { desk in
            let agent = try await desk.agent()
            _ = try await desk.book(agent, AppointmentsTests.tomorrow(6)).json(AppointmentDTO.self)
            let token = try await Self.token(desk)
            let outbox = try await RemindersTests.outbox(desk)
            let confirmation = try #require(outbox.first { $0.body?.hasPrefix("Booked:") == true })
            #expect(confirmation.body?.contains("Confirm, cancel or change it: \(desk.gateway)/booking/#") == true, "\(confirmation.body ?? "")")
            // sent as a document: the appointment's .ics, fetched from the signed link
            let payload = String(decoding: try JSONEncoder().encode(confirmation.payload), as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
            #expect(payload.contains("appointment.ics") && payload.contains("/v1/calendar/manage/\(token)/appointment.ics"), "\(payload)")
            let ics = try await Self.manage(desk, token, "appointment.ics")
            #expect(ics.status == 200 && ics.headers["Content-Type"].first?.hasPrefix("text/calendar") == true)
            #expect(ics.text.contains("BEGIN:VEVENT") && ics.text.contains("SUMMARY:Viewing"))
        }
    }

    @Test func theCustomerConfirmsMovesToAnOfferedSlotAndCancels() async throws {
        try await RemindersTests.with { desk in
            let agent = try await desk.agent()
            let booked = try await desk.book(agent, AppointmentsTests.tomorrow(6)).json(AppointmentDTO.self)
            let token = try await Self.token(desk)
            let view = try await Self.manage(desk, token).json(ManageController.ManagedView.self)
            #expect(view.id == booked.id && view.title == "Viewing" && view.agentName == "Amina" && view.status == .scheduled)
            #expect(view.canConfirm && view.canCancel && view.canReschedule)

            let confirmed = try await Self.manage(desk, token, "confirm", body: "")
            #expect(confirmed.status == 200, "\(confirmed.text)")
            #expect(try confirmed.json(ManageController.ManagedView.self).status == .confirmed)
            #expect(try await desk.get("/v1/appointments/\(booked.id)").json(AppointmentDTO.self).status == .confirmed)

            // the free slots to move to (its own time counts as free), then a move to one of them
            let slots = try await Self.manage(desk, token, "slots?from=\(AppointmentsTests.tomorrow(0))&to=\(AppointmentsTests.tomorrow(23))")
                .json(ManageController.SlotsView.self)
            #expect(slots.durationMinutes == 30 && slots.timeZone == "Africa/Nairobi")
            #expect(slots.slots.contains { $0.localStart.hasSuffix("T09:00:00+03:00") } && slots.slots.contains { $0.localStart.hasSuffix("T11:00:00+03:00") })
            let moved = try await Self.manage(desk, token, "reschedule", body: #"{"startsAt":"\#(AppointmentsTests.tomorrow(8))"}"#)
            #expect(moved.status == 200, "\(moved.text)")
            let after = try await desk.get("/v1/appointments/\(booked.id)").json(AppointmentDTO.self)
            #expect(after.localStart.hasSuffix("T11:00:00+03:00") && after.status == .confirmed && after.reschedules.count == 1)
            // not a time the agent offers (03:00 in Nairobi): refused with the next free slots
            let night = try await Self.manage(desk, token, "reschedule", body: #"{"startsAt":"\#(AppointmentsTests.tomorrow(0))"}"#)
            #expect(night.status == 409 && night.errorCode == "outside_availability", "\(night.text)")
            #expect(night.text.contains("nextSlots"))

            let cancelled = try await Self.manage(desk, token, "cancel", body: #"{"reason":"Travelling"}"#)
            #expect(try cancelled.json(ManageController.ManagedView.self).status == .cancelled)
            let again = try await Self.manage(desk, token, "confirm", body: "")
            #expect(again.status == 409 && again.errorCode == "invalid_transition")
            let cancelledView = try await Self.manage(desk, token).json(ManageController.ManagedView.self)
            #expect(!cancelledView.canConfirm && !cancelledView.canCancel && !cancelledView.canReschedule)
            // each change is the customer's in the audit log
            #expect(
                try await desk.count("SELECT count(*)::int FROM calendar.audit_log WHERE actor = 'customer:link' AND target_id = '\(booked.id)'") == 3)
        }
    }

    @Test func aChangedOrExpiredLinkOpensNothing() async throws {
        try await RemindersTests.with { desk in
            let agent = try await desk.agent()
            let booked = try await desk.book(agent, AppointmentsTests.tomorrow(6)).json(AppointmentDTO.self)
            let other = try await desk.book(agent, AppointmentsTests.tomorrow(7)).json(AppointmentDTO.self)
            let token = try await Self.token(desk, of: booked.id)
            let parts = token.split(separator: ".").map(String.init)
            // another appointment's id, a later expiry, a changed signature, garbage
            for forged in [
                "\(other.id).\(parts[1]).\(parts[2])", "\(parts[0]).\(Int(parts[1])! + 86_400).\(parts[2])",
                "\(parts[0]).\(parts[1]).\(parts[2].dropLast())A", "not-a-token", "\(parts[0]).\(parts[1])",
            ] {
                let answer = try await Self.manage(desk, forged)
                #expect(answer.status == 403 && answer.errorCode == "invalid_signature", "\(forged): \(answer.status) \(answer.text)")
                let act = try await Self.manage(desk, forged, "cancel", body: "")
                #expect(act.status == 403)
            }
            #expect(try await desk.get("/v1/appointments/\(booked.id)").json(AppointmentDTO.self).status == .scheduled)
            // a link signed with the service's key but past its expiry
            let environment = desk.platform.environment(.calendarBooking)
            let links = ManageLink(
                secret: SecretBox.derivedConfiguration(serviceKey: environment.settings.serviceKey, purpose: "sokoni calendar-booking manage links"))
            let expired = try await Self.manage(desk, links.token(booked.id, expires: Date().addingTimeInterval(-1)))
            #expect(expired.status == 410 && expired.errorCode == "link_expired", "\(expired.text)")
            let fresh = try await Self.manage(desk, links.token(booked.id, expires: Date().addingTimeInterval(600)))
            #expect(fresh.status == 200)
        }
    }
}
