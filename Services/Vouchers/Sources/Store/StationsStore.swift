import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL on `vouchers.stations`: each write with its audit row in one transaction.
struct StationsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let errors = ConstraintErrors([
        "stations_engencode_key": .conflict("engencode_taken", "A station with this engencode exists.")
    ])

    static let columns = "id, name, engencode, owner_contact, latitude, longitude, status, created_at, updated_at"
    typealias Row = (UUID, String, String, String?, Double?, Double?, String, Date, Date)

    static func station(_ row: Row, distance: Double? = nil) -> StationDTO {
        StationDTO(
            id: row.0.uuidString.lowercased(), name: row.1, engencode: row.2, ownerContact: row.3,
            location: row.4.flatMap { lat in row.5.map { Location(latitude: lat, longitude: $0) } }, status: row.6,
            distanceKm: distance, createdAt: row.7, updatedAt: row.8)
    }

    struct NewStation: Sendable {
        var name: String
        var engencode: String
        var ownerContact: PhoneNumber?
        var location: Location?
        var status: String
    }

    func create(
        _ new: NewStation, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String, logger: Logger
    ) async throws -> StationDTO {
        try await Self.errors.map {
            let row = try await connection.query(
                """
                INSERT INTO vouchers.stations (id, tenant_id, name, engencode, owner_contact, latitude, longitude, status)
                VALUES (\(UUID()), \(tenant.rawValue), \(new.name), \(new.engencode), \(new.ownerContact?.e164), \(new.location?.latitude),
                    \(new.location?.longitude), \(new.status))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self)!
            let station = Self.station(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "station.create", table: "stations", targetID: station.id,
                before: nil as StationDTO?, after: station, requestID: requestID, logger: logger)
            return station
        }
    }

    struct Changes: Sendable {
        var name: String?
        var ownerContact: PhoneNumber?
        var location: Location?
        var status: String?
    }

    /// The changed station, or nil when the tenant has none with this id.
    func update(_ id: StationID, tenant: TenantID, _ changes: Changes, actor: String, requestID: String, logger: Logger) async throws -> StationDTO? {
        try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                guard let before = try await self.station(id, tenant: tenant, on: connection, forUpdate: true, logger: logger) else { return nil }
                let row = try await connection.query(
                    """
                    UPDATE vouchers.stations SET name = coalesce(\(changes.name), name),
                        owner_contact = coalesce(\(changes.ownerContact?.e164), owner_contact),
                        latitude = coalesce(\(changes.location?.latitude), latitude), longitude = coalesce(\(changes.location?.longitude), longitude),
                        status = coalesce(\(changes.status), status)
                    WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.columns)
                    """, logger: logger
                ).first(as: Row.self)!
                let after = Self.station(row)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "station.update", table: "stations", targetID: after.id,
                    before: before, after: after, requestID: requestID, logger: logger)
                return after
            }
        }
    }

    func station(
        _ id: StationID, tenant: TenantID, on connection: PostgresConnection? = nil, forUpdate: Bool = false, logger: Logger
    ) async throws -> StationDTO? {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM vouchers.stations WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)
            \(unescaped: forUpdate ? "FOR UPDATE" : "")
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: Row.self).map { Self.station($0) }
    }

    /// A page by name (then id), optionally only one station (an operator's own).
    func list(tenant: TenantID, only: StationID?, after cursor: (name: String, id: UUID)?, limit: Int, logger: Logger) async throws -> [StationDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM vouchers.stations
            WHERE tenant_id = \(tenant.rawValue) AND (\(only?.rawValue)::uuid IS NULL OR id = \(only?.rawValue))
              AND (\(cursor?.name)::text IS NULL OR (name, id) > (\(cursor?.name), \(cursor?.id)))
            ORDER BY name, id LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map { Self.station($0) }
    }

    /// Stations within `radiusKm` of a point, nearest first: a bounding box on the index first, then the haversine
    /// distance.
    func near(
        tenant: TenantID, only: StationID?, latitude: Double, longitude: Double, radiusKm: Double, limit: Int, logger: Logger
    ) async throws -> [StationDTO] {
        let latDelta = radiusKm / 111.0
        let lngDelta = min(180, radiusKm / (111.0 * max(cos(latitude * .pi / 180), 0.01)))
        return try await self.postgres.query(
            """
            SELECT * FROM (
                SELECT \(unescaped: Self.columns),
                    6371 * 2 * asin(sqrt(power(sin(radians(latitude - \(latitude)) / 2), 2)
                        + cos(radians(\(latitude))) * cos(radians(latitude)) * power(sin(radians(longitude - \(longitude)) / 2), 2))) AS distance
                FROM vouchers.stations
                WHERE tenant_id = \(tenant.rawValue) AND (\(only?.rawValue)::uuid IS NULL OR id = \(only?.rawValue))
                  AND latitude BETWEEN \(latitude - latDelta) AND \(latitude + latDelta)
                  AND longitude BETWEEN \(longitude - lngDelta) AND \(longitude + lngDelta)) s
            WHERE distance <= \(radiusKm) ORDER BY distance LIMIT \(limit)
            """, logger: logger
        ).all(as: (UUID, String, String, String?, Double?, Double?, String, Date, Date, Double).self).map {
            Self.station(($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8), distance: ($0.9 * 1000).rounded() / 1000)
        }
    }

    /// The demo tenant's station (`vouchers seed-demo`), which the demo station operator is bound to; once.
    func seedDemo(logger: Logger) async throws {
        try await self.postgres.query(
            """
            INSERT INTO vouchers.stations (id, tenant_id, name, engencode, latitude, longitude, status)
            VALUES (\(DemoData.station.rawValue), \(DemoData.tenant.rawValue), 'Demo Kigali Station', 'DEMO-0501', -1.9441, 30.0619, 'active')
            ON CONFLICT (id) DO NOTHING
            """, logger: logger)
    }
}
