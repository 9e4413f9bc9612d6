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
