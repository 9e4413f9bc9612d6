import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL on vouchers, their events, redemptions and metrics. Every write runs in a transaction with its audit row;
/// the voucher events come from the schema's own triggers.
struct VouchersStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let columns = """
        id, code, status, amount_minor, currency, msisdn, station_scope, campaign_id, recipient_key, issued_at, sent_at, redeemed_at,
        redeemed_station_id, expires_at, created_by, metadata::text, tenant_id
        """
    typealias Row = (UUID, String, String, Int64, String, String, UUID?, UUID?, String?, Date, Date?, Date?, UUID?, Date?, String, String, UUID)

    /// Decodes a row totally: an unknown status or currency, or metadata that is not JSON, throws.
    static func voucher(_ row: Row) throws -> VoucherDTO {
        guard let currency = Currency(code: row.4) else { throw CorruptRow("voucher \(row.0) has currency \(row.4)") }
        let status = try CorruptRow.known(row.2, as: VoucherStatus.self)
        let metadata = try JSONDecoder.sokoni.decode(JSONValue.self, from: Data(row.15.utf8))
        return VoucherDTO(
            id: row.0.uuidString.lowercased(), code: row.1, status: status,
            amount: Money(minorUnits: row.3, currency: currency).decimalString, currency: row.4, msisdn: row.5,
            stationScope: row.6?.uuidString.lowercased(), campaignId: row.7?.uuidString.lowercased(), recipientKey: row.8, issuedAt: row.9,
            sentAt: row.10, redeemedAt: row.11, redeemedStationId: row.12?.uuidString.lowercased(), expiresAt: row.13, createdBy: row.14,
            metadata: metadata, qrURL: nil, cardURL: nil)
    }

    /// The voucher, in `tenant` (any tenant when nil: the signed image links), with its tenant.
    func voucher(_ id: VoucherID, tenant: TenantID?, on connection: PostgresConnection? = nil, forUpdate: Bool = false, logger: Logger)
        async throws -> (VoucherDTO, TenantID)?
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM vouchers.vouchers
            WHERE id = \(id.rawValue) AND (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue))\(unescaped: forUpdate ? " FOR UPDATE" : "")
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        guard let row = try await rows.first(as: Row.self) else { return nil }
        return (try Self.voucher(row), TenantID(rawValue: row.16))
    }

    /// Puts who acts, where, and why into the transaction, for the event triggers.
    static func setActor(_ connection: PostgresConnection, actor: String, station: StationID? = nil, context: JSONValue = .object([:]), logger: Logger)
        async throws
    {
        let contextText = String(decoding: try JSONEncoder.sokoni.encode(context), as: UTF8.self)
        try await connection.query(
            """
            SELECT set_config('sokoni.actor', \(actor), true), set_config('sokoni.station', \(station?.description ?? ""), true),
                   set_config('sokoni.context', \(contextText), true)
            """, logger: logger)
    }

    /// One campaign recipient of a bulk issue.
    /// A timestamp as PostgreSQL reads it back exactly (microseconds, UTC), for arrays of optional times sent as text.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    struct Recipient: Sendable {
        var key: String
        var msisdn: PhoneNumber
        var amount: Money
        var stationScope: StationID?
        var expiresAt: Date?
        var metadata: JSONValue
    }

    /// A bulk issue in a few statements whatever its size: recipients who already have a voucher in the campaign get
    /// it back; the others are inserted by one INSERT from arrays, with codes drawn here. A row whose code was taken
    /// meanwhile is left out by ON CONFLICT and drawn again (up to 8 rounds); one whose recipient key another request
    /// inserted meanwhile is read back instead. Audit rows are written in the same transaction. Answers the vouchers
    /// in the recipients' order and which of them are new.
    func insertMany(
        tenant: TenantID, recipients: [Recipient], currency: Currency, campaign: CampaignID, createdBy: String,
        on connection: PostgresConnection, requestID: String?, logger: Logger
    ) async throws -> (vouchers: [VoucherDTO], created: [VoucherDTO]) {
        var found: [String: VoucherDTO] = [:]
        var created: [VoucherDTO] = []
        func readExisting(_ keys: [String]) async throws {
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM vouchers.vouchers
                WHERE tenant_id = \(tenant.rawValue) AND campaign_id = \(campaign.rawValue) AND recipient_key = ANY(\(keys)::text[])
                """, logger: logger)
            for try await row in rows.decode(Row.self) {
                let voucher = try Self.voucher(row)
                if let key = voucher.recipientKey { found[key] = voucher }
            }
        }
        try await readExisting(recipients.map(\.key))
        // inserted in one canonical order (by recipient key): two bulk issues that overlap then take their unique-index
        // locks in the same order and wait for each other instead of deadlocking
        var pending = recipients.filter { found[$0.key] == nil }.sorted { $0.key < $1.key }
        for _ in 0..<8 where !pending.isEmpty {
            let metadata = try pending.map { String(decoding: try JSONEncoder.sokoni.encode($0.metadata), as: UTF8.self) }
            let rows = try await connection.query(
                """
                INSERT INTO vouchers.vouchers (id, tenant_id, code, amount_minor, currency, msisdn, station_scope, campaign_id, recipient_key,
                    expires_at, created_by, metadata)
                SELECT t.id, \(tenant.rawValue), t.code, t.amount_minor, \(currency.code), t.msisdn, nullif(t.station_scope, '')::uuid,
                    \(campaign.rawValue), t.recipient_key, nullif(t.expires_at, '')::timestamptz, \(createdBy), t.metadata::jsonb
                FROM unnest(\(pending.map { _ in UUID() })::uuid[], \(pending.map { _ in VoucherCode.generate() })::text[],
                            \(pending.map(\.amount.minorUnits))::bigint[], \(pending.map(\.msisdn.e164))::text[], \(pending.map(\.key))::text[],
                            \(pending.map { $0.stationScope?.description ?? "" })::text[],
                            \(pending.map { $0.expiresAt.map(Self.timestamp) ?? "" })::text[],
                            \(metadata)::text[]) AS t(id, code, amount_minor, msisdn, recipient_key, station_scope, expires_at, metadata)
                ON CONFLICT DO NOTHING
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            for try await row in rows.decode(Row.self) {
                let voucher = try Self.voucher(row)
                created.append(voucher)
                if let key = voucher.recipientKey { found[key] = voucher }
            }
            pending = pending.filter { found[$0.key] == nil }
            if !pending.isEmpty {
                // left out: a taken code (drawn again) or a recipient another request just issued (read back)
                try await readExisting(pending.map(\.key))
                pending = pending.filter { found[$0.key] == nil }
            }
        }
        guard pending.isEmpty else {
            throw APIError(.serviceUnavailable, code: "code_space_exhausted", message: "Could not find free voucher codes; try again.")
        }
        try await self.audit.recordMany(
            on: connection, tenantID: tenant, actor: createdBy, action: "voucher.issue", table: "vouchers",
            entries: created.map { (targetID: $0.id, before: nil as VoucherDTO?, after: $0) }, requestID: requestID, logger: logger)
        return (recipients.compactMap { found[$0.key] }, created)
    }

    /// Inserts a voucher with a fresh code, drawing again on the rare collision. With a recipient key, an existing
    /// voucher for that campaign recipient is returned instead (nil `created`).
    func insert(
        tenant: TenantID, amount: Money, msisdn: PhoneNumber, stationScope: StationID?, campaign: CampaignID?, recipientKey: String?, expiresAt: Date?,
        createdBy: String, metadata: JSONValue, on connection: PostgresConnection, requestID: String?, logger: Logger
    ) async throws -> (voucher: VoucherDTO, created: Bool) {
        let metadataText = String(decoding: try JSONEncoder.sokoni.encode(metadata), as: UTF8.self)
        for _ in 0..<8 {
            let id = UUID()
            let code = VoucherCode.generate()
            let inserted = try await connection.query(
                """
                INSERT INTO vouchers.vouchers (id, tenant_id, code, amount_minor, currency, msisdn, station_scope, campaign_id, recipient_key,
                    expires_at, created_by, metadata)
                VALUES (\(id), \(tenant.rawValue), \(code), \(amount.minorUnits), \(amount.currency.code), \(msisdn.e164), \(stationScope?.rawValue),
                    \(campaign?.rawValue), \(recipientKey), \(expiresAt), \(createdBy), \(metadataText)::jsonb)
                ON CONFLICT DO NOTHING
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)
            if let inserted {
                let voucher = try Self.voucher(inserted)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: createdBy, action: "voucher.issue", table: "vouchers", targetID: voucher.id,
                    before: nil as VoucherDTO?, after: voucher, requestID: requestID, logger: logger)
                return (voucher, true)
            }
            if let recipientKey, let campaign,
                let existing = try await connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM vouchers.vouchers
                    WHERE tenant_id = \(tenant.rawValue) AND campaign_id = \(campaign.rawValue) AND recipient_key = \(recipientKey)
                    """, logger: logger
                ).first(as: Row.self)
            {
                return (try Self.voucher(existing), false)
            }
            // the code was taken: draw another
        }
        throw APIError(.serviceUnavailable, code: "code_space_exhausted", message: "Could not find a free voucher code; try again.")
    }

    /// A hand-made transition (sent, void) in one transaction with its audit row; the trigger adds the event and
    /// refuses what the state machine does not allow (409 `illegal_transition`). Nil when there is no such voucher.
    func transition(
        _ id: VoucherID, tenant: TenantID, to status: VoucherStatus, actor: String, reason: String?, requestID: String, logger: Logger
    ) async throws -> VoucherDTO? {
        // the state machine's trigger raises a check violation for a move it does not allow
        let refused = ConstraintErrors(byState: ["23514": .conflict("illegal_transition", "This voucher cannot become \(status.rawValue) now.")])
        return try await refused.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                guard let (before, _) = try await self.voucher(id, tenant: tenant, on: connection, logger: logger) else { return nil }
                try VoucherRules.checkTransition(from: before.status, to: status)
                try await Self.setActor(connection, actor: actor, context: .object(reason.map { ["reason": .string($0)] } ?? [:]), logger: logger)
                try await connection.query(
                    "UPDATE vouchers.vouchers SET status = \(status.rawValue) WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)",
                    logger: logger)
                let after = try await self.voucher(id, tenant: tenant, on: connection, logger: logger)!.0
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "voucher.\(status.rawValue)", table: "vouchers", targetID: after.id,
                    before: before, after: after, requestID: requestID, logger: logger)
                return after
            }
        }
    }

    /// The audit row of a send someone asked for (the message itself is messaging's).
    func recordSendRequest(_ voucher: VoucherDTO, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String, logger: Logger)
        async throws
    {
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: "voucher.send_requested", table: "vouchers", targetID: voucher.id, before: nil,
            after: ["msisdn": voucher.msisdn], requestID: requestID, logger: logger)
    }

    /// `issued → sent` because messaging sent the voucher's message; false when the voucher had moved on already
    /// (sent, redeemed, void: a second report, or a late one, changes nothing). The row lock orders two reports
    /// that arrive together.
    func markSent(_ id: VoucherID, tenant: TenantID, actor: String, messageID: String, requestID: String, logger: Logger) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let (before, _) = try await self.voucher(id, tenant: tenant, on: connection, forUpdate: true, logger: logger) else {
                throw APIError.notFound("voucher_not_found", "No such voucher.")
            }
            guard before.status == .issued else { return false }
            try await Self.setActor(connection, actor: actor, context: .object(["messageId": .string(messageID)]), logger: logger)
            try await connection.query(
                "UPDATE vouchers.vouchers SET status = 'sent' WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger)
            let after = try await self.voucher(id, tenant: tenant, on: connection, logger: logger)!.0
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "voucher.sent", table: "vouchers", targetID: after.id, before: before,
                after: after, requestID: requestID, logger: logger)
            return true
        }
    }

    /// Records a refused redemption at the wrong station as a `policy_blocked` event, in a transaction of its own
    /// (the redemption itself changed nothing).
    /// When and where a redeemed voucher was redeemed, for the refusal a second attempt gets.
    func redeemedWhereAndWhen(code: String, tenant: TenantID, logger: Logger) async throws -> (at: Date, station: String)? {
        try await self.postgres.query(
            """
            SELECT v.redeemed_at, coalesce(s.name, '') FROM vouchers.vouchers v
            LEFT JOIN vouchers.stations s ON s.id = v.redeemed_station_id AND s.tenant_id = v.tenant_id
            WHERE v.tenant_id = \(tenant.rawValue) AND v.code = \(code) AND v.status = 'redeemed'
            """, logger: logger
        ).first(as: (Date, String).self).map { (at: $0.0, station: $0.1) }
    }

    func recordPolicyBlocked(code: String, tenant: TenantID, station: StationID, actor: String, logger: Logger) async throws {
        try await self.postgres.query(
            """
            INSERT INTO vouchers.voucher_events (voucher_id, tenant_id, event_type, actor, station_id, context)
            SELECT id, tenant_id, 'policy_blocked', \(actor), \(station.rawValue), '{"reason":"wrong_station"}'::jsonb
            FROM vouchers.vouchers WHERE tenant_id = \(tenant.rawValue) AND code = \(code)
            """, logger: logger)
    }

    struct ListFilter: Sendable {
        var status: VoucherStatus?
        /// Redeemed at this station, or (unless `onlyRedeemedHere`) scoped to it.
        var station: StationID?
        var onlyRedeemedHere = false
        var campaign: CampaignID?
        /// One code (upper-case), and the number it was issued to: what a customer's agent may look up.
        var code: String?
        var msisdn: String?
    }

    /// A page in issue order (issued_at, id).
    func list(tenant: TenantID, _ filter: ListFilter, after cursor: (issuedAtMicros: Int64, id: UUID)?, limit: Int, logger: Logger) async throws -> [VoucherDTO]
    {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM vouchers.vouchers
            WHERE tenant_id = \(tenant.rawValue) AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
              AND (\(filter.station?.rawValue)::uuid IS NULL OR redeemed_station_id = \(filter.station?.rawValue)
                   OR (NOT \(filter.onlyRedeemedHere) AND station_scope = \(filter.station?.rawValue)))
              AND (\(filter.campaign?.rawValue)::uuid IS NULL OR campaign_id = \(filter.campaign?.rawValue))
              AND (\(filter.code)::text IS NULL OR code = \(filter.code)) AND (\(filter.msisdn)::text IS NULL OR msisdn = \(filter.msisdn))
              AND (\(cursor?.issuedAtMicros)::int8 IS NULL
                   OR (issued_at, id) > ('epoch'::timestamptz + \(cursor?.issuedAtMicros) * interval '1 microsecond', \(cursor?.id)))
            ORDER BY issued_at, id LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map(Self.voucher)
    }

    /// A voucher's events, oldest first.
    func events(_ id: VoucherID, logger: Logger) async throws -> [VoucherEventDTO] {
        try await self.postgres.query(
            """
            SELECT id, event_type, actor, station_id, context::text, created_at FROM vouchers.voucher_events
            WHERE voucher_id = \(id.rawValue) ORDER BY created_at, id
            """, logger: logger
        ).all(as: (Int64, String, String?, UUID?, String, Date).self).map {
            VoucherEventDTO(
                id: $0.0, eventType: $0.1, actor: $0.2, stationId: $0.3?.uuidString.lowercased(),
                context: try JSONDecoder.sokoni.decode(JSONValue.self, from: Data($0.4.utf8)), createdAt: $0.5)
        }
    }

    /// How many codes this tenant holds (codes are unique platform-wide, but how full the space is overall is the
    /// platform's business, not a tenant's).
    func codesUsed(tenant: TenantID, logger: Logger) async throws -> Int {
        try await self.postgres.query("SELECT count(*)::int FROM vouchers.vouchers WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            .first(as: Int.self) ?? 0
    }

    /// Codes used platform-wide: for platform staff.
    func codesUsed(logger: Logger) async throws -> Int {
        try await self.postgres.query("SELECT count(*)::int FROM vouchers.vouchers", logger: logger).first(as: Int.self) ?? 0
    }

    /// Redeemed vouchers, newest first, at one station or all.
    func redemptions(
        tenant: TenantID, station: StationID?, since: Date?, after cursor: (redeemedAtMicros: Int64, id: UUID)?, limit: Int, logger: Logger
    ) async throws -> [Redemption] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM vouchers.vouchers
            WHERE tenant_id = \(tenant.rawValue) AND status = 'redeemed'
              AND (\(station?.rawValue)::uuid IS NULL OR redeemed_station_id = \(station?.rawValue))
              AND (\(since)::timestamptz IS NULL OR redeemed_at >= \(since))
              AND (\(cursor?.redeemedAtMicros)::int8 IS NULL
                   OR (redeemed_at, id) < ('epoch'::timestamptz + \(cursor?.redeemedAtMicros) * interval '1 microsecond', \(cursor?.id)))
            ORDER BY redeemed_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map { row in
            let voucher = try Self.voucher(row)
            guard let redeemedAt = voucher.redeemedAt, let station = voucher.redeemedStationId else {
                throw CorruptRow("redeemed voucher \(voucher.id) has no redemption time or station")
            }
            return Redemption(
                voucherId: voucher.id, amount: voucher.amount, currency: voucher.currency, maskedMsisdn: PhoneNumber.masked(e164: voucher.msisdn),
                redeemedAt: redeemedAt, stationId: station, code: voucher.code)
        }
    }

    /// `GET /v1/vouchers/daily` (`DailyCounts`): vouchers `issued` and `redeemed` per UTC day.
    func daily(tenant: TenantID, from: Day, to: Day, logger: Logger) async throws -> [DailyCounts.Day] {
        let rows = try await self.postgres.query(
            """
            \(unescaped: Day.spanSQL(from: from, to: to))
            SELECT to_char(v.issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'issued', count(*)::bigint
            FROM vouchers.vouchers v, span WHERE v.tenant_id = \(tenant.rawValue) AND v.issued_at >= span.start AND v.issued_at < span.stop
            GROUP BY 1
            UNION ALL
            SELECT to_char(v.redeemed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'redeemed', count(*)::bigint
            FROM vouchers.vouchers v, span WHERE v.tenant_id = \(tenant.rawValue) AND v.redeemed_at >= span.start AND v.redeemed_at < span.stop
            GROUP BY 1
            """, logger: logger
        ).all(as: (String, String, Int64).self)
        return DailyCounts.days(rows.map { (day: $0.0, key: $0.1, count: $0.2) })
    }

    /// Issued/sent/redeemed/expired per day and redemptions per station, from the schema's views.
    func metrics(tenant: TenantID, from: Day, to: Day, station: StationID?, logger: Logger) async throws -> VoucherMetrics {
        let rows = try await self.postgres.query(
            """
            SELECT day::text, event_type, sum(count)::int FROM vouchers.view_voucher_metrics
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from.description)::date AND \(to.description)::date
              AND (\(station?.rawValue)::uuid IS NULL OR station_id = \(station?.rawValue))
            GROUP BY day, event_type ORDER BY day
            """, logger: logger
        ).all(as: (String, String, Int).self)
        var days: [String: DailyMetrics] = [:]
        for (day, type, count) in rows {
            var metrics = days[day] ?? DailyMetrics(day: day, issued: 0, sent: 0, redeemed: 0, expired: 0)
            switch type {
            case "issued": metrics.issued = count
            case "sent": metrics.sent = count
            case "redeemed": metrics.redeemed = count
            case "expired": metrics.expired = count
            default: break
            }
            days[day] = metrics
        }
        let stations = try await self.postgres.query(
            """
            SELECT station_id, station_name, sum(redemptions)::int, max(last_redeemed_at) FROM vouchers.view_active_bars
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from.description)::date AND \(to.description)::date
              AND (\(station?.rawValue)::uuid IS NULL OR station_id = \(station?.rawValue))
            GROUP BY station_id, station_name ORDER BY 3 DESC, 1
            """, logger: logger
        ).all(as: (UUID, String, Int, Date?).self).map {
            StationActivity(stationId: $0.0.uuidString.lowercased(), stationName: $0.1, redemptions: $0.2, lastRedeemedAt: $0.3)
        }
        return VoucherMetrics(from: from.description, to: to.description, days: days.values.sorted { $0.day < $1.day }, stations: stations)
    }

    /// Expires up to `batch` due vouchers with their audit rows, in one statement; answers how many. The state
    /// machine's trigger writes each `expired` event. Replicas can sweep together (`SKIP LOCKED`).
    func expireDue(batch: Int, logger: Logger) async throws -> Int {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT set_config('sokoni.actor', 'system:expiry-sweeper', true)", logger: logger)
            return try await connection.query(
                """
                WITH due AS (
                    SELECT id, status FROM vouchers.vouchers
                    WHERE status IN ('issued', 'sent') AND expires_at <= now()
                    ORDER BY expires_at LIMIT \(batch) FOR UPDATE SKIP LOCKED),
                expired AS (
                    UPDATE vouchers.vouchers v SET status = 'expired' FROM due WHERE v.id = due.id
                    RETURNING v.id, v.tenant_id, due.status AS previous),
                audited AS (
                    INSERT INTO vouchers.audit_log (tenant_id, actor, action, target_table, target_id, diff)
                    SELECT tenant_id, 'system:expiry-sweeper', 'voucher.expire', 'vouchers', id::text,
                        jsonb_build_object('status', jsonb_build_object('before', previous, 'after', 'expired'))
                    FROM expired RETURNING 1)
                SELECT count(*)::int FROM audited
                """, logger: logger
            ).first(as: Int.self) ?? 0
        }
    }

    /// One redemption, decided by `vouchers.redeem()` in one round trip: the station check, the guessing lock, the
    /// conditional UPDATE, its audit row and the notice job.
    func redeem(_ call: RedeemCall, on connection: PostgresConnection, logger: Logger) async throws -> RedeemCall.Row {
        var rows = try await connection.execute(call, logger: logger).makeAsyncIterator()
        guard let row = try await rows.next() else { throw CorruptRow("vouchers.redeem() answered no row") }
        return row
    }
}

/// `vouchers.redeem(…)` as a prepared statement: each pooled connection parses and plans it once. As an unnamed
/// statement it was parsed and planned on every call; pgbench running this call did 8–67% more per second prepared
/// (five paired runs). The one measured exception to "a store method builds its query".
struct RedeemCall: PostgresPreparedStatement {
    static let sql = """
        SELECT outcome, retry_after, voucher_id, amount_minor, currency, msisdn, redeemed_at
        FROM vouchers.redeem($1, $2, $3, $4, $5, $6)
        """
    typealias Row = (String, Int?, UUID?, Int64?, String?, String?, Date?)
    /// The default name is `String(reflecting:)` of the type, worked out again on every call.
    static let name = "vouchers.redeem"

    var tenant: TenantID
    var code: String
    var station: StationID
    var actor: String
    var requestID: String
    var guards: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(self.tenant.rawValue)
        bindings.append(self.code)
        bindings.append(self.station.rawValue)
        bindings.append(self.actor)
        bindings.append(self.requestID)
        bindings.append(self.guards)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
