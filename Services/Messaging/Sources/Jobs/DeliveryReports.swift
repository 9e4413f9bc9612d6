import Contracts
import Foundation
import Logging
import Models
import ServiceClient
import ServiceKit

/// Tells the service that asked for a message how it fared (migration 0004 queues one job per status it
/// reaches). Keyed by message and status, so a retried job reports once.
struct DeliveryReports: Sendable {
    static let job = "message.callback"

    struct Job: Codable, Sendable {
        var messageId: MessageID
        var tenantId: TenantID
        var status: String
    }

    let conversations: ConversationsStore
    let client: @Sendable (ServiceName) -> ServiceClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext

    func report(_ job: Job, requestID: String?, logger: Logger) async throws {
        guard let (callback, errorCode, reason) = try await self.conversations.callback(of: job.messageId, logger: logger),
            let endpoint = MessagingAPI.deliveryReportEndpoint(callback.service)
        else { return }
        let failed = job.status == "failed" || job.status == "blocked"
        try await DeliveryReportClient(self.client(callback.service), endpoint: endpoint).report(
            MessagingAPI.DeliveryReport(
                reference: callback.reference, messageId: job.messageId.description, status: job.status, errorCode: failed ? errorCode : nil,
                reason: failed ? reason : nil),
            idempotencyKey: "delivery-\(job.messageId)-\(job.status)", context: try await self.callContext(job.tenantId, requestID))
    }
}
