import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `calendar-booking seed-demo`: the demo tenant's calendars, an agent who shows flats (Nairobi, Monday to Saturday
/// 08:00–17:00) and a pickup van (90-minute pickups), with a few appointments in the coming days. Run again, it
/// changes nothing: it makes them only when the tenant has no calendar yet.
enum DemoSeed {
    static func run(postgres: PostgresClient, logger: Logger) async throws {
        let tenant = DemoData.tenant
        let audit = AuditLog(schema: "calendar")
        let agents = AgentsStore(postgres: postgres, audit: audit)
        // the seed connects no Google calendar: its connections store never opens a token
        let connections = ConnectionsStore(
            postgres: postgres, audit: audit, jobs: JobQueue(schema: "calendar"),
            box: try SecretBox(configuration: SecretBox.derivedConfiguration(serviceKey: "seed-demo", purpose: "unused"), key: "seed"))
        let appointments = AppointmentsStore(
            postgres: postgres, audit: audit, reminders: RemindersStore(postgres: postgres, audit: audit), connections: connections,
            crm: CRMEvents(jobs: JobQueue(schema: "calendar")))
        guard try await agents.agents(tenant: tenant, after: nil, limit: 1, logger: logger).isEmpty else { return }
        let actor = "seed-demo"
        let weekdays = (1...6).map { WeeklyRule(weekday: $0, start: LocalTime("08:00")!, end: LocalTime("17:00")!) }
        let schedule = AvailabilitySchedule(
            timeZone: "Africa/Nairobi", weekly: weekdays, bufferBeforeMinutes: 10, bufferAfterMinutes: 10, minimumNoticeMinutes: 60)
        let (amina, van) = try await postgres.withTransaction(logger: logger) { connection in
            let amina = try await agents.create(
                .init(
                    name: "Amina Njeri", kind: .person, email: "amina@demo.sokoni.example", timeZone: "Africa/Nairobi",
                    serviceDurations: ["viewing": 45], active: true),
                tenant: tenant, actor: actor, requestID: actor, on: connection, logger: logger)
            let van = try await agents.create(
                .init(name: "Pickup van KDA 123", kind: .resource, timeZone: "Africa/Nairobi", serviceDurations: ["pickup": 90], active: true),
                tenant: tenant, actor: actor, requestID: actor, on: connection, logger: logger)
            return (amina, van)
        }
        let json = try JSONEncoder.canonical.encodeString(schedule)
        for agent in [amina, van] {
            _ = try await agents.setSchedule(
                agent.id, tenant: tenant, timeZone: schedule.timeZone, schedule: json, actor: actor, requestID: actor, logger: logger)
        }
        // the next working days at 10:00 and 14:00 Nairobi time (07:00 and 11:00 UTC)
        let midnight = ((Date().timeIntervalSince1970 / 86_400).rounded(.down) + 1) * 86_400
        func at(day: Int, utcHour: Int) -> Date { Date(timeIntervalSince1970: midnight + Double(day * 86_400 + utcHour * 3600)) }
        let bookings: [(CalendarAgentID, String, String?, Int, Int, AppointmentStatus, String, String)] = [
            (amina.id, "Viewing: 2-bedroom, Kilimani", "viewing", 0, 7, .confirmed, "Wanjiru Kamau", "+254712000101"),
            (amina.id, "Viewing: studio, Westlands", "viewing", 1, 11, .scheduled, "Otieno Ochieng", "+254712000102"),
            (van.id, "Pickup: 3 loads, Kilimani", "pickup", 0, 11, .scheduled, "Grace Muthoni", "+254712000103"),
        ]
        for (agent, title, service, day, hour, status, name, phone) in bookings {
            let start = at(day: day, utcHour: hour)
            let minutes = service == "pickup" ? 90 : 45
            var new = AppointmentsStore.NewAppointment(
                agent: agent, type: service == "pickup" ? .other : .propertyVisit, title: title, status: status, start: start,
                end: start.addingTimeInterval(Double(minutes) * 60), timeZone: "Africa/Nairobi", source: .manual)
            new.serviceType = service
            new.contactName = name
            new.contactPhone = phone
            new.bufferBefore = 10
            new.bufferAfter = 10
            if service == "pickup" { new.metadata = ["pickupAddress": .string("Argwings Kodhek Rd"), "loads": .number(3)] }
            _ = try await postgres.withTransaction(logger: logger) { connection in
                try await appointments.book(new, tenant: tenant, actor: actor, requestID: actor, on: connection, logger: logger)
            }
        }
    }
}
