import Contracts
import Foundation
import Messaging
import Models
import PostgresNIO
import ServiceClient
import ServiceKit
import TestSupport
import Testing

@testable import CalendarBooking

/// Reminders sent through messaging for real (the sandbox channel's outbox): a confirmation at booking, reminders
/// before the start moved by a reschedule and cancelled with the appointment, each sent once even by two
/// calendar-booking replicas, and held by quiet hours rather than dropped.
@Suite struct RemindersTests {
    static let fast = ["CALENDAR_REMINDER_INTERVAL_MS": "50"]

    static func with(calendar: [String: String] = Self.fast, _ body: (AppointmentsTests.Desk) async throws -> Void) async throws {
        try await TestServices.with(
            [.gateway, .calendarBooking, .messaging], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .calendarBooking: calendar]
        ) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            try await TestMessaging.quietHoursOff(gateway: platform.url(.gateway), token: admin)
            try await body(
                AppointmentsTests.Desk(
                    gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.calendarBooking).postgres,
                    platform: platform))
        }
    }

    static func reminders(_ desk: AppointmentsTests.Desk, _ id: AppointmentID) async throws -> [ReminderDTO] {
        try await desk.get("/v1/appointments/\(id)/reminders").json(Page<ReminderDTO>.self).items
    }

    static func outbox(_ desk: AppointmentsTests.Desk) async throws -> [OutboxEntry] {
        try await desk.get("/v1/sandbox/outbox?limit=200").json(Page<OutboxEntry>.self).items
    }

    @Test func aBookingIsConfirmedAndItsRemindersMoveWithItAndEndWithIt() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            let booked = try await desk.book(agent, AppointmentsTests.tomorrow(6)).json(AppointmentDTO.self)
            let confirmed = try await TestWait.until(timeout: .seconds(20), every: .milliseconds(50)) {
                try await Self.reminders(desk, booked.id).first { $0.kind == "confirmation" }?.status == "sent"
            }
            #expect(confirmed)
            let planned = try await Self.reminders(desk, booked.id)
            #expect(planned.map(\.kind) == ["confirmation", "reminder", "reminder"], "\(planned)")
            #expect(Set(planned.filter { $0.kind == "reminder" }.map { booked.startsAt.timeIntervalSince($0.dueAt) }) == [86_400, 3_600])
            let outbox = try await Self.outbox(desk)
            let confirmation = try #require(outbox.first { $0.to == "+254712345678" })
            #expect(
                confirmation.body?.hasPrefix(
                    "Booked: Viewing on \(booked.localStart.prefix(10)) 09:00 (Africa/Nairobi). Confirm, cancel or change it: \(desk.gateway)/booking/#\(booked.id)."
                ) == true, "\(confirmation.body ?? "")")

            // moved: the pending reminders are replaced at the new time, and the customer is told
            let moved = try await desk.post("/v1/appointments/\(booked.id)/reschedule", #"{"startsAt":"\#(AppointmentsTests.tomorrow(10))"}"#)
                .json(AppointmentDTO.self)
            let told = try await TestWait.until(timeout: .seconds(20), every: .milliseconds(50)) {
                try await Self.reminders(desk, booked.id).first { $0.kind == "rescheduled" }?.status == "sent"
            }
            #expect(told)
            let after = try await Self.reminders(desk, booked.id)
            #expect(after.filter { $0.kind == "reminder" && $0.status == "cancelled" }.count == 2)
            #expect(
                Set(after.filter { $0.kind == "reminder" && $0.status == "pending" }.map { moved.startsAt.timeIntervalSince($0.dueAt) })
                    == [86_400, 3_600])
            #expect(try await Self.outbox(desk).contains { $0.body?.hasPrefix("Moved: Viewing is now on ") == true && $0.body?.contains("13:00") == true })

            // cancelled: nothing more is owed
            _ = try await desk.post("/v1/appointments/\(booked.id)/cancel", "")
            #expect(try await Self.reminders(desk, booked.id).filter { $0.status == "pending" }.isEmpty)

            // a hold owes nothing until it is confirmed; a tenant without confirmations gets only reminders
            let settings = try await desk.put("/v1/calendar/settings", #"{"reminderOffsets":[120],"sendConfirmation":false}"#)
            #expect(settings.status == 200, "\(settings.text)")
            let hold = try await desk.book(agent, AppointmentsTests.tomorrow(7), status: "pending").json(AppointmentDTO.self)
            #expect(try await Self.reminders(desk, hold.id).isEmpty)
            _ = try await desk.post("/v1/appointments/\(hold.id)/confirm", "")
            #expect(try await Self.reminders(desk, hold.id).map(\.kind) == ["reminder"])
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.audit_log WHERE action = 'calendar_settings.updated'") == 1)
            let bad = try await desk.put("/v1/calendar/settings", #"{"reminderOffsets":[0]}"#)
            #expect(bad.status == 422 && bad.errorCode == "invalid_reminderOffsets")
        }
    }

    @Test func twoReplicasSendEachReminderOnce() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            var ids: [AppointmentID] = []
            for hour in 6..<14 {
                ids.append(try await desk.book(agent, AppointmentsTests.tomorrow(hour)).json(AppointmentDTO.self).id)
            }
            // a second calendar-booking on the same database, its sender polling beside the first's
            // (it calls the same messaging and gateway as the first)
            try await TestServices.with(
                [.calendarBooking], database: desk.platform.database, overrides: Self.fast,
                upstreams: [.messaging: desk.platform.url(.messaging), .gateway: desk.platform.url(.gateway)]
            ) { _ in
                // every reminder falls due at once (not the confirmations: one the first replica holds under its lease
                // stays its own)
                try await desk.postgres.query(
                    "UPDATE calendar.reminders SET due_at = now() WHERE status = 'pending' AND kind = 'reminder'", logger: TestLog.quiet)
                let done = try await TestWait.until(timeout: .seconds(90), every: .milliseconds(100)) {
                    try await desk.count("SELECT count(*)::int FROM calendar.reminders WHERE status <> 'sent'") == 0
                }
                let unsent = try await desk.postgres.query(
                    "SELECT kind || ' ' || attempts || ' ' || coalesce(last_error, '') FROM calendar.reminders WHERE status <> 'sent'", logger: TestLog.quiet
                ).all(as: String.self)
                #expect(done, "\(unsent)")
                // each reminder handed over on its first try: both replicas reach messaging
                #expect(try await desk.count("SELECT count(*)::int FROM calendar.reminders WHERE attempts > 1") == 0)
            }
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.reminders") == ids.count * 3)
            #expect(try await desk.count("SELECT count(DISTINCT message_id)::int FROM calendar.reminders") == ids.count * 3)
            // messaging sends exactly one message per reminder (its own workers send them a moment later)
            var sentToCustomer = 0
            _ = try await TestWait.until(timeout: .seconds(60), every: .milliseconds(100)) {
                sentToCustomer = try await Self.outbox(desk).filter { $0.to == "+254712345678" }.count
                return sentToCustomer >= ids.count * 3
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await Self.outbox(desk).filter { $0.to == "+254712345678" }.count == ids.count * 3, "\(sentToCustomer)")
        }
    }

    @Test func aReminderMessagingCouldNotTakeIsTriedAgainLaterThenSentOrGivenUp() async throws {
        // the service's own sender idles: this test drives two of its own, one against a messaging that is down
        try await Self.with(calendar: ["CALENDAR_REMINDER_INTERVAL_MS": "86400000"]) { desk in
            let environment = desk.platform.environment(.calendarBooking)
            let store = RemindersStore(postgres: environment.postgres, audit: environment.audit)
            func sender(_ messaging: ServiceClient) -> ReminderSender {
                ReminderSender(
                    reminders: store, messaging: { MessagingClient(messaging) },
                    callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
                    links: ManageLink(secret: "test"), publicURL: "http://127.0.0.1", interval: .seconds(3600), retryBase: .seconds(60),
                    logger: TestLog.quiet)
            }
            let down = sender(
                ServiceClient(
                    service: "messaging", baseURL: URL(string: "http://127.0.0.1:9")!, httpClient: environment.httpClient, logger: TestLog.quiet,
                    timeout: .seconds(2), maxRetries: 0))
            let up = sender(environment.client(.messaging))
            #expect(down.backoff(after: 1) == .seconds(60) && down.backoff(after: 2) == .seconds(120) && down.backoff(after: 40) == .seconds(3600))

            let agent = try await desk.agent()
            let booked = try await desk.book(agent, AppointmentsTests.tomorrow(6)).json(AppointmentDTO.self)
            #expect(try await down.send() == 0)
            var confirmation = try #require(try await Self.reminders(desk, booked.id).first { $0.kind == "confirmation" })
            #expect(confirmation.status == "pending" && confirmation.attempts == 1 && confirmation.messageId == nil, "\(confirmation)")
            #expect(confirmation.lastError?.contains("messaging unavailable") == true, "\(confirmation)")
            // not due again before its backoff (a minute): a pass right away leaves it alone
            #expect(confirmation.dueAt.timeIntervalSinceNow > 30, "\(confirmation)")
            #expect(try await up.send() == 0)
            #expect(try await Self.outbox(desk).isEmpty)

            // messaging is back when it falls due again (its minute made to pass)
            try await desk.postgres.query(
                "UPDATE calendar.reminders SET due_at = now() WHERE status = 'pending' AND kind = 'confirmation'", logger: TestLog.quiet)
            #expect(try await up.send() == 1)
            confirmation = try #require(try await Self.reminders(desk, booked.id).first { $0.kind == "confirmation" })
            #expect(confirmation.status == "sent" && confirmation.attempts == 2 && confirmation.lastError == nil && confirmation.messageId != nil)
            let outbox = try await TestWait.until(timeout: .seconds(20), every: .milliseconds(50)) {
                try await Self.outbox(desk).count == 1
            }
            #expect(outbox)

            // the last allowed try fails: given up as failed, never tried again
            try await desk.postgres.query(
                "UPDATE calendar.reminders SET due_at = now(), attempts = \(ReminderSender.attempts - 1) WHERE status = 'pending' AND kind = 'reminder' AND offset_minutes = 60",
                logger: TestLog.quiet)
            #expect(try await down.send() == 0)
            let reminder = try #require(try await Self.reminders(desk, booked.id).first { $0.offsetMinutes == 60 })
            #expect(reminder.status == "failed" && reminder.attempts == ReminderSender.attempts && reminder.lastError != nil, "\(reminder)")
            try await desk.postgres.query("UPDATE calendar.reminders SET due_at = now() WHERE status = 'failed'", logger: TestLog.quiet)
            #expect(try await up.send() == 0)
        }
    }

    @Test func quietHoursDelayAReminderRatherThanDropIt() async throws {
        try await Self.with { desk in
            // the calendar first: on a loaded runner its setup alone may take longer than a quiet minute
            let agent = try await desk.agent()
            // quiet hours in Kenya for this minute and the next (at least 80 s of quiet left: this minute has 20 s or more)
            let second = Int(Date().timeIntervalSince1970) % 60
            if 60 - second < 20 { try await Task.sleep(for: .seconds(60 - second + 1)) }
            var nairobi = Calendar(identifier: .gregorian)
            nairobi.timeZone = TimeZone(identifier: "Africa/Nairobi")!
            let local = nairobi.dateComponents([.hour, .minute], from: Date())
            let start = local.hour! * 60 + local.minute!
            func hhmm(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60 % 24, minute % 60) }
            var quiet = MessagingSettings.defaults
            quiet.quietHours = ["KE": .init(start: hhmm(start), end: hhmm(start + 2))]
            let put = try await TestHTTP.request(.PUT, "\(desk.gateway)/v1/messaging/settings", token: desk.admin, body: try JSONEncoder.sokoni.encode(quiet))
            #expect(put.status == 200, "\(put.text)")

            let booked = try await desk.book(agent, AppointmentsTests.tomorrow(6)).json(AppointmentDTO.self)
            var messageID: String?
            let handedOver = try await TestWait.until(timeout: .seconds(30), every: .milliseconds(50)) {
                messageID = try await Self.reminders(desk, booked.id).first { $0.kind == "confirmation" && $0.status == "sent" }?.messageId
                return messageID != nil
            }
            #expect(handedOver)
            let id = try #require(messageID)
            let held = try await desk.get("/v1/messages/\(id)").json(MessageDTO.self)
            #expect(held.status == .queuedThrottled && held.statusReason?.contains("Quiet hours") == true, "\(held)")
            // when the quiet minutes end it goes out
            let released = try await TestWait.until(timeout: .seconds(180), every: .milliseconds(250)) {
                try await desk.get("/v1/messages/\(id)").json(MessageDTO.self).status == .sent
            }
            #expect(released)
        }
    }
}
