import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import CalendarBooking

/// Calendars, availability and appointments through the gateway over real HTTP, on a real PostgreSQL: one slot
/// raced by 200 requests, holds that expire, transitions with their audit rows, rescheduling, availability across
/// daylight-saving changes, bad input, and who may do what in which tenant.
@Suite struct AppointmentsTests {
    struct Desk {
        let gateway: String
        let tenant: TenantID
        let admin: String
        let postgres: PostgresClient
        let platform: TestPlatform

        func post(_ path: String, _ json: String, token: String? = nil, key: String? = nil) async throws -> TestResponse {
            try await TestHTTP.request(
                .POST, "\(self.gateway)\(path)", token: token ?? self.admin, headers: key.map { ["Idempotency-Key": $0] } ?? [:], body: Data(json.utf8))
        }

        func put(_ path: String, _ json: String, token: String? = nil) async throws -> TestResponse {
            try await TestHTTP.request(.PUT, "\(self.gateway)\(path)", token: token ?? self.admin, body: Data(json.utf8))
        }

        func get(_ path: String, token: String? = nil) async throws -> TestResponse {
            try await TestHTTP.get("\(self.gateway)\(path)", token: token ?? self.admin)
        }

        /// A calendar agent in `zone`, open 09:00–17:00 every day in half-hour slots (unless `weekly` says otherwise).
        func agent(_ name: String = "Amina", zone: String = "Africa/Nairobi", weekly: String? = nil, extra: String = "") async throws
            -> CalendarAgentDTO
        {
            let created = try await self.post("/v1/calendar/agents", #"{"name":"\#(name)","timeZone":"\#(zone)","serviceDurations":{"pickup":90}}"#)
            #expect(created.status == 201, "\(created.text)")
            let agent = try created.json(CalendarAgentDTO.self)
            let days = weekly ?? (1...7).map { #"{"weekday":\#($0),"start":"09:00","end":"17:00"}"# }.joined(separator: ",")
            let rules = try await self.put(
                "/v1/availability/rules", #"{"agentId":"\#(agent.id)","schedule":{"timeZone":"\#(zone)","weekly":[\#(days)],"overrides":[]\#(extra)}}"#)
            #expect(rules.status == 200, "\(rules.text)")
            return agent
        }

        func book(
            _ agent: CalendarAgentDTO, _ start: String, minutes: Int = 30, status: String = "scheduled", source: String = "manual", token: String? = nil
        ) async throws -> TestResponse {
            try await self.post(
                "/v1/appointments",
                #"{"agentId":"\#(agent.id)","title":"Viewing","startsAt":"\#(start)","durationMinutes":\#(minutes),"status":"\#(status)","source":"\#(source)","contactPhone":"+254712345678"}"#,
                token: token)
        }

        func count(_ sql: String) async throws -> Int {
            try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }
    }

    static func with(settings: [String: String] = [:], _ body: (Desk) async throws -> Void) async throws {
        try await TestServices.with(
            [.gateway, .calendarBooking], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .calendarBooking: settings]
        ) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            try await body(
                Desk(
                    gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.calendarBooking).postgres,
                    platform: platform))
        }
    }

    /// The day after tomorrow (UTC) at `hour`:`minute` UTC, as ISO 8601: always ahead, whatever the time of day.
    static func tomorrow(_ hour: Int, minute: Int = 0) -> String {
        let midnight = ((Date().timeIntervalSince1970 / 86_400).rounded(.down) + 2) * 86_400
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: midnight + Double(hour * 3600 + minute * 60)))
    }

    @Test func twoHundredRequestsForOneSlotBookItOnce() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            // 09:00 Nairobi is 06:00 UTC
            let start = Self.tomorrow(6)
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let answer = try await desk.book(agent, start, status: index % 2 == 0 ? "scheduled" : "pending", source: "web")
                        return (answer.status, answer.errorCode ?? "")
                    }
                }
                return try await group.reduce(into: [String: Int]()) { $0["\($1.0) \($1.1)", default: 0] += 1 }
            }
            #expect(statuses == ["201 ": 1, "409 slot_taken": 199], "\(statuses)")
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.appointments") == 1)
            // the refusal names the next free slots, the taken one not among them
            let refused = try await desk.book(agent, start)
            #expect(refused.status == 409 && refused.errorCode == "slot_taken")
            struct Refusal: Decodable { var nextSlots: [SlotDTO] }
            let next = try refused.json(Refusal.self).nextSlots
            #expect(next.count == 5 && next.first.map { ISO8601DateFormatter().string(from: $0.startsAt) } == Self.tomorrow(6, minute: 30), "\(next)")
            #expect(next.first?.localStart.hasSuffix("09:30:00+03:00") == true)
        }
    }

    @Test func aHoldThatRunsOutFreesItsSlot() async throws {
        try await Self.with(settings: ["CALENDAR_HOLD_SWEEP_INTERVAL_MS": "50"]) { desk in
            let agent = try await desk.agent()
            let start = Self.tomorrow(7)
            let held = try await desk.book(agent, start, status: "pending")
            #expect(held.status == 201, "\(held.text)")
            let hold = try held.json(AppointmentDTO.self)
            #expect(hold.status == .pending && hold.holdExpiresAt != nil)
            #expect(try await desk.book(agent, start).errorCode == "slot_taken")
            // its time runs out: the slot is offered again and can be booked; the hold is expired, with an audit row
            try await desk.postgres.query(
                "UPDATE calendar.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = \(hold.id.rawValue)", logger: TestLog.quiet)
            let offered = try await desk.get("/v1/availability?agentId=\(agent.id)&from=\(start)&to=\(Self.tomorrow(8))&duration=30")
            #expect(try offered.json(AvailabilityController.SlotsView.self).slots.count == 2, "\(offered.text)")
            let booked = try await desk.book(agent, start)
            #expect(booked.status == 201, "\(booked.text)")
            let expired = try await desk.get("/v1/appointments/\(hold.id)").json(AppointmentDTO.self)
            #expect(expired.status == .expired && expired.holdExpiresAt == nil)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.audit_log WHERE action = 'appointment.expired'") == 1)
            // confirming the expired hold is refused
            let late = try await desk.post("/v1/appointments/\(hold.id)/confirm", "")
            #expect(late.status == 409 && late.errorCode == "invalid_transition", "\(late.text)")

            // the sweeper expires a hold nobody books over
            let other = try await desk.book(agent, Self.tomorrow(9), status: "pending").json(AppointmentDTO.self)
            try await desk.postgres.query(
                "UPDATE calendar.appointments SET hold_expires_at = now() - interval '1 second' WHERE id = \(other.id.rawValue)", logger: TestLog.quiet)
            let swept = try await TestWait.until(timeout: .seconds(20), every: .milliseconds(50)) {
                try await desk.get("/v1/appointments/\(other.id)").json(AppointmentDTO.self).status == .expired
            }
            #expect(swept)
        }
    }

    @Test func transitionsFollowTheRulesAndAreAudited() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            let booked = try await desk.book(agent, Self.tomorrow(8)).json(AppointmentDTO.self)
            #expect(booked.status == .scheduled && booked.localStart.hasSuffix("11:00:00+03:00"))
            // not before it starts
            let early = try await desk.post("/v1/appointments/\(booked.id)/no-show", "")
            #expect(early.status == 409 && early.errorCode == "not_started", "\(early.text)")
            let confirmed = try await desk.post("/v1/appointments/\(booked.id)/confirm", "")
            #expect(try confirmed.json(AppointmentDTO.self).status == .confirmed)
            let cancelled = try await desk.post("/v1/appointments/\(booked.id)/cancel", #"{"reason":"Client travelling"}"#)
            let gone = try cancelled.json(AppointmentDTO.self)
            #expect(gone.status == .cancelled && gone.cancellationReason == "Client travelling" && gone.cancelledAt != nil)
            for action in ["complete", "confirm", "cancel", "reschedule"] {
                let refused = try await desk.post("/v1/appointments/\(booked.id)/\(action)", #"{"startsAt":"\#(Self.tomorrow(9))"}"#)
                #expect(refused.status == 409 && refused.errorCode == "invalid_transition", "\(action): \(refused.text)")
            }
            // the cancelled one no longer holds its slot
            #expect(try await desk.book(agent, Self.tomorrow(8)).status == 201)
            #expect(
                try await desk.count(
                    "SELECT count(*)::int FROM calendar.audit_log WHERE target_id = '\(booked.id)' AND action IN ('appointment.booked', 'appointment.confirmed', 'appointment.cancelled')"
                ) == 3)

            // one that started: completed, and then it stays completed
            let past = try await desk.book(agent, Self.tomorrow(10)).json(AppointmentDTO.self)
            try await desk.postgres.query(
                """
                UPDATE calendar.appointments SET starts_at = now() - interval '2 hours', ends_at = now() - interval '1 hour',
                    occupies = tstzrange(now() - interval '2 hours', now() - interval '1 hour') WHERE id = \(past.id.rawValue)
                """, logger: TestLog.quiet)
            #expect(try await desk.post("/v1/appointments/\(past.id)/complete", "").json(AppointmentDTO.self).status == .completed)
            #expect(try await desk.post("/v1/appointments/\(past.id)/no-show", "").errorCode == "invalid_transition")
        }
    }

    @Test func aRescheduleMovesTheTimeKeepsTheHistoryAndRefusesATakenSlot() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            let first = try await desk.book(agent, Self.tomorrow(6)).json(AppointmentDTO.self)
            let second = try await desk.book(agent, Self.tomorrow(7)).json(AppointmentDTO.self)
            let clash = try await desk.post("/v1/appointments/\(second.id)/reschedule", #"{"startsAt":"\#(Self.tomorrow(6))"}"#)
            #expect(clash.status == 409 && clash.errorCode == "slot_taken", "\(clash.text)")
            #expect(clash.text.contains("nextSlots"))
            let moved = try await desk.post(
                "/v1/appointments/\(first.id)/reschedule", #"{"startsAt":"\#(Self.tomorrow(12))","reason":"Asked by the client","timeZone":"Europe/Malta"}"#)
            #expect(moved.status == 200, "\(moved.text)")
            let after = try moved.json(AppointmentDTO.self)
            #expect(ISO8601DateFormatter().string(from: after.startsAt) == Self.tomorrow(12))
            #expect(after.endsAt.timeIntervalSince(after.startsAt) == 1800)
            #expect(after.timeZone == "Europe/Malta" && after.localStart.contains("T13:00:00+01:00"))
            #expect(
                after.reschedules.count == 1 && after.reschedules.first?.startsAt == first.startsAt && after.reschedules.first?.reason == "Asked by the client")
            // the old time is free again
            #expect(try await desk.book(agent, Self.tomorrow(6)).status == 201)
        }
    }

    @Test func availabilityIsInTheAgentsZoneAndShownInTheAskers() async throws {
        try await Self.with { desk in
            // Malta, 09:00–11:00 every day: on 2027-03-28 clocks go from 02:00 to 03:00 (CET → CEST)
            let weekly = (1...7).map { #"{"weekday":\#($0),"start":"09:00","end":"11:00"}"# }.joined(separator: ",")
            let agent = try await desk.agent("Van 1", zone: "Europe/Malta", weekly: weekly)
            let view = try await desk.get(
                "/v1/availability?agentId=\(agent.id)&from=2027-03-27T00:00:00Z&to=2027-03-29T00:00:00Z&duration=60&tz=Africa/Nairobi")
            #expect(view.status == 200, "\(view.text)")
            let slots = try view.json(AvailabilityController.SlotsView.self).slots
            let formatter = ISO8601DateFormatter()
            #expect(
                slots.map { formatter.string(from: $0.startsAt) } == [
                    "2027-03-27T08:00:00Z", "2027-03-27T09:00:00Z", "2027-03-28T07:00:00Z", "2027-03-28T08:00:00Z",
                ])
            #expect(
                slots.map(\.localStart) == ["2027-03-27T11:00:00+03:00", "2027-03-27T12:00:00+03:00", "2027-03-28T10:00:00+03:00", "2027-03-28T11:00:00+03:00"])
            // no rules, no slots
            let bare = try await desk.post("/v1/calendar/agents", #"{"name":"New","timeZone":"America/Santiago"}"#).json(CalendarAgentDTO.self)
            let none = try await desk.get("/v1/availability?agentId=\(bare.id)&duration=30")
            #expect(try none.json(AvailabilityController.SlotsView.self).slots.isEmpty)
            // a block takes its time away; deleting it gives it back
            let block = try await desk.post(
                "/v1/availability/blocks", #"{"agentId":"\#(agent.id)","startsAt":"2027-03-27T08:00:00Z","endsAt":"2027-03-27T09:00:00Z","reason":"Service"}"#)
            #expect(block.status == 201, "\(block.text)")
            let blocked = try await desk.get("/v1/availability?agentId=\(agent.id)&from=2027-03-27T00:00:00Z&to=2027-03-28T00:00:00Z&duration=60")
            #expect(try blocked.json(AvailabilityController.SlotsView.self).slots.count == 1)
            #expect(
                try await TestHTTP.request(.DELETE, "\(desk.gateway)/v1/availability/blocks/\(try block.json(BlockDTO.self).id)", token: desk.admin).status
                    == 204)
            let again = try await desk.get("/v1/availability?agentId=\(agent.id)&from=2027-03-27T00:00:00Z&to=2027-03-28T00:00:00Z&duration=60")
            #expect(try again.json(AvailabilityController.SlotsView.self).slots.count == 2)
        }
    }

    @Test func aCustomerBooksOnlyWhatTheScheduleOffers() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            // 18:00 Nairobi (15:00 UTC) is after hours: a web booking is refused with the next free slots, staff may book it
            let web = try await desk.book(agent, Self.tomorrow(15), source: "web")
            #expect(web.status == 409 && web.errorCode == "outside_availability", "\(web.text)")
            #expect(web.text.contains("nextSlots"))
            #expect(try await desk.book(agent, Self.tomorrow(15), source: "manual").status == 201)
            // a service type's own duration
            let pickup = try await desk.post(
                "/v1/appointments",
                #"{"agentId":"\#(agent.id)","serviceType":"pickup","startsAt":"\#(Self.tomorrow(6))","metadata":{"pickupAddress":"Kilimani","loads":3}}"#)
            #expect(pickup.status == 201, "\(pickup.text)")
            let made = try pickup.json(AppointmentDTO.self)
            #expect(made.endsAt.timeIntervalSince(made.startsAt) == 90 * 60 && made.title == "pickup" && made.metadata["loads"] == .number(3))
        }
    }

    @Test func badInputIsRefusedWithItsCodeAndWritesNothing() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            let cases: [(String, String, Int, String)] = [
                ("/v1/calendar/agents", #"{"name":"X","timeZone":"Mars/Olympus"}"#, 422, "invalid_timeZone"),
                ("/v1/calendar/agents", #"{"name":"","timeZone":"Africa/Nairobi"}"#, 422, "invalid_name"),
                ("/v1/calendar/agents", #"{"name":"X\u0000","timeZone":"Africa/Nairobi"}"#, 422, "invalid_text"),
                ("/v1/appointments", #"{"agentId":"\#(agent.id)","startsAt":"\#(Self.tomorrow(6))","endsAt":"\#(Self.tomorrow(5))"}"#, 422, "invalid_time"),
                ("/v1/appointments", #"{"agentId":"\#(agent.id)","startsAt":"\#(Self.tomorrow(6))","durationMinutes":3}"#, 422, "invalid_durationMinutes"),
                ("/v1/appointments", #"{"agentId":"\#(agent.id)","startsAt":"\#(Self.tomorrow(6))"}"#, 422, "invalid_time"),
                ("/v1/appointments", #"{"agentId":"\#(UUID())","startsAt":"\#(Self.tomorrow(6))","durationMinutes":30}"#, 422, "unknown_agent"),
                (
                    "/v1/appointments", #"{"agentId":"\#(agent.id)","startsAt":"\#(Self.tomorrow(6))","durationMinutes":30,"status":"completed"}"#, 422,
                    "invalid_status"
                ),
                (
                    "/v1/appointments", #"{"agentId":"\#(agent.id)","startsAt":"\#(Self.tomorrow(6))","durationMinutes":30,"contactPhone":"12"}"#, 422,
                    "invalid_contactPhone"
                ),
                (
                    "/v1/appointments", #"{"agentId":"\#(agent.id)","startsAt":"\#(Self.tomorrow(6))","durationMinutes":30,"metadata":{"x":{"y":1}}}"#, 422,
                    "invalid_metadata"
                ),
                (
                    "/v1/appointments",
                    #"{"agentId":"\#(agent.id)","startsAt":"\#(Self.tomorrow(6))","durationMinutes":30,"meetingUrl":"javascript:alert(1)"}"#, 422,
                    "invalid_meetingUrl"
                ),
                (
                    "/v1/availability/blocks", #"{"agentId":"\#(agent.id)","startsAt":"2027-01-02T00:00:00Z","endsAt":"2027-01-01T00:00:00Z"}"#, 422,
                    "invalid_time"
                ),
            ]
            for (path, body, status, code) in cases {
                let answer = try await desk.post(path, body)
                #expect(answer.status == status && answer.errorCode == code, "\(path) \(body): \(answer.status) \(answer.text)")
            }
            let rules = try await desk.put(
                "/v1/availability/rules",
                #"{"agentId":"\#(agent.id)","schedule":{"timeZone":"Africa/Nairobi","weekly":[{"weekday":8,"start":"09:00","end":"10:00"}],"overrides":[]}}"#)
            #expect(rules.status == 422 && rules.errorCode == "invalid_schedule", "\(rules.text)")
            for query in ["duration=30", "agentId=\(agent.id)", "agentId=\(agent.id)&duration=30&tz=Nowhere", "agentId=\(agent.id)&duration=30&from=yesterday"]
            {
                let answer = try await desk.get("/v1/availability?\(query)")
                #expect(answer.status == 400, "\(query): \(answer.text)")
            }
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.appointments") == 0)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.agents") == 1)
        }
    }

    @Test func retriesEditsAndZonesBehaveAsAUserExpects() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            // a customer's booking retried with its key gets the first answer, not "taken" by itself
            let body =
                #"{"agentId":"\#(agent.id)","title":"Viewing","startsAt":"\#(Self.tomorrow(6))","durationMinutes":30,"source":"web","contactName":"Wanjiru","contactPhone":"+254712345678","notes":"Gate B"}"#
            let first = try await desk.post("/v1/appointments", body, key: "web-1")
            let again = try await desk.post("/v1/appointments", body, key: "web-1")
            #expect(first.status == 201 && again.status == 201, "\(again.text)")
            let booked = try first.json(AppointmentDTO.self)
            #expect(try again.json(AppointmentDTO.self).id == booked.id)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.appointments") == 1)
            // null clears a field; a contact field left out keeps its value
            let patched = try await TestHTTP.request(
                .PATCH, "\(desk.gateway)/v1/appointments/\(booked.id)", token: desk.admin, body: Data(#"{"notes":null,"contactPhone":"+254700000001"}"#.utf8))
            let after = try patched.json(AppointmentDTO.self)
            #expect(after.notes == nil && after.contactPhone == "+254700000001" && after.contactName == "Wanjiru", "\(patched.text)")
            // UTC is a zone; abbreviations are not
            #expect(try await desk.post("/v1/calendar/agents", #"{"name":"U","timeZone":"UTC"}"#).json(CalendarAgentDTO.self).timeZone == "UTC")
            #expect(try await desk.post("/v1/calendar/agents", #"{"name":"E","timeZone":"Etc/UTC"}"#).json(CalendarAgentDTO.self).timeZone == "Etc/UTC")
            #expect(try await desk.post("/v1/calendar/agents", #"{"name":"G","timeZone":"GMT+5"}"#).errorCode == "invalid_timeZone")
            #expect(try await desk.post("/v1/calendar/agents", #"{"name":"M","timeZone":"Mars/Olympus"}"#).errorCode == "invalid_timeZone")
            let rules = try await desk.put(
                "/v1/availability/rules", #"{"agentId":"\#(agent.id)","schedule":{"timeZone":"EST","weekly":[],"overrides":[]}}"#)
            #expect(rules.status == 422 && rules.errorCode == "invalid_schedule")
            // far-off years are refused, as are cursors no list gave and bookings shorter than five minutes
            #expect(try await desk.get("/v1/availability?agentId=\(agent.id)&duration=30&from=9999-12-30T00:00:00Z").status == 400)
            let forged = Data(#"["9223372036854775807","\#(UUID())"]"#.utf8).base64EncodedString()
            #expect(try await desk.get("/v1/appointments?cursor=\(forged)").status == 400)
            let short = try await desk.post(
                "/v1/appointments", #"{"agentId":"\#(agent.id)","startsAt":"2027-01-05T10:00:00Z","endsAt":"2027-01-05T10:00:10Z"}"#)
            #expect(short.status == 422 && short.errorCode == "invalid_time")
            // a block retried with its key is made once
            let block = #"{"agentId":"\#(agent.id)","startsAt":"2027-02-01T08:00:00Z","endsAt":"2027-02-01T09:00:00Z"}"#
            #expect(try await desk.post("/v1/availability/blocks", block, key: "b-1").status == 201)
            #expect(try await desk.post("/v1/availability/blocks", block, key: "b-1").status == 201)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.blocks") == 1)
        }
    }

    @Test func rolesAndTenants() async throws {
        try await Self.with { desk in
            let agent = try await desk.agent()
            let booked = try await desk.book(agent, Self.tomorrow(6)).json(AppointmentDTO.self)
            let tenant = desk.tenant
            func token(_ role: Role) async throws -> String { try await TestKeys.token(tenant: tenant, roles: [role]) }
            // reading: staff, the tenant's admins and agents; not a station operator
            for role in [Role.superAdmin, .support, .dataOps, .readonly, .tenantAdmin, .agent] {
                #expect(try await desk.get("/v1/appointments/\(booked.id)", token: try await token(role)).status == 200, "\(role)")
            }
            #expect(try await desk.get("/v1/appointments", token: try await token(.stationOperator)).status == 403)
            // booking: admins, support and agents; not readonly nor data_ops
            for (role, status) in [(Role.agent, 201), (.support, 201), (.readonly, 403), (.dataOps, 403), (.stationOperator, 403)] {
                let hour = [Role.agent: 7, .support: 8][role] ?? 9
                #expect(try await desk.book(agent, Self.tomorrow(hour), token: try await token(role)).status == status, "\(role)")
            }
            // weekly rules: admins only
            let rules = #"{"agentId":"\#(agent.id)","schedule":{"timeZone":"Africa/Nairobi","weekly":[],"overrides":[]}}"#
            #expect(try await desk.put("/v1/availability/rules", rules, token: try await token(.agent)).status == 403)
            // another tenant sees none of it
            let other = try await desk.platform.createTenant()
            let stranger = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.get("/v1/appointments/\(booked.id)", token: stranger).status == 404)
            #expect(try await desk.post("/v1/appointments/\(booked.id)/cancel", "", token: stranger).status == 404)
            #expect(try await desk.get("/v1/availability?agentId=\(agent.id)&duration=30", token: stranger).status == 404)
            #expect(try await desk.book(agent, Self.tomorrow(10), token: stranger).errorCode == "unknown_agent")
            #expect(try await desk.get("/v1/appointments", token: stranger).json(Page<AppointmentDTO>.self).items.isEmpty)
        }
    }
}
