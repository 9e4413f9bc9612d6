import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Deletes what messaging keeps only for a while, on a schedule: handled webhook deliveries after the retention
/// period (the messages they carried stay; the raw bodies are for replaying a parsing fix), and the throttle's
/// counters once their window is long past. The SQL is the stores'.
struct RetentionSweeper: Service {
    let webhooks: WebhookStore
    let policy: PolicyStore
    let retention: Duration
    let interval: Duration
    let logger: Logger
    static let batch = 1000

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await self.sweep()
            } catch {
                self.logger.warning("retention sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// One pass: deliveries in batches (a long backlog never holds one long transaction), then the counters.
    func sweep() async throws {
        var deleted = 0
        repeat {
            deleted = try await self.webhooks.deleteHandled(
                olderThan: Date().addingTimeInterval(-self.retention.seconds), batch: Self.batch, logger: self.logger)
        } while deleted == Self.batch && !Task.isShuttingDownGracefully
        try await self.policy.sweepCounters(logger: self.logger)
    }
}
