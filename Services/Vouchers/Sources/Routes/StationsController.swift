import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `POST/GET/PATCH /v1/stations` and `GET /v1/stations?near=lat,lng&radiusKm=`.
struct StationsController: Sendable {
    let stations: StationsStore
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(VouchersAPI.createStation, use: self.create)
        router.on(VouchersAPI.updateStation, use: self.update)
        router.on(VouchersAPI.listStations, use: self.list)
        router.on(VouchersAPI.getStation, use: self.get)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateStation.self, context: context)
        try Self.validate(name: body.name, status: body.status, location: body.location)
        try TextRules.check(body.engencode, field: "engencode", length: 1...64)
        let new = StationsStore.NewStation(
            name: body.name, engencode: body.engencode, ownerContact: body.ownerContact, location: body.location, status: body.status ?? "active")
        return try await self.idempotency.write(request, context: context, postgres: self.stations.postgres) { connection in
            JSONResponse(
                .created,
                try await self.stations.create(
                    new, tenant: tenant, actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger))
        }
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<StationDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: StationID.self)
        let body = try await request.decodeJSON(UpdateStation.self, context: context)
        try Self.validate(name: body.name, status: body.status, location: body.location)
        let changes = StationsStore.Changes(name: body.name, ownerContact: body.ownerContact, location: body.location, status: body.status)
        guard
            let station = try await self.stations.update(
                id, tenant: tenant, changes, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw APIError.notFound("station_not_found", "No such station.") }
        return JSONResponse(.ok, station)
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<StationDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: StationID.self)
        // a station operator sees their own station only
        if caller.isStationOperator, caller.stationID != id { throw APIError.notFound("station_not_found", "No such station.") }
        guard let station = try await self.stations.station(id, tenant: tenant, logger: context.logger) else {
            throw APIError.notFound("station_not_found", "No such station.")
        }
        return JSONResponse(.ok, station)
    }

    /// Pages by name; with `near` (and `radiusKm`, default 10) by great-circle distance instead.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<StationDTO>> {
        let (caller, tenant) = try context.requireTenantCaller()
        // an operator lists their own station (none when their account has no station)
        let only: StationID? = caller.isStationOperator ? (caller.stationID ?? StationID()) : nil
        let page = try request.page(cursorValues: 2)
        let query = request.queryValues
        if let near = try query.string("near", maxLength: 64) {
            let parts = near.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, parts.allSatisfy(\.isFinite), (-90...90).contains(parts[0]), (-180...180).contains(parts[1]) else {
                throw APIError.badRequest("invalid_near", "near must be latitude,longitude.")
            }
            let radius = try query.double("radiusKm", range: 0.001...20_000) ?? 10
            let items = try await self.stations.near(
                tenant: tenant, only: only, latitude: parts[0], longitude: parts[1], radiusKm: radius, limit: page.limit, logger: context.logger)
            return JSONResponse(.ok, Page(items: items, nextCursor: nil))
        }
        let after = try page.cursor.map { (name: $0.string(0), id: try $0.uuid(1)) }
        let items = try await self.stations.list(tenant: tenant, only: only, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.name, $0.id] }))
    }

    static func validate(name: String?, status: String?, location: Location?) throws {
        try TextRules.check(name, field: "name", length: 1...200)
        if let status, !["active", "inactive"].contains(status) {
            throw APIError.unprocessable("invalid_status", "status is active or inactive.")
        }
        if let location, !(-90...90).contains(location.latitude) || !(-180...180).contains(location.longitude) {
            throw APIError.unprocessable("invalid_location", "latitude is -90…90 and longitude -180…180.")
        }
    }
}
