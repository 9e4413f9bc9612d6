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
        await PeriodicWork.run("retention sweep", every: self.interval, logger: self.logger) { try await self.sweep() }
    }

    /// One pass: deliveries in batches (a long backlog never holds one long transaction), then the counters.
    func sweep() async throws {
        try await PeriodicWork.drain(size: Self.batch) {
            try await self.webhooks.deleteHandled(olderThan: Date().addingTimeInterval(-self.retention.seconds), batch: Self.batch, logger: self.logger)
        }
        try await self.policy.sweepCounters(logger: self.logger)
    }
}
