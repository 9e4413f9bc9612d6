import Contracts
import Foundation
import Logging
import Models
import PostgresNIO

/// Tells the CRM (agent-core) what happened to a customer, from the transaction that made it happen: a job queued
/// there posts the event (`POST /v1/crm/events`) and is retried until agent-core takes it; the event's id makes a
/// second delivery harmless. Messaging, calendar-booking and marketplace-wallet each queue theirs through this.
public struct CRMEvents: Sendable {
    public static let job = "crm.event"

    struct Payload: Codable, Sendable {
        var tenantId: TenantID
        var event: CRMAPI.Event
    }

    let jobs: JobQueue

    public init(jobs: JobQueue) {
        self.jobs = jobs
    }

    /// Queues the event on the caller's transaction. Leads are keyed by phone: an address that is not one (a
    /// Telegram chat, an email) has no lead to tell, and nothing is queued.
    public func enqueue(_ event: CRMAPI.Event, tenant: TenantID, requestID: String?, on connection: PostgresConnection, logger: Logger) async throws {
        guard let phone = try? PhoneNumber(parsing: event.phone) else { return }
        var event = event
        event.phone = phone.e164
        // retried with the queue's backoff for a long while: agent-core may be down or redeployed meanwhile
        try await self.jobs.enqueue(
            Self.job, payload: Payload(tenantId: tenant, event: event), on: connection, maxAttempts: 20, requestID: requestID, logger: logger)
    }

    public static func register(_ registry: inout JobRegistry, environment: ServiceEnvironment) {
        registry.register(Self.job, as: Payload.self) { payload, job, _ in
            let context = try await environment.serviceCallContext(tenant: payload.tenantId, requestID: job.requestID)
            try await CRMClient(environment.jobClient(.agentCore)).record([payload.event], context: context)
        }
    }
}
