import Contracts
import Foundation
import Logging
import Models
import ServiceKit

/// The insurance review's outgoing work: telling the customer the decision through messaging. The job is written in
/// the decision's own transaction (`InsuranceStore.review`), so a decision that committed is told at least once;
/// the job's id keys the call to messaging, so a retry after a lost answer does not send it twice.
enum InsuranceJobs {
    static let notifyDecision = "insurance.notify_decision"

    struct DecisionNotice: Codable, Sendable, Equatable {
        var quoteId: InsuranceQuoteID
        var tenantId: TenantID
        var msisdn: String
        var status: InsuranceQuoteStatus
        var insurer: String
        var coverType: String
        var premium: Money?
        var comment: String?

        /// messaging's notice of it.
        var notification: MessagingAPI.Notification {
            MessagingAPI.Notification(
                kind: self.status == .approved ? "insurance_quote_approved" : "insurance_quote_needs_changes", msisdn: self.msisdn,
                amount: self.premium?.decimalString, currency: self.premium?.currency.code, quoteId: self.quoteId.description, insurer: self.insurer,
                coverType: self.coverType, comment: self.status == .approved ? nil : self.comment)
        }
    }

    static func register(_ registry: inout JobRegistry, environment: ServiceEnvironment) {
        registry.register(Self.notifyDecision, as: DecisionNotice.self) { notice, job, _ in
            let context = try await environment.serviceCallContext(tenant: notice.tenantId, requestID: job.requestID)
            _ = try await environment.messaging.notify(notice.notification, idempotencyKey: "insurance-decision-\(job.id)", context: context)
        }
    }
}
