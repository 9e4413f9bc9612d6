import Foundation
import Logging
import ServiceKit

/// Failed logins per account and per client address (ServiceKit's `FailureThrottle` on the identity schema).
/// After a few failures answers are slowed; at the limit the key is locked and logins get 429 with `Retry-After`.
struct LoginThrottle: Sendable {
    let failures: FailureThrottle
    let maxPerAccount: Int
    let maxPerAddress: Int
    let slowAfter = 3

    static func accountKey(_ email: String) -> String { "email:\(email.lowercased())" }
    static func addressKey(_ address: String?) -> String { "ip:\(address ?? "unknown")" }

    func check(account: String, address: String, logger: Logger) async throws {
        try await self.failures.check([account, address], code: "login_locked", message: "Too many failed logins; try again later.", logger: logger)
    }

    /// Records a failure on both keys and returns how long to hold the answer back.
    func recordFailure(account: String, address: String, logger: Logger) async throws -> Duration {
        let onAccount = try await self.failures.recordFailure(account, limit: self.maxPerAccount, logger: logger)
        let onAddress = try await self.failures.recordFailure(address, limit: self.maxPerAddress, logger: logger)
        let worst = max(onAccount, onAddress * self.maxPerAccount / max(self.maxPerAddress, 1))
        return worst > self.slowAfter ? .milliseconds(150 * (worst - self.slowAfter)) : .zero
    }

    func recordSuccess(account: String, logger: Logger) async throws {
        try await self.failures.clear(account, logger: logger)
    }
}
