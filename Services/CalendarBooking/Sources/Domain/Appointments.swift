import Foundation
import Models
import ServiceKit

enum AgentKind: String, Codable, Sendable, CaseIterable {
    /// Someone who takes appointments.
    case person
    /// Something that is booked: a pickup van, a room.
    case resource
}

enum AppointmentType: String, Codable, Sendable, CaseIterable {
    case propertyVisit = "property_visit"
    case virtualMeeting = "virtual_meeting"
    case phoneCall = "phone_call"
    case officeMeeting = "office_meeting"
    case other
}

enum AppointmentSource: String, Codable, Sendable, CaseIterable {
    case voice, sms, whatsapp, web, manual, agent
}

enum PaymentStatus: String, Codable, Sendable, CaseIterable {
    case none, pending, paid, refunded, failed
}

enum AppointmentStatus: String, Codable, Sendable, CaseIterable {
    /// Held while a conversation confirms it; frees itself at `holdExpiresAt`.
    case pending
    case scheduled, confirmed
    case cancelled, completed
    case noShow = "no_show"
    /// A hold whose time ran out.
    case expired

    /// Holding its slot: the exclusion constraint compares these.
    var isActive: Bool { self == .pending || self == .scheduled || self == .confirmed }
}

/// A calendar: its zone, schedule and service durations.
struct CalendarAgentDTO: Codable, Sendable, Equatable {
    var id: CalendarAgentID
    var name: String
    var kind: AgentKind
    var agentCoreId: AgentID?
    var userId: UserID?
    var email: String?
    var timeZone: String
    /// Minutes per service type (`pickup`: 90).
    var serviceDurations: [String: Int]
    var active: Bool
    var createdAt: Date
    var updatedAt: Date
}

struct BlockDTO: Codable, Sendable, Equatable {
    var id: CalendarBlockID
    var agentId: CalendarAgentID
    var startsAt: Date
    var endsAt: Date
    var reason: String?
    var createdBy: String
    var createdAt: Date
}

struct Participant: Codable, Sendable, Equatable {
    var name: String?
    var email: String?
    var phone: String?
}

/// One earlier time of a rescheduled appointment.
struct Reschedule: Codable, Sendable, Equatable {
    var startsAt: Date
    var endsAt: Date
    var at: Date
    var by: String
    var reason: String?
}

struct AppointmentDTO: Codable, Sendable, Equatable {
    var id: AppointmentID
    var agentId: CalendarAgentID
    var leadId: UUID?
    var contactId: ContactID?
    var contactName: String?
    var contactPhone: String?
    var contactEmail: String?
    var type: AppointmentType
    var serviceType: String?
    var title: String
    var notes: String?
    var status: AppointmentStatus
    var holdExpiresAt: Date?
    var startsAt: Date
    var endsAt: Date
    var timeZone: String
    /// The start and end as the customer saw them, in `timeZone` (`2027-03-28T09:00:00+02:00`).
    var localStart: String
    var localEnd: String
    var location: String?
    var meetingUrl: String?
    var participants: [Participant]
    var source: AppointmentSource
    var conversationId: ConversationID?
    var payment: Payment?
    var metadata: [String: JSONValue]
    var cancellationReason: String?
    var cancelledAt: Date?
    var reschedules: [Reschedule]
    var createdBy: String
    var createdAt: Date
    var updatedAt: Date

    struct Payment: Codable, Sendable, Equatable {
        var amount: Money
        var status: PaymentStatus
    }
}

/// The rules an appointment's life follows.
enum AppointmentRules {
    /// Where each status may go by the API's actions (expiry is the sweeper's alone).
    static func check(_ action: String, from status: AppointmentStatus, startsAt: Date, now: Date) throws -> AppointmentStatus {
        let to: AppointmentStatus
        let allowed: Set<AppointmentStatus>
        switch action {
        case "confirm":
            to = .confirmed
            allowed = [.pending, .scheduled]
        case "cancel":
            to = .cancelled
            allowed = [.pending, .scheduled, .confirmed]
        case "complete":
            to = .completed
            allowed = [.scheduled, .confirmed]
        case "no-show":
            to = .noShow
            allowed = [.scheduled, .confirmed]
        case "reschedule":
            to = .scheduled
            allowed = [.pending, .scheduled, .confirmed]
        default:
            throw APIError.notFound("not_found", "No such action.")
        }
        guard allowed.contains(status) else {
            throw APIError.conflict("invalid_transition", "This appointment is \(status.rawValue): it cannot be \(Self.pastTense[action] ?? action).")
        }
        if to == .noShow && now < startsAt {
            throw APIError.conflict("not_started", "A no-show is recorded only after the appointment's start.")
        }
        if to == .completed && now < startsAt {
            throw APIError.conflict("not_started", "An appointment is completed only after its start.")
        }
        // a reschedule keeps a confirmed or pending appointment's standing: a moved hold is still a hold
        if action == "reschedule" { return status == .confirmed ? .confirmed : (status == .pending ? .pending : .scheduled) }
        return to
    }

    static let pastTense = ["confirm": "confirmed", "cancel": "cancelled", "complete": "completed", "no-show": "marked a no-show", "reschedule": "rescheduled"]

    /// A time zone the zone database knows.
    static func timeZone(_ identifier: String?, field: String) throws -> TimeZone {
        let identifier = try Self.zoneIdentifier(identifier, field: field)
        guard let zone = TimeZone(identifier: identifier) else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) must be an IANA zone such as Africa/Nairobi.")
        }
        return zone
    }

    /// The zone database's names (and `UTC`): `GMT+5`, `EST` and other abbreviations Foundation also takes are not
    /// IANA zones, and would be stored as something else than asked.
    static let ianaZones: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers).union(["UTC"])

    /// An IANA zone name, as given.
    static func zoneIdentifier(_ identifier: String?, field: String) throws -> String {
        guard let identifier, !identifier.isEmpty else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) is required: an IANA zone such as Africa/Nairobi.")
        }
        // the zone list Foundation knows, or an Area/Location name it resolves (`Etc/UTC`, which the list may omit)
        let named = Self.ianaZones.contains(identifier) || (identifier.contains("/") && !identifier.hasPrefix("/") && !identifier.hasSuffix("/"))
        guard identifier.count <= 64, named, TimeZone(identifier: identifier) != nil else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) must be an IANA zone such as Africa/Nairobi, Europe/Malta or America/Santiago.")
        }
        return identifier
    }

    /// An instant a query may name: between 2000 and 2100, else 400 `invalid_<name>`.
    static func bounded(_ instant: Date?, _ name: String) throws -> Date? {
        guard let instant else { return nil }
        guard instant.timeIntervalSince1970 > 946_684_800, instant.timeIntervalSince1970 < 4_102_444_800 else {
            throw APIError.badRequest("invalid_\(name)", "The query parameter \(name) must fall between 2000 and 2100.")
        }
        return instant
    }

    /// The longest an appointment may last, and the furthest ahead or back a query may look.
    static let maxDuration: TimeInterval = 24 * 3600
    static let maxQuerySpan: TimeInterval = 62 * 24 * 3600

    static func interval(start: Date?, end: Date?) throws -> (Date, Date) {
        guard let start, let end else { throw APIError.unprocessable("invalid_time", "startsAt and endsAt are required (ISO 8601 instants).") }
        guard end.timeIntervalSince(start) >= 5 * 60 else { throw APIError.unprocessable("invalid_time", "endsAt must be at least 5 minutes after startsAt.") }
        guard end.timeIntervalSince(start) <= Self.maxDuration else {
            throw APIError.unprocessable("invalid_time", "An appointment lasts at most 24 hours.")
        }
        guard start.timeIntervalSince1970 > 946_684_800, end.timeIntervalSince1970 < 4_102_444_800 else {
            throw APIError.unprocessable("invalid_time", "Times must fall between 2000 and 2100.")
        }
        return (start, end)
    }

    /// Service-specific fields: a flat JSON object of at most 20 short values (a pickup address, a number of loads).
    static func metadata(_ value: [String: JSONValue]?) throws -> [String: JSONValue] {
        guard let value else { return [:] }
        guard value.count <= 20 else { throw APIError.unprocessable("invalid_metadata", "metadata holds at most 20 fields.") }
        for (key, field) in value {
            guard (1...60).contains(key.count) else { throw APIError.unprocessable("invalid_metadata", "metadata keys are 1 to 60 characters.") }
            switch field {
            case .string(let text):
                guard text.count <= 500 else { throw APIError.unprocessable("invalid_metadata", "metadata.\(key) is longer than 500 characters.") }
            case .number, .bool, .null: break
            default: throw APIError.unprocessable("invalid_metadata", "metadata.\(key) must be a string, a number or a boolean.")
            }
        }
        return value
    }
}
