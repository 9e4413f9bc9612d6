import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of Google Calendar connections: the OAuth consent under way (state and PKCE verifier), the tokens (sealed
/// here, so no caller handles a sealed value), the busy times incremental sync keeps, the event of each appointment
/// pushed to Google, the alert a broken connection raises, and the jobs that push appointments.
struct ConnectionsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let jobs: JobQueue
    let box: SecretBox

    static let pushJob = "calendar.google.push"
    static let notFound = APIError.notFound("connection_not_found", "No such calendar connection in this tenant.")
    static let errors = ConstraintErrors(
        [
            "connections_agent": .conflict("agent_connected", "This calendar already has a connection: disconnect it first."),
            "connections_agent_id_tenant_id_fkey": .unprocessable("unknown_agent", "No such calendar agent in this tenant."),
        ])

    static let columns = """
        c.id, c.agent_id, c.status, c.calendar_id, c.account, c.create_meet_links, c.token_expires_at, c.synced_at, c.last_error, c.broken_at,
        c.created_at, c.updated_at,
        (SELECT count(*)::int FROM calendar.external_busy b WHERE b.connection_id = c.id),
        coalesce((SELECT json_agg(json_build_object('id', a.id, 'kind', a.kind, 'message', a.message, 'createdAt', a.created_at)
                  ORDER BY a.created_at)::text FROM calendar.connection_alerts a WHERE a.connection_id = c.id AND a.resolved_at IS NULL), '[]')
        """
    typealias Row = (UUID, UUID, String, String, String?, Bool, Date?, Date?, String?, Date?, Date, Date, Int, String)

    static func connection(_ row: Row) throws -> ConnectionDTO {
        struct StoredAlert: Decodable {
            var id: UUID
            var kind: String
            var message: String
            var createdAt: String
        }
        let alerts = try CorruptRow.decode([StoredAlert].self, row.13).map {
            guard let created = try? Date($0.createdAt, strategy: .iso8601) ?? Date($0.createdAt + "Z", strategy: .iso8601) else {
                throw CorruptRow("an alert's time is unreadable: \($0.createdAt)")
            }
            return ConnectionDTO.Alert(id: $0.id, kind: $0.kind, message: $0.message, createdAt: created)
        }
        return ConnectionDTO(
            id: CalendarConnectionID(row.0), agentId: CalendarAgentID(row.1), provider: "google", status: try CorruptRow.known(row.2), calendarId: row.3,
            account: row.4,
            createMeetLinks: row.5, tokenExpiresAt: row.6, syncedAt: row.7, lastError: row.8, brokenAt: row.9, createdAt: row.10, updatedAt: row.11,
            busyEvents: row.12, alerts: alerts)
    }

    // MARK: connecting

    /// Starts a consent for the agent's calendar: its connection (a new `pending` one, or the live one being
    /// reconnected) and a one-use state that carries the PKCE verifier to the callback.
    func begin(
        agent: CalendarAgentID, calendarID: String, meet: Bool, stateHash: String, verifier: String, tenant: TenantID, actor: String,
        requestID: String, logger: Logger
    ) async throws -> ConnectionDTO {
        let sealed = try self.box.seal(Array(verifier.utf8))
        return try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                let existing = try await connection.query(
                    """
                    SELECT id FROM calendar.connections WHERE agent_id = \(agent.rawValue) AND tenant_id = \(tenant.rawValue)
                      AND status <> 'disconnected' FOR UPDATE
                    """, logger: logger
                ).first(as: UUID.self)
                let id = existing ?? UUID()
                if existing == nil {
                    try await connection.query(
                        """
                        INSERT INTO calendar.connections (id, tenant_id, agent_id, calendar_id, create_meet_links, created_by)
                        VALUES (\(id), \(tenant.rawValue), \(agent.rawValue), \(calendarID), \(meet), \(actor))
                        """, logger: logger)
                } else {
                    try await connection.query(
                        "UPDATE calendar.connections SET calendar_id = \(calendarID), create_meet_links = \(meet), updated_at = now() WHERE id = \(id)",
                        logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO calendar.oauth_states (state_hash, connection_id, code_verifier, key_id, expires_at)
                    VALUES (\(stateHash), \(id), \(ByteBuffer(bytes: sealed.bytes)), \(sealed.keyID), now() + interval '10 minutes')
                    """, logger: logger)
                let created = try await self.connection(id, tenant: tenant, on: connection, logger: logger)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "calendar_connection.consent_started", table: "connections",
                    targetID: id.uuidString.lowercased(), before: nil as ConnectionDTO?, after: created, requestID: requestID, logger: logger)
                return created
            }
        }
    }

    struct Consent: Sendable {
        var connection: UUID
        var tenant: TenantID
        var agent: CalendarAgentID
        var calendarID: String
        var verifier: String
    }

    /// The consent a callback's state belongs to, used up: nil when the state is unknown, used or older than ten
    /// minutes (a replayed or forged callback).
    func redeem(stateHash: String, logger: Logger) async throws -> Consent? {
        let row = try await self.postgres.query(
            """
            UPDATE calendar.oauth_states s SET used_at = now()
            FROM calendar.connections c
            WHERE s.state_hash = \(stateHash) AND s.used_at IS NULL AND s.expires_at > now() AND c.id = s.connection_id
              AND c.status <> 'disconnected'
            RETURNING c.id, c.tenant_id, c.agent_id, c.calendar_id, s.code_verifier, s.key_id
            """, logger: logger
        ).first(as: (UUID, UUID, UUID, String, ByteBuffer, String).self)
        guard let row else { return nil }
        let verifier = try self.box.open(.init(bytes: Array(buffer: row.4), keyID: row.5))
        return Consent(
            connection: row.0, tenant: TenantID(row.1), agent: CalendarAgentID(row.2), calendarID: row.3, verifier: String(decoding: verifier, as: UTF8.self))
    }

    /// The consent went through: the tokens, sealed; a full sync next; its open alerts resolved; and a push queued
    /// for each of the agent's appointments still to come.
    func activate(
        _ consent: Consent, accessToken: String, refreshToken: String, expiresAt: Date, scope: String?, account: String?, requestID: String,
        logger: Logger
    ) async throws -> ConnectionDTO {
        let (access, refresh, keyID) = try self.seal(access: accessToken, refresh: refreshToken)
        return try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await self.connection(consent.connection, tenant: consent.tenant, on: connection, logger: logger)
            try await connection.query(
                """
                UPDATE calendar.connections SET status = 'active', access_token = \(access), refresh_token = \(refresh), key_id = \(keyID),
                    token_expires_at = \(expiresAt), scope = \(scope), account = \(account), sync_token = NULL, synced_at = NULL,
                    sync_lease_until = NULL, last_error = NULL, broken_at = NULL, updated_at = now()
                WHERE id = \(consent.connection)
                """, logger: logger)
            try await connection.query(
                "UPDATE calendar.connection_alerts SET resolved_at = now() WHERE connection_id = \(consent.connection) AND resolved_at IS NULL",
                logger: logger)
            let upcoming = try await connection.query(
                """
                SELECT id FROM calendar.appointments
                WHERE agent_id = \(consent.agent.rawValue) AND status IN ('scheduled', 'confirmed') AND ends_at > now()
                ORDER BY starts_at LIMIT 2000
                """, logger: logger
            ).all(as: UUID.self)
            try await self.jobs.enqueueMany(
                Self.pushJob, payloads: upcoming.map { Push(appointmentId: $0, tenantId: consent.tenant.rawValue) }, on: connection, requestID: requestID,
                logger: logger)
            let after = try await self.connection(consent.connection, tenant: consent.tenant, on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: consent.tenant, actor: "google:oauth", action: "calendar_connection.connected", table: "connections",
                targetID: consent.connection.uuidString.lowercased(), before: before, after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    /// Google said no at the consent screen (or the exchange failed): a new connection is dropped, a reconnect
    /// leaves the working one as it was.
    func abandon(_ consent: Consent, reason: String, logger: Logger) async throws {
        try await self.postgres.query(
            """
            UPDATE calendar.connections SET status = 'disconnected', last_error = \(String(reason.prefix(500))), updated_at = now()
            WHERE id = \(consent.connection) AND status = 'pending'
            """, logger: logger)
    }

    /// Disconnects: the tokens are wiped and the busy times forgotten (the events already written stay in Google).
    /// Answers the refresh token, to revoke it at Google.
    func disconnect(_ id: UUID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> (ConnectionDTO, String?)? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let sealed = try await connection.query(
                    """
                    SELECT refresh_token, key_id FROM calendar.connections
                    WHERE id = \(id) AND tenant_id = \(tenant.rawValue) AND status <> 'disconnected' FOR UPDATE
                    """, logger: logger
                ).first(as: (ByteBuffer?, String?).self)
            else { return nil }
            let before = try await self.connection(id, tenant: tenant, on: connection, logger: logger)
            try await connection.query(
                """
                UPDATE calendar.connections SET status = 'disconnected', access_token = NULL, refresh_token = NULL, key_id = NULL,
                    token_expires_at = NULL, sync_token = NULL, updated_at = now()
                WHERE id = \(id)
                """, logger: logger)
            try await connection.query("DELETE FROM calendar.external_busy WHERE connection_id = \(id)", logger: logger)
            try await connection.query(
                "UPDATE calendar.connection_alerts SET resolved_at = now() WHERE connection_id = \(id) AND resolved_at IS NULL", logger: logger)
            let after = try await self.connection(id, tenant: tenant, on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "calendar_connection.disconnected", table: "connections",
                targetID: id.uuidString.lowercased(), before: before, after: after, requestID: requestID, logger: logger)
            let refresh = try sealed.0.flatMap { bytes in
                try sealed.1.map { String(decoding: try self.box.open(.init(bytes: Array(buffer: bytes), keyID: $0)), as: UTF8.self) }
            }
            return (after, refresh)
        }
    }

    // MARK: reading

    func connection(_ id: UUID, tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> ConnectionDTO {
        let query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM calendar.connections c WHERE c.id = \(id) AND c.tenant_id = \(tenant.rawValue)"
        let row =
            if let connection {
                try await connection.query(query, logger: logger).first(as: Row.self)
            } else {
                try await self.postgres.query(query, logger: logger).first(as: Row.self)
            }
        guard let row else { throw Self.notFound }
        return try Self.connection(row)
    }

    /// The tenant's connections (disconnected ones only with `all`), newest first.
    func connections(tenant: TenantID, all: Bool, logger: Logger) async throws -> [ConnectionDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM calendar.connections c
            WHERE c.tenant_id = \(tenant.rawValue) AND (\(all) OR c.status <> 'disconnected')
            ORDER BY c.created_at DESC LIMIT 500
            """, logger: logger
        ).all(as: Row.self).map(Self.connection)
    }

    // MARK: tokens

    /// What a job needs to call Google for a connection.
    struct Credentials: Sendable {
        var id: UUID
        var tenant: TenantID
        var agent: CalendarAgentID
        var status: ConnectionStatus
        var calendarID: String
        var createMeetLinks: Bool
        var accessToken: String?
        var refreshToken: String
        var expiresAt: Date?
        var syncToken: String?
    }

    /// A connection's credentials, opened; nil when it has none (pending or disconnected).
    func credentials(_ id: UUID, logger: Logger) async throws -> Credentials? {
        let row = try await self.postgres.query(
            """
            SELECT id, tenant_id, agent_id, status, calendar_id, create_meet_links, access_token, refresh_token, key_id, token_expires_at, sync_token
            FROM calendar.connections WHERE id = \(id) AND refresh_token IS NOT NULL
            """, logger: logger
        ).first(as: (UUID, UUID, UUID, String, String, Bool, ByteBuffer?, ByteBuffer, String, Date?, String?).self)
        guard let row else { return nil }
        func open(_ bytes: ByteBuffer) throws -> String {
            String(decoding: try self.box.open(.init(bytes: Array(buffer: bytes), keyID: row.8)), as: UTF8.self)
        }
        return Credentials(
            id: row.0, tenant: TenantID(row.1), agent: CalendarAgentID(row.2), status: try CorruptRow.known(row.3), calendarID: row.4, createMeetLinks: row.5,
            accessToken: try row.6.map(open), refreshToken: try open(row.7), expiresAt: row.9, syncToken: row.10)
    }

    /// The active connection of an agent, if it has one.
    func activeConnection(agent: CalendarAgentID, logger: Logger) async throws -> UUID? {
        try await self.postgres.query(
            "SELECT id FROM calendar.connections WHERE agent_id = \(agent.rawValue) AND status = 'active'", logger: logger
        ).first(as: UUID.self)
    }

    func seal(access: String, refresh: String) throws -> (ByteBuffer, ByteBuffer, String) {
        let access = try self.box.seal(Array(access.utf8))
        let refresh = try self.box.seal(Array(refresh.utf8))
        return (ByteBuffer(bytes: access.bytes), ByteBuffer(bytes: refresh.bytes), access.keyID)
    }

    /// A refreshed access token (and the refresh token, which Google may rotate), sealed with the current key.
    func storeTokens(_ id: UUID, access: String, refresh: String, expiresAt: Date, logger: Logger) async throws {
        let (access, refresh, keyID) = try self.seal(access: access, refresh: refresh)
        try await self.postgres.query(
            """
            UPDATE calendar.connections SET access_token = \(access), refresh_token = \(refresh), key_id = \(keyID), token_expires_at = \(expiresAt),
                last_error = NULL, updated_at = now()
            WHERE id = \(id) AND status = 'active'
            """, logger: logger)
    }

    /// Google refused the refresh token: the connection is `broken` and its tenant's admins get an alert (once per
    /// breakage). True when this call broke it.
    func markBroken(_ id: UUID, reason: String, logger: Logger) async throws -> (tenant: TenantID, agent: CalendarAgentID)? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let row = try await connection.query(
                    """
                    UPDATE calendar.connections SET status = 'broken', broken_at = now(), last_error = \(String(reason.prefix(500))),
                        access_token = NULL, token_expires_at = NULL, sync_lease_until = NULL, updated_at = now()
                    WHERE id = \(id) AND status = 'active' RETURNING tenant_id, agent_id
                    """, logger: logger
                ).first(as: (UUID, UUID).self)
            else { return nil }
            let message = "Google refused to renew access to this calendar (\(reason)). Reconnect it to keep its busy times and events in step."
            try await connection.query(
                """
                INSERT INTO calendar.connection_alerts (id, tenant_id, connection_id, kind, message)
                VALUES (\(UUID()), \(row.0), \(id), 'refresh_failed', \(String(message.prefix(500))))
                """, logger: logger)
            struct Broken: Encodable {
                var status: String
                var reason: String
            }
            try await self.audit.record(
                on: connection, tenantID: TenantID(row.0), actor: "calendar:google", action: "calendar_connection.broken", table: "connections",
                targetID: id.uuidString.lowercased(), before: Broken(status: "active", reason: ""), after: Broken(status: "broken", reason: reason),
                requestID: nil, logger: logger)
            return (TenantID(row.0), CalendarAgentID(row.1))
        }
    }

    func noteError(_ id: UUID, _ error: String, logger: Logger) async throws {
        try await self.postgres.query(
            "UPDATE calendar.connections SET last_error = \(String(error.prefix(500))), updated_at = now() WHERE id = \(id)", logger: logger)
    }

    // MARK: sync

    /// Active connections due for a sync (never synced, or longer ago than `every`), each leased to this caller.
    func claimSyncs(every: Duration, lease: Duration, limit: Int, logger: Logger) async throws -> [UUID] {
        try await self.postgres.query(
            """
            UPDATE calendar.connections SET sync_lease_until = now() + make_interval(secs => \(lease.seconds))
            WHERE id IN (
                SELECT id FROM calendar.connections
                WHERE status = 'active' AND (synced_at IS NULL OR synced_at < now() - make_interval(secs => \(every.seconds)))
                  AND (sync_lease_until IS NULL OR sync_lease_until < now())
                ORDER BY synced_at NULLS FIRST LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, logger: logger
        ).all(as: UUID.self)
    }

    struct BusyEvent: Sendable, Equatable {
        var eventID: String
        var start: Date
        var end: Date
        var summary: String?
    }

    /// Applies what a sync read, in one transaction: a full sync replaces every busy time of the connection, an
    /// incremental one upserts and removes; the new sync token is kept for the next.
    func applySync(_ id: UUID, full: Bool, busy: [BusyEvent], removed: [String], syncToken: String?, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let agent = try await connection.query(
                    "SELECT agent_id FROM calendar.connections WHERE id = \(id) AND status = 'active' FOR UPDATE", logger: logger
                ).first(as: UUID.self)
            else { return }
            if full {
                try await connection.query("DELETE FROM calendar.external_busy WHERE connection_id = \(id)", logger: logger)
            } else if !removed.isEmpty || !busy.isEmpty {
                let ids = removed + busy.map(\.eventID)
                try await connection.query(
                    "DELETE FROM calendar.external_busy WHERE connection_id = \(id) AND event_id = ANY(\(ids))", logger: logger)
            }
            if !busy.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO calendar.external_busy (connection_id, event_id, agent_id, during, summary)
                    SELECT \(id), e, \(agent), tstzrange(s, f, '[)'), m
                    FROM unnest(\(busy.map(\.eventID))::text[], \(busy.map(\.start))::timestamptz[], \(busy.map(\.end))::timestamptz[],
                                \(busy.map { $0.summary.map { String($0.prefix(200)) } ?? "" })::text[]) AS t(e, s, f, m)
                    WHERE f > s
                    ON CONFLICT (connection_id, event_id) DO UPDATE SET during = excluded.during, summary = excluded.summary
                    """, logger: logger)
            }
            try await connection.query(
                """
                UPDATE calendar.connections SET sync_token = \(syncToken), synced_at = now(), sync_lease_until = NULL, last_error = NULL,
                    updated_at = now()
                WHERE id = \(id)
                """, logger: logger)
        }
    }

    /// The sync token is gone (Google's 410): the next sync is a full one.
    func forgetSyncToken(_ id: UUID, logger: Logger) async throws {
        try await self.postgres.query("UPDATE calendar.connections SET sync_token = NULL WHERE id = \(id)", logger: logger)
    }

    /// A sync that failed: its lease ends, the error is shown, and it is tried again at the next interval.
    func syncFailed(_ id: UUID, error: String, logger: Logger) async throws {
        try await self.postgres.query(
            """
            UPDATE calendar.connections SET sync_lease_until = NULL, synced_at = now(), last_error = \(String(error.prefix(500))), updated_at = now()
            WHERE id = \(id)
            """, logger: logger)
    }

    /// The agent's busy times from its connected calendar that overlap [from, to).
    func busy(agent: CalendarAgentID, from: Date, to: Date, on connection: PostgresConnection?, logger: Logger) async throws -> [(start: Date, end: Date)] {
        let query: PostgresQuery = """
            SELECT lower(b.during), upper(b.during) FROM calendar.external_busy b
            JOIN calendar.connections c ON c.id = b.connection_id AND c.status IN ('active', 'broken')
            WHERE b.agent_id = \(agent.rawValue) AND b.during && tstzrange(\(from), \(to), '[)')
            ORDER BY lower(b.during)
            """
        let rows =
            if let connection {
                try await connection.query(query, logger: logger).all(as: (Date, Date).self)
            } else {
                try await self.postgres.query(query, logger: logger).all(as: (Date, Date).self)
            }
        return rows.map { ($0.0, $0.1) }
    }

    // MARK: events of appointments

    struct Push: Codable, Sendable {
        var appointmentId: UUID
        var tenantId: UUID
    }

    /// Queues the push of an appointment that changed (in the transaction that changed it) when its agent's calendar
    /// is connected.
    func queuePush(_ appointment: AppointmentDTO, tenant: TenantID, requestID: String?, on connection: PostgresConnection, logger: Logger) async throws {
        let connected = try await connection.query(
            "SELECT 1 FROM calendar.connections WHERE agent_id = \(appointment.agentId.rawValue) AND status = 'active'", logger: logger
        ).first(as: Int.self)
        guard connected != nil else { return }
        try await self.jobs.enqueue(
            Self.pushJob, payload: Push(appointmentId: appointment.id.rawValue, tenantId: tenant.rawValue), on: connection, requestID: requestID, logger: logger
        )
    }

    struct EventLink: Sendable {
        var connection: UUID
        var eventID: String
        var deleted: Bool
    }

    func eventLink(_ appointment: AppointmentID, logger: Logger) async throws -> EventLink? {
        try await self.postgres.query(
            "SELECT connection_id, event_id, deleted FROM calendar.google_events WHERE appointment_id = \(appointment.rawValue)", logger: logger
        ).first(as: (UUID, String, Bool).self).map { EventLink(connection: $0.0, eventID: $0.1, deleted: $0.2) }
    }

    func saveEventLink(_ appointment: AppointmentID, connection id: UUID, eventID: String, htmlLink: String?, deleted: Bool, logger: Logger) async throws {
        try await self.postgres.query(
            """
            INSERT INTO calendar.google_events (appointment_id, connection_id, event_id, html_link, deleted)
            VALUES (\(appointment.rawValue), \(id), \(eventID), \(htmlLink), \(deleted))
            ON CONFLICT (appointment_id) DO UPDATE SET connection_id = excluded.connection_id, event_id = excluded.event_id,
                html_link = coalesce(excluded.html_link, calendar.google_events.html_link), deleted = excluded.deleted, synced_at = now()
            """, logger: logger)
    }
}

/// A Google Calendar connection as the API shows it (never a token).
struct ConnectionDTO: Codable, Sendable, Equatable {
    struct Alert: Codable, Sendable, Equatable {
        var id: UUID
        var kind: String
        var message: String
        var createdAt: Date
    }

    var id: CalendarConnectionID
    var agentId: CalendarAgentID
    var provider: String
    var status: ConnectionStatus
    var calendarId: String
    var account: String?
    var createMeetLinks: Bool
    var tokenExpiresAt: Date?
    var syncedAt: Date?
    var lastError: String?
    var brokenAt: Date?
    var createdAt: Date
    var updatedAt: Date
    /// Busy times read from the calendar (they are kept out of the agent's free slots).
    var busyEvents: Int
    /// What the tenant's admins are told: open alerts (a refresh Google refused).
    var alerts: [Alert]
}

enum ConnectionStatus: String, Codable, Sendable, CaseIterable {
    case pending, active, broken, disconnected
}
