import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit

/// Raw webhook deliveries: stored, with the job that handles them, before anything is parsed, so the provider
/// gets its 200 at once and a reply that fails later can never turn into a 500 it retries.
struct WebhookStore: Sendable {
    let postgres: PostgresClient
    let jobs: JobQueue

    static let processJob = "webhook.process"

    struct ProcessJob: Codable, Sendable {
        var deliveryId: Int64
    }

    func receive(channel: ChannelID, provider: String, body: ByteBuffer, requestID: String, logger: Logger) async throws {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let id = try await connection.query(
                "INSERT INTO messaging.webhook_deliveries (channel_id, provider, body) VALUES (\(channel.rawValue), \(provider), \(body)) RETURNING id",
                logger: logger
            ).first(as: Int64.self)!
            try await self.jobs.enqueue(
                Self.processJob, payload: ProcessJob(deliveryId: id), on: connection, maxAttempts: 20, requestID: requestID, logger: logger)
        }
    }

    struct Delivery: Sendable {
        var channel: ChannelID
        var provider: String
        var body: ByteBuffer
    }

    func delivery(_ id: Int64, logger: Logger) async throws -> Delivery? {
        try await self.postgres.query(
            "SELECT channel_id, provider, body FROM messaging.webhook_deliveries WHERE id = \(id) AND processed_at IS NULL", logger: logger
        ).first(as: (UUID, String, ByteBuffer).self).map { Delivery(channel: ChannelID(rawValue: $0.0), provider: $0.1, body: $0.2) }
    }

    func processed(_ id: Int64, logger: Logger) async throws {
        try await self.postgres.query("UPDATE messaging.webhook_deliveries SET processed_at = now() WHERE id = \(id)", logger: logger)
    }

    /// Deletes up to `batch` deliveries handled before `cutoff`; answers how many. Unhandled ones stay, however old.
    func deleteHandled(olderThan cutoff: Date, batch: Int, logger: Logger) async throws -> Int {
        try await self.postgres.query(
            """
            WITH gone AS (
                DELETE FROM messaging.webhook_deliveries WHERE id IN (
                    SELECT id FROM messaging.webhook_deliveries WHERE processed_at < \(cutoff) ORDER BY id LIMIT \(batch))
                RETURNING 1)
            SELECT count(*)::int FROM gone
            """, logger: logger
        ).first(as: Int.self) ?? 0
    }
}
