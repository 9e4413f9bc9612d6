import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Voids holds whose time ran out, on a schedule, so that what they reserve is spendable again (the SQL is the
/// store's; a hold posted after its time is expired on the spot as well).
struct HoldSweeper: Service {
    let ledger: LedgerStore
    let interval: Duration
    let logger: Logger
    static let batch = 500

    func run() async throws {
        await PeriodicWork.run("hold sweep", every: self.interval, logger: self.logger) { try await self.sweep() }
    }

    @discardableResult
    func sweep() async throws -> Int {
        try await PeriodicWork.drain(size: Self.batch) { try await self.ledger.expireDueHolds(limit: Self.batch, logger: self.logger) }
    }
}

/// Checks the whole ledger's invariants on a schedule: `wallet_ledger_invariant_holds` is 1 while they hold and 0
/// once a check fails (an alert rule fires on it), `wallet_ledger_invariant_failures_total` counts failed checks,
/// and each failure is logged at error level with what broke.
struct InvariantWatch: Service {
    let ledger: LedgerStore
    let metrics: ServiceMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await PeriodicWork.run("ledger invariant check", every: self.interval, firstAfter: .seconds(2), logger: self.logger) {
            _ = try await self.check()
        }
    }

    func check() async throws -> InvariantReport {
        let report = try await self.ledger.invariants(tenant: nil, logger: self.logger)
        self.metrics.registry.makeGauge(name: "wallet_ledger_invariant_holds").set(to: report.holds ? 1 : 0)
        let failures = self.metrics.registry.makeCounter(name: "wallet_ledger_invariant_failures_total")
        if !report.holds {
            failures.increment()
            self.logger.error(
                "ledger invariant broken",
                metadata: [
                    "currencies": "\(report.currencies.filter { $0.sum != 0 })", "unbalanced": "\(report.unbalancedTransactions)",
                    "without_entries": "\(report.transactionsWithoutEntries)", "balance_mismatches": "\(report.balanceMismatches)",
                    "held_mismatches": "\(report.heldMismatches)", "overdrawn": "\(report.overdrawnAccounts)",
                ])
        }
        return report
    }
}

/// Expires pending intents whose time ran out, with their open quotes (nobody accepts a stale offer), and releases
/// credit reservations whose reply never came (credits are never held forever).
struct ExpirySweeper: Service {
    let purchases: PurchasesStore
    let credits: CreditsStore
    let interval: Duration
    let logger: Logger
    static let batch = 500

    func run() async throws {
        await PeriodicWork.run("expiry sweep", every: self.interval, logger: self.logger) { try await self.sweep() }
    }

    /// Answers how many intents and reservations it expired.
    @discardableResult
    func sweep() async throws -> Int {
        let intents = try await PeriodicWork.drain(size: Self.batch) {
            try await self.purchases.expireDueIntents(limit: Self.batch, logger: self.logger)
        }
        let reservations = try await PeriodicWork.drain(size: Self.batch) {
            try await self.credits.expireDueReservations(limit: Self.batch, logger: self.logger)
        }
        return intents + reservations
    }
}
