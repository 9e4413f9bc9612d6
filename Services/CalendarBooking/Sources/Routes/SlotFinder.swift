import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// An agent's free slots: its schedule, its appointments, its blocks and the busy times of its connected Google
/// Calendar read from the stores, then the engine
/// (`Domain/Availability.swift`). Used by `GET /v1/availability`, by a booking that must fit the schedule, and for
/// the next free slots a 409 `slot_taken` offers.
struct SlotFinder: Sendable {
    let agents: AgentsStore
    let appointments: AppointmentsStore
    let connections: ConnectionsStore

    /// The agent's schedule as stored, with its zone; nil when it has no rules yet (then it has no slots).
    func schedule(_ agent: CalendarAgentID, tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws
        -> AvailabilitySchedule?
    {
        guard let (zone, json) = try await self.agents.schedule(agent, tenant: tenant, on: connection, logger: logger) else { return nil }
        guard json != "{}" else { return nil }
        var schedule = try CorruptRow.decode(AvailabilitySchedule.self, json)
        schedule.timeZone = zone
        return schedule
    }

    /// `countingBooked` false: what the schedule offers whatever is booked (to tell a taken slot from one never offered);
    /// `ignoring`: an appointment whose own time counts as free (the one being moved).
    func slots(
        agent: CalendarAgentID, tenant: TenantID, from: Date, to: Date, durationMinutes: Int, countingBooked: Bool = true, ignoring: AppointmentID? = nil,
        now: Date = Date(), on connection: PostgresConnection? = nil, logger: Logger
    ) async throws -> [DateInterval] {
        guard let schedule = try await self.schedule(agent, tenant: tenant, on: connection, logger: logger) else { return [] }
        // what may touch the period: a day either side covers the widest buffers
        let margin: TimeInterval = 24 * 3600
        let booked =
            !countingBooked
            ? []
            : try await self.appointments.booked(
                agent: agent, from: from.addingTimeInterval(-margin), to: to.addingTimeInterval(margin), ignoring: ignoring, on: connection,
                logger: logger)
        let busy =
            !countingBooked
            ? []
            : try await self.connections.busy(agent: agent, from: from, to: to, on: connection, logger: logger)
        let blocks = try await self.agents.blocks(
            agent: agent, tenant: tenant, from: from.addingTimeInterval(-margin), to: to.addingTimeInterval(margin), on: connection, logger: logger)
        return Availability.freeSlots(
            schedule: schedule,
            booked: booked.map { Booked(start: $0.start, end: $0.end, bufferBeforeMinutes: $0.before, bufferAfterMinutes: $0.after) },
            blocked: blocks.map { DateInterval(start: $0.startsAt, end: $0.endsAt) } + busy.map { DateInterval(start: $0.start, end: $0.end) }, from: from,
            to: to, durationMinutes: durationMinutes, now: now)
    }

    /// Up to `count` free slots of the same length from `after` on, within two weeks.
    func next(agent: CalendarAgentID, tenant: TenantID, after: Date, durationMinutes: Int, count: Int = 5, logger: Logger) async throws -> [DateInterval] {
        Array(
            try await self.slots(
                agent: agent, tenant: tenant, from: after, to: after.addingTimeInterval(14 * 24 * 3600), durationMinutes: durationMinutes, logger: logger
            ).prefix(count))
    }
}
