import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL on sequences, their enrollments and logs: what people write, what the triggers enrol, what the runner
/// claims step by step.
struct SequencesStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let columns = """
        s.id, s.name, s.channel_id, s.trigger, s.trigger_stage, s.trigger_score, s.trigger_inactive_days, s.status, s.steps::text, s.created_by,
        s.created_at, s.updated_at,
        (SELECT count(*)::int FROM messaging.sequence_enrollments e WHERE e.sequence_id = s.id),
        (SELECT count(*)::int FROM messaging.sequence_enrollments e WHERE e.sequence_id = s.id AND e.status = 'active')
        """
    typealias Row = (UUID, String, UUID, String, String?, Int?, Int?, String, String, String, Date, Date, Int, Int)

    static let notFound = APIError.notFound("sequence_not_found", "No such sequence.")

    static func sequence(_ row: Row) throws -> SequenceDTO {
        guard let trigger = SequenceTrigger(rawValue: row.3), let status = SequenceStatus(rawValue: row.7) else {
            throw CorruptRow("sequence \(row.0) has trigger \(row.3), status \(row.7)")
        }
        return SequenceDTO(
            id: SequenceID(rawValue: row.0), name: row.1, channelId: ChannelID(rawValue: row.2), trigger: trigger, triggerStage: row.4, triggerScore: row.5,
            triggerInactiveDays: row.6, status: status, steps: try JSONDecoder.sokoni.decode([SequenceStep].self, from: Data(row.8.utf8)),
            enrolled: row.12, active: row.13, createdBy: row.9, createdAt: row.10, updatedAt: row.11)
    }

    static func json(_ value: some Encodable) throws -> String { String(decoding: try JSONEncoder.sokoni.encode(value), as: UTF8.self) }

    func create(_ new: NewSequence, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> SequenceDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO messaging.sequences (id, tenant_id, name, channel_id, trigger, trigger_stage, trigger_score, trigger_inactive_days, steps,
                    created_by)
                VALUES (\(id), \(tenant.rawValue), \(new.name), \(new.channelId.rawValue), \(new.trigger.rawValue), \(new.triggerStage),
                    \(new.triggerScore), \(new.triggerInactiveDays), \(try Self.json(new.steps))::jsonb, \(actor))
                """, logger: logger)
            let sequence = try await self.find(id, tenant: tenant, on: connection, logger: logger)!
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "sequence.create", table: "sequences", targetID: id.uuidString.lowercased(),
                before: nil as String?, after: sequence, requestID: requestID, logger: logger)
            return sequence
        }
    }

    func find(_ id: UUID, tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> SequenceDTO? {
        let query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM messaging.sequences s WHERE s.id = \(id) AND s.tenant_id = \(tenant.rawValue)"
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: Row.self).map(Self.sequence)
    }

    func list(tenant: TenantID, after cursor: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [SequenceDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM messaging.sequences s
            WHERE s.tenant_id = \(tenant.rawValue)
              AND (\(cursor?.0)::bigint IS NULL OR (s.created_at, s.id) < (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY s.created_at DESC, s.id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map(Self.sequence)
    }

    func update(_ id: UUID, tenant: TenantID, change: UpdateSequence, actor: String, requestID: String, logger: Logger) async throws -> SequenceDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await self.find(id, tenant: tenant, on: connection, logger: logger),
                try await connection.query("SELECT 1 FROM messaging.sequences WHERE id = \(id) FOR UPDATE", logger: logger).first(as: Int.self) != nil
            else { throw Self.notFound }
            try await connection.query(
                """
                UPDATE messaging.sequences SET name = \(change.name ?? before.name), status = \((change.status ?? before.status).rawValue),
                    steps = \(try Self.json(change.steps ?? before.steps))::jsonb
                WHERE id = \(id)
                """, logger: logger)
            let after = try await self.find(id, tenant: tenant, on: connection, logger: logger)!
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "sequence.update", table: "sequences", targetID: id.uuidString.lowercased(),
                before: before, after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    // MARK: enrollments

    /// Enrols the lead (once per sequence: true when it was not in it yet), its first step due after its delay.
    func enroll(
        _ sequence: UUID, tenant: TenantID, firstDelayMinutes: Int, lead: CRMAPI.LeadSummary, phone: String, by: String, logger: Logger
    ) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let id = try await connection.query(
                    """
                    INSERT INTO messaging.sequence_enrollments (sequence_id, tenant_id, lead_id, phone, lead_name, next_at, enrolled_by)
                    VALUES (\(sequence), \(tenant.rawValue), \(lead.id.rawValue), \(phone), \(lead.name),
                        now() + make_interval(mins => \(firstDelayMinutes)::int), \(by))
                    ON CONFLICT (sequence_id, lead_id) DO NOTHING RETURNING id
                    """, logger: logger
                ).first(as: Int64.self)
            else { return false }
            _ = try await self.log(id, tenant: tenant, step: nil, action: "enrolled", outcome: "done", detail: by, on: connection, logger: logger)
            return true
        }
    }

    func isEnrolled(_ lead: LeadID, in sequence: UUID, logger: Logger) async throws -> Bool {
        try await self.postgres.query(
            "SELECT 1 FROM messaging.sequence_enrollments WHERE sequence_id = \(sequence) AND lead_id = \(lead.rawValue)", logger: logger
        ).first(as: Int.self) != nil
    }

    static let enrollmentColumns = """
        id, sequence_id, lead_id, phone, lead_name, step, next_at, status, exit_reason, enrolled_by, created_at
        """
    typealias EnrollmentRow = (Int64, UUID, UUID, String, String?, Int, Date?, String, String?, String, Date)

    func enrollments(_ sequence: UUID, tenant: TenantID, after: Int64?, limit: Int, logger: Logger) async throws -> [EnrollmentDTO] {
        let rows = try await self.postgres.query(
            """
            SELECT \(unescaped: Self.enrollmentColumns) FROM messaging.sequence_enrollments
            WHERE sequence_id = \(sequence) AND tenant_id = \(tenant.rawValue) AND id > \(after ?? 0) ORDER BY id LIMIT \(limit)
            """, logger: logger
        ).all(as: EnrollmentRow.self)
        var logs: [Int64: [EnrollmentDTO.Log]] = [:]
        for row in try await self.postgres.query(
            """
            SELECT enrollment_id, step, action, outcome, detail, message_id, created_at FROM messaging.sequence_logs
            WHERE enrollment_id = ANY(\(rows.map(\.0))::bigint[]) ORDER BY id
            """, logger: logger
        ).all(as: (Int64, Int?, String, String, String?, UUID?, Date).self) {
            logs[row.0, default: []].append(
                .init(step: row.1, action: row.2, outcome: row.3, detail: row.4, messageId: row.5.map(MessageID.init(rawValue:)), at: row.6))
        }
        return try rows.map { row in
            guard let status = EnrollmentStatus(rawValue: row.7) else { throw CorruptRow("enrollment \(row.0) has status \(row.7)") }
            return EnrollmentDTO(
                id: row.0, sequenceId: SequenceID(rawValue: row.1), leadId: LeadID(rawValue: row.2), phone: row.3, leadName: row.4, step: row.5, nextAt: row.6,
                status: status, exitReason: row.8, enrolledBy: row.9, createdAt: row.10, logs: logs[row.0] ?? [])
        }
    }

    @discardableResult
    func log(
        _ enrollment: Int64, tenant: TenantID, step: Int?, action: String, outcome: String, detail: String?, message: MessageID? = nil,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Int64 {
        let id = try await connection.query(
            """
            INSERT INTO messaging.sequence_logs (enrollment_id, tenant_id, step, action, outcome, detail, message_id)
            VALUES (\(enrollment), \(tenant.rawValue), \(step), \(action), \(outcome), \(detail), \(message?.rawValue)) RETURNING id
            """, logger: logger
        ).first(as: Int64.self)
        guard let id else { throw CorruptRow("a sequence log insert returned no id") }
        return id
    }

    /// How an action in another service ended (its log row was written `started` before it).
    func finished(log id: Int64, outcome: String, detail: String?, logger: Logger) async throws {
        try await self.postgres.query(
            "UPDATE messaging.sequence_logs SET outcome = \(outcome), detail = \(detail), updated_at = now() WHERE id = \(id)", logger: logger)
    }

    /// The lead answered or opted out: out of every sequence, in the caller's transaction.
    static func exit(tenant: TenantID, phone: String, reason: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            WITH left_ AS (
                UPDATE messaging.sequence_enrollments SET status = 'exited', exit_reason = \(reason), next_at = NULL
                WHERE tenant_id = \(tenant.rawValue) AND phone = \(phone) AND status = 'active' RETURNING id, step)
            INSERT INTO messaging.sequence_logs (enrollment_id, tenant_id, step, action, outcome, detail)
            SELECT id, \(tenant.rawValue), step, 'exited', 'done', \(reason) FROM left_
            """, logger: logger)
    }

    // MARK: the runner

    struct Triggered: Sendable {
        var id: UUID
        var tenant: TenantID
        var trigger: SequenceTrigger
        var stage: String?
        var score: Int?
        var inactiveDays: Int?
        var cursor: Int64
        var firstDelay: Int
    }

    func triggered(logger: Logger) async throws -> [Triggered] {
        try await self.postgres.query(
            """
            SELECT id, tenant_id, trigger, trigger_stage, trigger_score, trigger_inactive_days, moves_cursor, (steps->0->>'delayMinutes')::int
            FROM messaging.sequences WHERE status = 'active' AND trigger <> 'manual' ORDER BY created_at
            """, logger: logger
        ).all(as: (UUID, UUID, String, String?, Int?, Int?, Int64, Int).self).compactMap { row in
            guard let trigger = SequenceTrigger(rawValue: row.2) else { throw CorruptRow("sequence \(row.0) has trigger \(row.2)") }
            return Triggered(
                id: row.0, tenant: TenantID(rawValue: row.1), trigger: trigger, stage: row.3, score: row.4, inactiveDays: row.5, cursor: row.6,
                firstDelay: row.7)
        }
    }

    func setCursor(_ id: UUID, to cursor: Int64, logger: Logger) async throws {
        try await self.postgres.query(
            "UPDATE messaging.sequences SET moves_cursor = greatest(moves_cursor, \(cursor)) WHERE id = \(id)", logger: logger)
    }

    struct Due: Sendable {
        var id: Int64
        var sequence: UUID
        var tenant: TenantID
        var lead: LeadID
        var phone: String
        var leadName: String?
        var step: Int
        var channel: ChannelID
        var steps: [SequenceStep]
    }

    /// The next due step of an active sequence, locked for the length of `body` (`SKIP LOCKED`: replicas share
    /// the work); `body` runs it (or, for an action in another service, logs it `started` and answers that log's
    /// id, to be done after the commit), then the enrollment moves to its next step, or completes. Nil when none was
    /// due; else the step and the started log, if any.
    func runNextDue(logger: Logger, _ body: (Due, PostgresConnection) async throws -> Int64?) async throws -> (Due, Int64?)? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT e.id, e.sequence_id, e.tenant_id, e.lead_id, e.phone, e.lead_name, e.step, s.channel_id, s.steps::text
                    FROM messaging.sequence_enrollments e JOIN messaging.sequences s ON s.id = e.sequence_id
                    WHERE e.status = 'active' AND e.next_at <= now() AND s.status = 'active'
                    ORDER BY e.next_at LIMIT 1 FOR UPDATE OF e SKIP LOCKED
                    """, logger: logger
                ).first(as: (Int64, UUID, UUID, UUID, String, String?, Int, UUID, String).self)
            else { return nil }
            let due = Due(
                id: row.0, sequence: row.1, tenant: TenantID(rawValue: row.2), lead: LeadID(rawValue: row.3), phone: row.4, leadName: row.5,
                step: row.6, channel: ChannelID(rawValue: row.7), steps: try JSONDecoder.sokoni.decode([SequenceStep].self, from: Data(row.8.utf8)))
            let started = due.step < due.steps.count ? try await body(due, connection) : nil
            let next = due.step + 1
            if next >= due.steps.count {
                try await connection.query(
                    "UPDATE messaging.sequence_enrollments SET status = 'completed', next_at = NULL, step = \(next) WHERE id = \(due.id)", logger: logger)
                try await self.log(due.id, tenant: due.tenant, step: nil, action: "completed", outcome: "done", detail: nil, on: connection, logger: logger)
            } else {
                try await connection.query(
                    """
                    UPDATE messaging.sequence_enrollments SET step = \(next), next_at = now() + make_interval(mins => \(due.steps[next].delayMinutes)::int)
                    WHERE id = \(due.id)
                    """, logger: logger)
            }
            return (due, started)
        }
    }
}
