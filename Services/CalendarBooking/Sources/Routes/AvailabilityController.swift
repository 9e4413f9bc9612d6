import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET /v1/availability` (an agent's free slots for a duration, in the asker's zone), `GET/PUT
/// /v1/availability/rules` (the weekly rules, overrides, buffers, notice, maximum per day and step of one agent) and
/// `GET/POST/DELETE /v1/availability/blocks` (time off). An agent without rules has no slots.
struct AvailabilityController: Sendable {
    let agents: AgentsStore
    let slots: SlotFinder
    /// A block is made once per `Idempotency-Key`.
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CalendarAPI.availability, use: self.availability)
        router.on(CalendarAPI.getRules, use: self.getRules)
        router.on(CalendarAPI.putRules, use: self.putRules)
        router.on(CalendarAPI.listBlocks, use: self.listBlocks)
        router.on(CalendarAPI.createBlock, use: self.createBlock)
        router.on(CalendarAPI.deleteBlock, use: self.deleteBlock)
    }

    struct SlotsView: Codable, Sendable, Equatable {
        var agentId: CalendarAgentID
        var timeZone: String
        var durationMinutes: Int
        var slots: [SlotDTO]
    }

    static func agentID(_ request: Request) throws -> CalendarAgentID {
        guard let id = try request.queryValues.id("agentId", as: CalendarAgentID.self) else {
            throw APIError.badRequest("invalid_agentId", "The query parameter agentId is required: a calendar agent's id.")
        }
        return id
    }

    @Sendable func availability(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SlotsView> {
        let (_, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let agentID = try Self.agentID(request)
        guard let agent = try await self.agents.agent(agentID, tenant: tenant, logger: context.logger) else { throw AgentsController.notFound }
        let from = try AppointmentRules.bounded(try query.instant("from"), "from") ?? Date()
        let to = try AppointmentRules.bounded(try query.instant("to"), "to") ?? from.addingTimeInterval(7 * 24 * 3600)
        guard from < to, to.timeIntervalSince(from) <= AppointmentRules.maxQuerySpan else {
            throw APIError.badRequest("invalid_to", "to must be after from, at most 62 days later.")
        }
        let serviceType = try query.string("serviceType", maxLength: 60)
        guard let duration = try query.int("duration", range: 5...1440) ?? serviceType.flatMap({ agent.serviceDurations[$0] }) else {
            throw APIError.badRequest(
                "invalid_duration", "The query parameter duration (minutes, 5 to 1440) is required, or a serviceType the agent has a duration for.")
        }
        let zone = try query.string("tz", maxLength: 64).map { try Self.zone($0) } ?? TimeZone(identifier: agent.timeZone) ?? .gmt
        let free =
            agent.active
            ? try await self.slots.slots(agent: agentID, tenant: tenant, from: from, to: to, durationMinutes: duration, logger: context.logger) : []
        return JSONResponse(
            .ok, SlotsView(agentId: agentID, timeZone: zone.identifier, durationMinutes: duration, slots: free.map { SlotDTO($0, in: zone) }))
    }

    static func zone(_ identifier: String) throws -> TimeZone {
        do { return try AppointmentRules.timeZone(identifier, field: "tz") } catch {
            throw APIError.badRequest("invalid_tz", "The query parameter tz must be an IANA zone such as Europe/Malta.")
        }
    }

    /// An agent's schedule as the API shows it (`weekly` empty: no rules, so no slots).
    struct RulesView: Codable, Sendable, Equatable {
        var agentId: CalendarAgentID
        var schedule: AvailabilitySchedule
    }

    @Sendable func getRules(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RulesView> {
        let (_, tenant) = try context.requireTenantCaller()
        let agentID = try Self.agentID(request)
        guard let agent = try await self.agents.agent(agentID, tenant: tenant, logger: context.logger) else { throw AgentsController.notFound }
        let schedule =
            try await self.slots.schedule(agentID, tenant: tenant, logger: context.logger)
            ?? AvailabilitySchedule(timeZone: agent.timeZone, weekly: [], overrides: [])
        return JSONResponse(.ok, RulesView(agentId: agentID, schedule: schedule))
    }

    struct RulesBody: Decodable {
        var agentId: String?
        var schedule: AvailabilitySchedule?
    }

    @Sendable func putRules(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<RulesView> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(RulesBody.self, context: context)
        guard let agentText = body.agentId, let agentID = CalendarAgentID(agentText) else {
            throw APIError.unprocessable("invalid_agentId", "agentId is required: a calendar agent's id.")
        }
        guard let schedule = body.schedule else {
            throw APIError.unprocessable("invalid_schedule", "schedule is required: {timeZone, weekly, overrides, bufferBeforeMinutes, …}.")
        }
        do { try schedule.validate() } catch { throw APIError.unprocessable("invalid_schedule", error.message) }
        do { _ = try AppointmentRules.zoneIdentifier(schedule.timeZone, field: "timeZone") } catch {
            throw APIError.unprocessable("invalid_schedule", "timeZone: must be an IANA zone such as Africa/Nairobi.")
        }
        let json = try JSONEncoder.canonical.encodeString(schedule)
        guard
            try await self.agents.setSchedule(
                agentID, tenant: tenant, timeZone: schedule.timeZone, schedule: json, actor: caller.subject, requestID: context.requestID,
                logger: context.logger)
        else { throw AgentsController.notFound }
        return JSONResponse(.ok, RulesView(agentId: agentID, schedule: schedule))
    }

    @Sendable func listBlocks(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<BlockDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let agentID = try Self.agentID(request)
        let query = request.queryValues
        let from = try AppointmentRules.bounded(try query.instant("from"), "from") ?? Date()
        let to = try AppointmentRules.bounded(try query.instant("to"), "to") ?? from.addingTimeInterval(31 * 24 * 3600)
        guard from < to, to.timeIntervalSince(from) <= 366 * 24 * 3600 else {
            throw APIError.badRequest("invalid_to", "to must be after from, at most a year later.")
        }
        let blocks = try await self.agents.blocks(agent: agentID, tenant: tenant, from: from, to: to, logger: context.logger)
        return JSONResponse(.ok, Page(items: blocks, nextCursor: nil))
    }

    struct BlockBody: Decodable {
        var agentId: String?
        var startsAt: Date?
        var endsAt: Date?
        var reason: String?
    }

    @Sendable func createBlock(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(BlockBody.self, context: context)
        guard let agentText = body.agentId, let agentID = CalendarAgentID(agentText) else {
            throw APIError.unprocessable("invalid_agentId", "agentId is required: a calendar agent's id.")
        }
        guard let start = body.startsAt, let end = body.endsAt, start < end else {
            throw APIError.unprocessable("invalid_time", "startsAt and endsAt are required, endsAt after startsAt.")
        }
        guard end.timeIntervalSince(start) <= 366 * 24 * 3600, start.timeIntervalSince1970 > 946_684_800, end.timeIntervalSince1970 < 4_102_444_800 else {
            throw APIError.unprocessable("invalid_time", "A block lasts at most a year, between 2000 and 2100.")
        }
        try TextRules.check(body.reason, field: "reason", length: 1...500)
        return try await self.idempotency.write(request, context: context, postgres: self.agents.postgres) { connection in
            JSONResponse(
                .created,
                try await self.agents.createBlock(
                    agent: agentID, start: start, end: end, reason: body.reason, tenant: tenant, actor: caller.subject, requestID: context.requestID,
                    on: connection, logger: context.logger))
        }
    }

    @Sendable func deleteBlock(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: CalendarBlockID.self)
        guard try await self.agents.deleteBlock(id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger) else {
            throw APIError.notFound("block_not_found", "No such block.")
        }
        return Response(status: .noContent)
    }
}
