import Foundation
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `POST/GET/PATCH /v1/stations` and `GET /v1/stations?near=lat,lng&radiusKm=`.
struct StationsController: Sendable {
    let store: VouchersStore
    let environment: ServiceEnvironment

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group("v1/stations").add(middleware: RequireRoles(VouchersService.managers))
            .post(use: self.create).patch("{id}", use: self.update)
        router.group("v1/stations").add(middleware: RequireRoles(VouchersService.readers.union([.stationOperator])))
            .get(use: self.list).get("{id}", use: self.get)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let body = try await request.decodeJSON(CreateStation.self, context: context)
        try Self.validate(name: body.name, status: body.status, location: body.location)
        guard !body.engencode.isEmpty, body.engencode.count <= 64 else {
            throw APIError.unprocessable("invalid_engencode", "engencode must be 1 to 64 characters.")
        }
        do {
            return try await self.environment.idempotency.run(request, context: context, postgres: self.store.postgres) { connection in
                let row = try await connection.query(
                    """
                    INSERT INTO vouchers.stations (id, tenant_id, name, engencode, owner_contact, latitude, longitude, status)
                    VALUES (\(UUID()), \(tenant.rawValue), \(body.name), \(body.engencode), \(body.ownerContact?.e164), \(body.location?.latitude),
                        \(body.location?.longitude), \(body.status ?? "active"))
                    RETURNING \(unescaped: VouchersStore.stationColumns)
                    """, logger: context.logger
                ).first(as: VouchersStore.StationRow.self)!
                let station = VouchersStore.station(row)
                try await self.store.audit.record(
                    on: connection, tenantID: tenant, actor: caller.subject, action: "station.create", table: "stations", targetID: station.id,
                    before: nil as StationDTO?, after: station, requestID: context.requestID, logger: context.logger)
                return JSONResponse(.created, station)
            }
        } catch let error as PostgresTransactionError {
            if let psql = error.closureError as? PSQLError, psql.isUniqueViolation {
                throw APIError.conflict("engencode_taken", "A station with engencode \(body.engencode) exists.")
            }
            throw error
        }
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<StationDTO> {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let id = try context.uuidParameter()
        let body = try await request.decodeJSON(UpdateStation.self, context: context)
        try Self.validate(name: body.name, status: body.status, location: body.location)
        let station: StationDTO? = try await self.store.postgres.withTransaction(logger: context.logger) { connection in
            guard let before = try await self.store.station(id, tenant: tenant, on: connection, forUpdate: true, logger: context.logger) else { return nil }
            let row = try await connection.query(
                """
                UPDATE vouchers.stations SET name = coalesce(\(body.name), name), owner_contact = coalesce(\(body.ownerContact?.e164), owner_contact),
                    latitude = coalesce(\(body.location?.latitude), latitude), longitude = coalesce(\(body.location?.longitude), longitude),
                    status = coalesce(\(body.status), status)
                WHERE id = \(id) RETURNING \(unescaped: VouchersStore.stationColumns)
                """, logger: context.logger
            ).first(as: VouchersStore.StationRow.self)!
            let after = VouchersStore.station(row)
            try await self.store.audit.record(
                on: connection, tenantID: tenant, actor: caller.subject, action: "station.update", table: "stations", targetID: after.id,
                before: before, after: after, requestID: context.requestID, logger: context.logger)
            return after
        }
        guard let station else { throw APIError.notFound("station_not_found", "No such station.") }
        return JSONResponse(.ok, station)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<StationDTO> {
        let caller = try context.requireCaller()
        let id = try context.uuidParameter()
        // a station operator sees their own station only
        if caller.roles == [.stationOperator], caller.stationID?.rawValue != id { throw APIError.notFound("station_not_found", "No such station.") }
        guard let station = try await self.store.station(id, tenant: try caller.requireTenant(), logger: context.logger) else {
            throw APIError.notFound("station_not_found", "No such station.")
        }
        return JSONResponse(.ok, station)
    }

    /// Pages by name; with `near` (and `radiusKm`, default 10) by great-circle distance instead.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<StationDTO>> {
        let caller = try context.requireCaller()
        let tenant = try caller.requireTenant()
        let only = caller.roles == [.stationOperator] ? caller.stationID?.rawValue ?? UUID() : nil
        let limit = min(max(Int(request.uri.queryParameters["limit"] ?? "") ?? 50, 1), 200)
        if let near = request.uri.queryParameters["near"] {
            let parts = near.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, (-90...90).contains(parts[0]), (-180...180).contains(parts[1]) else {
                throw APIError.badRequest("invalid_near", "near must be latitude,longitude.")
            }
            let radius = Double(request.uri.queryParameters["radiusKm"] ?? "") ?? 10
            guard radius > 0, radius <= 20_000 else { throw APIError.badRequest("invalid_radius", "radiusKm must be between 0 and 20000.") }
            // a bounding box on the index first, then the haversine distance
            let latDelta = radius / 111.0
            let lngDelta = min(180, radius / (111.0 * max(cos(parts[0] * .pi / 180), 0.01)))
            let rows = try await self.store.postgres.query(
                """
                SELECT * FROM (
                    SELECT \(unescaped: VouchersStore.stationColumns),
                        6371 * 2 * asin(sqrt(power(sin(radians(latitude - \(parts[0])) / 2), 2)
                            + cos(radians(\(parts[0]))) * cos(radians(latitude)) * power(sin(radians(longitude - \(parts[1])) / 2), 2))) AS distance
                    FROM vouchers.stations
                    WHERE tenant_id = \(tenant.rawValue) AND (\(only)::uuid IS NULL OR id = \(only))
                      AND latitude BETWEEN \(parts[0] - latDelta) AND \(parts[0] + latDelta)
                      AND longitude BETWEEN \(parts[1] - lngDelta) AND \(parts[1] + lngDelta)) s
                WHERE distance <= \(radius) ORDER BY distance LIMIT \(limit)
                """, logger: context.logger
            ).all(as: (UUID, String, String, String?, Double?, Double?, String, Date, Date, Double).self)
            let items = rows.map { VouchersStore.station(($0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6, $0.7, $0.8), distance: ($0.9 * 1000).rounded() / 1000) }
            return JSONResponse(.ok, Page(items: items, nextCursor: nil))
        }
        let cursor = request.uri.queryParameters["cursor"].map(String.init) ?? ""
        let items = try await self.store.postgres.query(
            """
            SELECT \(unescaped: VouchersStore.stationColumns) FROM vouchers.stations
            WHERE tenant_id = \(tenant.rawValue) AND (\(only)::uuid IS NULL OR id = \(only)) AND (name || '|' || id::text) > \(cursor)
            ORDER BY name || '|' || id::text LIMIT \(limit)
            """, logger: context.logger
        ).all(as: VouchersStore.StationRow.self).map { VouchersStore.station($0) }
        let next = items.count == limit ? items.last.map { "\($0.name)|\($0.id)" } : nil
        return JSONResponse(.ok, Page(items: items, nextCursor: next))
    }

    static func validate(name: String?, status: String?, location: Location?) throws {
        if let name, name.isEmpty || name.count > 200 { throw APIError.unprocessable("invalid_name", "name must be 1 to 200 characters.") }
        if let status, !["active", "inactive"].contains(status) {
            throw APIError.unprocessable("invalid_status", "status is active or inactive.")
        }
        if let location, !(-90...90).contains(location.latitude) || !(-180...180).contains(location.longitude) {
            throw APIError.unprocessable("invalid_location", "latitude is -90…90 and longitude -180…180.")
        }
    }
}
