import Foundation
import Logging
import PostgresNIO

/// Counts failures per key in `<schema>.failure_counters` (an account, a client address, a station operator…).
/// At `limit` failures within `window` the key is locked for `lockout`; `check` then answers 429 with
/// `Retry-After`. Failures older than the window are forgotten.
public struct FailureThrottle: Sendable {
    let client: PostgresClient
    public let schema: String
    public let window: Duration
    public let lockout: Duration

    public init(postgres: PostgresClient, schema: String, window: Duration = .seconds(900), lockout: Duration) {
        self.client = postgres
        self.schema = schema
        self.window = window
        self.lockout = lockout
    }

    /// 429 when any of the keys is locked.
    public func check(_ keys: [String], code: String, message: String, logger: Logger) async throws {
        let seconds: Int? =
            try await self.client.query(
                """
                SELECT ceil(extract(epoch FROM max(locked_until) - now()))::int FROM \(unescaped: self.schema).failure_counters
                WHERE key = ANY(\(keys)) AND locked_until > now()
                """, logger: logger
            ).first(as: Int?.self) ?? nil
        if let seconds, seconds > 0 {
            throw APIError.tooManyRequests(code, message, retryAfterSeconds: seconds)
        }
    }

    /// Records one failure on `key` and returns the failures counted in the current window. Now and then (one call in
    /// 64) it also forgets counters whose window and lock are over: every email ever mistyped would otherwise keep
    /// its row forever.
    @discardableResult
    public func recordFailure(_ key: String, limit: Int, logger: Logger) async throws -> Int {
        if Int.random(in: 0..<64) == 0 { try await self.purgeStale(logger: logger) }
        let window = self.window.seconds
        return try await self.client.query(
            """
            INSERT INTO \(unescaped: self.schema).failure_counters AS f (key, failures, first_failed_at, locked_until)
            VALUES (\(key), 1, now(), CASE WHEN \(limit) <= 1 THEN now() + make_interval(secs => \(self.lockout.seconds)) END)
            ON CONFLICT (key) DO UPDATE SET
                failures = CASE WHEN f.first_failed_at < now() - make_interval(secs => \(window)) THEN 1 ELSE f.failures + 1 END,
                first_failed_at = CASE WHEN f.first_failed_at < now() - make_interval(secs => \(window)) THEN now() ELSE f.first_failed_at END,
                locked_until = CASE WHEN f.first_failed_at >= now() - make_interval(secs => \(window)) AND f.failures + 1 >= \(limit)
                    THEN now() + make_interval(secs => \(self.lockout.seconds)) ELSE f.locked_until END
            RETURNING failures
            """, logger: logger
        ).first(as: Int.self) ?? 1
    }

    public func clear(_ key: String, logger: Logger) async throws {
        try await self.client.query("DELETE FROM \(unescaped: self.schema).failure_counters WHERE key = \(key)", logger: logger)
    }

    /// Deletes counters whose window has passed and that hold no lock; answers how many.
    @discardableResult
    public func purgeStale(logger: Logger) async throws -> Int {
        try await self.client.query(
            """
            WITH gone AS (
                DELETE FROM \(unescaped: self.schema).failure_counters
                WHERE first_failed_at < now() - make_interval(secs => \(self.window.seconds)) AND (locked_until IS NULL OR locked_until < now())
                RETURNING 1)
            SELECT count(*)::int FROM gone
            """, logger: logger
        ).first(as: Int.self) ?? 0
    }
}
