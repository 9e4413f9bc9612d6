import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// All SQL of the rate limits' sharing between gateway replicas (`identity.rate_usage`).
struct RateUsageStore: Sendable {
    let postgres: PostgresClient

    struct Usage: Sendable {
        var id: Int64
        var principal: String
        var count: Int
    }

    /// Writes what this replica let through and reads what the others wrote in the last `window`, in one statement
    /// (the caller skips the rows it has seen).
    func exchange(replica: UUID, usage: [String: Int], window: Duration, logger: Logger) async throws -> [Usage] {
        let principals = Array(usage.keys)
        let counts = principals.map { usage[$0]! }
        return try await self.postgres.query(
            """
            WITH written AS (
                INSERT INTO identity.rate_usage (replica, principal, n)
                SELECT \(replica), p, n FROM unnest(\(principals)::text[], \(counts)::int[]) AS u(p, n))
            SELECT id, principal, n FROM identity.rate_usage
            WHERE at > now() - make_interval(secs => \(window.seconds)) AND replica <> \(replica)
            """, logger: logger
        ).all(as: (Int64, String, Int).self).map { Usage(id: $0.0, principal: $0.1, count: $0.2) }
    }

    /// Drops what no replica reads any more.
    func sweep(olderThan age: Duration, logger: Logger) async throws {
        try await self.postgres.query(
            "DELETE FROM identity.rate_usage WHERE at < now() - make_interval(secs => \(age.seconds))", logger: logger)
    }
}
