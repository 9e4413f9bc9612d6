import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Shares the rate limits between gateway replicas through PostgreSQL, in the background: every `interval` this
/// replica writes what it let through and takes what the others let through off its buckets (`RateLimiter.debit`).
/// Rows are read for a few intervals after they are written, so one committed late is still counted, and each row once.
struct RateLimitSharing: Service {
    let limiter: RateLimiter
    let store: RateUsageStore
    let interval: Duration
    let logger: Logger
    let replica = UUID()

    func run() async throws {
        var seen: [Int64: ContinuousClock.Instant] = [:]
        var lastSweep = ContinuousClock.now
        let window = max(self.interval * 10, .seconds(2))
        await PeriodicWork.run("rate limit sharing", every: self.interval, firstAfter: self.interval, logger: self.logger) {
            let usage = self.limiter.drainUsage()
            let others: [RateUsageStore.Usage]
            do {
                others = try await self.store.exchange(replica: self.replica, usage: usage, window: window, logger: self.logger)
            } catch {
                // not written: counted again with the next exchange
                self.limiter.restore(usage)
                throw error
            }
            let now = ContinuousClock.now
            var debits: [String: Int] = [:]
            for row in others where seen[row.id] == nil {
                seen[row.id] = now
                debits[row.principal, default: 0] += row.count
            }
            self.limiter.debit(debits, now: now)
            seen = seen.filter { now - $0.value < window * 2 }
            if now - lastSweep > .seconds(5) {
                lastSweep = now
                try await self.store.sweep(olderThan: window * 3, logger: self.logger)
            }
        }
    }
}
