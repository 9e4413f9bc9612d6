import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Expires appointment holds (`pending`) whose time ran out, on a schedule, so that their slots show as free (a
/// booking of the same agent expires them first anyway: this keeps lists and other agents' calendars true).
struct HoldSweeper: Service {
    let appointments: AppointmentsStore
    let interval: Duration
    let logger: Logger
    static let batch = 500

    func run() async throws {
        await PeriodicWork.run("appointment hold sweep", every: self.interval, logger: self.logger) { try await self.sweep() }
    }

    @discardableResult
    func sweep() async throws -> Int {
        try await PeriodicWork.drain(size: Self.batch) { try await self.appointments.expireDueHolds(limit: Self.batch, logger: self.logger) }
    }
}
