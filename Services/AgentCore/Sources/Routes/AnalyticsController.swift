import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET /v1/analytics/daily?from=&to=` (UTC days, at most 92; JSON, or CSV with `Accept: text/csv` or
/// `format=csv`): each day's figures across the services, with the range's totals and the services that could not
/// count (`partial`).
struct AnalyticsController: Sendable {
    let analytics: AnalyticsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CRMAPI.dailyAnalytics, use: self.daily)
    }

    @Sendable func daily(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, tenant) = try context.requireTenantCaller()
        let (from, to) = try request.queryValues.dayRange(defaultDays: 30, maxDays: DailyCounts.maxDays)
        let csv = try request.wantsCSV()
        let answer = try await self.analytics.figures(tenant: tenant, from: from, to: to, requestID: context.requestID, logger: context.logger)
        if csv {
            let rows = [DailyFigures.csvHeader] + (answer.days + [answer.totals]).map(\.csvFields)
            return Request.csv(CSVField.document(rows), filename: "analytics-\(from)-\(to).csv")
        }
        return try JSONResponse(.ok, answer).response(from: request, context: context)
    }
}
