import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// The tenant's credits as the console shows them.
struct CreditsDTO: Codable, Sendable, Equatable {
    var remaining: Int64
    var reserved: Int64
    var available: Int64
    var used: Int64
    /// Below this many available credits the tenant is warned.
    var lowThreshold: Int64
    var usagePerDay: [Day]
    var events: [Event]
    var alerts: [Alert]

    struct Day: Codable, Sendable, Equatable {
        var day: String
        var used: Int64
    }

    struct Event: Codable, Sendable, Equatable {
        var kind: String
        var credits: Int64
        var reference: String?
        var reason: String?
        var actor: String
        var at: Date
    }

    struct Alert: Codable, Sendable, Equatable {
        var kind: String
        var remaining: Int64
        var at: Date
    }
}

/// All SQL of usage credits. A tenant's balance row is made at its first use with the configured grant; every
/// change is one conditional statement on that row, so concurrent replies can never take more than there is.
struct CreditsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    /// Credits a tenant starts with, and how few available ones raise the `low` alert.
    let initialGrant: Int64
    let lowThreshold: Int64
    /// How long a reservation lives when its reply never settles it.
    let reservationLifetime: Int = 600

    static let reservationColumns = "reference, credits, status, expires_at"
    typealias ReservationRow = (String, Int32, String, Date)

    /// The tenant's balance row, made with the initial grant the first time (on an open transaction).
    func ensureBalance(_ tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws {
        let made = try await connection.query(
            """
            INSERT INTO wallet.credit_balances (tenant_id, remaining, episode) VALUES (\(tenant.rawValue), \(self.initialGrant), 1)
            ON CONFLICT (tenant_id) DO NOTHING RETURNING tenant_id
            """, logger: logger
        ).first(as: UUID.self)
        guard made != nil, self.initialGrant > 0 else { return }
        try await connection.query(
            """
            INSERT INTO wallet.credit_events (tenant_id, kind, credits, reference, reason, actor)
            VALUES (\(tenant.rawValue), 'grant', \(self.initialGrant), 'initial-grant', 'The credits every tenant starts with.', 'system')
            """, logger: logger)
    }

    func available(_ tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.query(
            "SELECT remaining - reserved FROM wallet.credit_balances WHERE tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: Int64.self) ?? 0
    }

    static func reservation(_ row: ReservationRow, available: Int64) -> WalletAPI.CreditReservation {
        WalletAPI.CreditReservation(reference: row.0, credits: Int(row.1), status: row.2, expiresAt: row.3, available: available)
    }

    enum Reserved: Sendable {
        case reserved(WalletAPI.CreditReservation, replayed: Bool)
        case exhausted(available: Int64)
    }

    /// Reserves `credits` once per reference. Out of credits: nothing is reserved and an `exhausted` alert is raised
    /// once for this episode.
    func reserve(_ tenant: TenantID, reference: String, credits: Int, logger: Logger) async throws -> Reserved {
        let outcome = try await self.postgres.withTransaction(logger: logger) { connection -> Reserved in
            try await self.ensureBalance(tenant, on: connection, logger: logger)
            let earlier = try await connection.query(
                """
                SELECT \(unescaped: Self.reservationColumns) FROM wallet.credit_reservations
                WHERE tenant_id = \(tenant.rawValue) AND reference = \(reference) FOR UPDATE
                """, logger: logger
            ).first(as: ReservationRow.self)
            // reserved or settled already: the same answer; released or expired (the reply went on without the
            // model, or never came): a retried reply reserves again, with the funds checked again
            if let earlier, earlier.2 == "reserved" || earlier.2 == "settled" {
                return .reserved(Self.reservation(earlier, available: try await self.available(tenant, on: connection, logger: logger)), replayed: true)
            }
            // the one statement that decides: the row is locked and the funds checked together
            guard
                let available = try await connection.query(
                    """
                    UPDATE wallet.credit_balances SET reserved = reserved + \(credits), updated_at = now()
                    WHERE tenant_id = \(tenant.rawValue) AND remaining - reserved >= \(credits)
                    RETURNING remaining - reserved
                    """, logger: logger
                ).first(as: Int64.self)
            else {
                return .exhausted(available: try await self.available(tenant, on: connection, logger: logger))
            }
            if earlier != nil {
                let renewed = try await connection.query(
                    """
                    UPDATE wallet.credit_reservations SET status = 'reserved', credits = \(credits), resolved_at = NULL,
                        expires_at = now() + make_interval(secs => \(Double(self.reservationLifetime)))
                    WHERE tenant_id = \(tenant.rawValue) AND reference = \(reference) RETURNING \(unescaped: Self.reservationColumns)
                    """, logger: logger
                ).first(as: ReservationRow.self)!
                return .reserved(Self.reservation(renewed, available: available), replayed: false)
            }
            let inserted = try await connection.query(
                """
                INSERT INTO wallet.credit_reservations (id, tenant_id, reference, credits, expires_at)
                VALUES (\(UUID()), \(tenant.rawValue), \(reference), \(credits), now() + make_interval(secs => \(Double(self.reservationLifetime))))
                ON CONFLICT ON CONSTRAINT credit_reservations_reference_key DO NOTHING
                RETURNING \(unescaped: Self.reservationColumns)
                """, logger: logger
            ).first(as: ReservationRow.self)
            guard let inserted else {
                // the same reference reserved concurrently and committed first: give back what this one took
                throw APIError.conflict("reservation_in_progress", "This reference is being reserved; retry.")
            }
            return .reserved(Self.reservation(inserted, available: available), replayed: false)
        }
        switch outcome {
        case .exhausted(let available):
            try await self.alert(tenant, kind: "exhausted", remaining: available, logger: logger)
        case .reserved(let reservation, replayed: false) where reservation.available < self.lowThreshold:
            try await self.alert(tenant, kind: "low", remaining: reservation.available, logger: logger)
        case .reserved: break
        }
        return outcome
    }

    /// Raises an alert once per tenant, kind and episode (between two top-ups).
    func alert(_ tenant: TenantID, kind: String, remaining: Int64, logger: Logger) async throws {
        let raised = try await self.postgres.query(
            """
            INSERT INTO wallet.credit_alerts (id, tenant_id, kind, episode, remaining)
            SELECT \(UUID()), tenant_id, \(kind), episode, \(remaining) FROM wallet.credit_balances WHERE tenant_id = \(tenant.rawValue)
            ON CONFLICT ON CONSTRAINT credit_alerts_once DO NOTHING RETURNING id
            """, logger: logger
        ).first(as: UUID.self)
        if raised != nil {
            logger.warning("usage credits \(kind)", metadata: ["tenant": "\(tenant)", "credits.available": "\(remaining)"])
        }
    }

    /// Settles (`used`) or releases a reservation; the same again answers it as it is, the other a 409.
    func resolve(_ tenant: TenantID, reference: String, used: Bool, logger: Logger) async throws -> WalletAPI.CreditReservation? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let row = try await connection.query(
                    """
                    SELECT \(unescaped: Self.reservationColumns) FROM wallet.credit_reservations
                    WHERE tenant_id = \(tenant.rawValue) AND reference = \(reference) FOR UPDATE
                    """, logger: logger
                ).first(as: ReservationRow.self)
            else { return nil }
            let target = used ? "settled" : "released"
            guard row.2 == "reserved" else {
                guard row.2 == target || (!used && row.2 == "expired") else {
                    throw APIError.conflict("reservation_\(row.2)", "This reservation was already \(row.2).")
                }
                return Self.reservation(row, available: try await self.available(tenant, on: connection, logger: logger))
            }
            let credits = Int64(row.1)
            let available = try await connection.query(
                """
                UPDATE wallet.credit_balances
                SET reserved = reserved - \(credits), remaining = remaining - \(used ? credits : 0), used = used + \(used ? credits : 0),
                    updated_at = now()
                WHERE tenant_id = \(tenant.rawValue) RETURNING remaining - reserved
                """, logger: logger
            ).first(as: Int64.self)
            guard let available else { throw CorruptRow("credit reservation \(reference) without its balance") }
            if used {
                try await connection.query(
                    """
                    INSERT INTO wallet.credit_events (tenant_id, kind, credits, reference, actor)
                    VALUES (\(tenant.rawValue), 'usage', \(credits), \(reference), 'agent-core')
                    """, logger: logger)
            }
            let resolved = try await connection.query(
                """
                UPDATE wallet.credit_reservations SET status = \(target), resolved_at = now()
                WHERE tenant_id = \(tenant.rawValue) AND reference = \(reference) RETURNING \(unescaped: Self.reservationColumns)
                """, logger: logger
            ).first(as: ReservationRow.self)!
            return Self.reservation(resolved, available: available)
        }
    }

    /// Adds credits once per reference (the `Idempotency-Key`); a new episode starts, so alerts can be raised again.
    func topUp(_ tenant: TenantID, credits: Int64, reference: String, reason: String?, actor: String, requestID: String, logger: Logger)
        async throws -> (CreditsDTO, replayed: Bool)
    {
        let replayed = try await self.postgres.withTransaction(logger: logger) { connection -> Bool in
            try await self.ensureBalance(tenant, on: connection, logger: logger)
            let event = try await connection.query(
                """
                INSERT INTO wallet.credit_events (tenant_id, kind, credits, reference, reason, actor)
                VALUES (\(tenant.rawValue), 'topup', \(credits), \(reference), \(reason), \(actor))
                ON CONFLICT (tenant_id, reference) WHERE kind IN ('grant', 'topup') DO NOTHING RETURNING id
                """, logger: logger
            ).first(as: Int64.self)
            guard event != nil else {
                // the key's first top-up is the answer, if this is the same request; another under its key is refused
                let first = try await connection.query(
                    """
                    SELECT credits, reason FROM wallet.credit_events
                    WHERE tenant_id = \(tenant.rawValue) AND reference = \(reference) AND kind IN ('grant', 'topup')
                    """, logger: logger
                ).first(as: (Int64, String?).self)
                guard let first, first.0 == credits, first.1 == reason else {
                    throw APIError.conflict("reference_reused", "This Idempotency-Key was already used for a different top-up.")
                }
                return true
            }
            try await connection.query(
                """
                UPDATE wallet.credit_balances SET remaining = remaining + \(credits), episode = episode + 1, updated_at = now()
                WHERE tenant_id = \(tenant.rawValue)
                """, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "credits.topup", table: "credit_balances", targetID: tenant.description,
                before: nil as TopUpAudit?, after: TopUpAudit(credits: credits, reference: reference, reason: reason), requestID: requestID,
                logger: logger)
            return false
        }
        return (try await self.credits(tenant, logger: logger), replayed)
    }

    struct TopUpAudit: Encodable {
        var credits: Int64
        var reference: String
        var reason: String?
    }

    /// The tenant's credits, usage per day over the last `days` days (UTC), recent events and alerts.
    func credits(_ tenant: TenantID, days: Int = 30, logger: Logger) async throws -> CreditsDTO {
        try await self.postgres.withTransaction(logger: logger) { connection in
            try await self.ensureBalance(tenant, on: connection, logger: logger)
            let (remaining, reserved, used) = try await connection.query(
                "SELECT remaining, reserved, used FROM wallet.credit_balances WHERE tenant_id = \(tenant.rawValue)", logger: logger
            ).first(as: (Int64, Int64, Int64).self)!
            let perDay = try await connection.query(
                """
                SELECT to_char(d.day, 'YYYY-MM-DD'), coalesce(sum(e.credits), 0)::int8
                FROM generate_series((now() AT TIME ZONE 'UTC')::date - \(days - 1)::int, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
                LEFT JOIN wallet.credit_events e ON e.tenant_id = \(tenant.rawValue) AND e.kind = 'usage'
                     AND e.created_at >= d.day AT TIME ZONE 'UTC' AND e.created_at < (d.day + interval '1 day') AT TIME ZONE 'UTC'
                GROUP BY d.day ORDER BY d.day
                """, logger: logger
            ).all(as: (String, Int64).self).map { CreditsDTO.Day(day: $0.0, used: $0.1) }
            let events = try await connection.query(
                """
                SELECT kind, credits, reference, reason, actor, created_at FROM wallet.credit_events
                WHERE tenant_id = \(tenant.rawValue) AND kind IN ('grant', 'topup') ORDER BY created_at DESC, id DESC LIMIT 50
                """, logger: logger
            ).all(as: (String, Int64, String?, String?, String, Date).self).map {
                CreditsDTO.Event(kind: $0.0, credits: $0.1, reference: $0.2, reason: $0.3, actor: $0.4, at: $0.5)
            }
            let alerts = try await connection.query(
                """
                SELECT kind, remaining, created_at FROM wallet.credit_alerts WHERE tenant_id = \(tenant.rawValue)
                ORDER BY created_at DESC LIMIT 20
                """, logger: logger
            ).all(as: (String, Int64, Date).self).map { CreditsDTO.Alert(kind: $0.0, remaining: $0.1, at: $0.2) }
            return CreditsDTO(
                remaining: remaining, reserved: reserved, available: remaining - reserved, used: used, lowThreshold: self.lowThreshold,
                usagePerDay: perDay, events: events, alerts: alerts)
        }
    }

    /// Releases up to `limit` reservations whose reply never came; answers how many.
    func expireDueReservations(limit: Int, logger: Logger) async throws -> Int {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let expired = try await connection.query(
                """
                UPDATE wallet.credit_reservations SET status = 'expired', resolved_at = now()
                WHERE id IN (SELECT id FROM wallet.credit_reservations WHERE status = 'reserved' AND expires_at <= now()
                             ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING tenant_id, credits
                """, logger: logger
            ).all(as: (UUID, Int32).self)
            var byTenant: [UUID: Int64] = [:]
            for (tenant, credits) in expired { byTenant[tenant, default: 0] += Int64(credits) }
            // tenants in a fixed order, so that two sweepers never deadlock
            for tenant in byTenant.keys.sorted(by: { $0.uuidString < $1.uuidString }) {
                try await connection.query(
                    "UPDATE wallet.credit_balances SET reserved = reserved - \(byTenant[tenant]!), updated_at = now() WHERE tenant_id = \(tenant)",
                    logger: logger)
            }
            return expired.count
        }
    }
}
