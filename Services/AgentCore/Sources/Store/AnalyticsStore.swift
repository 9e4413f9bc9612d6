import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceClient
import ServiceKit

/// All SQL of the daily analytics: this service's own counts per UTC day (calls, leads, LLM costs) and the cache of
/// each day's figures (`agent.analytics_daily`), which `figures` fills from the other services' daily counts when a
/// day is missing, or was computed before it ended, or lacked a service's answer.
struct AnalyticsStore: Sendable {
    let postgres: PostgresClient
    /// The other services' daily counts: messaging, calendar-booking, vouchers.
    let sources: @Sendable () -> [(ServiceName, DailyCountsClient)]
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext

    struct Answer: Codable, Sendable, Equatable {
        var from: String
        var to: String
        var days: [DailyFigures]
        var totals: DailyFigures
        /// Services that could not count (their figures are 0 until they can).
        var partial: [String]
    }

    /// The figures of every day from `from` to `to`, computing those the cache lacks.
    func figures(tenant: TenantID, from: Day, to: Day, requestID: String?, logger: Logger) async throws -> Answer {
        let cached = try await self.postgres.query(
            """
            SELECT day::text, figures::text FROM agent.analytics_daily
            WHERE tenant_id = \(tenant.rawValue) AND day BETWEEN \(from.description)::date AND \(to.description)::date AND complete
            """, logger: logger
        ).all(as: (String, String).self)
        var byDay: [String: DailyFigures] = [:]
        for (day, json) in cached { byDay[day] = try CorruptRow.decode(DailyFigures.self, json) }
        let days = Self.days(from: from, to: to)
        var partial: [String] = []
        if let first = days.first(where: { byDay[$0] == nil }), let last = days.last(where: { byDay[$0] == nil }) {
            let computed = try await self.compute(tenant: tenant, from: Day(first)!, to: Day(last)!, requestID: requestID, logger: logger)
            partial = computed.partial
            for figures in computed.days where byDay[figures.day] == nil { byDay[figures.day] = figures }
        }
        let all = days.map { byDay[$0] ?? DailyFigures(day: $0) }
        return Answer(from: from.description, to: to.description, days: all, totals: DailyFigures.total(all, label: "total"), partial: partial)
    }

    /// Computes the days and stores them: complete when every service answered and the day is over.
    @discardableResult
    func compute(tenant: TenantID, from: Day, to: Day, requestID: String?, logger: Logger) async throws -> (days: [DailyFigures], partial: [String]) {
        let own = try await self.ownCounts(tenant: tenant, from: from, to: to, logger: logger)
        let context = try await self.callContext(tenant, requestID)
        var counts: [ServiceName: [String: [String: Int64]]] = [:]
        var partial: [String] = []
        await withTaskGroup(of: (ServiceName, DailyCounts?).self) { group in
            for (service, client) in self.sources() {
                group.addTask {
                    do {
                        return (service, try await client.counts(from: from.description, to: to.description, context: context))
                    } catch {
                        logger.warning("daily counts unavailable", metadata: ["service": "\(service.rawValue)", "error": "\(error)"])
                        return (service, nil)
                    }
                }
            }
            for await (service, answer) in group {
                guard let answer else {
                    partial.append(service.rawValue)
                    continue
                }
                counts[service] = Dictionary(answer.days.map { ($0.day, $0.counts) }, uniquingKeysWith: { $1 })
            }
        }
        let today = Day(Date()).description
        let figures = Self.days(from: from, to: to).map { day in
            DailyFigures.merge(
                day: day, own: own[day] ?? [:], messaging: counts[.messaging]?[day] ?? [:], calendar: counts[.calendarBooking]?[day] ?? [:],
                vouchers: counts[.vouchers]?[day] ?? [:])
        }
        let complete = partial.isEmpty
        for day in figures {
            try await self.postgres.query(
                """
                INSERT INTO agent.analytics_daily (tenant_id, day, figures, complete)
                VALUES (\(tenant.rawValue), \(day.day)::date, \(try JSONEncoder.canonical.encodeString(day))::jsonb, \(complete && day.day < today))
                ON CONFLICT (tenant_id, day) DO UPDATE SET figures = excluded.figures, complete = excluded.complete, computed_at = now()
                """, logger: logger)
        }
        return (figures, partial.sorted())
    }

    /// This service's own counts per UTC day: calls by status and their costs, leads created and converted, the
    /// language models' cost.
    func ownCounts(tenant: TenantID, from: Day, to: Day, logger: Logger) async throws -> [String: [String: Int64]] {
        let rows = try await self.postgres.query(
            """
            \(unescaped: Day.spanSQL(from: from, to: to))
            SELECT to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'calls', count(*)::bigint
            FROM agent.calls c, span WHERE c.tenant_id = \(tenant.rawValue) AND c.created_at >= span.start AND c.created_at < span.stop GROUP BY 1
            UNION ALL
            SELECT to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'calls.' || c.status, count(*)::bigint
            FROM agent.calls c, span WHERE c.tenant_id = \(tenant.rawValue) AND c.created_at >= span.start AND c.created_at < span.stop GROUP BY 1, 2
            UNION ALL
            SELECT to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'callcost.' || c.cost_currency, sum(c.cost_micros)::bigint
            FROM agent.calls c, span
            WHERE c.tenant_id = \(tenant.rawValue) AND c.created_at >= span.start AND c.created_at < span.stop AND c.cost_micros IS NOT NULL
              AND c.cost_currency IS NOT NULL
            GROUP BY 1, 2
            UNION ALL
            SELECT to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'leads.created', count(*)::bigint
            FROM agent.leads l, span
            WHERE l.tenant_id = \(tenant.rawValue) AND l.merged_into IS NULL AND l.created_at >= span.start AND l.created_at < span.stop GROUP BY 1
            UNION ALL
            SELECT to_char(l.converted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'leads.converted', count(*)::bigint
            FROM agent.leads l, span
            WHERE l.tenant_id = \(tenant.rawValue) AND l.merged_into IS NULL AND l.converted_at >= span.start AND l.converted_at < span.stop GROUP BY 1
            UNION ALL
            SELECT to_char(k.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'llm.cost_micros', sum(k.cost_micros)::bigint
            FROM agent.llm_calls k, span
            WHERE k.tenant_id = \(tenant.rawValue) AND k.created_at >= span.start AND k.created_at < span.stop AND k.cost_micros IS NOT NULL GROUP BY 1
            """, logger: logger
        ).all(as: (String, String, Int64).self)
        var byDay: [String: [String: Int64]] = [:]
        for (day, key, count) in rows { byDay[day, default: [:]][key, default: 0] += count }
        return byDay
    }

    /// Tenants whose analytics were read in the last 35 days: the job keeps their today and yesterday current.
    func activeTenants(logger: Logger) async throws -> [TenantID] {
        try await self.postgres.query(
            "SELECT DISTINCT tenant_id FROM agent.analytics_daily WHERE computed_at > now() - interval '35 days'", logger: logger
        ).all(as: UUID.self).map { TenantID(rawValue: $0) }
    }

    static func days(from: Day, to: Day) -> [String] {
        var days: [String] = []
        guard var date = Day.calendar.date(from: DateComponents(year: from.year, month: from.month, day: from.day)) else { return [] }
        while Day(date) <= to {
            days.append(Day(date).description)
            date = date.addingTimeInterval(86_400)
        }
        return days
    }
}
