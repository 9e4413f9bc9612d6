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
        router.dailyCounts(VouchersAPI.daily) { tenant, from, to, context in
            try await self.vouchers.daily(tenant: tenant, from: from, to: to, logger: context.logger)
        }
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VoucherMetrics> {
        let (_, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let (from, to) = try query.dayRange(maxDays: 3650)
        let station = try query.id("stationId", as: StationID.self)
        return JSONResponse(.ok, try await self.vouchers.metrics(tenant: tenant, from: from, to: to, station: station, logger: context.logger))
    }
}
