import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import CalendarBooking

/// Google Calendar through the gateway against a fake Google on loopback that speaks OAuth 2.0 and the Calendar API:
/// the consent with PKCE and a one-use state, sealed tokens refreshed before expiry, a refused refresh that breaks the
/// connection and tells the admins, busy times by incremental sync (and a full one after 410) kept out of free
/// slots, and appointments pushed as events with Meet links.
@Suite struct GoogleCalendarTests {
    struct Setup {
        let desk: AppointmentsTests.Desk
        let google: FakeGoogle

        /// Connects the agent's calendar through the consent; answers the connection's id.
        func connect(_ agent: CalendarAgentDTO, meet: Bool = false, account: String = "amina@example.com") async throws -> UUID {
            let started = try await self.desk.post("/v1/calendar/connections", #"{"agentId":"\#(agent.id)","createMeetLinks":\#(meet)}"#)
            #expect(started.status == 201, "\(started.text)")
            let url = try #require(try started.json(JSONValue.self)["authorizationUrl"].flatMap { if case .string(let s) = $0 { s } else { nil } })
            let back = try self.google.consent(url, account: account)
            let callback = try await TestHTTP.request(.GET, back, followRedirects: false)
            #expect(callback.status == 303, "\(callback.text)")
            let location = callback.headers["Location"].first ?? ""
            #expect(location.contains("/admin/#/connections?google=connected&connection="), "\(location)")
            return try #require(UUID(uuidString: String(location.split(separator: "=").last ?? "")))
        }

        func connection(_ id: UUID) async throws -> ConnectionDTO {
            let all = try await self.desk.get("/v1/calendar/connections?all=true").json(ConnectionsController.ConnectionsPage.self)
            return try #require(all.items.first { $0.id.rawValue == id })
        }

        func sync(_ id: UUID) async throws -> TestResponse {
            try await self.desk.post("/v1/calendar/connections/\(id)/sync", "")
        }

        /// The local starts (Nairobi) of the agent's free 30-minute slots on the test day.
        func freeStarts(_ agent: CalendarAgentDTO) async throws -> [String] {
            let from = AppointmentsTests.tomorrow(0)
            let to = AppointmentsTests.tomorrow(23)
            let answer = try await self.desk.get("/v1/availability?agentId=\(agent.id)&from=\(from)&to=\(to)&duration=30&tz=Africa/Nairobi")
            #expect(answer.status == 200, "\(answer.text)")
            return try answer.json(CalendarAPI.SlotsView.self).slots.map { String($0.localStart.dropFirst(11).prefix(5)) }
        }
    }

    static func with(messaging: Bool = false, calendar: [String: String] = ["CALENDAR_GOOGLE_SYNC_TICK_MS": "3600000"], _ body: (Setup) async throws -> Void)
        async throws
    {
        let google = FakeGoogle()
        try await TestUpstream.with(google.router) { url in
            try await TestServices.with(
                [.gateway, .calendarBooking] + (messaging ? [.messaging] : []),
                settings: [
                    .gateway: ["RATE_LIMIT_ENABLED": "false"],
                    .calendarBooking: google.settings(url: url).merging(calendar) { $1 },
                ]
            ) { platform in
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                if messaging { try await TestMessaging.quietHoursOff(gateway: platform.url(.gateway), token: admin) }
                let desk = AppointmentsTests.Desk(
                    gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.calendarBooking).postgres,
                    platform: platform)
                try await body(Setup(desk: desk, google: google))
            }
        }
    }

    /// The test day's `hour`:00 in Nairobi as an instant.
    static func nairobi(_ hour: Int, minute: Int = 0) -> Date {
        try! Date(AppointmentsTests.tomorrow(hour - 3, minute: minute), strategy: .iso8601)
    }

    @Test func theConsentUsesPKCEAndAOneUseStateAndTheTokensAreSealed() async throws {
        try await Self.with { setup in
            let desk = setup.desk
            let agent = try await desk.agent()
            let started = try await desk.post("/v1/calendar/connections", #"{"agentId":"\#(agent.id)"}"#)
            #expect(started.status == 201, "\(started.text)")
            let view = try started.json(ConnectionsController.Started.self)
            #expect(view.connection.status == .pending)
            let query = Dictionary(
                uniqueKeysWithValues: (URLComponents(string: view.authorizationUrl)?.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(query["code_challenge_method"] == "S256" && query["code_challenge"]?.count == 43 && query["access_type"] == "offline")
            #expect(query["redirect_uri"] == "\(desk.gateway)/v1/calendar/oauth/google/callback")
            // only the state's hash is kept, and the verifier is sealed
            let state = try #require(query["state"])
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.oauth_states WHERE state_hash = '\(sha256Hex(Data(state.utf8)))'") == 1)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.oauth_states WHERE position('\(state)' in state_hash) > 0") == 0)

            let back = try setup.google.consent(view.authorizationUrl)
            let callback = try await TestHTTP.request(.GET, back, followRedirects: false)
            #expect(callback.status == 303)
            #expect(
                callback.headers["Location"].first
                    == "\(desk.gateway)/admin/#/connections?google=connected&connection=\(view.connection.id.description)")
            let connected = try await setup.connection(view.connection.id.rawValue)
            #expect(connected.status == .active && connected.account == "amina@example.com" && connected.tokenExpiresAt != nil, "\(connected)")
            #expect(setup.google.refusals.isEmpty, "\(setup.google.refusals)")
            // at rest: sealed bytes with their key id, never the token Google issued
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.connections WHERE key_id IS NOT NULL AND access_token IS NOT NULL") == 1)
            #expect(
                try await desk.count(
                    "SELECT count(*)::int FROM calendar.connections WHERE position('ya29.'::bytea in access_token) > 0 OR position('1//0g'::bytea in refresh_token) > 0"
                ) == 0)
            // the state was used: the same callback again, or a forged one, is refused
            let replay = try await TestHTTP.request(.GET, back, followRedirects: false)
            #expect(replay.status == 400 && replay.errorCode == "invalid_state", "\(replay.text)")
            let forged = try await TestHTTP.request(
                .GET, "\(desk.gateway)/v1/calendar/oauth/google/callback?state=\(Base64URL.random())&code=4/0Aforged", followRedirects: false)
            #expect(forged.status == 400 && forged.errorCode == "invalid_state")
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.audit_log WHERE action = 'calendar_connection.connected'") == 1)

            // another calendar's admin says no at Google: nothing is connected
            let other = try await desk.agent("Baraka")
            let second = try await desk.post("/v1/calendar/connections", #"{"agentId":"\#(other.id)"}"#).json(ConnectionsController.Started.self)
            let denied = try await TestHTTP.request(.GET, try setup.google.consent(second.authorizationUrl, allow: false), followRedirects: false)
            #expect(denied.status == 303 && denied.headers["Location"].first?.contains("google=refused") == true)
            #expect(try await setup.connection(second.connection.id.rawValue).status == .disconnected)
        }
    }

    @Test func busyTimesFromGoogleAreNotFreeAndSyncIsIncremental() async throws {
        try await Self.with { setup in
            let desk = setup.desk
            let agent = try await desk.agent()
            let id = try await setup.connect(agent)
            let dentist = setup.google.addEvent(start: Self.nairobi(10), end: Self.nairobi(11))
            setup.google.addEvent(start: Self.nairobi(13), end: Self.nairobi(14), summary: "Free lunch", transparent: true)
            let first = try await setup.sync(id)
            #expect(first.status == 200, "\(first.text)")
            #expect(try first.json(ConnectionsController.Synced.self).result == .init(full: true, busy: 1, removed: 1))
            var free = try await setup.freeStarts(agent)
            #expect(!free.contains("10:00") && !free.contains("10:30") && free.contains("09:30") && free.contains("11:00") && free.contains("13:00"), "\(free)")
            // a customer cannot book over it; Google's own free/busy says the same
            let taken = try await desk.book(agent, AppointmentsTests.tomorrow(7), source: "whatsapp")
            #expect(taken.status == 409 && taken.errorCode == "slot_taken", "\(taken.text)")
            let busy = try await desk.get("/v1/calendar/connections/\(id)/busy?from=\(AppointmentsTests.tomorrow(0))&to=\(AppointmentsTests.tomorrow(23))")
                .json(ConnectionsController.BusyView.self)
            #expect(busy.busy == [.init(startsAt: Self.nairobi(10), endsAt: Self.nairobi(11))])

            // changes since the last sync only: the dentist cancelled, a day off added
            setup.google.deleteEvent(dentist)
            setup.google.addEvent(start: Self.nairobi(15), end: Self.nairobi(16), summary: "School run")
            let second = try await setup.sync(id).json(ConnectionsController.Synced.self)
            #expect(second.result == .init(full: false, busy: 1, removed: 1), "\(second.result)")
            #expect(setup.google.requests.filter { $0.hasSuffix("/events") && $0.hasPrefix("GET") }.count == 2)
            free = try await setup.freeStarts(agent)
            #expect(free.contains("10:00") && !free.contains("15:00") && !free.contains("15:30"), "\(free)")
            #expect(second.connection.busyEvents == 1)

            // Google forgot the sync token: 410, then a full sync
            setup.google.invalidateSyncTokens()
            let third = try await setup.sync(id).json(ConnectionsController.Synced.self)
            #expect(third.result.full && third.result.busy == 1, "\(third.result)")
            #expect(setup.google.requests.filter { $0.hasSuffix("/events") && $0.hasPrefix("GET") }.count == 4)

            // an all-day event takes the whole day in the agent's zone
            let day = String(AppointmentsTests.tomorrow(0).prefix(10))
            setup.google.addEvent(start: Date(), end: Date(), summary: "Holiday", allDay: day)
            _ = try await setup.sync(id)
            #expect(try await setup.freeStarts(agent).isEmpty)
        }
    }

    @Test func theSyncerKeepsBusyTimesCurrentOnItsOwn() async throws {
        try await Self.with(calendar: ["CALENDAR_GOOGLE_SYNC_TICK_MS": "50", "CALENDAR_GOOGLE_SYNC_INTERVAL_MS": "200"]) { setup in
            let agent = try await setup.desk.agent()
            let id = try await setup.connect(agent)
            setup.google.addEvent(start: Self.nairobi(10), end: Self.nairobi(11))
            let excluded = try await TestWait.until(timeout: .seconds(20)) { !(try await setup.freeStarts(agent).contains("10:00")) }
            #expect(excluded)
            let event = setup.google.addEvent(start: Self.nairobi(12), end: Self.nairobi(13))
            #expect(try await TestWait.until(timeout: .seconds(20)) { !(try await setup.freeStarts(agent).contains("12:00")) })
            setup.google.deleteEvent(event)
            #expect(try await TestWait.until(timeout: .seconds(20)) { try await setup.freeStarts(agent).contains("12:00") })
            // after the first, every sync was incremental
            let lists = setup.google.requests.filter { $0.hasPrefix("GET") && $0.hasSuffix("/events") }.count
            #expect(lists >= 3)
            #expect(try await setup.connection(id).syncedAt != nil)
        }
    }

    @Test func appointmentsArePushedAsEventsWithMeetLinksAndFollowTheirChanges() async throws {
        try await Self.with { setup in
            let desk = setup.desk
            let agent = try await desk.agent()
            _ = try await setup.connect(agent, meet: true)
            let created = try await desk.post(
                "/v1/appointments",
                #"{"agentId":"\#(agent.id)","title":"Video viewing","type":"virtual_meeting","startsAt":"\#(AppointmentsTests.tomorrow(7))","durationMinutes":30,"contactEmail":"wanjiru@example.com"}"#
            )
            #expect(created.status == 201, "\(created.text)")
            let appointment = try created.json(AppointmentDTO.self)
            let eventID = appointment.id.rawValue.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            func event() -> [String: JSONValue]? { setup.google.events().first { $0["id"] == .string(eventID) } }
            #expect(try await TestWait.until(timeout: .seconds(20)) { event() != nil })
            let pushed = try #require(event())
            #expect(pushed["summary"] == .string("Video viewing"))
            #expect(pushed["extendedProperties"]?["private"]?["sokoniAppointmentId"] == .string(appointment.id.description))
            #expect(pushed["attendees"]?[0]?["email"] == .string("wanjiru@example.com"))
            // the Meet link Google made lands on the appointment
            let linked = try await TestWait.until(timeout: .seconds(20)) {
                try await desk.get("/v1/appointments/\(appointment.id)").json(AppointmentDTO.self).meetingUrl?.hasPrefix("https://meet.google.com/") == true
            }
            #expect(linked)

            // moved: the same event moves; its own event is not read back as busy time
            _ = try await desk.post("/v1/appointments/\(appointment.id)/reschedule", #"{"startsAt":"\#(AppointmentsTests.tomorrow(9))"}"#)
            let moved = try await TestWait.until(timeout: .seconds(20)) {
                event()?["start"]?["dateTime"] == .string(AppointmentsTests.tomorrow(9))
            }
            #expect(moved, "\(String(describing: event()))")
            #expect(setup.google.events().count == 1)
            let connection = try await desk.get("/v1/calendar/connections").json(ConnectionsController.ConnectionsPage.self).items[0]
            #expect(try await setup.sync(connection.id.rawValue).json(ConnectionsController.Synced.self).connection.busyEvents == 0)

            // cancelled: the event is deleted
            _ = try await desk.post("/v1/appointments/\(appointment.id)/cancel", "")
            #expect(try await TestWait.until(timeout: .seconds(20)) { setup.google.events().first?["status"] == .string("cancelled") })
            #expect(setup.google.refusals.isEmpty, "\(setup.google.refusals)")
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.jobs WHERE status = 'dead'") == 0)
        }
    }

    @Test func anExpiringTokenIsRefreshedAndARefusedRefreshBreaksTheConnectionAndTellsTheAdmins() async throws {
        try await Self.with(messaging: true) { setup in
            let desk = setup.desk
            let agent = try await desk.agent()
            let id = try await setup.connect(agent)
            let settings = try await desk.put("/v1/calendar/settings", #"{"alertPhone":"+254700000001"}"#)
            #expect(settings.status == 200, "\(settings.text)")
            #expect(try await desk.put("/v1/calendar/settings", #"{"alertPhone":"0700"}"#).errorCode == "invalid_alertPhone")

            // a token about to expire is refreshed before use
            try await desk.postgres.query(
                "UPDATE calendar.connections SET token_expires_at = now() + interval '1 minute' WHERE id = \(id)", logger: TestLog.quiet)
            #expect(try await setup.sync(id).status == 200)
            #expect(setup.google.refreshes == 1)
            let refreshed = try await setup.connection(id)
            #expect(refreshed.tokenExpiresAt.map { $0.timeIntervalSinceNow > 3000 } == true, "\(refreshed)")

            // the account revoked access: the next refresh is refused
            setup.google.revoke()
            let refused = try await setup.sync(id)
            #expect(refused.status == 409 && refused.errorCode == "connection_not_active", "\(refused.text)")
            let broken = try await setup.connection(id)
            #expect(broken.status == .broken && broken.brokenAt != nil && broken.alerts.map(\.kind) == ["refresh_failed"], "\(broken)")
            #expect(broken.lastError?.contains("expired or revoked") == true)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.audit_log WHERE action = 'calendar_connection.broken'") == 1)
            // the admin's phone is told through messaging
            let told = try await TestWait.until(timeout: .seconds(20)) {
                try await desk.get("/v1/sandbox/outbox?limit=50").json(Page<JSONValue>.self).items.contains {
                    $0["to"] == .string("+254700000001")
                        && (($0["body"]).flatMap { if case .string(let s) = $0 { s.contains("Amina") && s.contains("stopped syncing") } else { nil } } ?? false)
                }
            }
            #expect(told)
            // a broken connection is left alone by the syncer and its busy times still count
            #expect(try await desk.get("/v1/calendar/connections/\(id)/busy").errorCode == "connection_not_active")

            // reconnecting mends it and resolves the alert
            _ = try await setup.connect(agent)
            let mended = try await setup.connection(id)
            #expect(mended.status == .active && mended.alerts.isEmpty && mended.brokenAt == nil, "\(mended)")
        }
    }

    @Test func disconnectingWipesTheTokensRevokesThemAndForgetsTheBusyTimes() async throws {
        try await Self.with { setup in
            let desk = setup.desk
            let agent = try await desk.agent()
            let id = try await setup.connect(agent)
            setup.google.addEvent(start: Self.nairobi(10), end: Self.nairobi(11))
            _ = try await setup.sync(id)
            #expect(!(try await setup.freeStarts(agent).contains("10:00")))
            let gone = try await TestHTTP.request(.DELETE, "\(desk.gateway)/v1/calendar/connections/\(id)", token: desk.admin)
            #expect(gone.status == 200, "\(gone.text)")
            #expect(try gone.json(ConnectionDTO.self).status == .disconnected)
            #expect(setup.google.requests.contains("POST /revoke"))
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.connections WHERE refresh_token IS NOT NULL OR access_token IS NOT NULL") == 0)
            #expect(try await desk.count("SELECT count(*)::int FROM calendar.external_busy") == 0)
            #expect(try await setup.freeStarts(agent).contains("10:00"))
            #expect(try await desk.get("/v1/calendar/connections").json(ConnectionsController.ConnectionsPage.self).items.isEmpty)
            let again = try await TestHTTP.request(.DELETE, "\(desk.gateway)/v1/calendar/connections/\(id)", token: desk.admin)
            #expect(again.status == 404 && again.errorCode == "connection_not_found")
        }
    }

    @Test func onlyTheTenantsAdminsConnectAndNoOtherTenantSeesAConnection() async throws {
        try await Self.with { setup in
            let desk = setup.desk
            let agent = try await desk.agent()
            let id = try await setup.connect(agent)
            for role in [Role.agent, .readonly, .support, .dataOps, .stationOperator] {
                let token = try await TestKeys.token(tenant: desk.tenant, roles: [role])
                let post = try await desk.post("/v1/calendar/connections", #"{"agentId":"\#(agent.id)"}"#, token: token)
                #expect(post.status == 403, "\(role): \(post.status)")
                let delete = try await TestHTTP.request(.DELETE, "\(desk.gateway)/v1/calendar/connections/\(id)", token: token)
                #expect(delete.status == 403, "\(role): \(delete.status)")
            }
            let reader = try await TestKeys.token(tenant: desk.tenant, roles: [.readonly])
            #expect(try await desk.get("/v1/calendar/connections", token: reader).json(ConnectionsController.ConnectionsPage.self).items.count == 1)
            // another tenant: its own (empty) list, and this connection is not found
            let other = try await desk.platform.createTenant()
            let stranger = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.get("/v1/calendar/connections", token: stranger).json(ConnectionsController.ConnectionsPage.self).items.isEmpty)
            let foreign = try await TestHTTP.request(.DELETE, "\(desk.gateway)/v1/calendar/connections/\(id)", token: stranger)
            #expect(foreign.status == 404)
            #expect(try await desk.post("/v1/calendar/connections/\(id)/sync", "", token: stranger).status == 404)
            let borrowed = try await desk.post("/v1/calendar/connections", #"{"agentId":"\#(agent.id)"}"#, token: stranger)
            #expect(borrowed.status == 422 && borrowed.errorCode == "unknown_agent")
            #expect(try await setup.connection(id).status == .active)
        }
    }
}
