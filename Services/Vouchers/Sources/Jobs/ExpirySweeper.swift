import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Moves vouchers past `expires_at` to `expired`, in batches, on a schedule (the SQL is the store's).
struct ExpirySweeper: Service {
    let store: VouchersStore
    let interval: Duration
    let logger: Logger
    static let batch = 500

    func run() async throws {
        await PeriodicWork.run("expiry sweep", every: self.interval, logger: self.logger) {
            try await PeriodicWork.drain(size: Self.batch) { try await self.sweep() }
        }
    }

    /// Expires up to one batch of due vouchers; returns how many.
    @discardableResult
    func sweep() async throws -> Int {
        try await self.store.expireDue(batch: Self.batch, logger: self.logger)
    }
}
