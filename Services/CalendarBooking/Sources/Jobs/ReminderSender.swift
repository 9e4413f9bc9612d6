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
    /// Each notice carries the customer's signed link (valid until the start) to the gateway's `/booking/` page.
    let links: ManageLink
    let publicURL: String
    let interval: Duration
    /// The first wait after messaging could not take a notice; each later one doubles it, up to an hour.
    let retryBase: Duration
    let logger: Logger
    static let batch = 100
    static let lease: Duration = .seconds(60)
    /// Tries before a reminder is given up as `failed` (5 s base: about 10 minutes of trying, then hourly ones).
    static let attempts = 12

    func run() async throws {
        await PeriodicWork.run("reminder send", every: self.interval, logger: self.logger) { try await self.send() }
    }

    /// How many notices a pass hands to messaging at once.
    static let concurrency = 8

    /// One pass: the reminders sent.
    @discardableResult
    func send() async throws -> Int {
        let due = try await self.reminders.claimDue(limit: Self.batch, lease: Self.lease, logger: self.logger)
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            var sent = 0
            var next = due.makeIterator()
            for _ in 0..<Self.concurrency {
                guard let reminder = next.next() else { break }
                group.addTask { try await self.send(reminder) }
            }
            while let one = try await group.next() {
                if one { sent += 1 }
                if let reminder = next.next() { group.addTask { try await self.send(reminder) } }
            }
            return sent
        }
    }

    /// Sends one claimed reminder; false when it was not sent (ended meanwhile, or failed and tried again later).
    func send(_ due: RemindersStore.Due) async throws -> Bool {
        // an appointment that ended or went back to a hold meanwhile owes nothing
        guard let phone = due.phone, due.status == "scheduled" || due.status == "confirmed" else {
            try await self.reminders.markCancelled(due.id, logger: self.logger)
            return false
        }
        let token = self.links.token(due.appointment, expires: due.startsAt)
        var notice = MessagingAPI.Notification(
            kind: "appointment_\(due.kind)", msisdn: phone, title: due.title, when: Self.when(due.startsAt, zone: due.timeZone), location: due.location,
            link: "\(self.publicURL)/booking/#\(token)")
        // the confirmation brings the appointment as a calendar file
        if due.kind == "confirmation" {
            notice.attachmentUrl = "\(self.publicURL)\(CalendarAPI.manageICS.path(["token": token]))"
            notice.attachmentFilename = "appointment.ics"
        }
        do {
            let context = try await self.callContext(due.tenant, nil)
            let receipt = try await self.messaging().notify(notice, idempotencyKey: "reminder/\(due.id.uuidString.lowercased())", context: context)
            try await self.reminders.markSent(due.id, messageID: receipt.id, logger: self.logger)
            return true
        } catch {
            let last = due.attempts >= Self.attempts
            self.logger.warning(
                "reminder not sent", metadata: ["reminder": "\(due.id)", "attempt": "\(due.attempts)", "error": "\(error)", "final": "\(last)"])
            try await self.reminders.markFailed(due.id, error: "\(error)", retryAfter: last ? nil : self.backoff(after: due.attempts), logger: self.logger)
            return false
        }
    }

    /// The wait after a failed try: short first (a messaging replica restarting, a timeout under load), doubling up
    /// to an hour so a long outage is not hammered.
    func backoff(after attempts: Int) -> Duration {
        min(.seconds(3600), self.retryBase * (1 << min(max(attempts - 1, 0), 20)))
    }

    /// The appointment's time as its customer reads it: `2027-03-28 09:00 (Europe/Malta)`.
    static func when(_ instant: Date, zone identifier: String) -> String {
        let zone = TimeZone(identifier: identifier) ?? .gmt
        let local = Availability.local(instant, in: zone)  // 2027-03-28T09:00:00+01:00
        return "\(local.prefix(10)) \(local.dropFirst(11).prefix(5)) (\(identifier))"
    }
}
