import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit

/// All SQL on campaigns and their targets: what people write through the API, and what the dispatcher claims and
/// hands to the outbox.
struct CampaignsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let columns = """
        id, name, type, channel_id, template_id, status, start_at, valid_until, metadata::text, voucher::text, waiting_reason, created_by,
        created_at, updated_at, started_at, finished_at
        """
    typealias Row = (UUID, String, String, UUID, UUID, String, Date?, Date?, String, String?, String?, String, Date, Date, Date?, Date?)

    static let notFound = APIError.notFound("campaign_not_found", "No such campaign.")

    func campaign(_ row: Row, counts: CampaignCounts) throws -> CampaignDTO {
        guard let type = CampaignType(rawValue: row.2), let status = CampaignStatus(rawValue: row.5) else {
            throw CorruptRow("campaign \(row.0) has type \(row.2), status \(row.5)")
        }
        return CampaignDTO(
            id: CampaignID(rawValue: row.0), name: row.1, type: type, channelId: ChannelID(rawValue: row.3), templateId: TemplateID(rawValue: row.4),
            status: status, startAt: row.6, validUntil: row.7, metadata: try JSONDecoder.sokoni.decode(CampaignMetadata.self, from: Data(row.8.utf8)),
            voucher: try row.9.map { try JSONDecoder.sokoni.decode(CampaignVoucher.self, from: Data($0.utf8)) }, counts: counts, waitingReason: row.10,
            createdBy: row.11, createdAt: row.12, updatedAt: row.13, startedAt: row.14, finishedAt: row.15)
    }

    static func json(_ value: some Encodable) throws -> String { String(decoding: try JSONEncoder.sokoni.encode(value), as: UTF8.self) }

    // MARK: campaigns

    func create(_ new: NewCampaign, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> CampaignDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let row = try await connection.query(
                """
                INSERT INTO messaging.campaigns (id, tenant_id, name, type, channel_id, template_id, start_at, valid_until, metadata, voucher, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(new.name), \(new.type.rawValue), \(new.channelId.rawValue), \(new.templateId.rawValue),
                    \(new.startAt), \(new.validUntil), \(try Self.json(new.metadata ?? CampaignMetadata()))::jsonb,
                    \(try new.voucher.map(Self.json))::jsonb, \(actor))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)!
            let campaign = try self.campaign(row, counts: CampaignCounts([:]))
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "campaign.create", table: "campaigns", targetID: campaign.id.description,
                before: nil as String?, after: campaign, requestID: requestID, logger: logger)
            return campaign
        }
    }

    func find(_ id: CampaignID, tenant: TenantID, logger: Logger) async throws -> CampaignDTO? {
        guard
            let row = try await self.postgres.query(
                "SELECT \(unescaped: Self.columns) FROM messaging.campaigns WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: Row.self)
        else { return nil }
        return try self.campaign(row, counts: try await self.counts([id], logger: logger)[id] ?? CampaignCounts([:]))
    }

    func list(tenant: TenantID, status: CampaignStatus?, after cursor: (Int64, UUID)?, limit: Int, logger: Logger) async throws -> [CampaignDTO] {
        let rows = try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM messaging.campaigns
            WHERE tenant_id = \(tenant.rawValue) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(cursor?.0)::bigint IS NULL OR (created_at, id) < (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self)
        let counts = try await self.counts(rows.map { CampaignID(rawValue: $0.0) }, logger: logger)
        return try rows.map { try self.campaign($0, counts: counts[CampaignID(rawValue: $0.0)] ?? CampaignCounts([:])) }
    }

    func counts(_ ids: [CampaignID], logger: Logger) async throws -> [CampaignID: CampaignCounts] {
        guard !ids.isEmpty else { return [:] }
        var byCampaign: [CampaignID: [TargetStatus: Int]] = [:]
        for (id, status, count) in try await self.postgres.query(
            """
            SELECT campaign_id, status, sum(n)::int FROM messaging.campaign_counts WHERE campaign_id = ANY(\(ids.map(\.rawValue))::uuid[])
            GROUP BY campaign_id, status HAVING sum(n) <> 0
            """, logger: logger
        ).all(as: (UUID, String, Int).self) {
            guard let status = TargetStatus(rawValue: status) else { throw CorruptRow("a target of campaign \(id) has status \(status)") }
            byCampaign[CampaignID(rawValue: id), default: [:]][status] = count
        }
        return byCampaign.mapValues(CampaignCounts.init)
    }

    /// A change to a campaign that has not run yet (409 otherwise).
    func update(
        _ id: CampaignID, tenant: TenantID, actor: String, requestID: String, logger: Logger, change: (inout CampaignDTO) async throws -> Void
    ) async throws -> CampaignDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await self.locked(id, tenant: tenant, on: connection, logger: logger)
            guard before.status.isEditable else {
                throw APIError.conflict("not_editable", "A \(before.status.rawValue) campaign cannot be changed; only a draft or scheduled one.")
            }
            var after = before
            try await change(&after)
            let row = try await connection.query(
                """
                UPDATE messaging.campaigns SET name = \(after.name), template_id = \(after.templateId.rawValue), valid_until = \(after.validUntil),
                    metadata = \(try Self.json(after.metadata))::jsonb, voucher = \(try after.voucher.map(Self.json))::jsonb
                WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)!
            let campaign = try self.campaign(row, counts: before.counts)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "campaign.update", table: "campaigns", targetID: id.description, before: before,
                after: campaign, requestID: requestID, logger: logger)
            return campaign
        }
    }

    private func locked(_ id: CampaignID, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws -> CampaignDTO {
        guard
            let row = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM messaging.campaigns WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE
                """, logger: logger
            ).first(as: Row.self)
        else { throw Self.notFound }
        return try self.campaign(row, counts: CampaignCounts([:]))
    }

    /// Moves a campaign by `action` (the machine is `CampaignStatus.after`), checking what the move needs in the
    /// same transaction: `check` sees the campaign and how many targets wait.
    func transition(
        _ id: CampaignID, tenant: TenantID, action: CampaignStatus.Action, startAt: Date? = nil, actor: String, requestID: String, logger: Logger,
        check: (CampaignDTO, Int) async throws -> Void = { _, _ in }
    ) async throws -> CampaignDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let before = try await self.locked(id, tenant: tenant, on: connection, logger: logger)
            let status = try before.status.after(action).get()
            let waiting =
                try await connection.query(
                    "SELECT count(*)::int FROM messaging.campaign_targets WHERE campaign_id = \(id.rawValue) AND status = 'queued' AND message_id IS NULL",
                    logger: logger
                ).first(as: Int.self) ?? 0
            try await check(before, waiting)
            let row = try await connection.query(
                """
                UPDATE messaging.campaigns SET status = \(status.rawValue), start_at = coalesce(\(startAt), start_at),
                    started_at = CASE WHEN \(status.rawValue) = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
                    finished_at = CASE WHEN \(status.rawValue) IN ('done', 'cancelled') THEN now() ELSE NULL END,
                    -- a resumed campaign starts its rate afresh: no burst for the time it stood still
                    dispatch_at = NULL, dispatch_credit = 0, waiting_reason = NULL
                WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)!
            if status == .cancelled {
                // what was never handed over is cancelled; what the outbox holds is blocked by the sender (CampaignRef)
                try await connection.query(
                    """
                    UPDATE messaging.campaign_targets SET status = 'cancelled', error_code = 'campaign_cancelled',
                        error_message = 'The campaign was cancelled before this target was sent.'
                    WHERE campaign_id = \(id.rawValue) AND status = 'queued' AND message_id IS NULL
                    """, logger: logger)
            }
            let campaign = try self.campaign(row, counts: CampaignCounts([:]))
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "campaign.\(action.rawValue)", table: "campaigns", targetID: id.description,
                before: ["status": before.status.rawValue], after: ["status": status.rawValue], requestID: requestID, logger: logger)
            return campaign
        }
    }

    // MARK: targets

    /// One import, in one transaction: the campaign is locked (and must still be editable) for its length, so a
    /// start waits for the import to commit and never sends half of it.
    func importing(
        _ id: CampaignID, tenant: TenantID, actor: String, requestID: String, logger: Logger, _ body: (TargetImport) async throws -> ImportReport
    ) async throws -> ImportReport {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let campaign = try await self.locked(id, tenant: tenant, on: connection, logger: logger)
            guard campaign.status.isEditable else {
                throw APIError.conflict("not_editable", "Targets are added to a draft or scheduled campaign; this one is \(campaign.status.rawValue).")
            }
            let result = try await body(TargetImport(campaign: id, tenant: tenant, connection: connection, logger: logger))
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "campaign.import_targets", table: "campaigns", targetID: id.description,
                before: nil as String?,
                after: [
                    "dryRun": result.dryRun ? 1 : 0, "rows": result.rows, "accepted": result.accepted, "optedOut": result.optedOut,
                    "rejected": result.rejected, "duplicates": result.duplicates,
                ], requestID: requestID, logger: logger)
            return result
        }
    }

    /// The statements of one import, on its transaction.
    struct TargetImport: Sendable {
        let campaign: CampaignID
        let tenant: TenantID
        let connection: PostgresConnection
        let logger: Logger

        /// Of `hashes` (hex keyed hashes of numbers), those on the tenant's opt-out list.
        func optedOut(hashes: [String]) async throws -> Set<String> {
            Set(
                try await self.connection.query(
                    """
                    SELECT encode(address_hash, 'hex') FROM messaging.opt_outs
                    WHERE tenant_id = \(self.tenant.rawValue) AND address_hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest(\(hashes)::text[]) h))
                    """, logger: self.logger
                ).all(as: String.self))
        }

        /// Of `numbers`, those the campaign already targets.
        func existing(_ numbers: [String]) async throws -> Set<String> {
            Set(
                try await self.connection.query(
                    "SELECT msisdn FROM messaging.campaign_targets WHERE campaign_id = \(self.campaign.rawValue) AND msisdn = ANY(\(numbers)::text[])",
                    logger: self.logger
                ).all(as: String.self))
        }

        /// Stores the targets (opted-out ones as `opted_out`); answers the numbers stored, so the others were already
        /// in the campaign.
        func insert(_ targets: [TargetCandidate], optedOut: Set<String>) async throws -> Set<String> {
            guard !targets.isEmpty else { return [] }
            let variables = try targets.map { try CampaignsStore.json($0.variables) }
            let statuses = targets.map { optedOut.contains($0.msisdn) ? "opted_out" : "queued" }
            let codes = targets.map { optedOut.contains($0.msisdn) ? "opted_out" : "" }
            return Set(
                try await self.connection.query(
                    """
                    INSERT INTO messaging.campaign_targets (campaign_id, tenant_id, msisdn, country, contact_id, lead_id, variables, status, error_code,
                        error_message)
                    SELECT \(self.campaign.rawValue), \(self.tenant.rawValue), t.msisdn, nullif(t.country, ''), nullif(t.contact, '')::uuid,
                        nullif(t.lead, '')::uuid, t.variables::jsonb,
                        t.status, nullif(t.code, ''), CASE WHEN t.code = '' THEN NULL ELSE 'On the opt-out list at import.' END
                    FROM unnest(\(targets.map(\.msisdn))::text[], \(targets.map { $0.country ?? "" })::text[],
                                \(targets.map { $0.contact?.uuidString ?? "" })::text[], \(targets.map { $0.lead?.uuidString ?? "" })::text[], \(variables)::text[], \(statuses)::text[], \(codes)::text[])
                        AS t(msisdn, country, contact, lead, variables, status, code)
                    ON CONFLICT (campaign_id, msisdn) DO NOTHING
                    RETURNING msisdn
                    """, logger: self.logger
                ).all(as: String.self))
        }
    }

    static let targetColumns = """
        id, msisdn, contact_id, lead_id, variables::text, status, error_code, error_message, message_id, voucher_id, needs_review, updated_at
        """
    typealias TargetRow = (Int64, String, UUID?, UUID?, String, String, String?, String?, UUID?, UUID?, Bool, Date)

    static func target(_ row: TargetRow) throws -> TargetDTO {
        guard let status = TargetStatus(rawValue: row.5) else { throw CorruptRow("target \(row.0) has status \(row.5)") }
        return TargetDTO(
            id: row.0, msisdn: row.1, contactId: row.2.map(ContactID.init(rawValue:)), leadId: row.3?.uuidString.lowercased(),
            variables: try JSONDecoder.sokoni.decode([String].self, from: Data(row.4.utf8)), status: status, errorCode: row.6, errorMessage: row.7,
            messageId: row.8.map(MessageID.init(rawValue:)), voucherId: row.9.map(VoucherID.init(rawValue:)), needsReview: row.10, updatedAt: row.11)
    }

    func targets(_ id: CampaignID, tenant: TenantID, status: TargetStatus?, after cursor: Int64?, limit: Int, logger: Logger) async throws -> [TargetDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.targetColumns) FROM messaging.campaign_targets
            WHERE campaign_id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND id > \(cursor ?? 0)
            ORDER BY id LIMIT \(limit)
            """, logger: logger
        ).all(as: TargetRow.self).map(Self.target)
    }

    func progress(_ id: CampaignID, tenant: TenantID, logger: Logger) async throws -> CampaignProgress? {
        guard
            let (status, waiting) = try await self.postgres.query(
                "SELECT status, waiting_reason FROM messaging.campaigns WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: (String, String?).self), let status = CampaignStatus(rawValue: status)
        else { return nil }
        let counts = try await self.counts([id], logger: logger)[id] ?? CampaignCounts([:])
        let reasons = try await self.postgres.query(
            """
            SELECT error_code, count(*)::int FROM messaging.campaign_targets
            WHERE campaign_id = \(id.rawValue) AND status IN ('failed', 'opted_out', 'expired', 'cancelled') AND error_code IS NOT NULL
            GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT 20
            """, logger: logger
        ).all(as: (String, Int).self).map { CampaignProgress.Reason(code: $0.0, count: $0.1) }
        let (review, lastMinute) =
            try await self.postgres.query(
                """
                SELECT (SELECT count(*) FROM messaging.campaign_targets WHERE campaign_id = \(id.rawValue) AND needs_review)::int,
                       (SELECT count(*) FROM messaging.campaign_targets
                        WHERE campaign_id = \(id.rawValue) AND status IN ('sent', 'delivered', 'read') AND updated_at > now() - interval '10 seconds')::int * 6
                """, logger: logger
            ).first(as: (Int, Int).self) ?? (0, 0)
        return CampaignProgress(
            status: status, counts: counts, failureReasons: reasons, needsReview: review, waitingReason: waiting, sentPerMinute: lastMinute)
    }

    // MARK: dispatch

    /// Scheduled campaigns whose start has come: running, audited as the scheduler's.
    func startDue(now: Date, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let started = try await connection.query(
                """
                UPDATE messaging.campaigns SET status = 'running', started_at = coalesce(started_at, now()), dispatch_at = NULL, dispatch_credit = 0
                WHERE status = 'scheduled' AND start_at <= \(now) RETURNING id, tenant_id
                """, logger: logger
            ).all(as: (UUID, UUID).self)
            for (id, tenant) in started {
                try await self.audit.record(
                    on: connection, tenantID: TenantID(rawValue: tenant), actor: "scheduler", action: "campaign.start", table: "campaigns",
                    targetID: id.uuidString.lowercased(), before: ["status": "scheduled"], after: ["status": "running"], requestID: nil, logger: logger)
            }
        }
    }

    /// Targets never handed over when their campaign's validity window closed: `expired`, with the reason.
    func expireUnsent(now: Date, logger: Logger) async throws {
        // the campaigns first (a few rows of the active index): a join let the planner read every waiting target of
        // every running campaign on each pass
        let ended = try await self.postgres.query(
            "SELECT id FROM messaging.campaigns WHERE status IN ('running', 'paused') AND valid_until <= \(now)", logger: logger
        ).all(as: UUID.self)
        guard !ended.isEmpty else { return }
        try await self.postgres.query(
            """
            UPDATE messaging.campaign_targets SET status = 'expired', error_code = 'validity_ended',
                error_message = 'The campaign''s validity window ended before this target could be sent.'
            WHERE campaign_id = ANY(\(ended)::uuid[]) AND status = 'queued' AND message_id IS NULL
            """, logger: logger)
    }

    /// What the dispatcher needs of a running campaign.
    struct Running: Sendable {
        var id: CampaignID
        var tenant: TenantID
        var type: CampaignType
        var channel: ChannelID
        var template: TemplateID
        var metadata: CampaignMetadata
        var voucher: CampaignVoucher?
        var validUntil: Date?
    }

    func running(logger: Logger) async throws -> [Running] {
        try await self.postgres.query(
            """
            SELECT id, tenant_id, type, channel_id, template_id, metadata::text, voucher::text, valid_until FROM messaging.campaigns
            WHERE status = 'running' ORDER BY started_at, id
            """, logger: logger
        ).all(as: (UUID, UUID, String, UUID, UUID, String, String?, Date?).self).map { row in
            guard let type = CampaignType(rawValue: row.2) else { throw CorruptRow("campaign \(row.0) has type \(row.2)") }
            return Running(
                id: CampaignID(rawValue: row.0), tenant: TenantID(rawValue: row.1), type: type, channel: ChannelID(rawValue: row.3),
                template: TemplateID(rawValue: row.4), metadata: try JSONDecoder.sokoni.decode(CampaignMetadata.self, from: Data(row.5.utf8)),
                voucher: try row.6.map { try JSONDecoder.sokoni.decode(CampaignVoucher.self, from: Data($0.utf8)) }, validUntil: row.7)
        }
    }

    /// A target the dispatcher claimed.
    struct Claimed: Sendable {
        var id: Int64
        var msisdn: String
        var variables: [String]
        var voucherID: VoucherID?
        var voucherCode: String?
        var voucherCard: String?
    }

    /// The dispatcher's hold on one running campaign for one pass: its rate credit, what the outbox still holds of
    /// it, and the claim of the next targets. Nil when the campaign is not running or another replica has it.
    struct Pass: Sendable {
        let campaign: CampaignID
        let connection: PostgresConnection
        let logger: Logger
        /// Sends the campaign's rate allowed but not yet made, and when that was counted.
        let credit: Double
        let creditAt: Date?

        /// Targets handed to the outbox and not sent yet (held or queued there).
        func outstanding() async throws -> Int {
            try await self.connection.query(
                """
                SELECT count(*)::int FROM messaging.campaign_targets
                WHERE campaign_id = \(self.campaign.rawValue) AND message_id IS NOT NULL AND status IN ('queued', 'queued_throttled')
                """, logger: self.logger
            ).first(as: Int.self) ?? 0
        }

        /// The next `limit` targets in import order, skipping numbers of `quietCountries` (and, for a voucher campaign,
        /// targets whose voucher is not issued yet).
        func claim(limit: Int, quietCountries: [String], needVoucher: Bool) async throws -> [Claimed] {
            guard limit > 0 else { return [] }
            return try await self.connection.query(
                """
                SELECT id, msisdn, variables::text, voucher_id, voucher_code, voucher_card FROM messaging.campaign_targets
                WHERE campaign_id = \(self.campaign.rawValue) AND status = 'queued' AND message_id IS NULL
                  AND (country IS NULL OR NOT (country = ANY(\(quietCountries)::text[]))) AND (NOT \(needVoucher) OR voucher_id IS NOT NULL)
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: self.logger
            ).all(as: (Int64, String, String, UUID?, String?, String?).self).map {
                Claimed(
                    id: $0.0, msisdn: $0.1, variables: try JSONDecoder.sokoni.decode([String].self, from: Data($0.2.utf8)),
                    voucherID: $0.3.map(VoucherID.init(rawValue:)), voucherCode: $0.4, voucherCard: $0.5)
            }
        }

        /// Whether any target waits at all (quiet hours aside).
        func anyWaiting() async throws -> Bool {
            try await self.connection.query(
                """
                SELECT 1 FROM messaging.campaign_targets WHERE campaign_id = \(self.campaign.rawValue) AND status = 'queued' AND message_id IS NULL LIMIT 1
                """, logger: self.logger
            ).first(as: Int.self) != nil
        }

        /// Each target's message, recorded with the send it was handed over as (same transaction).
        func handedOver(_ pairs: [(Int64, MessageID)]) async throws {
            guard !pairs.isEmpty else { return }
            try await self.connection.query(
                """
                UPDATE messaging.campaign_targets t SET message_id = p.message
                FROM unnest(\(pairs.map(\.0))::bigint[], \(pairs.map(\.1.rawValue))::uuid[]) AS p(id, message)
                WHERE t.id = p.id
                """, logger: self.logger)
        }

        /// Targets that cannot be sent (a missing variable): failed with the reason, never handed over.
        func failed(_ targets: [(Int64, String, String)]) async throws {
            guard !targets.isEmpty else { return }
            try await self.connection.query(
                """
                UPDATE messaging.campaign_targets t SET status = 'failed', error_code = f.code, error_message = f.message
                FROM unnest(\(targets.map(\.0))::bigint[], \(targets.map(\.1))::text[], \(targets.map(\.2))::text[]) AS f(id, code, message)
                WHERE t.id = f.id
                """, logger: self.logger)
        }

        /// How many different numbers the channel messaged first today (UTC), counting `hashes` in: WhatsApp's tier.
        func tierCount(channel: ChannelID, adding hashes: [String]) async throws -> Int {
            if !hashes.isEmpty {
                try await self.connection.query(
                    """
                    INSERT INTO messaging.tier_recipients (channel_id, day, address_hash)
                    SELECT \(channel.rawValue), (now() AT TIME ZONE 'UTC')::date, decode(h, 'hex') FROM unnest(\(hashes)::text[]) h
                    ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
            return try await self.connection.query(
                """
                SELECT count(*)::int FROM messaging.tier_recipients WHERE channel_id = \(channel.rawValue) AND day = (now() AT TIME ZONE 'UTC')::date
                """, logger: self.logger
            ).first(as: Int.self) ?? 0
        }

        /// Of `hashes`, those the channel already messaged today (they do not count again against the tier).
        func messagedToday(channel: ChannelID, hashes: [String]) async throws -> Set<String> {
            Set(
                try await self.connection.query(
                    """
                    SELECT encode(address_hash, 'hex') FROM messaging.tier_recipients
                    WHERE channel_id = \(channel.rawValue) AND day = (now() AT TIME ZONE 'UTC')::date
                      AND address_hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest(\(hashes)::text[]) h))
                    """, logger: self.logger
                ).all(as: String.self))
        }

        func save(credit: Double, at: Date, waitingReason: String?) async throws {
            try await self.connection.query(
                """
                UPDATE messaging.campaigns SET dispatch_credit = \(credit), dispatch_at = \(at),
                    waiting_reason = \(waitingReason)
                WHERE id = \(self.campaign.rawValue)
                """, logger: self.logger)
        }
    }

    /// Runs `body` with the campaign locked for this pass (`FOR UPDATE SKIP LOCKED`: one replica works a campaign at
    /// a time, the others pass it by); all its writes commit together.
    func pass<Result: Sendable>(_ id: CampaignID, logger: Logger, _ body: (Pass) async throws -> Result) async throws -> Result? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let (credit, at) = try await connection.query(
                    """
                    SELECT dispatch_credit, dispatch_at FROM messaging.campaigns WHERE id = \(id.rawValue) AND status = 'running'
                    FOR UPDATE SKIP LOCKED
                    """, logger: logger
                ).first(as: (Double, Date?).self)
            else { return nil }
            return try await body(Pass(campaign: id, connection: connection, logger: logger, credit: credit, creditAt: at))
        }
    }

    /// A running campaign with nothing left to send or waiting in the outbox is done.
    func finishIfDone(_ id: CampaignID, logger: Logger) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let tenant = try await connection.query(
                    """
                    UPDATE messaging.campaigns c SET status = 'done', finished_at = now(), waiting_reason = NULL
                    WHERE id = \(id.rawValue) AND status = 'running'
                      AND NOT EXISTS (SELECT 1 FROM messaging.campaign_targets t WHERE t.campaign_id = c.id AND t.status IN ('queued', 'queued_throttled'))
                    RETURNING tenant_id
                    """, logger: logger
                ).first(as: UUID.self)
            else { return false }
            try await self.audit.record(
                on: connection, tenantID: TenantID(rawValue: tenant), actor: "scheduler", action: "campaign.finish", table: "campaigns",
                targetID: id.description, before: ["status": "running"], after: ["status": "done"], requestID: nil, logger: logger)
            return true
        }
    }

    // MARK: vouchers

    /// Targets of a voucher campaign still without a voucher, next in line: at most `limit`, and none when `ahead`
    /// targets already wait with theirs.
    func needingVouchers(_ id: CampaignID, limit: Int, ahead: Int, logger: Logger) async throws -> [(Int64, String)] {
        let ready =
            try await self.postgres.query(
                """
                SELECT count(*)::int FROM (SELECT 1 FROM messaging.campaign_targets
                WHERE campaign_id = \(id.rawValue) AND status = 'queued' AND message_id IS NULL AND voucher_id IS NOT NULL LIMIT \(ahead)) r
                """, logger: logger
            ).first(as: Int.self) ?? 0
        guard ready < ahead else { return [] }
        return try await self.postgres.query(
            """
            SELECT id, msisdn FROM messaging.campaign_targets
            WHERE campaign_id = \(id.rawValue) AND status = 'queued' AND message_id IS NULL AND voucher_id IS NULL
            ORDER BY id LIMIT \(limit)
            """, logger: logger
        ).all(as: (Int64, String).self)
    }

    func vouchersIssued(_ issued: [(target: Int64, voucher: VoucherID, code: String, card: String?)], logger: Logger) async throws {
        guard !issued.isEmpty else { return }
        try await self.postgres.query(
            """
            UPDATE messaging.campaign_targets t SET voucher_id = v.voucher, voucher_code = v.code, voucher_card = nullif(v.card, '')
            FROM unnest(\(issued.map(\.target))::bigint[], \(issued.map(\.voucher.rawValue))::uuid[], \(issued.map(\.code))::text[],
                        \(issued.map { $0.card ?? "" })::text[]) AS v(id, voucher, code, card)
            WHERE t.id = v.id AND t.voucher_id IS NULL
            """, logger: logger)
    }

    /// The campaign's status in the tenant, or nil when the tenant has no such campaign.
    func status(of id: CampaignID, tenant: TenantID, logger: Logger) async throws -> CampaignStatus? {
        try await self.postgres.query(
            "SELECT status FROM messaging.campaigns WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: String.self).flatMap(CampaignStatus.init(rawValue:))
    }

    /// A send found in flight by its retry (the service died while the provider had it): not sent again, flagged.
    func flagInFlight(message: MessageID, logger: Logger) async throws {
        try await self.postgres.query(
            "UPDATE messaging.campaign_targets SET needs_review = true WHERE message_id = \(message.rawValue)", logger: logger)
    }

    // MARK: export

    /// Every target with its outcome, in import order, as CSV rows (read in pages, not in one statement).
    func exportRows(_ id: CampaignID, tenant: TenantID, logger: Logger) async throws -> [[String]] {
        var rows: [[String]] = [["msisdn", "status", "error_code", "error_message", "message_id", "voucher_id", "needs_review", "updated_at"]]
        var after: Int64 = 0
        let format = ISO8601DateFormatter()
        while true {
            let page = try await self.targets(id, tenant: tenant, status: nil, after: after, limit: 5000, logger: logger)
            for target in page {
                rows.append([
                    target.msisdn, target.status.rawValue, target.errorCode ?? "", target.errorMessage ?? "", target.messageId?.description ?? "",
                    target.voucherId?.description ?? "", target.needsReview ? "true" : "false", format.string(from: target.updatedAt),
                ])
            }
            guard let last = page.last, page.count == 5000 else { break }
            after = last.id
        }
        return rows
    }
}

/// A target row that passed the import's checks.
struct TargetCandidate: Sendable {
    var row: Int
    var msisdn: String
    var country: String?
    var contact: UUID?
    var lead: UUID?
    var variables: [String]
}
