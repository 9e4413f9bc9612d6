import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// The pipeline's rules (`agent.stage_rules`): kept with the stages they name, applied in the transaction that
/// changed the lead (a score, an event) or by the inactivity sweeper, and the feed of moves they and people make.
extension LeadsStore {
    func rules(tenant: TenantID, on connection: PostgresConnection? = nil, logger: Logger) async throws -> [StageRule] {
        let query: PostgresQuery = """
            SELECT id, name, trigger, threshold, event, from_stages, to_stage, enabled FROM agent.stage_rules
            WHERE tenant_id = \(tenant.rawValue) ORDER BY position
            """
        let rows =
            if let connection {
                try await connection.query(query, logger: logger).all(as: (UUID, String, String, Int?, String?, [String], String, Bool).self)
            } else {
                try await self.postgres.query(query, logger: logger).all(as: (UUID, String, String, Int?, String?, [String], String, Bool).self)
            }
        return try rows.map {
            StageRule(
                id: StageRuleID($0.0), name: $0.1, trigger: try CorruptRow.known($0.2), threshold: $0.3, event: try $0.4.map { try CorruptRow.known($0) },
                fromStages: $0.5, toStage: $0.6, enabled: $0.7)
        }
    }

    /// Replaces the rules, checked against the pipeline under its lock (a stage cannot go while a rule names it:
    /// `putStages` checks the rules too).
    func putRules(_ rules: [StageRule], tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> [StageRule] {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('pipeline:' || \(tenant.description)))", logger: logger)
            try StageRule.check(rules, stages: try await self.stages(tenant: tenant, on: connection, logger: logger))
            let before = try await self.rules(tenant: tenant, on: connection, logger: logger)
            try await connection.query("DELETE FROM agent.stage_rules WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            for (position, rule) in rules.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO agent.stage_rules (id, tenant_id, position, name, trigger, threshold, event, from_stages, to_stage, enabled)
                    VALUES (\(rule.id?.rawValue ?? UUID()), \(tenant.rawValue), \(position), \(rule.name), \(rule.trigger.rawValue), \(rule.threshold),
                        \(rule.event?.rawValue), \(rule.fromStages), \(rule.toStage), \(rule.enabled))
                    """, logger: logger)
            }
            let after = try await self.rules(tenant: tenant, on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "pipeline.rules", table: "stage_rules", targetID: tenant.description,
                before: before, after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    /// After the lead's score changed (`event` nil) or an event reached it: the first rule that matches moves it,
    /// the move naming the rule. Answers the lead as it is now.
    @discardableResult
    func automate(_ id: LeadID, event: CRMAPI.Event.Kind?, tenant: TenantID, requestID: String?, on connection: PostgresConnection, logger: Logger)
        async throws -> LeadDTO
    {
        let lead = try await self.lead(id, tenant: tenant, on: connection, lock: true, logger: logger)
        let rules = try await self.rules(tenant: tenant, on: connection, logger: logger)
        guard !rules.isEmpty else { return lead }
        let stages = try await self.stages(tenant: tenant, on: connection, logger: logger)
        guard let stage = stages.first(where: { $0.key == lead.stage }),
            let rule = rules.first(where: { $0.moves(from: stage, score: lead.score, event: event) }),
            let target = stages.first(where: { $0.key == rule.toStage })
        else { return lead }
        return try await self.place(
            lead, in: target, reason: rule.reason(score: lead.score), data: Self.ruleData(rule), tenant: tenant, actor: "rule:\(rule.id?.description ?? "")",
            requestID: requestID, on: connection, logger: logger)
    }

    static func ruleData(_ rule: StageRule) -> [String: JSONValue] {
        ["automatic": .bool(true), "rule": .string(rule.id?.description ?? ""), "ruleName": .string(rule.name)]
    }

    /// Moves up to `limit` leads that an inactivity rule says have waited too long (no contact, or none since they
    /// came in), rule by rule across tenants; answers how many moved.
    func sweepInactive(limit: Int, logger: Logger) async throws -> Int {
        let due = try await self.postgres.query(
            "SELECT id, tenant_id FROM agent.stage_rules WHERE trigger = 'inactive_days' AND enabled ORDER BY tenant_id, position", logger: logger
        ).all(as: (UUID, UUID).self)
        var moved = 0
        for (ruleID, tenantID) in due where moved < limit {
            let tenant = TenantID(rawValue: tenantID)
            moved += try await self.postgres.withTransaction(logger: logger) { connection -> Int in
                try await connection.query("SELECT pg_advisory_xact_lock_shared(hashtext('pipeline:' || \(tenant.description)))", logger: logger)
                guard let rule = try await self.rules(tenant: tenant, on: connection, logger: logger).first(where: { $0.id?.rawValue == ruleID }), rule.enabled,
                    let days = rule.threshold
                else { return 0 }
                let stages = try await self.stages(tenant: tenant, on: connection, logger: logger)
                let from = rule.fromStages.isEmpty ? stages.filter { $0.kind == .open }.map(\.key) : rule.fromStages
                guard let target = stages.first(where: { $0.key == rule.toStage }) else { return 0 }
                let waiting = try await connection.query(
                    """
                    SELECT id FROM agent.leads
                    WHERE tenant_id = \(tenantID) AND merged_into IS NULL AND stage = ANY(\(from)) AND stage <> \(rule.toStage)
                      AND coalesce(last_contact_at, created_at) < now() - make_interval(days => \(days)::int)
                    ORDER BY coalesce(last_contact_at, created_at), id LIMIT \(limit - moved) FOR UPDATE SKIP LOCKED
                    """, logger: logger
                ).all(as: UUID.self)
                for id in waiting {
                    let lead = try await self.lead(LeadID(id), tenant: tenant, on: connection, logger: logger)
                    _ = try await self.place(
                        lead, in: target, reason: rule.reason(score: lead.score), data: Self.ruleData(rule), tenant: tenant,
                        actor: "rule:\(ruleID.uuidString.lowercased())", requestID: nil, on: connection, logger: logger)
                }
                return waiting.count
            }
        }
        return moved
    }

    /// One move of a lead between stages, as the feed gives it (the contract other services read).
    typealias StageMove = CRMAPI.StageMove

    /// The tenant's moves after `after` (an earlier move's id), oldest first: what other services act on.
    func moves(tenant: TenantID, after: Int64, limit: Int, logger: Logger) async throws -> [StageMove] {
        try await self.postgres.query(
            """
            SELECT id, lead_id, data->>'from', data->>'to', data->>'reason', coalesce((data->>'automatic')::boolean, false), data->>'rule', actor,
                created_at
            FROM agent.lead_activity WHERE tenant_id = \(tenant.rawValue) AND kind = 'stage_changed' AND id > \(after)
            ORDER BY id LIMIT \(limit)
            """, logger: logger
        ).all(as: (Int64, UUID, String?, String?, String?, Bool, String?, String, Date).self).map {
            StageMove(
                id: $0.0, leadId: LeadID($0.1), from: $0.2 ?? "", to: $0.3 ?? "", reason: $0.4 ?? "", automatic: $0.5, rule: $0.6, actor: $0.7, at: $0.8)
        }
    }
}
