
import Foundation
import Logging
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// Moves vouchers past `expires_at` to `expired`, in batches, on a schedule. The state machine's trigger writes
/// each `expired` event; the audit rows are written by the same statement. Replicas can sweep together
/// (`SKIP LOCKED`).
struct ExpirySweeper: Service {
    let postgres: PostgresClient
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                var swept = 0
                repeat {
                    swept = try await self.sweep()
                } while swept == 500 && !Task.isShuttingDownGracefully
            } catch {
                self.logger.warning("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// Expires up to 500 due vouchers; returns how many.
    @discardableResult
    func sweep() async throws -> Int {
        try await self.postgres.withTransaction(logger: self.logger) { connection in
            try await connection.query("SELECT set_config('sokoni.actor', 'system:expiry-sweeper', true)", logger: self.logger)
            return try await connection.query(
                """
                WITH due AS (
                    SELECT id, status FROM vouchers.vouchers
                    WHERE status IN ('issued', 'sent') AND expires_at <= now()
                    ORDER BY expires_at LIMIT 500 FOR UPDATE SKIP LOCKED),
                expired AS (
                    UPDATE vouchers.vouchers v SET status = 'expired' FROM due WHERE v.id = due.id
                    RETURNING v.id, v.tenant_id, due.status AS previous),
                audited AS (
                    INSERT INTO vouchers.audit_log (tenant_id, actor, action, target_table, target_id, diff)
                    SELECT tenant_id, 'system:expiry-sweeper', 'voucher.expire', 'vouchers', id::text,
                        jsonb_build_object('status', jsonb_build_object('before', previous, 'after', 'expired'))
                    FROM expired RETURNING 1)
                SELECT count(*)::int FROM audited
                """, logger: self.logger
            ).first(as: Int.self) ?? 0
        }
    }
}
