import Foundation
import Models

/// calendar-booking's public API (who may call what): agents (people and bookable resources) with their
/// availability, and the appointments booked with them. Everyone who reads a tenant's data reads its calendar; the
/// tenant's admins and agents (and agent-core's booking tools) book; the admins set who is available when.
public enum CalendarAPI {
    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .calendarBooking)
    }

    static let readers = Roles.readers.union([.agent, .service])
    /// Who books, moves and ends appointments.
    static let schedulers: Set<Role> = [.superAdmin, .support, .tenantAdmin, .agent, .service]
    /// Who opens calendars and sets their weekly rules.
    static let planners: Set<Role> = [.superAdmin, .tenantAdmin, .service]
    /// Who blocks time off.
    static let blockers: Set<Role> = [.superAdmin, .tenantAdmin, .agent, .service]

    public static let listAgents = endpoint("GET", "/v1/calendar/agents", .roles(readers))
    /// A person who takes appointments, or a resource that is booked (a van), with its time zone.
    public static let createAgent = endpoint("POST", "/v1/calendar/agents", .roles(planners))
    public static let getAgent = endpoint("GET", "/v1/calendar/agents/{id}", .roles(readers))
    public static let updateAgent = endpoint("PATCH", "/v1/calendar/agents/{id}", .roles(planners))

    /// A new secret feed URL for the agent's calendar (the old one stops working).
    public static let createFeed = endpoint("POST", "/v1/calendar/agents/{id}/feed", .roles(planners))
    /// The agent's appointments as an iCalendar feed, for calendar apps: public, the token in the path is the key.
    public static let feed = endpoint("GET", "/v1/calendar/feeds/{token}.ics", .public)

    /// Which reminders appointments get (minutes before the start) and whether bookings are confirmed.
    public static let getSettings = endpoint("GET", "/v1/calendar/settings", .roles(readers))
    public static let putSettings = endpoint("PUT", "/v1/calendar/settings", .roles(planners))

    /// Free slots of an agent for a duration in a period, in the asker's time zone.
    public static let availability = endpoint("GET", "/v1/availability", .roles(readers))
    public static let getRules = endpoint("GET", "/v1/availability/rules", .roles(readers))
    /// The agent's weekly rules, date overrides, buffers, minimum notice, maximum per day and slot step.
    public static let putRules = endpoint("PUT", "/v1/availability/rules", .roles(planners))
    public static let listBlocks = endpoint("GET", "/v1/availability/blocks", .roles(readers))
    public static let createBlock = endpoint("POST", "/v1/availability/blocks", .roles(blockers))
    public static let deleteBlock = endpoint("DELETE", "/v1/availability/blocks/{id}", .roles(blockers))

    public static let listAppointments = endpoint("GET", "/v1/appointments", .roles(readers))
    /// Books a slot (`status` `pending` holds it for a while, until confirmed); a taken slot is 409 with the next free ones.
    public static let createAppointment = endpoint("POST", "/v1/appointments", .roles(schedulers))
    public static let getAppointment = endpoint("GET", "/v1/appointments/{id}", .roles(readers))
    /// One appointment as an `.ics` file (the one a confirmation attaches).
    public static let appointmentICS = endpoint("GET", "/v1/appointments/{id}.ics", .roles(readers))
    /// The notices the appointment is owed or was sent (confirmation, reminders, a move), with their state.
    public static let appointmentReminders = endpoint("GET", "/v1/appointments/{id}/reminders", .roles(readers))
    /// Title, notes, contact, location, meeting URL, payment and metadata (not the time: reschedule).
    public static let updateAppointment = endpoint("PATCH", "/v1/appointments/{id}", .roles(schedulers))
    public static let confirmAppointment = endpoint("POST", "/v1/appointments/{id}/confirm", .roles(schedulers))
    public static let cancelAppointment = endpoint("POST", "/v1/appointments/{id}/cancel", .roles(schedulers))
    public static let rescheduleAppointment = endpoint("POST", "/v1/appointments/{id}/reschedule", .roles(schedulers))
    public static let completeAppointment = endpoint("POST", "/v1/appointments/{id}/complete", .roles(schedulers))
    public static let noShowAppointment = endpoint("POST", "/v1/appointments/{id}/no-show", .roles(schedulers))

    /// Google Calendar connections: the answer to a new one carries Google's consent URL; Google sends the admin's
    /// browser back to the callback (public: the one-use state it carries is checked).
    public static let listConnections = endpoint("GET", "/v1/calendar/connections", .roles(readers))
    public static let createConnection = endpoint("POST", "/v1/calendar/connections", .roles(planners))
    public static let deleteConnection = endpoint("DELETE", "/v1/calendar/connections/{id}", .roles(planners))
    public static let syncConnection = endpoint("POST", "/v1/calendar/connections/{id}/sync", .roles(planners))
    /// Google's free/busy for the connected calendar, read live.
    public static let connectionBusy = endpoint("GET", "/v1/calendar/connections/{id}/busy", .roles(readers))
    public static let googleCallback = endpoint("GET", "/v1/calendar/oauth/google/callback", .public)

    /// A reminder's signed link (public: the token is the key): the appointment, its free slots to move to, its
    /// `.ics`, and confirm, cancel, reschedule.
    public static let manage = endpoint("GET", "/v1/calendar/manage/{token}", .public)
    public static let manageSlots = endpoint("GET", "/v1/calendar/manage/{token}/slots", .public)
    public static let manageICS = endpoint("GET", "/v1/calendar/manage/{token}/appointment.ics", .public)
    public static let manageConfirm = endpoint("POST", "/v1/calendar/manage/{token}/confirm", .public)
    public static let manageCancel = endpoint("POST", "/v1/calendar/manage/{token}/cancel", .public)
    public static let manageReschedule = endpoint("POST", "/v1/calendar/manage/{token}/reschedule", .public)

    /// Per UTC day: `booked` (made that day, not a hold), `cancelled` (that day), `completed` and `no_show` (of the
    /// appointments that started that day) (`DailyCounts`).
    public static let daily = endpoint("GET", "/v1/calendar/daily", .roles(DailyCounts.readers))

    public static let all: [Endpoint] = [
        daily, listAgents, createAgent, getAgent, updateAgent, createFeed, feed, getSettings, putSettings, availability, getRules, putRules, listBlocks,
        createBlock,
        deleteBlock,
        listAppointments, createAppointment, getAppointment, appointmentICS, appointmentReminders, updateAppointment, confirmAppointment, cancelAppointment,
        rescheduleAppointment,
        completeAppointment, noShowAppointment, listConnections, createConnection, deleteConnection, syncConnection, connectionBusy, googleCallback,
        manage, manageSlots, manageICS, manageConfirm, manageCancel, manageReschedule,
    ]

    // MARK: views, as the service answers them (what a client reads)

    /// A calendar: a person or resource, with its zone and the minutes each service type takes.
    public struct AgentView: Codable, Sendable, Equatable {
        public var id: CalendarAgentID
        public var name: String
        public var kind: String
        public var timeZone: String
        public var serviceDurations: [String: Int]
        public var active: Bool
    }

    /// A free slot, as instants and in the asker's zone.
    public struct Slot: Codable, Sendable, Equatable {
        public var startsAt: Date
        public var endsAt: Date
        public var localStart: String
        public var localEnd: String
    }

    /// `GET /v1/availability`: one agent's free slots of one length.
    public struct SlotsView: Codable, Sendable, Equatable {
        public var agentId: CalendarAgentID
        public var timeZone: String
        public var durationMinutes: Int
        public var slots: [Slot]
    }

    /// An appointment (the fields a client needs; the service answers more).
    public struct AppointmentView: Codable, Sendable, Equatable {
        public var id: AppointmentID
        public var agentId: CalendarAgentID
        public var status: String
        public var startsAt: Date
        public var endsAt: Date
        public var timeZone: String
        public var localStart: String
        public var localEnd: String
        public var title: String
        public var serviceType: String?
        public var contactName: String?
        public var contactPhone: String?
        public var source: String
        public var conversationId: ConversationID?
        public var holdExpiresAt: Date?
    }

    /// `POST /v1/appointments`: `status` `pending` (a hold), `scheduled` or `confirmed`; `source` `whatsapp`, `sms`,
    /// `web`, `voice`, `agent` or `manual`. Without `durationMinutes`, the agent's duration for `serviceType`.
    public struct NewAppointment: Codable, Sendable, Equatable {
        public var agentId: String
        public var startsAt: Date
        public var durationMinutes: Int?
        public var serviceType: String?
        public var title: String?
        public var status: String?
        public var holdMinutes: Int?
        public var contactName: String?
        public var contactPhone: String?
        public var source: String?
        public var conversationId: String?

        public init(
            agentId: String, startsAt: Date, durationMinutes: Int? = nil, serviceType: String? = nil, title: String? = nil, status: String? = nil,
            holdMinutes: Int? = nil, contactName: String? = nil, contactPhone: String? = nil, source: String? = nil, conversationId: String? = nil
        ) {
            self.agentId = agentId
            self.startsAt = startsAt
            self.durationMinutes = durationMinutes
            self.serviceType = serviceType
            self.title = title
            self.status = status
            self.holdMinutes = holdMinutes
            self.contactName = contactName
            self.contactPhone = contactPhone
            self.source = source
            self.conversationId = conversationId
        }
    }

    /// `POST /v1/appointments/{id}/reschedule`.
    public struct Reschedule: Codable, Sendable, Equatable {
        public var startsAt: Date
        public var reason: String?

        public init(startsAt: Date, reason: String? = nil) {
            self.startsAt = startsAt
            self.reason = reason
        }
    }

    /// `POST /v1/appointments/{id}/cancel` (and the other actions).
    public struct Action: Codable, Sendable, Equatable {
        public var reason: String?

        public init(reason: String? = nil) {
            self.reason = reason
        }
    }
}
