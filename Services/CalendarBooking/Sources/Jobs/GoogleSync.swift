import Contracts
import Foundation
import Logging
import Models
import ServiceClient
import ServiceKit
import ServiceLifecycle

/// Keeps each connected Google Calendar in step: access tokens refreshed before they expire (a refresh Google refuses
/// breaks the connection and tells the tenant's admins), busy times read by incremental sync (sync tokens; a full
/// sync again when Google answers 410), and appointments pushed as events (the `calendar.google.push` job).
struct GoogleSync: Service {
    let connections: ConnectionsStore
    let appointments: AppointmentsStore
    let agents: AgentsStore
    let reminders: RemindersStore
    let google: GoogleCalendar
    let messaging: @Sendable () -> MessagingClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext
    /// How often each connection is synced.
    let every: Duration
    /// How often the loop looks for connections due.
    let tick: Duration
    let logger: Logger

    /// A token this close to its expiry is refreshed before use.
    static let refreshMargin: TimeInterval = 300
    /// A full sync reads events from this long ago on.
    static let fullSyncPast: TimeInterval = 7 * 86_400

    /// The first pass waits a whole tick too (not the sweepers' one second): connections are due every `every`, so
    /// nothing is late for it, and a sync the tick did not ask for would race with one asked for through the API.
    func run() async throws {
        await PeriodicWork.run("google calendar sync", every: self.tick, firstAfter: self.tick, logger: self.logger) { try await self.syncDue() }
    }

    /// One pass: the connections due, each synced (and its token refreshed when needed).
    @discardableResult
    func syncDue() async throws -> Int {
        let due = try await self.connections.claimSyncs(every: self.every, lease: .seconds(120), limit: 20, logger: self.logger)
        for id in due {
            do {
                _ = try await self.sync(id)
            } catch {
                self.logger.warning("google sync failed", metadata: ["connection": "\(id)", "error": "\(error)"])
            }
        }
        return due.count
    }

    // MARK: tokens

    /// A usable access token: the stored one, or a refreshed one when it is missing or about to expire.
    func accessToken(_ credentials: ConnectionsStore.Credentials, force: Bool = false) async throws -> String {
        if !force, let token = credentials.accessToken, let expiry = credentials.expiresAt, expiry.timeIntervalSinceNow > Self.refreshMargin {
            return token
        }
        do {
            let tokens = try await self.google.refresh(refreshToken: credentials.refreshToken)
            try await self.connections.storeTokens(
                credentials.id, access: tokens.accessToken, refresh: tokens.refreshToken ?? credentials.refreshToken,
                expiresAt: Date().addingTimeInterval(Double(tokens.expiresIn)), logger: self.logger)
            return tokens.accessToken
        } catch GoogleError.invalidGrant(let reason) {
            try await self.broke(credentials, reason: reason)
            throw GoogleError.invalidGrant(reason)
        }
    }

    /// Runs `body` with a token; a token Google refuses (401) is refreshed once and `body` tried again.
    func withToken<Answer>(_ credentials: ConnectionsStore.Credentials, _ body: (String) async throws -> Answer) async throws -> Answer {
        do {
            return try await body(try await self.accessToken(credentials))
        } catch GoogleError.unauthorized {
            return try await body(try await self.accessToken(credentials, force: true))
        }
    }

    /// The connection is broken: stored with an alert (the console shows it), logged, and sent to the tenant's alert
    /// phone when it has one.
    func broke(_ credentials: ConnectionsStore.Credentials, reason: String) async throws {
        guard let (tenant, agent) = try await self.connections.markBroken(credentials.id, reason: reason, logger: self.logger) else { return }
        self.logger.error(
            "google calendar connection broken", metadata: ["connection": "\(credentials.id)", "tenant": "\(tenant)", "reason": "\(reason)"])
        guard let phone = try await self.reminders.settings(tenant: tenant, logger: self.logger).alertPhone else { return }
        let name = try await self.agents.agent(agent, tenant: tenant, logger: self.logger)?.name ?? "a calendar"
        do {
            let context = try await self.callContext(tenant, nil)
            _ = try await self.messaging().notify(
                .init(kind: "calendar_connection_broken", msisdn: phone, comment: reason, title: name),
                idempotencyKey: "google-broken/\(credentials.id.uuidString.lowercased())/\(Int(Date().timeIntervalSince1970))", context: context)
        } catch {
            // the alert row stands; the console shows it whatever messaging did
            self.logger.warning("broken connection not announced", metadata: ["connection": "\(credentials.id)", "error": "\(error)"])
        }
    }

    // MARK: sync

    struct SyncResult: Codable, Sendable, Equatable {
        var full: Bool
        var busy: Int
        var removed: Int
    }

    /// Reads the calendar's changes since the last sync (all events from a week ago on, for a full one) and keeps its
    /// busy times; a sync token Google no longer honours (410) starts a full sync.
    func sync(_ id: UUID) async throws -> SyncResult {
        guard let credentials = try await self.connections.credentials(id, logger: self.logger), credentials.status == .active else {
            return SyncResult(full: false, busy: 0, removed: 0)
        }
        do {
            do {
                return try await self.read(credentials, syncToken: credentials.syncToken)
            } catch GoogleError.gone where credentials.syncToken != nil {
                self.logger.info("google sync token expired: full sync", metadata: ["connection": "\(id)"])
                try await self.connections.forgetSyncToken(id, logger: self.logger)
                return try await self.read(credentials, syncToken: nil)
            }
        } catch let error as GoogleError {
            if case .invalidGrant = error { throw error }
            try await self.connections.syncFailed(id, error: error.description, logger: self.logger)
            throw error
        }
    }

    func read(_ credentials: ConnectionsStore.Credentials, syncToken: String?) async throws -> SyncResult {
        let zone =
            try await self.agents.agent(credentials.agent, tenant: credentials.tenant, logger: self.logger)
            .flatMap { TimeZone(identifier: $0.timeZone) } ?? .gmt
        var busy: [ConnectionsStore.BusyEvent] = []
        var removed: [String] = []
        var page: String? = nil
        var next: String? = nil
        let timeMin = Date().addingTimeInterval(-Self.fullSyncPast)
        repeat {
            let answer = try await self.withToken(credentials) { token in
                try await self.google.events(calendar: credentials.calendarID, syncToken: syncToken, timeMin: timeMin, pageToken: page, token: token)
            }
            for event in answer.items ?? [] {
                guard let id = event.id else { continue }
                if let interval = Self.busyInterval(event, zone: zone) {
                    busy.append(.init(eventID: id, start: interval.start, end: interval.end, summary: event.summary))
                } else {
                    removed.append(id)
                }
            }
            page = answer.nextPageToken
            next = answer.nextSyncToken
        } while page != nil && busy.count + removed.count < 50_000
        try await self.connections.applySync(
            credentials.id, full: syncToken == nil, busy: busy, removed: removed, syncToken: next, logger: self.logger)
        return SyncResult(full: syncToken == nil, busy: busy.count, removed: removed.count)
    }

    /// The time an event makes the agent busy: none when it is cancelled, shown as free (`transparent`), or one of
    /// Sokoni's own (its appointment occupies the time already). An all-day event takes its days in the agent's zone.
    static func busyInterval(_ event: GoogleCalendar.Event, zone: TimeZone) -> DateInterval? {
        guard event.status != "cancelled", event.transparency != "transparent", event.appointmentID == nil else { return nil }
        if let start = event.start?.dateTime, let end = event.end?.dateTime, end > start { return DateInterval(start: start, end: end) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        func day(_ text: String?) -> Date? {
            guard let text, let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) else { return nil }
            let parts = Calendar(identifier: .gregorian).dateComponents(in: .gmt, from: date)
            return calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day))
        }
        guard let start = day(event.start?.date), let end = day(event.end?.date), end > start else { return nil }
        return DateInterval(start: start, end: end)
    }

    // MARK: pushing appointments

    /// Makes the appointment's event in its agent's connected calendar match it: created (with a Meet link when the
    /// connection asks for one and it is a virtual meeting without a link), updated, or deleted when it was
    /// cancelled or its hold expired. Google's event id is the appointment's own, so a retried insert cannot make a
    /// second event.
    func push(_ job: ConnectionsStore.Push) async throws {
        let id = AppointmentID(job.appointmentId)
        guard let appointment = try await self.appointments.appointment(id, tenant: TenantID(job.tenantId), logger: self.logger),
            let connection = try await self.connections.activeConnection(agent: appointment.agentId, logger: self.logger),
            let credentials = try await self.connections.credentials(connection, logger: self.logger)
        else { return }
        let link = try await self.connections.eventLink(id, logger: self.logger)
        let eventID = link?.eventID ?? Self.eventID(id)
        do {
            switch appointment.status {
            case .scheduled, .confirmed:
                let meet = credentials.createMeetLinks && appointment.type == .virtualMeeting && appointment.meetingUrl == nil
                var event = Self.event(appointment)
                if meet { event.conferenceData = .meet(requestID: "sokoni-\(id)") }
                let written: GoogleCalendar.Event
                if link == nil || link?.connection != connection {
                    event.id = eventID
                    do {
                        written = try await self.withToken(credentials) {
                            try await self.google.insert(event, calendar: credentials.calendarID, meet: meet, token: $0)
                        }
                    } catch GoogleError.duplicate {
                        // written before by a try whose answer was lost: bring it up to date instead
                        event.id = nil
                        written = try await self.withToken(credentials) {
                            try await self.google.patch(eventID, event, calendar: credentials.calendarID, meet: meet, token: $0)
                        }
                    }
                } else {
                    written = try await self.withToken(credentials) {
                        try await self.google.patch(eventID, event, calendar: credentials.calendarID, meet: meet, token: $0)
                    }
                }
                try await self.connections.saveEventLink(
                    id, connection: connection, eventID: written.id ?? eventID, htmlLink: written.htmlLink, deleted: false, logger: self.logger)
                if appointment.meetingUrl == nil, let url = written.hangoutLink ?? written.conferenceData?.videoURI {
                    try await self.appointments.setMeetingLink(id, tenant: TenantID(job.tenantId), url: url, logger: self.logger)
                }
            case .cancelled, .expired:
                guard let link, !link.deleted, link.connection == connection else { return }
                try await self.withToken(credentials) { try await self.google.delete(link.eventID, calendar: credentials.calendarID, token: $0) }
                try await self.connections.saveEventLink(
                    id, connection: connection, eventID: link.eventID, htmlLink: nil, deleted: true, logger: self.logger)
            case .pending, .completed, .noShow:
                return
            }
        } catch GoogleError.invalidGrant {
            // the connection is broken and its admins told; reconnecting pushes every appointment still to come
            return
        }
    }

    /// Google's event ids are base32hex (`0-9a-v`), 5–1024 characters: the appointment's UUID in hex is one.
    static func eventID(_ appointment: AppointmentID) -> String {
        appointment.rawValue.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    static func event(_ appointment: AppointmentDTO) -> GoogleCalendar.Event {
        let contact = [appointment.contactName, appointment.contactPhone, appointment.contactEmail].compactMap { $0 }.joined(separator: ", ")
        let description = [contact.isEmpty ? nil : "With: \(contact)", appointment.notes, "Booked in Sokoni (\(appointment.source.rawValue))."]
            .compactMap { $0 }.joined(separator: "\n")
        var event = GoogleCalendar.Event(
            summary: appointment.title, description: description, location: appointment.location ?? appointment.meetingUrl,
            start: .init(dateTime: appointment.startsAt, timeZone: appointment.timeZone),
            end: .init(dateTime: appointment.endsAt, timeZone: appointment.timeZone),
            attendees: appointment.contactEmail.map { [GoogleCalendar.Attendee(email: $0, displayName: appointment.contactName)] },
            extendedProperties: .init(private: ["sokoniAppointmentId": appointment.id.description]))
        event.status = "confirmed"
        return event
    }
}
