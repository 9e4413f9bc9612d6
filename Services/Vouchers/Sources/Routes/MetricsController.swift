import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET /v1/voucher-metrics?from=&to=&stationId=`: issued/sent/redeemed/expired per day and redemptions per
/// station (the last 30 days unless asked otherwise).
struct MetricsController: Sendable {
    let vouchers: VouchersStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(VouchersAPI.metrics, use: self.metrics)
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VoucherMetrics> {
        let (_, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let to = try query.day("to") ?? Day(Date())
        let from = try query.day("from") ?? Day(Date().addingTimeInterval(-29 * 86_400))
        guard from <= to else { throw APIError.badRequest("invalid_date", "from must not be after to.") }
        let station = try query.id("stationId", as: StationID.self)
        return JSONResponse(.ok, try await self.vouchers.metrics(tenant: tenant, from: from, to: to, station: station, logger: context.logger))
    }
}
