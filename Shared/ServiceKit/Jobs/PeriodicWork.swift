import Logging
import ServiceLifecycle

/// The loop every sweeper runs: a pass shortly after start, then one every `interval`, until graceful shutdown; a
/// failed pass is logged and the next one comes at its time (a sweeper never stops for one bad pass).
public enum PeriodicWork {
    public static func run(
        _ name: String, every interval: Duration, firstAfter delay: Duration = .seconds(1), logger: Logger, _ pass: () async throws -> Void
    ) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await pass()
            } catch {
                logger.warning("\(name) failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Calls `batch` until it does less than a full batch of `size` or shutdown begins, so a backlog is worked off
    /// in short transactions; answers how much was done in all.
    @discardableResult
    public static func drain(size: Int, _ batch: () async throws -> Int) async throws -> Int {
        var total = 0
        var done = 0
        repeat {
            done = try await batch()
            total += done
        } while done >= size && !Task.isShuttingDownGracefully
        return total
    }
}
