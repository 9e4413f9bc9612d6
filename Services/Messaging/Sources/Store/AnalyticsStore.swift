import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `GET /v1/messaging/analytics`: what the tenant's channels carried per UTC day, why sends failed, what they cost.
struct AnalyticsStore: Sendable {
    let postgres: PostgresClient

    func analytics(tenant: TenantID, from: Day, to: Day, logger: Logger) async throws -> MessagingAnalytics {
        // half-open on instants, so the index on (tenant_id, created_at) serves it
        let rows = try await self.postgres.query(
            """
            SELECT to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), ch.kind, m.direction, m.status, count(*)::int
            FROM messaging.messages m JOIN messaging.channels ch ON ch.id = m.channel_id
            WHERE m.tenant_id = \(tenant.rawValue) AND m.created_at >= (\(from.description)::date::timestamp AT TIME ZONE 'UTC')
              AND m.created_at < ((\(to.description)::date + 1)::timestamp AT TIME ZONE 'UTC')
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            """, logger: logger
        ).all(as: (String, String, String, String, Int).self).map {
            MessagingAnalytics.DayCount(day: $0.0, channelKind: $0.1, direction: $0.2, status: $0.3, count: $0.4)
        }
        let failures = try await self.postgres.query(
            """
            SELECT coalesce(error_code, 'unknown'), max(status_reason), count(*)::int FROM messaging.messages
            WHERE tenant_id = \(tenant.rawValue) AND created_at >= (\(from.description)::date::timestamp AT TIME ZONE 'UTC')
              AND created_at < ((\(to.description)::date + 1)::timestamp AT TIME ZONE 'UTC') AND status IN ('failed', 'blocked')
            GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 50
            """, logger: logger
        ).all(as: (String, String?, Int).self).map { MessagingAnalytics.Failure(code: $0.0, reason: $0.1, count: $0.2) }
        let costs = try await self.postgres.query(
            """
            SELECT cost_currency, sum(cost_minor)::bigint FROM messaging.messages
            WHERE tenant_id = \(tenant.rawValue) AND created_at >= (\(from.description)::date::timestamp AT TIME ZONE 'UTC')
              AND created_at < ((\(to.description)::date + 1)::timestamp AT TIME ZONE 'UTC') AND cost_minor IS NOT NULL AND cost_currency IS NOT NULL
            GROUP BY 1 ORDER BY 1
            """, logger: logger
        ).all(as: (String, Int64).self).map { code, minor in
            guard let currency = Currency(code: code) else { throw CorruptRow("a message costs in \(code)") }
            return MessagingAnalytics.Cost(currency: code, amount: Money(minorUnits: minor, currency: currency).decimalString)
        }
        var totals = MessagingAnalytics.Totals(inbound: 0, outbound: 0, failed: 0)
        for row in rows {
            if row.direction == "inbound" { totals.inbound += row.count } else { totals.outbound += row.count }
            if row.status == "failed" || row.status == "blocked" { totals.failed += row.count }
        }
        return MessagingAnalytics(from: from.description, to: to.description, days: rows, failures: failures, totals: totals, costs: costs)
    }
}

extension AnalyticsStore {
    /// `GET /v1/messaging/daily` (`DailyCounts`): per UTC day, the conversations started, the messages in and out by
    /// channel kind, the outbound ones that failed or were blocked, and what they cost per currency (minor units).
    func daily(tenant: TenantID, from: Day, to: Day, logger: Logger) async throws -> [DailyCounts.Day] {
        let rows = try await self.postgres.query(
            """
            \(unescaped: Day.spanSQL(from: from, to: to))
            SELECT to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'conversations', count(*)::bigint
            FROM messaging.conversations c, span WHERE c.tenant_id = \(tenant.rawValue) AND c.created_at >= span.start AND c.created_at < span.stop
            GROUP BY 1
            UNION ALL
            SELECT to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), m.direction || '.' || ch.kind, count(*)::bigint
            FROM messaging.messages m JOIN messaging.channels ch ON ch.id = m.channel_id, span
            WHERE m.tenant_id = \(tenant.rawValue) AND m.created_at >= span.start AND m.created_at < span.stop
            GROUP BY 1, 2
            UNION ALL
            SELECT to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'failed', count(*)::bigint
            FROM messaging.messages m, span
            WHERE m.tenant_id = \(tenant.rawValue) AND m.created_at >= span.start AND m.created_at < span.stop AND m.direction = 'outbound'
              AND m.status IN ('failed', 'blocked')
            GROUP BY 1
            UNION ALL
            SELECT to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'cost.' || m.cost_currency, sum(m.cost_minor)::bigint
            FROM messaging.messages m, span
            WHERE m.tenant_id = \(tenant.rawValue) AND m.created_at >= span.start AND m.created_at < span.stop AND m.cost_minor IS NOT NULL
              AND m.cost_currency IS NOT NULL
            GROUP BY 1, 2
            """, logger: logger
        ).all(as: (String, String, Int64).self)
        return DailyCounts.days(rows.map { (day: $0.0, key: $0.1, count: $0.2) })
    }
}

public struct MessagingAnalytics: Codable, Sendable, Equatable {
    public struct DayCount: Codable, Sendable, Equatable {
        public var day: String
        public var channelKind: String
        public var direction: String
        public var status: String
        public var count: Int
    }
    public struct Failure: Codable, Sendable, Equatable {
        public var code: String
        public var reason: String?
        public var count: Int
    }
    public struct Totals: Codable, Sendable, Equatable {
        public var inbound: Int
        public var outbound: Int
        /// Failed or blocked outbound messages.
        public var failed: Int
    }
    public struct Cost: Codable, Sendable, Equatable {
        public var currency: String
        public var amount: String
    }
    public var from: String
    public var to: String
    public var days: [DayCount]
    public var failures: [Failure]
    public var totals: Totals
    public var costs: [Cost]
}
