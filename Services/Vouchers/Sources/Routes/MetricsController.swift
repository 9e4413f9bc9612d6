import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET /v1/voucher-metrics?from=&to=&stationId=`: issued/sent/redeemed/expired per day and redemptions per
/// station, from the schema's views (`view_voucher_metrics`, `view_active_bars`).
struct MetricsController: Sendable {
    let store: VouchersStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group("v1/voucher-metrics").add(middleware: RequireRoles(VouchersService.readers)).get(use: self.metrics)
    }

    static func day(_ text: String?, default fallback: Date) throws -> String {
        guard let text else { return ISO8601.format(fallback).prefix(10).description }
        // the shape and a real calendar day (not 2024-02-30), so PostgreSQL's ::date never sees a bad one
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard text.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil, parts.count == 3,
            DateComponents(year: parts[0], month: parts[1], day: parts[2]).isValidDate(in: calendar)
        else {
            throw APIError.badRequest("invalid_date", "Dates are real days written YYYY-MM-DD.")
        }
        return text
    }

    @Sendable func metrics(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VoucherMetrics> {
        let tenant = try context.requireCaller().requireTenant()
        let to = try Self.day(request.uri.queryParameters["to"].map(String.init), default: Date())
        let from = try Self.day(request.uri.queryParameters["from"].map(String.init), default: Date().addingTimeInterval(-29 * 86_400))
        let station = try VouchersController.uuid(request.uri.queryParameters["stationId"].map(String.init), "stationId")
        let rows = try await self.store.postgres.query(
            """
            SELECT day::text, event_type, sum(count)::int FROM vouchers.view_voucher_metrics
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from)::date AND \(to)::date
              AND (\(station)::uuid IS NULL OR station_id = \(station))
            GROUP BY day, event_type ORDER BY day
            """, logger: context.logger
        ).all(as: (String, String, Int).self)
        var days: [String: DailyMetrics] = [:]
        for (day, type, count) in rows {
            var metrics = days[day] ?? DailyMetrics(day: day, issued: 0, sent: 0, redeemed: 0, expired: 0)
            switch type {
            case "issued": metrics.issued = count
            case "sent": metrics.sent = count
            case "redeemed": metrics.redeemed = count
            case "expired": metrics.expired = count
            default: break
            }
            days[day] = metrics
        }
        let stations = try await self.store.postgres.query(
            """
            SELECT station_id, station_name, sum(redemptions)::int, max(last_redeemed_at) FROM vouchers.view_active_bars
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from)::date AND \(to)::date AND (\(station)::uuid IS NULL OR station_id = \(station))
            GROUP BY station_id, station_name ORDER BY 3 DESC
            """, logger: context.logger
        ).all(as: (UUID, String, Int, Date?).self).map {
            StationActivity(stationId: $0.0.uuidString.lowercased(), stationName: $0.1, redemptions: $0.2, lastRedeemedAt: $0.3)
        }
        return JSONResponse(.ok, VoucherMetrics(from: from, to: to, days: days.values.sorted { $0.day < $1.day }, stations: stations))
    }
}
