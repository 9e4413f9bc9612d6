import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// iCalendar: a secret feed URL per agent that calendar apps subscribe to (`POST /v1/calendar/agents/{id}/feed`
/// makes one, `GET /v1/calendar/feeds/{token}.ics` serves it without a token header: the path is the key), and one
/// appointment as an `.ics` file (`GET /v1/appointments/{id}.ics`).
struct FeedsController: Sendable {
    let agents: AgentsStore
    let appointments: AppointmentsStore
    /// Where the gateway is reached from outside, for the feed URL.
    let publicURL: String

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CalendarAPI.createFeed, use: self.createFeed)
        router.on(CalendarAPI.feed, use: self.feed)
        router.on(CalendarAPI.appointmentICS, use: self.appointmentICS)
    }

    /// How far back and ahead a feed reaches.
    static let feedPast: TimeInterval = 90 * 86_400
    static let feedAhead: TimeInterval = 366 * 86_400

    struct FeedView: Codable, Sendable, Equatable {
        var agentId: CalendarAgentID
        /// The secret URL: shown once; make a new one to revoke it.
        var url: String
    }

    @Sendable func createFeed(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<FeedView> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: CalendarAgentID.self)
        let token = Base64URL.random()
        guard
            try await self.agents.setFeedToken(
                id, hash: sha256Hex(Data(token.utf8)), tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw AgentsController.notFound }
        return JSONResponse(.created, FeedView(agentId: id, url: "\(self.publicURL)/v1/calendar/feeds/\(token).ics"))
    }

    @Sendable func feed(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let file = context.parameters.get("token"), file.count <= 100,
            file.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { throw Self.noFeed }
        guard let (agent, tenant) = try await self.agents.agent(feedHash: sha256Hex(Data(file.utf8)), logger: context.logger) else { throw Self.noFeed }
        let now = Date()
        let filter = AppointmentsStore.Filter(agent: agent.id, from: now.addingTimeInterval(-Self.feedPast), to: now.addingTimeInterval(Self.feedAhead))
        var events: [ICSEvent] = []
        var after: (micros: Int64, id: UUID)? = nil
        while events.count < 5_000 {
            let page = try await self.appointments.appointments(tenant: tenant, filter: filter, after: after, limit: 500, logger: context.logger)
            events += page.compactMap(Self.event)
            guard page.count == 500, let last = page.last else { break }
            after = (last.startsAt.micros, last.id.rawValue)
        }
        return Self.ics(ICS.calendar(name: agent.name, events: events, method: "PUBLISH"), filename: nil)
    }

    /// An unknown or malformed feed token: as if there were no such URL.
    static let noFeed = APIError.notFound("feed_not_found", "No such calendar feed.")

    @Sendable func appointmentICS(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: AppointmentID.self)
        guard let appointment = try await self.appointments.appointment(id, tenant: tenant, logger: context.logger),
            let event = Self.event(appointment)
        else { throw AppointmentsController.notFound }
        return Self.ics(ICS.calendar(name: appointment.title, events: [event], method: "PUBLISH"), filename: ICS.filename(for: appointment.title))
    }

    /// An appointment as a VEVENT: held ones tentative, ended-by-cancellation ones cancelled (so subscribed calendars
    /// remove them); expired holds are left out.
    static func event(_ appointment: AppointmentDTO) -> ICSEvent? {
        let status: ICSEvent.Status
        switch appointment.status {
        case .pending: status = .tentative
        case .scheduled, .confirmed, .completed, .noShow: status = .confirmed
        case .cancelled: status = .cancelled
        case .expired: return nil
        }
        let attendee =
            appointment.contactEmail != nil || appointment.contactPhone != nil
            ? [ICSEvent.Attendee(name: appointment.contactName, email: appointment.contactEmail, phone: appointment.contactPhone)] : []
        return ICSEvent(
            uid: ICS.uid(for: appointment.id), sequence: max(0, Int(appointment.updatedAt.timeIntervalSince(appointment.createdAt))),
            dtstamp: appointment.updatedAt, start: appointment.startsAt, end: appointment.endsAt, timeZone: appointment.timeZone,
            summary: appointment.title, description: appointment.notes, location: appointment.location, url: appointment.meetingUrl, status: status,
            attendees: attendee + appointment.participants.map { ICSEvent.Attendee(name: $0.name, email: $0.email, phone: $0.phone) },
            created: appointment.createdAt, lastModified: appointment.updatedAt)
    }

    static func ics(_ text: String, filename: String?) -> Response {
        var headers: HTTPFields = [.contentType: ICS.contentType, .cacheControl: "private, max-age=300"]
        if let filename { headers[.contentDisposition] = "attachment; filename=\"\(filename)\"" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
