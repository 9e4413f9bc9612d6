import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// The price table, every LLM call with its cost, the spend decision a reply makes before calling (under a row lock
/// per tenant and month, with a reservation for the reply in flight), the alerts it stores once, and the reports.
struct CostsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    // MARK: prices

    typealias PriceRow = (String, String, Int64, Int64?, Int64, Date, Bool, String)

    /// Every price row, the ones in force now marked, newest first per model.
    func prices(logger: Logger) async throws -> [PriceDTO] {
        try await self.postgres.query(
            """
            SELECT provider, model, input_per_million, cached_input_per_million, output_per_million, effective_from,
                   id = (SELECT c.id FROM agent.llm_prices c WHERE c.provider = p.provider AND c.model = p.model AND c.effective_from <= now()
                         ORDER BY c.effective_from DESC LIMIT 1) IS TRUE,
                   created_by
            FROM agent.llm_prices p ORDER BY model, provider, effective_from DESC LIMIT 2000
            """, logger: logger
        ).all(as: PriceRow.self).map {
            PriceDTO(
                provider: $0.0, model: $0.1, inputPerMillion: $0.2, cachedInputPerMillion: $0.3, outputPerMillion: $0.4, effectiveFrom: $0.5,
                current: $0.6, createdBy: $0.7)
        }
    }

    /// The prices in force at an instant: read for every reply, so a new price applies at once, without a restart.
    func pricesInForce(at instant: Date = Date(), logger: Logger) async throws -> LLMPrices {
        let rows = try await self.postgres.query(
            """
            SELECT DISTINCT ON (provider, model) provider, model, input_per_million, cached_input_per_million, output_per_million
            FROM agent.llm_prices WHERE effective_from <= \(instant) ORDER BY provider, model, effective_from DESC
            """, logger: logger
        ).all(as: (String, String, Int64, Int64?, Int64).self)
        return try LLMPrices(
            prices: rows.map { .init(provider: $0.0, model: $0.1, inputPerMillion: $0.2, cachedInputPerMillion: $0.3, outputPerMillion: $0.4) })
    }

    /// Adds prices (a row for the same provider, model and instant is replaced), with an audit row.
    func putPrices(_ prices: [NewPrice], actor: String, requestID: String, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let now = Date()
            for price in prices {
                try await connection.query(
                    """
                    INSERT INTO agent.llm_prices (provider, model, input_per_million, cached_input_per_million, output_per_million, effective_from, created_by)
                    VALUES (\(price.provider ?? LLMPrices.anyProvider), \(price.model), \(price.inputPerMillion), \(price.cachedInputPerMillion),
                            \(price.outputPerMillion), \(price.effectiveFrom ?? now), \(actor))
                    ON CONFLICT (provider, model, effective_from) DO UPDATE SET input_per_million = EXCLUDED.input_per_million,
                        cached_input_per_million = EXCLUDED.cached_input_per_million, output_per_million = EXCLUDED.output_per_million,
                        created_by = EXCLUDED.created_by, created_at = now()
                    """, logger: logger)
            }
            struct Change: Encodable {
                var prices: [NewPrice]
            }
            try await self.audit.record(
                on: connection, tenantID: nil, actor: actor, action: "llm_prices.updated", table: "llm_prices", targetID: "prices", before: nil,
                after: Change(prices: prices), requestID: requestID, logger: logger)
        }
    }

    // MARK: the spend decision

    enum Reservation: Sendable {
        /// The mode this reply may use (its reservation is held unless offline), and the alerts this decision stored.
        case decided(SpendMode, alerts: [String])
        /// Another attempt at the same inbound message is being answered: wait for its reply.
        case inFlight
    }

    static func monthText(_ month: Date) -> String { String(Day(month).description.prefix(8)) + "01" }

    /// Decides a reply's mode under the tenant-month row lock: this month's recorded spend plus the reservations of
    /// replies in flight, against the tenant's cap and the agent's; holds a reservation of `estimate(mode)` for the
    /// reply, and stores an alert per threshold reached (once per tenant, month, scope and threshold).
    func reserve(
        tenant: TenantID, key: String, attempt: UUID, agent: AgentID, agentCap: Int64?, now: Date = Date(), estimate: @Sendable (SpendMode) -> Int64,
        logger: Logger
    ) async throws -> Reservation {
        let month = SpendRules.month(of: now)
        let next = Day.calendar.date(byAdding: .month, value: 1, to: month)!
        let monthText = Self.monthText(month)
        return try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query(
                "INSERT INTO agent.spend_months (tenant_id, month) VALUES (\(tenant.rawValue), \(monthText)::date) ON CONFLICT DO NOTHING", logger: logger)
            // the lock: every reply of this tenant this month decides one after the other
            try await connection.query(
                "SELECT 1 FROM agent.spend_months WHERE tenant_id = \(tenant.rawValue) AND month = \(monthText)::date FOR UPDATE", logger: logger)
            if let other = try await connection.query(
                """
                SELECT attempt_id, settled OR expires_at > now() FROM agent.spend_reservations
                WHERE tenant_id = \(tenant.rawValue) AND inbound_key = \(key)
                """, logger: logger
            ).first(as: (UUID, Bool).self), other.0 != attempt, other.1 {
                return .inFlight
            }
            // the marks of earlier months' replies have done their work (their replies are stored)
            try await connection.query(
                "DELETE FROM agent.spend_reservations WHERE tenant_id = \(tenant.rawValue) AND month < \(monthText)::date", logger: logger)
            let tenantCap: Int64? =
                try await connection.query(
                    "SELECT monthly_cap_micros FROM agent.tenant_llm_settings WHERE tenant_id = \(tenant.rawValue)", logger: logger
                ).first(as: Int64?.self) ?? nil
            let (spent, agentSpent) = try await connection.query(
                """
                SELECT coalesce(sum(cost_micros), 0)::bigint, coalesce(sum(cost_micros) FILTER (WHERE agent_id = \(agent.rawValue)), 0)::bigint
                FROM agent.llm_calls WHERE tenant_id = \(tenant.rawValue) AND created_at >= \(month) AND created_at < \(next)
                """, logger: logger
            ).first(as: (Int64, Int64).self)!
            let (reserved, agentReserved) = try await connection.query(
                """
                SELECT coalesce(sum(micros), 0)::bigint, coalesce(sum(micros) FILTER (WHERE agent_id = \(agent.rawValue)), 0)::bigint
                FROM agent.spend_reservations
                WHERE tenant_id = \(tenant.rawValue) AND month = \(monthText)::date AND NOT settled AND expires_at > now() AND inbound_key <> \(key)
                """, logger: logger
            ).first(as: (Int64, Int64).self)!
            var scopes: [SpendScope] = []
            if let tenantCap { scopes.append(SpendScope(scope: "tenant", capMicros: tenantCap, committedMicros: spent + reserved)) }
            if let agentCap { scopes.append(SpendScope(scope: agent.description, capMicros: agentCap, committedMicros: agentSpent + agentReserved)) }
            let decision = SpendRules.decide(scopes, estimate: estimate)
            var alerts: [String] = []
            for reached in decision.reached {
                let stored = try await connection.query(
                    """
                    INSERT INTO agent.spend_alerts (id, tenant_id, month, scope, threshold, cap_micros, spent_micros)
                    VALUES (\(UUID()), \(tenant.rawValue), \(monthText)::date, \(reached.scope), \(reached.threshold), \(reached.cap), \(reached.committed))
                    ON CONFLICT (tenant_id, month, scope, threshold) DO NOTHING RETURNING 1
                    """, logger: logger
                ).first(as: Int.self)
                if stored != nil { alerts.append("\(reached.scope)/\(reached.threshold)") }
            }
            let micros = decision.mode == .offline ? 0 : estimate(decision.mode)
            // the reservation doubles as the mark that this message is being answered (held even when offline)
            try await connection.query(
                """
                INSERT INTO agent.spend_reservations (tenant_id, inbound_key, attempt_id, agent_id, month, micros, settled, expires_at)
                VALUES (\(tenant.rawValue), \(key), \(attempt), \(agent.rawValue), \(monthText)::date, \(micros), \(decision.mode == .offline),
                        now() + \(Int(SpendRules.reservationLifetime)) * interval '1 second')
                ON CONFLICT (tenant_id, inbound_key) DO UPDATE SET attempt_id = EXCLUDED.attempt_id, agent_id = EXCLUDED.agent_id,
                    month = EXCLUDED.month, micros = EXCLUDED.micros, settled = EXCLUDED.settled, expires_at = EXCLUDED.expires_at
                """, logger: logger)
            return .decided(decision.mode, alerts: alerts)
        }
    }

    struct CallContext: Sendable {
        var tenant: TenantID
        var agent: AgentID?
        var conversation: ConversationID?
        var key: String?
        var attempt: UUID
        var mode: SpendMode
    }

    /// Records a reply's calls at the prices given and releases its reservation, in one transaction; returns what
    /// the reply is billed (the sum of the recorded costs).
    @discardableResult
    func settle(_ calls: [CallLedger.Call], context: CallContext, prices: LLMPrices, logger: Logger) async throws -> Int64 {
        try await self.postgres.withTransaction(logger: logger) { connection in
            var billed: Int64 = 0
            for call in calls {
                let cost = prices.cost(of: call.usage, provider: call.provider, model: call.model)
                billed += cost ?? 0
                let latency = Int(
                    min(Double(Int32.max), max(0, Double(call.latency.components.seconds) * 1000 + Double(call.latency.components.attoseconds) / 1e15)))
                try await connection.query(
                    """
                    INSERT INTO agent.llm_calls (id, tenant_id, agent_id, conversation_id, inbound_key, attempt_id, provider, model, call_type,
                        input_tokens, cached_tokens, output_tokens, cost_micros, latency_ms, error, used_fallback, spend_mode, created_at)
                    VALUES (\(UUID()), \(context.tenant.rawValue), \(context.agent?.rawValue), \(context.conversation?.rawValue), \(context.key),
                        \(context.attempt), \(String(call.provider.prefix(60))), \(String(call.model.prefix(120))), \(call.callType),
                        \(max(0, call.usage.input)), \(max(0, min(call.usage.cached, call.usage.input))), \(max(0, call.usage.output)), \(cost),
                        \(latency), \(call.error), \(call.usedFallback), \(context.mode == .cheap ? "cheap" : "normal"), clock_timestamp())
                    """, logger: logger)
            }
            if let key = context.key {
                try await connection.query(
                    """
                    UPDATE agent.spend_reservations SET settled = true, micros = 0
                    WHERE tenant_id = \(context.tenant.rawValue) AND inbound_key = \(key) AND attempt_id = \(context.attempt)
                    """, logger: logger)
            }
            return billed
        }
    }

    // MARK: reports

    /// The month's spend of a tenant and its cap (the tenant's own, from its providers settings).
    func status(tenant: TenantID, now: Date = Date(), logger: Logger) async throws -> SpendStatus {
        let month = SpendRules.month(of: now)
        let next = Day.calendar.date(byAdding: .month, value: 1, to: month)!
        let cap: Int64? =
            try await self.postgres.query(
                "SELECT monthly_cap_micros FROM agent.tenant_llm_settings WHERE tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: Int64?.self) ?? nil
        let spent: Int64 =
            try await self.postgres.query(
                """
                SELECT coalesce(sum(cost_micros), 0)::bigint FROM agent.llm_calls
                WHERE tenant_id = \(tenant.rawValue) AND created_at >= \(month) AND created_at < \(next)
                """, logger: logger
            ).first(as: Int64.self) ?? 0
        let (percent, mode) = SpendRules.status(capMicros: cap, spentMicros: spent)
        return SpendStatus(month: String(Self.monthText(month).prefix(7)), capMicros: cap, spentMicros: spent, percent: percent, mode: mode)
    }

    typealias SumRow = (String, Int, Int, Int, Int64, Int64, Int64, Int64, Int)

    /// Calls from the start of `from` to the end of `to` (UTC days), summed per `groupBy`; the platform's when
    /// `tenant` is nil.
    func report(tenant: TenantID?, from: Day, to: Day, groupBy: CostGroup, logger: Logger) async throws -> CostsReport {
        let start = Day.calendar.date(from: DateComponents(year: from.year, month: from.month, day: from.day))!
        let end = Day.calendar.date(byAdding: .day, value: 1, to: Day.calendar.date(from: DateComponents(year: to.year, month: to.month, day: to.day))!)!
        let key: String =
            switch groupBy {
            case .day: "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            case .model: "model"
            case .agent: "coalesce(agent_id::text, 'none')"
            case .provider: "provider"
            }
        let rows = try await self.postgres.query(
            """
            SELECT \(unescaped: key), count(*)::int, (count(*) FILTER (WHERE error IS NOT NULL))::int, (count(*) FILTER (WHERE used_fallback))::int,
                   coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(cached_tokens), 0)::bigint, coalesce(sum(output_tokens), 0)::bigint,
                   coalesce(sum(cost_micros), 0)::bigint, (count(*) FILTER (WHERE cost_micros IS NULL))::int
            FROM agent.llm_calls
            WHERE (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue)) AND created_at >= \(start) AND created_at < \(end)
            GROUP BY 1 ORDER BY 1 LIMIT 5000
            """, logger: logger
        ).all(as: SumRow.self).map(Self.row)
        let series = try await self.postgres.query(
            """
            SELECT day, by, key, cost FROM (
              SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, 'model' AS by, model AS key, coalesce(sum(cost_micros), 0)::bigint AS cost
              FROM agent.llm_calls
              WHERE (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue)) AND created_at >= \(start) AND created_at < \(end)
              GROUP BY 1, 3
              UNION ALL
              SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'agent', coalesce(agent_id::text, 'none'), coalesce(sum(cost_micros), 0)::bigint
              FROM agent.llm_calls
              WHERE (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue)) AND created_at >= \(start) AND created_at < \(end)
              GROUP BY 1, 3
            ) s ORDER BY day, by, key LIMIT 20000
            """, logger: logger
        ).all(as: (String, String, String, Int64).self).map { CostSeries(day: $0.0, by: $0.1, key: $0.2, costMicros: $0.3) }
        var totals = CostRow(
            key: "total", calls: 0, failedCalls: 0, fallbackCalls: 0, inputTokens: 0, cachedTokens: 0, outputTokens: 0, costMicros: 0, unpricedCalls: 0)
        for row in rows {
            totals.calls += row.calls
            totals.failedCalls += row.failedCalls
            totals.fallbackCalls += row.fallbackCalls
            totals.inputTokens += row.inputTokens
            totals.cachedTokens += row.cachedTokens
            totals.outputTokens += row.outputTokens
            totals.costMicros += row.costMicros
            totals.unpricedCalls += row.unpricedCalls
        }
        var alerts: [SpendAlertDTO] = []
        var cap: SpendStatus?
        if let tenant {
            cap = try await self.status(tenant: tenant, logger: logger)
            alerts = try await self.postgres.query(
                """
                SELECT to_char(month, 'YYYY-MM'), scope, threshold, cap_micros, spent_micros, created_at FROM agent.spend_alerts
                WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at DESC, threshold DESC LIMIT 50
                """, logger: logger
            ).all(as: (String, String, Int, Int64, Int64, Date).self).map {
                SpendAlertDTO(month: $0.0, scope: $0.1, threshold: $0.2, capMicros: $0.3, spentMicros: $0.4, createdAt: $0.5)
            }
        }
        return CostsReport(
            tenantId: tenant?.description, from: from.description, to: to.description, groupBy: groupBy, rows: rows, totals: totals, series: series,
            cap: cap, alerts: alerts)
    }

    static func row(_ row: SumRow) -> CostRow {
        CostRow(
            key: row.0, calls: row.1, failedCalls: row.2, fallbackCalls: row.3, inputTokens: row.4, cachedTokens: row.5, outputTokens: row.6,
            costMicros: row.7, unpricedCalls: row.8)
    }
}
