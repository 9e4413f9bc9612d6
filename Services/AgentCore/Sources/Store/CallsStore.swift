import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of voice calls: the tenant's webhook secret (sealed), calls stored once per provider call id with their
/// transcript lines, the lead each belongs to (its timeline and score touched in the same transaction), and
/// dispositions.
struct CallsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let secrets: SecretBox
    let leads: LeadsStore

    static let notFound = APIError.notFound("call_not_found", "No such call.")

    // MARK: the webhook's secret

    struct Settings: Codable, Sendable, Equatable {
        var provider: String
        /// Where the provider posts its reports (through the gateway).
        var webhookPath: String
        /// Shown once, when made; afterwards only its last four characters.
        var secret: String?
        var secretHint: String
        var updatedAt: Date
        /// The tenant's Twilio account for outbound calls and their status callbacks; none: calls go to the sandbox.
        var twilio: Twilio? = nil

        struct Twilio: Codable, Sendable, Equatable {
            var accountSid: String
            var fromNumber: String
            var authTokenHint: String
            /// Where Twilio posts each call's progress (through the gateway).
            var statusCallbackPath: String
        }
    }

    func settings(tenant: TenantID, logger: Logger) async throws -> Settings? {
        guard
            let row = try await self.postgres.query(
                "SELECT provider, public_id, secret, key_id, updated_at FROM agent.voice_settings WHERE tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: (String, String, ByteBuffer, String, Date).self)
        else { return nil }
        let secret = String(decoding: try self.secrets.open(.init(bytes: Array(buffer: row.2), keyID: row.3)), as: UTF8.self)
        var settings = Settings(
            provider: row.0, webhookPath: "/webhooks/voice/vapi/\(row.1)", secret: nil, secretHint: "…" + secret.suffix(4), updatedAt: row.4)
        if let twilio = try await self.twilio(tenant: tenant, logger: logger) {
            settings.twilio = .init(
                accountSid: twilio.accountSid, fromNumber: twilio.from, authTokenHint: "…" + twilio.authToken.suffix(4),
                statusCallbackPath: "/webhooks/voice/twilio/\(row.1)")
        }
        return settings
    }

    /// A new webhook URL and secret (the old ones stop working at once).
    func rotate(tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Settings {
        let secret = Base64URL.random()
        let publicID = "vw_" + Base64URL.random(bytes: 18)
        let sealed = try self.secrets.seal(Array(secret.utf8))
        return try await self.postgres.withTransaction(logger: logger) { connection in
            let updated = try await connection.query(
                """
                INSERT INTO agent.voice_settings (tenant_id, public_id, secret, key_id)
                VALUES (\(tenant.rawValue), \(publicID), \(ByteBuffer(bytes: sealed.bytes)), \(sealed.keyID))
                ON CONFLICT (tenant_id) DO UPDATE SET public_id = excluded.public_id, secret = excluded.secret, key_id = excluded.key_id, updated_at = now()
                RETURNING updated_at
                """, logger: logger
            ).first(as: Date.self)
            struct Rotated: Encodable { var webhookPath: String }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "voice.secret_rotated", table: "voice_settings", targetID: tenant.description,
                before: nil as Rotated?, after: Rotated(webhookPath: "/webhooks/voice/vapi/\(publicID)"), requestID: requestID, logger: logger)
            var settings = Settings(
                provider: "vapi", webhookPath: "/webhooks/voice/vapi/\(publicID)", secret: secret, secretHint: "…" + secret.suffix(4),
                updatedAt: updated ?? Date())
            if let twilio = try await self.twilio(tenant: tenant, on: connection, logger: logger) {
                settings.twilio = .init(
                    accountSid: twilio.accountSid, fromNumber: twilio.from, authTokenHint: "…" + twilio.authToken.suffix(4),
                    statusCallbackPath: "/webhooks/voice/twilio/\(publicID)")
            }
            return settings
        }
    }

    /// The tenant and secret of a webhook URL's public id.
    func webhook(publicID: String, logger: Logger) async throws -> (TenantID, String)? {
        guard
            let row = try await self.postgres.query(
                "SELECT tenant_id, secret, key_id FROM agent.voice_settings WHERE public_id = \(publicID)", logger: logger
            ).first(as: (UUID, ByteBuffer, String).self)
        else { return nil }
        return (TenantID(row.0), String(decoding: try self.secrets.open(.init(bytes: Array(buffer: row.1), keyID: row.2)), as: UTF8.self))
    }

    // MARK: calls

    static let columns = """
        c.id, c.lead_id, c.provider, c.provider_call_id, c.direction, c.platform, c.status, c.customer_number, c.started_at, c.ended_at,
        c.duration_seconds, c.recording_url, c.summary, c.sentiment, c.cost_micros, c.cost_currency, c.ended_reason, c.score_delta, c.stage_after,
        c.created_at,
        coalesce((SELECT json_agg(json_build_object('code', d.code, 'notes', d.notes, 'actor', d.actor, 'createdAt', d.created_at) ORDER BY d.created_at)::text
                  FROM agent.call_dispositions d WHERE d.call_id = c.id), '[]'),
        (SELECT count(*)::int FROM agent.call_transcript_lines l WHERE l.call_id = c.id)
        """

    static func call(_ row: PostgresRow) throws -> CallDTO {
        let r = row.makeRandomAccess()
        struct Stored: Decodable {
            var code: String
            var notes: String?
            var actor: String
            var createdAt: String
        }
        let dispositions = try CorruptRow.decode([Stored].self, try r["coalesce"].decode(String.self)).map {
            CallDTO.Disposition(code: $0.code, notes: $0.notes, actor: $0.actor, createdAt: ISO8601.parse($0.createdAt) ?? ISO8601.parse($0.createdAt + "Z"))
        }
        return CallDTO(
            id: CallID(try r["id"].decode(UUID.self)), leadId: try r["lead_id"].decode(UUID?.self).map { LeadID($0) },
            provider: try r["provider"].decode(String.self),
            providerCallId: try r["provider_call_id"].decode(String.self), direction: try r["direction"].decode(String.self),
            platform: try r["platform"].decode(String.self), status: try r["status"].decode(String.self),
            customerNumber: try r["customer_number"].decode(String?.self), startedAt: try r["started_at"].decode(Date?.self),
            endedAt: try r["ended_at"].decode(Date?.self), durationSeconds: try r["duration_seconds"].decode(Int?.self),
            recordingUrl: try r["recording_url"].decode(String?.self), summary: try r["summary"].decode(String?.self),
            sentiment: try r["sentiment"].decode(String?.self), costMicros: try r["cost_micros"].decode(Int64?.self),
            costCurrency: try r["cost_currency"].decode(String?.self), endedReason: try r["ended_reason"].decode(String?.self),
            scoreDelta: try r["score_delta"].decode(Int?.self), stageAfter: try r["stage_after"].decode(String?.self),
            transcriptLines: try r["count"].decode(Int.self), dispositions: dispositions, createdAt: try r["created_at"].decode(Date.self))
    }

    /// Stores a reported call once (a second report of the same provider call answers the first, `created` false),
    /// with its transcript, on the lead of its number (made when the number is new), whose timeline gets the call and
    /// whose score its engagement.
    func ingest(_ report: VoiceReport.Call, provider: String, tenant: TenantID, logger: Logger) async throws -> (call: CallDTO, created: Bool) {
        // the lead first (one per phone: its own transaction, and idempotent by the phone)
        var lead: LeadDTO?
        if let number = report.customerNumber {
            lead = try await self.leads.lead(
                phone: number, orCreate: .init(phone: number, source: .voice), tenant: tenant, actor: "voice:\(provider)",
                requestID: "voice-\(report.providerCallID)", logger: logger)
        }
        return try await self.postgres.withTransaction(logger: logger) { connection in
            let id = UUID()
            let inserted = try await connection.query(
                """
                INSERT INTO agent.calls (id, tenant_id, lead_id, provider, provider_call_id, direction, platform, status, customer_number, started_at,
                    ended_at, duration_seconds, recording_url, summary, sentiment, cost_micros, cost_currency, ended_reason, stage_after)
                VALUES (\(id), \(tenant.rawValue), \(lead?.id.rawValue), \(provider), \(report.providerCallID), \(report.direction), \(report.platform),
                    \(report.status), \(report.customerNumber), \(report.startedAt), \(report.endedAt), \(report.durationSeconds), \(report.recordingURL),
                    \(report.summary), \(report.sentiment), \(report.costMicros), \(report.costMicros == nil ? nil : "USD"), \(report.endedReason),
                    \(lead?.stage))
                ON CONFLICT ON CONSTRAINT calls_once DO NOTHING RETURNING id
                """, logger: logger
            ).first(as: UUID.self)
            guard inserted != nil else {
                let existing = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM agent.calls c
                    WHERE c.tenant_id = \(tenant.rawValue) AND c.provider = \(provider) AND c.provider_call_id = \(report.providerCallID)
                    """, logger: logger
                ).collect().first
                guard let existing else { throw CorruptRow("a call that conflicts is not there") }
                return (try Self.call(existing), false)
            }
            if !report.lines.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO agent.call_transcript_lines (call_id, line_no, speaker, text, offset_ms, confidence)
                    SELECT \(id), n - 1, s, t, o, nullif(c, -1)
                    FROM unnest(\(report.lines.map(\.speaker))::text[], \(report.lines.map(\.text))::text[], \(report.lines.map(\.offsetMs))::int[],
                                \(report.lines.map { Float($0.confidence ?? -1) })::real[]) WITH ORDINALITY AS x(s, t, o, c, n)
                    """, logger: logger)
            }
            if let lead {
                let delta = try await self.leads.contacted(
                    lead.id, at: report.endedAt ?? Date(), kind: "call",
                    summary: "Call \(report.direction), \(report.status)" + (report.durationSeconds.map { ", \($0) s" } ?? "")
                        + (report.summary.map { ": \($0.prefix(300))" } ?? "."),
                    data: ["call": .string(id.uuidString.lowercased())], tenant: tenant, actor: "voice:\(provider)", on: connection, logger: logger)
                try await connection.query("UPDATE agent.calls SET score_delta = \(delta) WHERE id = \(id)", logger: logger)
            }
            let row = try await connection.query("SELECT \(unescaped: Self.columns) FROM agent.calls c WHERE c.id = \(id)", logger: logger).collect().first
            guard let row else { throw CorruptRow("the call insert returned no row") }
            let call = try Self.call(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: "voice:\(provider)", action: "call.recorded", table: "calls", targetID: id.uuidString.lowercased(),
                before: nil as CallDTO?, after: call, requestID: nil, logger: logger)
            return (call, true)
        }
    }

    struct Filter: Sendable {
        var status: String?
        var sentiment: String?
        var lead: LeadID?
        var from: Date?
        var to: Date?
    }

    func calls(tenant: TenantID, visibility: LeadVisibility, filter: Filter, after: (micros: Int64, id: UUID)?, limit: Int, logger: Logger) async throws
        -> [CallDTO]
    {
        let (all, assignee) = visibility.sql
        return try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.calls c LEFT JOIN agent.leads l ON l.id = c.lead_id
            WHERE c.tenant_id = \(tenant.rawValue) AND (\(all) OR l.assignee_id = \(assignee))
              AND (\(filter.status)::text IS NULL OR c.status = \(filter.status))
              AND (\(filter.sentiment)::text IS NULL OR c.sentiment = \(filter.sentiment))
              AND (\(filter.lead?.rawValue)::uuid IS NULL OR c.lead_id = \(filter.lead?.rawValue))
              AND (\(filter.from)::timestamptz IS NULL OR c.created_at >= \(filter.from))
              AND (\(filter.to)::timestamptz IS NULL OR c.created_at < \(filter.to))
              AND (\(after == nil) OR (c.created_at, c.id) < ('epoch'::timestamptz + \(after?.micros ?? 0) * interval '1 microsecond', \(after?.id ?? UUID())))
            ORDER BY c.created_at DESC, c.id DESC LIMIT \(limit)
            """, logger: logger
        ).collect().map(Self.call)
    }

    func call(_ id: UUID, tenant: TenantID, visibility: LeadVisibility, logger: Logger) async throws -> CallDTO {
        let (all, assignee) = visibility.sql
        guard
            let row = try await self.postgres.query(
                """
                SELECT \(unescaped: Self.columns) FROM agent.calls c LEFT JOIN agent.leads l ON l.id = c.lead_id
                WHERE c.id = \(id) AND c.tenant_id = \(tenant.rawValue) AND (\(all) OR l.assignee_id = \(assignee))
                """, logger: logger
            ).collect().first
        else { throw Self.notFound }
        return try Self.call(row)
    }

    func transcript(_ id: UUID, tenant: TenantID, visibility: LeadVisibility, logger: Logger) async throws -> [CallDTO.Line] {
        _ = try await self.call(id, tenant: tenant, visibility: visibility, logger: logger)
        return try await self.postgres.query(
            "SELECT line_no, speaker, text, offset_ms, confidence FROM agent.call_transcript_lines WHERE call_id = \(id) ORDER BY line_no", logger: logger
        ).all(as: (Int, String, String, Int, Float?).self).map {
            CallDTO.Line(line: $0.0, speaker: $0.1, text: $0.2, offsetMs: $0.3, confidence: $0.4.map(Double.init))
        }
    }

    func addDisposition(
        _ id: UUID, code: String, notes: String?, tenant: TenantID, visibility: LeadVisibility, actor: String, requestID: String, logger: Logger
    )
        async throws -> CallDTO
    {
        let call = try await self.call(id, tenant: tenant, visibility: visibility, logger: logger)
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO agent.call_dispositions (id, tenant_id, call_id, code, notes, actor)
                VALUES (\(UUID()), \(tenant.rawValue), \(id), \(code), \(notes), \(actor))
                """, logger: logger)
            if let lead = call.leadId {
                try await self.leads.note(
                    lead.rawValue, tenant: tenant, kind: "call", summary: "Call disposition \(code)" + (notes.map { ": \($0.prefix(300))" } ?? "."),
                    data: ["call": .string(id.uuidString.lowercased()), "code": .string(code)], actor: actor, on: connection, logger: logger)
            }
            struct Disposed: Encodable {
                var code: String
                var notes: String?
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "call.disposition", table: "call_dispositions", targetID: id.uuidString.lowercased(),
                before: nil as Disposed?, after: Disposed(code: code, notes: notes), requestID: requestID, logger: logger)
        }
        return try await self.call(id, tenant: tenant, visibility: visibility, logger: logger)
    }
}

/// A voice call as the API shows it.
struct CallDTO: Codable, Sendable, Equatable {
    struct Disposition: Codable, Sendable, Equatable {
        var code: String
        var notes: String?
        var actor: String
        var createdAt: Date?
    }

    struct Line: Codable, Sendable, Equatable {
        var line: Int
        /// `agent`, `customer` or `system`.
        var speaker: String
        var text: String
        /// Milliseconds from the call's start.
        var offsetMs: Int
        /// The recogniser's confidence, when the provider gave one.
        var confidence: Double?
    }

    var id: CallID
    var leadId: LeadID?
    var provider: String
    var providerCallId: String
    var direction: String
    var platform: String
    var status: String
    var customerNumber: String?
    var startedAt: Date?
    var endedAt: Date?
    var durationSeconds: Int?
    var recordingUrl: String?
    var summary: String?
    var sentiment: String?
    var costMicros: Int64?
    var costCurrency: String?
    var endedReason: String?
    var scoreDelta: Int?
    var stageAfter: String?
    var transcriptLines: Int
    var dispositions: [Disposition]
    var createdAt: Date
}
