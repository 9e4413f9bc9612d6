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
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<MessagingAnalytics> {
        let (_, tenant) = try context.requireTenantCaller()
        let query = request.queryValues
        let to = try query.day("to") ?? Day(Date())
        let from = try query.day("from") ?? Day(Date().addingTimeInterval(-29 * 86_400))
        guard from <= to else { throw APIError.badRequest("invalid_date", "from must not be after to.") }
        guard let start = Day.calendar.date(from: DateComponents(year: from.year, month: from.month, day: from.day)),
            let end = Day.calendar.date(from: DateComponents(year: to.year, month: to.month, day: to.day)), end.timeIntervalSince(start) <= 366 * 86_400
        else { throw APIError.badRequest("invalid_date", "Ask for at most 367 days at once.") }
        return JSONResponse(.ok, try await self.analytics.analytics(tenant: tenant, from: from, to: to, logger: context.logger))
    }
}
