import Contracts
import Foundation
import Logging
import Models
import ServiceClient
import ServiceKit
import ServiceLifecycle

/// Sends the notices appointments are owed, through messaging (`POST /v1/messaging/notify`: the tenant's default
/// channel, its policy, its quiet hours), on a schedule. Each reminder goes under its own id as the idempotency key:
/// a second replica never holds the same row at once (the lease), and one that sends again after a crash gets the
/// first message back from messaging, not a second message to the customer.
struct ReminderSender: Service {
    let reminders: RemindersStore
    let messaging: @Sendable () -> MessagingClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext
    let interval: Duration
    let logger: Logger
    static let batch = 100
    static let lease: Duration = .seconds(60)
    static let attempts = 8

    func run() async throws {
        await PeriodicWork.run("reminder send", every: self.interval, logger: self.logger) { try await self.send() }
    }

    /// One pass: the reminders sent.
    @discardableResult
    func send() async throws -> Int {
        var sent = 0
        for due in try await self.reminders.claimDue(limit: Self.batch, lease: Self.lease, logger: self.logger) {
            // an appointment that ended or went back to a hold meanwhile owes nothing
            guard let phone = due.phone, due.status == "scheduled" || due.status == "confirmed" else {
                try await self.reminders.markCancelled(due.id, logger: self.logger)
                continue
            }
            let notice = MessagingAPI.Notification(
                kind: "appointment_\(due.kind)", msisdn: phone, title: due.title, when: Self.when(due.startsAt, zone: due.timeZone), location: due.location)
            do {
                let context = try await self.callContext(due.tenant, nil)
                let receipt = try await self.messaging().notify(notice, idempotencyKey: "reminder/\(due.id.uuidString.lowercased())", context: context)
                try await self.reminders.markSent(due.id, messageID: receipt.id, logger: self.logger)
                sent += 1
            } catch {
                let last = due.attempts >= Self.attempts
                self.logger.warning(
                    "reminder not sent", metadata: ["reminder": "\(due.id)", "attempt": "\(due.attempts)", "error": "\(error)", "final": "\(last)"])
                // backoff 30 s, 1 min, 2 min … up to an hour
                let backoff = Duration.seconds(min(3600, 30 * (1 << min(due.attempts - 1, 7))))
                try await self.reminders.markFailed(due.id, error: "\(error)", retryAfter: last ? nil : backoff, logger: self.logger)
            }
        }
        return sent
    }

    /// The appointment's time as its customer reads it: `2027-03-28 09:00 (Europe/Malta)`.
    static func when(_ instant: Date, zone identifier: String) -> String {
        let zone = TimeZone(identifier: identifier) ?? .gmt
        let local = Availability.local(instant, in: zone)  // 2027-03-28T09:00:00+01:00
        return "\(local.prefix(10)) \(local.dropFirst(11).prefix(5)) (\(identifier))"
    }
}
