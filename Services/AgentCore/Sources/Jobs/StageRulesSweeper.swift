import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Applies the tenants' inactivity rules on a schedule: leads without contact for a rule's days move to its stage,
/// the move naming the rule (the SQL is the leads store's). Score and event rules apply as the lead changes.
struct StageRulesSweeper: Service {
    let leads: LeadsStore
    let interval: Duration
    let logger: Logger
    static let batch = 200

    func run() async throws {
        await PeriodicWork.run("stage rules sweep", every: self.interval, logger: self.logger) {
            try await PeriodicWork.drain(size: Self.batch) { try await self.sweep() }
        }
    }

    @discardableResult
    func sweep() async throws -> Int {
        try await self.leads.sweepInactive(limit: Self.batch, logger: self.logger)
    }
}
