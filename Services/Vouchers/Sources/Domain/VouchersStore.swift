import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// SQL for stations and vouchers. Every write runs in the caller's transaction with its audit row; the voucher
/// events come from the schema's own triggers.
struct VouchersStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    // MARK: stations

    static let stationColumns = "id, name, engencode, owner_contact, latitude, longitude, status, created_at, updated_at"
    typealias StationRow = (UUID, String, String, String?, Double?, Double?, String, Date, Date)

    static func station(_ row: StationRow, distance: Double? = nil) -> StationDTO {
        StationDTO(
            id: row.0.uuidString.lowercased(), name: row.1, engencode: row.2, ownerContact: row.3,
            location: row.4.flatMap { lat in row.5.map { Location(latitude: lat, longitude: $0) } }, status: row.6,
            distanceKm: distance, createdAt: row.7, updatedAt: row.8)
    }

    func station(_ id: UUID, tenant: TenantID, on connection: PostgresConnection? = nil, forUpdate: Bool = false, logger: Logger) async throws -> StationDTO? {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.stationColumns) FROM vouchers.stations WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: StationRow.self).map { Self.station($0) }
    }

    // MARK: vouchers

    static let voucherColumns = """
        id, code, status, amount_minor, currency, msisdn, station_scope, campaign_id, recipient_key, issued_at, sent_at, redeemed_at,
        redeemed_station_id, expires_at, created_by, metadata::text, tenant_id
        """
    typealias VoucherRow = (UUID, String, String, Int64, String, String, UUID?, UUID?, String?, Date, Date?, Date?, UUID?, Date?, String, String, UUID)

    static func voucher(_ row: VoucherRow) -> VoucherDTO {
        let currency = Currency(code: row.4) ?? .RWF
        return VoucherDTO(
            id: row.0.uuidString.lowercased(), code: row.1, status: VoucherStatus(rawValue: row.2) ?? .void,
            amount: Money(minorUnits: row.3, currency: currency).decimalString, currency: row.4, msisdn: row.5,
            stationScope: row.6?.uuidString.lowercased(), campaignId: row.7?.uuidString.lowercased(), recipientKey: row.8, issuedAt: row.9,
            sentAt: row.10, redeemedAt: row.11, redeemedStationId: row.12?.uuidString.lowercased(), expiresAt: row.13, createdBy: row.14,
            metadata: (try? JSONDecoder().decode(JSONValue.self, from: Data(row.15.utf8))) ?? .object([:]), qrURL: nil, cardURL: nil)
    }

    func voucher(_ id: UUID, tenant: TenantID?, on connection: PostgresConnection? = nil, logger: Logger) async throws -> (VoucherDTO, TenantID)? {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.voucherColumns) FROM vouchers.vouchers
            WHERE id = \(id) AND (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue))
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: VoucherRow.self).map { (Self.voucher($0), TenantID(rawValue: $0.16)) }
    }

    /// Puts who acts, where, and why into the transaction, for the event triggers.
    static func setActor(_ connection: PostgresConnection, actor: String, station: UUID? = nil, context: JSONValue = .object([:]), logger: Logger) async throws {
        let contextText = String(decoding: try JSONEncoder().encode(context), as: UTF8.self)
        try await connection.query(
            """
            SELECT set_config('sokoni.actor', \(actor), true), set_config('sokoni.station', \(station?.uuidString ?? ""), true),
                   set_config('sokoni.context', \(contextText), true)
            """, logger: logger)
    }

    /// One campaign recipient of a bulk issue.
    struct Recipient: Sendable {
        var key: String
        var msisdn: PhoneNumber
        var amount: Money
        var metadata: JSONValue
    }

    /// A bulk issue in a few statements whatever its size: recipients who already have a voucher in the campaign get
    /// it back; the others are inserted by one INSERT from arrays, with codes drawn here. A row whose code was taken
    /// meanwhile is left out by ON CONFLICT and drawn again (up to 8 rounds); one whose recipient key another request
    /// inserted meanwhile is read back instead. Audit rows are written in the same transaction. Answers the vouchers
    /// in the recipients' order and which of them are new.
    func insertMany(
        tenant: TenantID, recipients: [Recipient], currency: Currency, stationScope: UUID?, campaign: UUID, expiresAt: Date?, createdBy: String,
        on connection: PostgresConnection, requestID: String?, logger: Logger
    ) async throws -> (vouchers: [VoucherDTO], created: [VoucherDTO]) {
        var found: [String: VoucherDTO] = [:]
        var created: [VoucherDTO] = []
        func readExisting(_ keys: [String]) async throws {
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.voucherColumns) FROM vouchers.vouchers
                WHERE tenant_id = \(tenant.rawValue) AND campaign_id = \(campaign) AND recipient_key = ANY(\(keys)::text[])
                """, logger: logger)
            for try await row in rows.decode(VoucherRow.self) {
                let voucher = Self.voucher(row)
                if let key = voucher.recipientKey { found[key] = voucher }
            }
        }
        try await readExisting(recipients.map(\.key))
        var pending = recipients.filter { found[$0.key] == nil }
        for _ in 0..<8 where !pending.isEmpty {
            let metadata = try pending.map { String(decoding: try JSONEncoder.sokoni.encode($0.metadata), as: UTF8.self) }
            let rows = try await connection.query(
                """
                INSERT INTO vouchers.vouchers (id, tenant_id, code, amount_minor, currency, msisdn, station_scope, campaign_id, recipient_key,
                    expires_at, created_by, metadata)
                SELECT t.id, \(tenant.rawValue), t.code, t.amount_minor, \(currency.code), t.msisdn, \(stationScope), \(campaign), t.recipient_key,
                    \(expiresAt), \(createdBy), t.metadata::jsonb
                FROM unnest(\(pending.map { _ in UUID() })::uuid[], \(pending.map { _ in VoucherCode.generate() })::text[],
                            \(pending.map(\.amount.minorUnits))::bigint[], \(pending.map(\.msisdn.e164))::text[], \(pending.map(\.key))::text[],
                            \(metadata)::text[]) AS t(id, code, amount_minor, msisdn, recipient_key, metadata)
                ON CONFLICT DO NOTHING
                RETURNING \(unescaped: Self.voucherColumns)
                """, logger: logger)
            for try await row in rows.decode(VoucherRow.self) {
                let voucher = Self.voucher(row)
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
        tenant: TenantID, amount: Money, msisdn: PhoneNumber, stationScope: UUID?, campaign: UUID?, recipientKey: String?, expiresAt: Date?,
        createdBy: String, metadata: JSONValue, on connection: PostgresConnection, requestID: String?, logger: Logger
    ) async throws -> (voucher: VoucherDTO, created: Bool) {
        let metadataText = String(decoding: try JSONEncoder().encode(metadata), as: UTF8.self)
        for _ in 0..<8 {
            let id = UUID()
            let code = VoucherCode.generate()
            let inserted = try await connection.query(
                """
                INSERT INTO vouchers.vouchers (id, tenant_id, code, amount_minor, currency, msisdn, station_scope, campaign_id, recipient_key,
                    expires_at, created_by, metadata)
                VALUES (\(id), \(tenant.rawValue), \(code), \(amount.minorUnits), \(amount.currency.code), \(msisdn.e164), \(stationScope),
                    \(campaign), \(recipientKey), \(expiresAt), \(createdBy), \(metadataText)::jsonb)
                ON CONFLICT DO NOTHING
                RETURNING \(unescaped: Self.voucherColumns)
                """, logger: logger
            ).first(as: VoucherRow.self)
            if let inserted {
                let voucher = Self.voucher(inserted)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: createdBy, action: "voucher.issue", table: "vouchers", targetID: voucher.id,
                    before: nil as VoucherDTO?, after: voucher, requestID: requestID, logger: logger)
                return (voucher, true)
            }
            if let recipientKey, let campaign, let existing = try await connection.query(
                """
                SELECT \(unescaped: Self.voucherColumns) FROM vouchers.vouchers
                WHERE tenant_id = \(tenant.rawValue) AND campaign_id = \(campaign) AND recipient_key = \(recipientKey)
                """, logger: logger
            ).first(as: VoucherRow.self) {
                return (Self.voucher(existing), false)
            }
            // the code was taken: draw another
        }
        throw APIError(.serviceUnavailable, code: "code_space_exhausted", message: "Could not find a free voucher code; try again.")
    }
}
