import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of appointments: booking (the exclusion constraint refuses an overlap, however many race for a slot),
/// reading, editing, the transitions with their audit rows, and holds that expire. Each appointment occupies its
/// time widened by the agent's buffers at booking; an expired hold of the agent is swept inside the booking's own
/// transaction, so a slot frees itself the moment its hold ends even before the sweeper passes.
struct AppointmentsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    /// The notices an appointment is owed, planned in the same transaction as what changed it.
    let reminders: RemindersStore
    /// Its event in a connected Google Calendar, pushed by a job queued in the same transaction.
    let connections: ConnectionsStore
    /// The CRM hears of bookings, cancellations, completions and no-shows (the lead's timeline and totals).
    let crm: CRMEvents

    static let slotTaken = APIError.conflict("slot_taken", "The agent already has an appointment at that time.")
    static let errors = ConstraintErrors(
        [
            "appointments_no_overlap": slotTaken,
            "appointments_agent_fkey": .unprocessable("unknown_agent", "No such calendar agent in this tenant."),
            "appointments_order": .unprocessable("invalid_time", "endsAt must be after startsAt."),
        ],
        // concurrent inserts checked by one exclusion constraint can deadlock each other (each waits for the other's
        // overlapping row); PostgreSQL lets one through and aborts the other, whose slot was just taken
        byState: ["40P01": slotTaken])

    static let columns = """
        id, agent_id, lead_id, contact_id, contact_name, contact_phone, contact_email, type, service_type, title, notes, status, hold_expires_at,
        starts_at, ends_at, time_zone, buffer_before_minutes, buffer_after_minutes, location, meeting_url, participants::text, source,
        conversation_id, payment_amount, payment_currency, payment_status, metadata::text, cancellation_reason, cancelled_at, reschedules::text,
        created_by, created_at, updated_at
        """

    static func appointment(_ row: PostgresRow) throws -> AppointmentDTO {
        let r = row.makeRandomAccess()
        let zoneID = try r["time_zone"].decode(String.self)
        guard let zone = TimeZone(identifier: zoneID) else { throw CorruptRow("an appointment's zone is unknown: \(zoneID)") }
        let start = try r["starts_at"].decode(Date.self)
        let end = try r["ends_at"].decode(Date.self)
        var payment: AppointmentDTO.Payment? = nil
        if let amount = try r["payment_amount"].decode(Int64?.self), let code = try r["payment_currency"].decode(String?.self) {
            guard let currency = Currency(code: code) else { throw CorruptRow("an appointment's currency is unknown: \(code)") }
            payment = .init(
                amount: Money(minorUnits: amount, currency: currency),
                status: try CorruptRow.known(try r["payment_status"].decode(String?.self) ?? PaymentStatus.none.rawValue))
        }
        return AppointmentDTO(
            id: AppointmentID(try r["id"].decode(UUID.self)), agentId: CalendarAgentID(try r["agent_id"].decode(UUID.self)),
            leadId: try r["lead_id"].decode(UUID?.self), contactId: try r["contact_id"].decode(UUID?.self).map { ContactID(rawValue: $0) },
            contactName: try r["contact_name"].decode(String?.self), contactPhone: try r["contact_phone"].decode(String?.self),
            contactEmail: try r["contact_email"].decode(String?.self), type: try CorruptRow.known(try r["type"].decode(String.self)),
            serviceType: try r["service_type"].decode(String?.self), title: try r["title"].decode(String.self), notes: try r["notes"].decode(String?.self),
            status: try CorruptRow.known(try r["status"].decode(String.self)), holdExpiresAt: try r["hold_expires_at"].decode(Date?.self),
            startsAt: start, endsAt: end, timeZone: zoneID, localStart: Availability.local(start, in: zone),
            localEnd: Availability.local(end, in: zone), location: try r["location"].decode(String?.self),
            meetingUrl: try r["meeting_url"].decode(String?.self),
            participants: try CorruptRow.decode([Participant].self, try r["participants"].decode(String.self)),
            source: try CorruptRow.known(try r["source"].decode(String.self)),
            conversationId: try r["conversation_id"].decode(UUID?.self).map { ConversationID(rawValue: $0) }, payment: payment,
            metadata: try CorruptRow.decode([String: JSONValue].self, try r["metadata"].decode(String.self)),
            cancellationReason: try r["cancellation_reason"].decode(String?.self), cancelledAt: try r["cancelled_at"].decode(Date?.self),
            reschedules: try CorruptRow.decode([Reschedule].self, try r["reschedules"].decode(String.self)),
            createdBy: try r["created_by"].decode(String.self), createdAt: try r["created_at"].decode(Date.self),
            updatedAt: try r["updated_at"].decode(Date.self))
    }

    struct NewAppointment: Sendable {
        var agent: CalendarAgentID
        var type: AppointmentType
        var title: String
        /// `pending` (a hold until `holdExpiresAt`), `scheduled` or `confirmed`.
        var status: AppointmentStatus
        var start: Date
        var end: Date
        var timeZone: String
        var source: AppointmentSource
        var leadId: UUID? = nil
        var contactId: ContactID? = nil
        var contactName: String? = nil
        var contactPhone: String? = nil
        var contactEmail: String? = nil
        var serviceType: String? = nil
        var notes: String? = nil
        var holdExpiresAt: Date? = nil
        var bufferBefore = 0
        var bufferAfter = 0
        var location: String? = nil
        var meetingUrl: String? = nil
        var participants: [Participant] = []
        var conversationId: ConversationID? = nil
        var payment: AppointmentDTO.Payment? = nil
        var metadata: [String: JSONValue] = [:]
    }

    /// The range an appointment occupies: its time widened by the buffers.
    static func occupies(start: Date, end: Date, before: Int, after: Int) -> (Date, Date) {
        (start.addingTimeInterval(-Double(before) * 60), end.addingTimeInterval(Double(after) * 60))
    }

    /// Books on the caller's transaction (the idempotency one): the agent's expired holds first, then the insert,
    /// which the exclusion constraint refuses with 409 `slot_taken` when the slot is held or booked.
    func book(_ new: NewAppointment, tenant: TenantID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> AppointmentDTO
    {
        try await Self.errors.map {
            try await self.expireHolds(agent: new.agent, on: connection, requestID: requestID, logger: logger)
            let (from, to) = Self.occupies(start: new.start, end: new.end, before: new.bufferBefore, after: new.bufferAfter)
            let participants = try JSONEncoder.canonical.encodeString(new.participants)
            let metadata = try JSONEncoder.canonical.encodeString(new.metadata)
            let row = try await connection.query(
                """
                INSERT INTO calendar.appointments (id, tenant_id, agent_id, lead_id, contact_id, contact_name, contact_phone, contact_email, type,
                    service_type, title, notes, status, hold_expires_at, starts_at, ends_at, time_zone, buffer_before_minutes, buffer_after_minutes,
                    occupies, location, meeting_url, participants, source, conversation_id, payment_amount, payment_currency, payment_status, metadata,
                    created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(new.agent.rawValue), \(new.leadId), \(new.contactId?.rawValue), \(new.contactName),
                    \(new.contactPhone), \(new.contactEmail), \(new.type.rawValue), \(new.serviceType), \(new.title), \(new.notes),
                    \(new.status.rawValue), \(new.holdExpiresAt), \(new.start), \(new.end), \(new.timeZone), \(new.bufferBefore), \(new.bufferAfter),
                    tstzrange(\(from), \(to), '[)'), \(new.location), \(new.meetingUrl), \(participants)::jsonb, \(new.source.rawValue),
                    \(new.conversationId?.rawValue), \(new.payment?.amount.minorUnits), \(new.payment?.amount.currency.code),
                    \(new.payment?.status.rawValue), \(metadata)::jsonb, \(actor))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).collect().first
            guard let row else { throw CorruptRow("the appointment insert returned no row") }
            let appointment = try Self.appointment(row)
            try await self.reminders.plan(appointment, .booked, tenant: tenant, on: connection, logger: logger)
            if appointment.status != .pending {
                try await self.connections.queuePush(appointment, tenant: tenant, requestID: requestID, on: connection, logger: logger)
                try await self.tellCRM(.appointmentBooked, appointment, tenant: tenant, requestID: requestID, on: connection, logger: logger)
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "appointment.booked", table: "appointments", targetID: appointment.id.description,
                before: nil as AppointmentDTO?, after: appointment, requestID: requestID, logger: logger)
            return appointment
        }
    }

    func appointment(_ id: AppointmentID, tenant: TenantID, logger: Logger) async throws -> AppointmentDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.columns) FROM calendar.appointments WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).collect().first.map(Self.appointment)
    }

    /// An appointment and its tenant, found by id alone (a signed link or a job names only the appointment).
    func located(_ id: AppointmentID, logger: Logger) async throws -> (AppointmentDTO, TenantID)? {
        guard
            let row = try await self.postgres.query(
                "SELECT \(unescaped: Self.columns), tenant_id FROM calendar.appointments WHERE id = \(id.rawValue)", logger: logger
            ).collect().first
        else { return nil }
        return (try Self.appointment(row), TenantID(try row.makeRandomAccess()["tenant_id"].decode(UUID.self)))
    }

    struct Filter: Sendable {
        var agent: CalendarAgentID?
        var status: AppointmentStatus?
        var source: AppointmentSource?
        var serviceType: String?
        var from: Date?
        var to: Date?
    }

    /// By start, then id; `after` is the last (start, id) of the page before.
    func appointments(tenant: TenantID, filter: Filter, after: (micros: Int64, id: UUID)?, limit: Int, logger: Logger) async throws -> [AppointmentDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM calendar.appointments
            WHERE tenant_id = \(tenant.rawValue)
              AND (\(filter.agent?.rawValue)::uuid IS NULL OR agent_id = \(filter.agent?.rawValue))
              AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
              AND (\(filter.source?.rawValue)::text IS NULL OR source = \(filter.source?.rawValue))
              AND (\(filter.serviceType)::text IS NULL OR service_type = \(filter.serviceType))
              AND (\(filter.from)::timestamptz IS NULL OR ends_at > \(filter.from))
              AND (\(filter.to)::timestamptz IS NULL OR starts_at < \(filter.to))
              AND (\(after == nil) OR (starts_at, id) > ('epoch'::timestamptz + \(after?.micros ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY starts_at, id LIMIT \(limit)
            """, logger: logger
        ).collect().map(Self.appointment)
    }

    /// What an agent's calendar holds in [from, to) for the availability: active appointments (a hold past its time
    /// no longer counts) with the buffers they were booked with.
    func booked(
        agent: CalendarAgentID, from: Date, to: Date, ignoring: AppointmentID? = nil, on connection: PostgresConnection? = nil, logger: Logger
    ) async throws -> [(start: Date, end: Date, before: Int, after: Int)] {
        if let connection { return try await self.booked(agent: agent, from: from, to: to, ignoring: ignoring, connection, logger) }
        return try await self.postgres.withConnection { try await self.booked(agent: agent, from: from, to: to, ignoring: ignoring, $0, logger) }
    }

    private func booked(agent: CalendarAgentID, from: Date, to: Date, ignoring: AppointmentID?, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> [(start: Date, end: Date, before: Int, after: Int)]
    {
        try await connection.query(
            """
            SELECT starts_at, ends_at, buffer_before_minutes, buffer_after_minutes FROM calendar.appointments
            WHERE agent_id = \(agent.rawValue) AND occupies && tstzrange(\(from), \(to), '[)') AND id <> \(ignoring?.rawValue ?? UUID())
              AND (status IN ('scheduled', 'confirmed') OR (status = 'pending' AND hold_expires_at > now()))
            ORDER BY starts_at
            """, logger: logger
        ).all(as: (Date, Date, Int, Int).self).map { ($0.0, $0.1, $0.2, $0.3) }
    }

    /// Changes an appointment under its row lock: `change` sees it as it is and answers the new columns (or throws a
    /// refusal); the audit row keeps both.
    func change(
        _ id: AppointmentID, tenant: TenantID, action: String, actor: String, requestID: String, logger: Logger,
        _ change: @Sendable (AppointmentDTO) throws -> Change
    ) async throws -> AppointmentDTO? {
        try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                guard
                    let before = try await connection.query(
                        """
                        SELECT \(unescaped: Self.columns) FROM calendar.appointments
                        WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE
                        """, logger: logger
                    ).collect().first.map(Self.appointment)
                else { return nil }
                // a hold that ran out has lost its slot, whatever was asked (the sweeper marks it expired)
                if before.status == .pending, let expiry = before.holdExpiresAt, expiry <= Date() {
                    throw APIError.conflict("hold_expired", "This hold ran out and its slot was freed; book again.")
                }
                let new = try change(before)
                if new.start != nil { try await self.expireHolds(agent: before.agentId, on: connection, requestID: requestID, logger: logger) }
                let start = new.start ?? before.startsAt
                let end = new.end ?? before.endsAt
                let participants = try new.participants.map { try JSONEncoder.canonical.encodeString($0) }
                let metadata = try new.metadata.map { try JSONEncoder.canonical.encodeString($0) }
                let reschedules = try new.reschedules.map { try JSONEncoder.canonical.encodeString($0) }
                let row = try await connection.query(
                    """
                    UPDATE calendar.appointments SET
                        status = \(new.status?.rawValue ?? before.status.rawValue),
                        hold_expires_at = CASE WHEN \(new.status?.rawValue ?? before.status.rawValue) = 'pending' THEN hold_expires_at END,
                        starts_at = \(start), ends_at = \(end),
                        buffer_before_minutes = coalesce(\(new.bufferBefore)::int, buffer_before_minutes),
                        buffer_after_minutes = coalesce(\(new.bufferAfter)::int, buffer_after_minutes),
                        occupies = CASE WHEN \(new.start != nil) THEN tstzrange(
                            \(start) - make_interval(mins => coalesce(\(new.bufferBefore)::int, buffer_before_minutes)),
                            \(end) + make_interval(mins => coalesce(\(new.bufferAfter)::int, buffer_after_minutes)), '[)') ELSE occupies END,
                        time_zone = coalesce(\(new.timeZone), time_zone),
                        title = coalesce(\(new.title), title), notes = CASE WHEN \(new.setNotes) THEN \(new.notes) ELSE notes END,
                        contact_name = CASE WHEN \(new.setContact) THEN \(new.contactName) ELSE contact_name END,
                        contact_phone = CASE WHEN \(new.setContact) THEN \(new.contactPhone) ELSE contact_phone END,
                        contact_email = CASE WHEN \(new.setContact) THEN \(new.contactEmail) ELSE contact_email END,
                        location = CASE WHEN \(new.setLocation) THEN \(new.location) ELSE location END,
                        meeting_url = CASE WHEN \(new.setMeetingUrl) THEN \(new.meetingUrl) ELSE meeting_url END,
                        participants = coalesce(\(participants)::jsonb, participants),
                        metadata = coalesce(\(metadata)::jsonb, metadata),
                        payment_status = coalesce(\(new.paymentStatus?.rawValue), payment_status),
                        cancellation_reason = CASE WHEN \(new.status == .cancelled) THEN \(new.cancellationReason) ELSE cancellation_reason END,
                        cancelled_at = CASE WHEN \(new.status == .cancelled) THEN now() ELSE cancelled_at END,
                        reschedules = coalesce(\(reschedules)::jsonb, reschedules),
                        updated_at = now()
                    WHERE id = \(id.rawValue)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger
                ).collect().first
                guard let row else { return nil }
                let after = try Self.appointment(row)
                switch (before.status, after.status) {
                case (_, .cancelled), (_, .completed), (_, .noShow):
                    try await self.reminders.cancelPending(id, on: connection, logger: logger)
                case (.pending, .scheduled), (.pending, .confirmed):
                    try await self.reminders.plan(after, .booked, tenant: tenant, on: connection, logger: logger)
                case (_, .scheduled),
                    (_, .confirmed) where new.start != nil:
                    try await self.reminders.plan(after, .moved, tenant: tenant, on: connection, logger: logger)
                default: break
                }
                let event: CRMAPI.Event.Kind? =
                    switch (before.status, after.status) {
                    case (.pending, .scheduled), (.pending, .confirmed): .appointmentBooked
                    case (let was, .cancelled) where was != .cancelled && was != .pending: .appointmentCancelled
                    case (let was, .completed) where was != .completed: .appointmentCompleted
                    case (let was, .noShow) where was != .noShow: .appointmentMissed
                    default: nil
                    }
                if let event { try await self.tellCRM(event, after, tenant: tenant, requestID: requestID, on: connection, logger: logger) }
                // a hold is not in Google until it is booked for good; anything else that changed is pushed
                if before.status != .pending || after.status != .pending {
                    try await self.connections.queuePush(after, tenant: tenant, requestID: requestID, on: connection, logger: logger)
                }
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "appointment.\(action)", table: "appointments", targetID: id.description,
                    before: before, after: after, requestID: requestID, logger: logger)
                return after
            }
        }
    }

    /// `GET /v1/calendar/daily` (`DailyCounts`): per UTC day, appointments `booked` (made that day, holds not
    /// counted), `cancelled` that day, and of those that started that day the `completed` and `no_show` ones.
    func daily(tenant: TenantID, from: Day, to: Day, logger: Logger) async throws -> [DailyCounts.Day] {
        let rows = try await self.postgres.query(
            """
            \(unescaped: Day.spanSQL(from: from, to: to))
            SELECT to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'booked', count(*)::bigint
            FROM calendar.appointments a, span
            WHERE a.tenant_id = \(tenant.rawValue) AND a.created_at >= span.start AND a.created_at < span.stop AND a.status NOT IN ('pending', 'expired')
            GROUP BY 1
            UNION ALL
            SELECT to_char(a.cancelled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'cancelled', count(*)::bigint
            FROM calendar.appointments a, span
            WHERE a.tenant_id = \(tenant.rawValue) AND a.cancelled_at >= span.start AND a.cancelled_at < span.stop
            GROUP BY 1
            UNION ALL
            SELECT to_char(a.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), a.status, count(*)::bigint
            FROM calendar.appointments a, span
            WHERE a.tenant_id = \(tenant.rawValue) AND a.starts_at >= span.start AND a.starts_at < span.stop AND a.status IN ('completed', 'no_show')
            GROUP BY 1, 2
            """, logger: logger
        ).all(as: (String, String, Int64).self)
        return DailyCounts.days(rows.map { (day: $0.0, key: $0.1, count: $0.2) })
    }

    /// The contact's lead hears of it (an appointment without a phone has no lead).
    private func tellCRM(
        _ kind: CRMAPI.Event.Kind, _ appointment: AppointmentDTO, tenant: TenantID, requestID: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard let phone = appointment.contactPhone else { return }
        try await self.crm.enqueue(
            CRMAPI.Event(
                id: "appointment-\(appointment.id)-\(kind.rawValue)", source: .calendarBooking, kind: kind, phone: phone, at: Date(),
                name: appointment.contactName, conversationId: appointment.conversationId, appointmentId: appointment.id, title: appointment.title),
            tenant: tenant, requestID: requestID, on: connection, logger: logger)
    }

    /// A Meet link Google made for the appointment's event, unless it has a meeting URL already.
    func setMeetingLink(_ id: AppointmentID, tenant: TenantID, url: String, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                try await connection.query(
                    """
                    UPDATE calendar.appointments SET meeting_url = \(url), updated_at = now()
                    WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) AND meeting_url IS NULL RETURNING id
                    """, logger: logger
                ).first(as: UUID.self) != nil
            else { return }
            struct Link: Encodable { var meetingUrl: String? }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: "calendar:google", action: "appointment.meet_link", table: "appointments",
                targetID: id.description, before: Link(meetingUrl: nil), after: Link(meetingUrl: url), requestID: nil, logger: logger)
        }
    }

    /// What a change sets (nil: unchanged).
    struct Change: Sendable {
        var status: AppointmentStatus?
        var start: Date?
        var end: Date?
        var bufferBefore: Int?
        var bufferAfter: Int?
        var timeZone: String?
        var title: String?
        var setNotes = false
        var notes: String?
        var setContact = false
        var contactName: String?
        var contactPhone: String?
        var contactEmail: String?
        var setLocation = false
        var location: String?
        var setMeetingUrl = false
        var meetingUrl: String?
        var participants: [Participant]?
        var metadata: [String: JSONValue]?
        var paymentStatus: PaymentStatus?
        var cancellationReason: String?
        var reschedules: [Reschedule]?
    }

    /// Holds past their time become `expired` (their slot is free), each with an audit row: those of one agent inside
    /// a booking's transaction, or any (up to `limit`) for the sweeper.
    @discardableResult
    func expireHolds(agent: CalendarAgentID? = nil, limit: Int = 500, on connection: PostgresConnection, requestID: String?, logger: Logger)
        async throws -> Int
    {
        let expired = try await connection.query(
            """
            UPDATE calendar.appointments SET status = 'expired', hold_expires_at = NULL, updated_at = now()
            WHERE id IN (
                SELECT id FROM calendar.appointments
                WHERE status = 'pending' AND hold_expires_at <= now() AND (\(agent?.rawValue)::uuid IS NULL OR agent_id = \(agent?.rawValue))
                ORDER BY hold_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id
            """, logger: logger
        ).all(as: (UUID, UUID).self)
        struct Expired: Encodable { var status: String }
        for (id, tenant) in expired {
            try await self.audit.record(
                on: connection, tenantID: TenantID(tenant), actor: "calendar:holds", action: "appointment.expired", table: "appointments",
                targetID: id.uuidString.lowercased(), before: Expired(status: "pending"), after: Expired(status: "expired"), requestID: requestID,
                logger: logger)
        }
        return expired.count
    }

    /// For the sweeper: one batch of expired holds in a transaction of its own.
    func expireDueHolds(limit: Int, logger: Logger) async throws -> Int {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await self.expireHolds(limit: limit, on: connection, requestID: nil, logger: logger)
        }
    }
}
