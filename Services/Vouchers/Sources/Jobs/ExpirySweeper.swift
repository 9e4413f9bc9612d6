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
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                var swept = 0
                repeat {
                    swept = try await self.sweep()
                } while swept == Self.batch && !Task.isShuttingDownGracefully
            } catch {
                self.logger.warning("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// Expires up to one batch of due vouchers; returns how many.
    @discardableResult
    func sweep() async throws -> Int {
        try await self.store.expireDue(batch: Self.batch, logger: self.logger)
    }
}
