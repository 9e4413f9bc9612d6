import Foundation
import Logging
import Models
import ServiceKit
import ServiceLifecycle

/// Keeps the daily analytics current: today's and yesterday's figures recomputed on a schedule for every tenant
/// whose analytics were read lately (earlier days are kept once complete).
struct AnalyticsRefresher: Service {
    let analytics: AnalyticsStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await PeriodicWork.run("analytics refresh", every: self.interval, logger: self.logger) { try await self.refresh() }
    }

    func refresh() async throws {
        let today = Day(Date())
        let yesterday = Day(Date().addingTimeInterval(-86_400))
        for tenant in try await self.analytics.activeTenants(logger: self.logger) {
            try await self.analytics.compute(tenant: tenant, from: yesterday, to: today, requestID: nil, logger: self.logger)
        }
    }
}
