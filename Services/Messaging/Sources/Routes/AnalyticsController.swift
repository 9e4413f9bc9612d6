import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET /v1/messaging/analytics?from=&to=`: messages per UTC day by channel kind, direction and status, failure
/// reasons and cost, the last 30 days unless asked otherwise, at most a year and a day at once.
struct AnalyticsController: Sendable {
    let analytics: AnalyticsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.analytics, use: self.get)
        router.dailyCounts(MessagingAPI.daily) { tenant, from, to, context in
            try await self.analytics.daily(tenant: tenant, from: from, to: to, logger: context.logger)
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<MessagingAnalytics> {
        let (_, tenant) = try context.requireTenantCaller()
        let (from, to) = try request.queryValues.dayRange()
        return JSONResponse(.ok, try await self.analytics.analytics(tenant: tenant, from: from, to: to, logger: context.logger))
    }
}
