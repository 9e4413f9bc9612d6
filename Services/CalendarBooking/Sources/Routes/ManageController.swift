import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// The customer's side of the link a confirmation or reminder carries (public: the signed token is the key, see
/// `ManageLink`): see the appointment, confirm it, cancel it, or move it to a slot the agent offers, and download it
/// as `.ics`. The gateway serves the page that calls these at `/booking/`. Each change is audited as the customer's.
struct ManageController: Sendable {
    let links: ManageLink
    let appointments: AppointmentsStore
    let agents: AgentsStore
    let slots: SlotFinder
    /// Transitions and moves, under the same rules as staff's.
    let booking: AppointmentsController

    static let actor = "customer:link"

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CalendarAPI.manage, use: self.view)
        router.on(CalendarAPI.manageSlots, use: self.freeSlots)
        router.on(CalendarAPI.manageICS, use: self.ics)
        router.on(CalendarAPI.manageConfirm) { request, context in try await self.act("confirm", request, context) }
        router.on(CalendarAPI.manageCancel) { request, context in try await self.act("cancel", request, context) }
        router.on(CalendarAPI.manageReschedule, use: self.reschedule)
    }

    /// What the page shows: the appointment as its customer may see it (no notes, no payment, no staff names).
    struct ManagedView: Codable, Sendable, Equatable {
        var id: AppointmentID
        var title: String
        var status: AppointmentStatus
        var startsAt: Date
        var endsAt: Date
        var timeZone: String
        var localStart: String
        var localEnd: String
        var location: String?
        var meetingUrl: String?
        var agentName: String
        var canConfirm: Bool
        var canCancel: Bool
        var canReschedule: Bool
    }

    func located(_ context: AppRequestContext) async throws -> (AppointmentDTO, TenantID) {
        let token = context.parameters.get("token") ?? ""
        let id = try self.links.verify(token)
        guard let found = try await self.appointments.located(id, logger: context.logger) else { throw AppointmentsController.notFound }
        return found
    }

    func managed(_ appointment: AppointmentDTO, tenant: TenantID, context: AppRequestContext) async throws -> ManagedView {
        let agent = try await self.agents.agent(appointment.agentId, tenant: tenant, logger: context.logger)
        let now = Date()
        func allowed(_ action: String) -> Bool {
            (try? AppointmentRules.check(action, from: appointment.status, startsAt: appointment.startsAt, now: now)) != nil
                && appointment.startsAt > now
        }
        return ManagedView(
            id: appointment.id, title: appointment.title, status: appointment.status, startsAt: appointment.startsAt, endsAt: appointment.endsAt,
            timeZone: appointment.timeZone, localStart: appointment.localStart, localEnd: appointment.localEnd, location: appointment.location,
            meetingUrl: appointment.meetingUrl, agentName: agent?.name ?? "", canConfirm: allowed("confirm") && appointment.status != .confirmed,
            canCancel: allowed("cancel"), canReschedule: allowed("reschedule"))
    }

    @Sendable func view(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ManagedView> {
        let (appointment, tenant) = try await self.located(context)
        return JSONResponse(.ok, try await self.managed(appointment, tenant: tenant, context: context))
    }

    struct SlotsView: Codable, Sendable, Equatable {
        var timeZone: String
        var durationMinutes: Int
        var slots: [SlotDTO]
    }

    @Sendable func freeSlots(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SlotsView> {
        let (appointment, tenant) = try await self.located(context)
        let query = request.queryValues
        let now = Date()
        let from = try AppointmentRules.bounded(try query.instant("from"), "from") ?? now
        let to = try AppointmentRules.bounded(try query.instant("to"), "to") ?? from.addingTimeInterval(14 * 86_400)
        guard from < to, to.timeIntervalSince(from) <= 31 * 86_400 else {
            throw APIError.badRequest("invalid_to", "to must be after from, at most 31 days later.")
        }
        let zoneID = try AppointmentRules.zoneIdentifier(try query.string("tz", maxLength: 2048) ?? appointment.timeZone, field: "tz")
        let zone = TimeZone(identifier: zoneID) ?? .gmt
        let minutes = Int((appointment.endsAt.timeIntervalSince(appointment.startsAt) / 60).rounded())
        let free = try await self.slots.slots(
            agent: appointment.agentId, tenant: tenant, from: from, to: to, durationMinutes: minutes, ignoring: appointment.id, logger: context.logger)
        return JSONResponse(.ok, SlotsView(timeZone: zoneID, durationMinutes: minutes, slots: free.prefix(500).map { SlotDTO($0, in: zone) }))
    }

    @Sendable func ics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (appointment, _) = try await self.located(context)
        guard let event = FeedsController.event(appointment) else { throw AppointmentsController.notFound }
        return FeedsController.ics(ICS.calendar(name: appointment.title, events: [event], method: "PUBLISH"), filename: ICS.filename(for: appointment.title))
    }

    func act(_ action: String, _ request: Request, _ context: AppRequestContext) async throws -> JSONResponse<ManagedView> {
        let (appointment, tenant) = try await self.located(context)
        let body =
            try await request.decodeJSON(AppointmentsController.ActionBody.self, context: context, orIfEmpty: AppointmentsController.ActionBody())
            ?? AppointmentsController.ActionBody()
        let changed = try await self.booking.transition(
            action, id: appointment.id, tenant: tenant, reason: body.reason, actor: Self.actor, context: context)
        return JSONResponse(.ok, try await self.managed(changed, tenant: tenant, context: context))
    }

    @Sendable func reschedule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (appointment, tenant) = try await self.located(context)
        var body = try await request.decodeJSON(AppointmentsController.RescheduleBody.self, context: context)
        // the customer picks a start; the length stays the appointment's
        body.endsAt = nil
        let answer = try await self.booking.move(
            appointment.id, tenant: tenant, body, actor: Self.actor, offeredOnly: true, request: request, context: context)
        guard answer.status == .ok, let (moved, _) = try await self.appointments.located(appointment.id, logger: context.logger) else { return answer }
        return try JSONResponse(.ok, try await self.managed(moved, tenant: tenant, context: context)).response(from: request, context: context)
    }
}
