import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// Outbound calls and Twilio: the tenant's Twilio account (sealed), a call asked for (a row from the moment it is
/// asked), what the provider answered, and Twilio's status callbacks, which only move a call forward.
extension CallsStore {
    struct TwilioAccount: Sendable, Equatable {
        var accountSid: String
        var authToken: String
        var from: String
    }

    func twilio(tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> TwilioAccount? {
        let query: PostgresQuery = """
            SELECT twilio_account_sid, twilio_auth_token, twilio_key_id, twilio_from FROM agent.voice_settings
            WHERE tenant_id = \(tenant.rawValue) AND twilio_account_sid IS NOT NULL
            """
        let rows =
            if let connection {
                try await connection.query(query, logger: logger).all(as: (String, ByteBuffer, String, String).self)
            } else {
                try await self.postgres.query(query, logger: logger).all(as: (String, ByteBuffer, String, String).self)
            }
        guard let row = rows.first else { return nil }
        let token = String(decoding: try self.secrets.open(.init(bytes: Array(buffer: row.1), keyID: row.2)), as: UTF8.self)
        return TwilioAccount(accountSid: row.0, authToken: token, from: row.3)
    }

    /// Sets (or, all nil, removes) the tenant's Twilio account; the webhook's public id is made first when the tenant
    /// has none.
    func setTwilio(_ account: TwilioAccount?, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Settings {
        let sealed = try account.map { try self.secrets.seal(Array($0.authToken.utf8)) }
        let exists =
            try await self.postgres.query(
                "SELECT 1 FROM agent.voice_settings WHERE tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: Int.self) != nil
        if !exists { _ = try await self.rotate(tenant: tenant, actor: actor, requestID: requestID, logger: logger) }
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                UPDATE agent.voice_settings SET twilio_account_sid = \(account?.accountSid), twilio_auth_token = \(sealed.map { ByteBuffer(bytes: $0.bytes) }),
                    twilio_key_id = \(sealed?.keyID), twilio_from = \(account?.from), updated_at = now()
                WHERE tenant_id = \(tenant.rawValue)
                """, logger: logger)
            struct Account: Encodable {
                var accountSid: String?
                var fromNumber: String?
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "voice.twilio", table: "voice_settings", targetID: tenant.description,
                before: nil as Account?, after: Account(accountSid: account?.accountSid, fromNumber: account?.from), requestID: requestID, logger: logger)
        }
        guard let settings = try await self.settings(tenant: tenant, logger: logger) else { throw CorruptRow("voice settings vanished") }
        return settings
    }

    /// The tenant and Twilio auth token of a status callback URL's public id.
    func twilioWebhook(publicID: String, logger: Logger) async throws -> (TenantID, String)? {
        guard
            let row = try await self.postgres.query(
                """
                SELECT tenant_id, twilio_auth_token, twilio_key_id FROM agent.voice_settings
                WHERE public_id = \(publicID) AND twilio_auth_token IS NOT NULL
                """, logger: logger
            ).first(as: (UUID, ByteBuffer, String).self)
        else { return nil }
        return (TenantID(row.0), String(decoding: try self.secrets.open(.init(bytes: Array(buffer: row.1), keyID: row.2)), as: UTF8.self))
    }

    /// The webhook's public id, for the status callback URL an outbound call gives Twilio.
    func publicID(tenant: TenantID, logger: Logger) async throws -> String? {
        try await self.postgres.query("SELECT public_id FROM agent.voice_settings WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            .first(as: String.self)
    }

    /// A call asked of the provider: `queued`, on the lead, before the provider hears of it.
    func request(lead: LeadDTO, provider: String, purpose: String?, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws
        -> CallDTO
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO agent.calls (id, tenant_id, lead_id, provider, provider_call_id, direction, platform, status, customer_number, requested_by,
                    purpose, stage_after)
                VALUES (\(id), \(tenant.rawValue), \(lead.id.rawValue), \(provider), \("request-" + id.uuidString.lowercased()), 'outbound', 'pstn',
                    'queued', \(lead.phone), \(actor), \(purpose), \(lead.stage))
                """, logger: logger)
            try await self.leads.note(
                lead.id.rawValue, tenant: tenant, kind: "call", summary: "Outbound call asked for" + (purpose.map { ": \($0.prefix(200))" } ?? "."),
                data: ["call": .string(id.uuidString.lowercased())], actor: actor, on: connection, logger: logger)
            let row = try await connection.query("SELECT \(unescaped: Self.columns) FROM agent.calls c WHERE c.id = \(id)", logger: logger).collect().first
            guard let row else { throw CorruptRow("the call insert returned no row") }
            let call = try Self.call(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "call.requested", table: "calls", targetID: call.id.description,
                before: nil as CallDTO?, after: call, requestID: requestID, logger: logger)
            return call
        }
    }

    /// What the provider answered the request: its call id, or why it placed no call (the call then failed).
    func placed(_ id: CallID, providerCallID: String?, failure: String?, tenant: TenantID, logger: Logger) async throws -> CallDTO {
        try await self.postgres.query(
            """
            UPDATE agent.calls SET provider_call_id = coalesce(\(providerCallID), provider_call_id),
                status = CASE WHEN \(failure)::text IS NULL THEN status ELSE 'failed' END,
                ended_reason = coalesce(\(failure.map { String($0.prefix(200)) }), ended_reason)
            WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)
            """, logger: logger)
        let row = try await self.postgres.query(
            "SELECT \(unescaped: Self.columns) FROM agent.calls c WHERE c.id = \(id.rawValue) AND c.tenant_id = \(tenant.rawValue)", logger: logger
        ).collect().first
        guard let row else { throw Self.notFound }
        return try Self.call(row)
    }

    /// A Twilio status callback: the call moves forward (never back: a late `ringing` after `completed` changes
    /// nothing); an end records its duration and touches the lead. A callback of a call the platform never asked for
    /// (a customer calling in) makes the call, on the lead of their number. Answers whether anything changed.
    @discardableResult
    func apply(_ callback: TwilioCalls.Callback, tenant: TenantID, logger: Logger) async throws -> Bool {
        var lead: LeadDTO? = nil
        if let number = callback.customerNumber {
            lead = try await self.leads.lead(
                phone: number, orCreate: .init(phone: number, source: .voice), tenant: tenant, actor: "voice:twilio",
                requestID: "twilio-\(callback.callSid)", logger: logger)
        }
        return try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO agent.calls (id, tenant_id, lead_id, provider, provider_call_id, direction, platform, status, customer_number, stage_after)
                VALUES (\(UUID()), \(tenant.rawValue), \(lead?.id.rawValue), 'twilio', \(callback.callSid), \(callback.direction), 'pstn', 'queued',
                    \(callback.customerNumber), \(lead?.stage))
                ON CONFLICT ON CONSTRAINT calls_once DO NOTHING
                """, logger: logger)
            guard
                let (id, status, leadID) = try await connection.query(
                    """
                    SELECT id, status, lead_id FROM agent.calls
                    WHERE tenant_id = \(tenant.rawValue) AND provider = 'twilio' AND provider_call_id = \(callback.callSid) FOR UPDATE
                    """, logger: logger
                ).first(as: (UUID, String, UUID?).self)
            else { throw CorruptRow("a Twilio call that conflicts is not there") }
            guard (TwilioCalls.rank[callback.status] ?? 0) > (TwilioCalls.rank[status] ?? 0) else { return false }
            let ends = TwilioCalls.isEnd(callback.status)
            try await connection.query(
                """
                UPDATE agent.calls SET status = \(callback.status),
                    started_at = CASE WHEN \(callback.status) = 'in-progress' THEN coalesce(started_at, now()) ELSE started_at END,
                    ended_at = CASE WHEN \(ends) THEN now() ELSE ended_at END
                WHERE id = \(id)
                """, logger: logger)
            if ends {
                try await connection.query(
                    """
                    UPDATE agent.calls SET duration_seconds = coalesce(\(callback.durationSeconds), duration_seconds),
                        started_at = CASE WHEN \(callback.durationSeconds)::int IS NOT NULL THEN ended_at - make_interval(secs => \(callback.durationSeconds)::int)
                                          ELSE started_at END,
                        recording_url = coalesce(\(callback.recordingURL), recording_url)
                    WHERE id = \(id)
                    """, logger: logger)
                if let leadID {
                    let delta = try await self.leads.contacted(
                        LeadID(leadID), at: Date(), kind: "call",
                        summary: "Call \(callback.direction), \(callback.status)" + (callback.durationSeconds.map { ", \($0) s." } ?? "."),
                        data: ["call": .string(id.uuidString.lowercased())], tenant: tenant, actor: "voice:twilio", on: connection, logger: logger)
                    try await connection.query("UPDATE agent.calls SET score_delta = \(delta) WHERE id = \(id)", logger: logger)
                }
            }
            return true
        }
    }
}
