import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of reminders: the tenant's settings, the notices an appointment is owed (planned in the transaction that
/// books, confirms, moves or ends it), and the sender's claims with a lease (`0004_reminders.sql` says why).
struct RemindersStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    struct Settings: Codable, Sendable, Equatable {
        /// Minutes before the start, one reminder each.
        var reminderOffsets: [Int]
        var sendConfirmation: Bool
        /// Who is told (through messaging) when a Google connection breaks, besides the alert in the console.
        var alertPhone: String?

        static let defaults = Settings(reminderOffsets: [1440, 60], sendConfirmation: true, alertPhone: nil)
    }

    func settings(tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> Settings {
        let query: PostgresQuery = "SELECT reminder_offsets, send_confirmation, alert_phone FROM calendar.settings WHERE tenant_id = \(tenant.rawValue)"
        let row =
            if let connection {
                try await connection.query(query, logger: logger).first(as: ([Int], Bool, String?).self)
            } else {
                try await self.postgres.query(query, logger: logger).first(as: ([Int], Bool, String?).self)
            }
        return row.map { Settings(reminderOffsets: $0.0, sendConfirmation: $0.1, alertPhone: $0.2) } ?? .defaults
    }

    func putSettings(_ settings: Settings, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Settings {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await self.settings(tenant: tenant, on: connection, logger: logger)
            try await connection.query(
                """
                INSERT INTO calendar.settings (tenant_id, reminder_offsets, send_confirmation, alert_phone)
                VALUES (\(tenant.rawValue), \(settings.reminderOffsets), \(settings.sendConfirmation), \(settings.alertPhone))
                ON CONFLICT (tenant_id) DO UPDATE SET reminder_offsets = excluded.reminder_offsets, send_confirmation = excluded.send_confirmation,
                    alert_phone = excluded.alert_phone, updated_at = now()
                """, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "calendar_settings.updated", table: "settings", targetID: tenant.description,
                before: before, after: settings, requestID: requestID, logger: logger)
            return settings
        }
    }

    enum Occasion: Sendable {
        /// Booked or confirmed: a confirmation now (when the tenant sends them), reminders before the start.
        case booked
        /// Moved: a notice of the new time now, the reminders moved with it.
        case moved
    }

    /// The notices an active appointment is owed from now on: those still pending are replaced. An appointment
    /// without a phone number is owed none (messaging reaches customers by number).
    func plan(_ appointment: AppointmentDTO, _ occasion: Occasion, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws {
        try await self.cancelPending(appointment.id, on: connection, logger: logger)
        guard appointment.contactPhone != nil, appointment.status == .scheduled || appointment.status == .confirmed else { return }
        let settings = try await self.settings(tenant: tenant, on: connection, logger: logger)
        let now = Date()
        var kinds: [String] = []
        var offsets: [Int] = []
        var due: [Date] = []
        switch occasion {
        case .booked where settings.sendConfirmation:
            (kinds, offsets, due) = (["confirmation"], [0], [now])
        case .moved:
            (kinds, offsets, due) = (["rescheduled"], [0], [now])
        default: break
        }
        // a reminder whose time has already passed (a booking for the next hour) is not sent late
        for offset in Set(settings.reminderOffsets).sorted() {
            let at = appointment.startsAt.addingTimeInterval(-Double(offset) * 60)
            if at > now {
                kinds.append("reminder")
                offsets.append(offset)
                due.append(at)
            }
        }
        guard !kinds.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO calendar.reminders (id, tenant_id, appointment_id, kind, offset_minutes, due_at)
            SELECT gen_random_uuid(), \(tenant.rawValue), \(appointment.id.rawValue), k, o, d
            FROM unnest(\(kinds), \(offsets), \(due)) AS r(k, o, d)
            """, logger: logger)
    }

    /// An appointment that ended, or moved, owes nothing more it was planned before.
    func cancelPending(_ appointment: AppointmentID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "UPDATE calendar.reminders SET status = 'cancelled' WHERE appointment_id = \(appointment.rawValue) AND status = 'pending'", logger: logger)
    }

    /// A reminder a sender holds, with what the notice says.
    struct Due: Sendable {
        var id: UUID
        var tenant: TenantID
        var appointment: AppointmentID
        var kind: String
        var attempts: Int
        var title: String
        var startsAt: Date
        var timeZone: String
        var location: String?
        var phone: String?
        var status: String
    }

    /// Due reminders (up to `limit`), each held for `lease` by this sender: another replica skips them now, and
    /// takes them up again if this one dies before it marks them.
    func claimDue(limit: Int, lease: Duration, logger: Logger) async throws -> [Due] {
        try await self.postgres.query(
            """
            WITH claimed AS (
                UPDATE calendar.reminders SET due_at = now() + make_interval(secs => \(lease.seconds)), attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM calendar.reminders WHERE status = 'pending' AND due_at <= now()
                    ORDER BY due_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id, tenant_id, appointment_id, kind, attempts)
            SELECT c.id, c.tenant_id, c.appointment_id, c.kind, c.attempts, a.title, a.starts_at, a.time_zone, a.location, a.contact_phone, a.status
            FROM claimed c JOIN calendar.appointments a ON a.id = c.appointment_id
            """, logger: logger
        ).all(as: (UUID, UUID, UUID, String, Int, String, Date, String, String?, String?, String).self).map {
            Due(
                id: $0.0, tenant: TenantID($0.1), appointment: AppointmentID($0.2), kind: $0.3, attempts: $0.4, title: $0.5, startsAt: $0.6,
                timeZone: $0.7, location: $0.8, phone: $0.9, status: $0.10)
        }
    }

    func markSent(_ id: UUID, messageID: String?, logger: Logger) async throws {
        try await self.postgres.query(
            "UPDATE calendar.reminders SET status = 'sent', sent_at = now(), message_id = \(messageID), last_error = NULL WHERE id = \(id)",
            logger: logger)
    }

    func markCancelled(_ id: UUID, logger: Logger) async throws {
        try await self.postgres.query("UPDATE calendar.reminders SET status = 'cancelled' WHERE id = \(id) AND status = 'pending'", logger: logger)
    }

    /// A send that failed: tried again after `retryAfter`, or given up (`failed`) after the last attempt.
    func markFailed(_ id: UUID, error: String, retryAfter: Duration?, logger: Logger) async throws {
        try await self.postgres.query(
            """
            UPDATE calendar.reminders SET last_error = \(String(error.prefix(500))),
                status = CASE WHEN \(retryAfter == nil) THEN 'failed' ELSE status END,
                due_at = CASE WHEN \(retryAfter == nil) THEN due_at ELSE now() + make_interval(secs => \(retryAfter?.seconds ?? 0)) END
            WHERE id = \(id) AND status = 'pending'
            """, logger: logger)
    }

    /// An appointment's reminders, for the API and the console.
    func reminders(appointment: AppointmentID, tenant: TenantID, logger: Logger) async throws -> [ReminderDTO] {
        try await self.postgres.query(
            """
            SELECT kind, offset_minutes, due_at, status, attempts, sent_at, message_id, last_error FROM calendar.reminders
            WHERE appointment_id = \(appointment.rawValue) AND tenant_id = \(tenant.rawValue) ORDER BY created_at, due_at
            """, logger: logger
        ).all(as: (String, Int, Date, String, Int, Date?, String?, String?).self).map {
            ReminderDTO(kind: $0.0, offsetMinutes: $0.1, dueAt: $0.2, status: $0.3, attempts: $0.4, sentAt: $0.5, messageId: $0.6, lastError: $0.7)
        }
    }
}

/// A notice an appointment is owed, as the API shows it.
struct ReminderDTO: Codable, Sendable, Equatable {
    var kind: String
    var offsetMinutes: Int
    var dueAt: Date
    var status: String
    var attempts: Int
    var sentAt: Date?
    var messageId: String?
    var lastError: String?
}
