import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// Counts failed logins per account and per client address. After `slowAfter` failures answers are slowed;
/// at the limit the key is locked and logins are refused with 429 and `Retry-After` until the lock expires.
/// Failures older than the window are forgotten.
struct LoginThrottle: Sendable {
    let postgres: PostgresClient
    let maxPerAccount: Int
    let maxPerAddress: Int
    let lockout: Duration
    let window: Duration = .seconds(900)
    let slowAfter = 3

    static func accountKey(_ email: String) -> String { "email:\(email.lowercased())" }
    static func addressKey(_ address: String?) -> String { "ip:\(address ?? "unknown")" }

    /// 429 when either key is locked.
    func check(account: String, address: String, logger: Logger) async throws {
        let locked: Int? = try await self.postgres.query(
            """
            SELECT ceil(extract(epoch FROM max(locked_until) - now()))::int FROM identity.login_failures
            WHERE key IN (\(account), \(address)) AND locked_until > now()
            """, logger: logger
        ).first(as: Int?.self) ?? nil
        if let seconds = locked, seconds > 0 {
            throw APIError.tooManyRequests("login_locked", "Too many failed logins; try again later.", retryAfterSeconds: seconds)
        }
    }

    /// Records a failure on both keys and returns how long to hold the answer back.
    func recordFailure(account: String, address: String, logger: Logger) async throws -> Duration {
        var worst = 0
        for (key, limit) in [(account, self.maxPerAccount), (address, self.maxPerAddress)] {
            let failures = try await self.postgres.query(
                """
                INSERT INTO identity.login_failures AS f (key, failures, first_failed_at) VALUES (\(key), 1, now())
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN f.first_failed_at < now() - make_interval(secs => \(self.window.seconds)) THEN 1 ELSE f.failures + 1 END,
                    first_failed_at = CASE WHEN f.first_failed_at < now() - make_interval(secs => \(self.window.seconds)) THEN now() ELSE f.first_failed_at END,
                    locked_until = CASE WHEN f.first_failed_at >= now() - make_interval(secs => \(self.window.seconds)) AND f.failures + 1 >= \(limit)
                        THEN now() + make_interval(secs => \(self.lockout.seconds)) ELSE f.locked_until END
                RETURNING failures
                """, logger: logger
            ).first(as: Int.self) ?? 1
            worst = max(worst, failures * self.maxPerAccount / max(limit, 1))
        }
        return worst > self.slowAfter ? .milliseconds(150 * (worst - self.slowAfter)) : .zero
    }

    func recordSuccess(account: String, logger: Logger) async throws {
        try await self.postgres.query("DELETE FROM identity.login_failures WHERE key = \(account)", logger: logger)
    }
}

extension Duration {
    var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
