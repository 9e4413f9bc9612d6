import Contracts
import Foundation
import Logging
import Models
import ServiceKit
import ServiceLifecycle

/// Confirms M-Pesa payments by STK query and settles them: after a callback (a job), when no callback came in time
/// (the sweeper), or when a tenant admin asks (`…/query`). Whatever a callback claimed, only the query's result
/// settles a payment; Daraja still processing leaves it pending, until `expiry` after the push, when it timed out.
struct PaymentConfirmation: Sendable {
    let store: SubscriptionsStore
    let mpesa: any MpesaExpress
    let settings: BillingSettings

    enum Outcome: Equatable {
        case settled(PaymentStatus)
        case stillPending
        case alreadySettled
    }

    func confirm(
        _ id: SubscriptionPaymentID, checkoutRequestID: String, requestedAt: Date, actor: String, requestID: String?, logger: Logger
    ) async throws -> Outcome {
        let answer = try await self.mpesa.query(checkoutRequestID: checkoutRequestID, logger: logger)
        let settled: SubscriptionsStore.Settled?
        switch answer {
        case .processing:
            guard Date() >= requestedAt.addingTimeInterval(self.settings.expiry.seconds) else { return .stillPending }
            settled = try await self.store.settle(
                id, status: .timeout, resultCode: nil,
                description: "M-Pesa gave no result within \(Int(self.settings.expiry.seconds)) s of the prompt.",
                periodDays: self.settings.periodDays, actor: actor, requestID: requestID, logger: logger)
        case .result(let code, let description):
            settled = try await self.store.settle(
                id, status: PaymentStatus.of(resultCode: code), resultCode: code, description: description, periodDays: self.settings.periodDays,
                actor: actor, requestID: requestID, logger: logger)
        }
        guard let settled else { return .alreadySettled }
        logger.info(
            "subscription payment settled",
            metadata: ["payment": "\(id)", "status": "\(settled.payment.status.rawValue)", "code": "\(settled.payment.resultCode.map(String.init) ?? "-")"])
        return .settled(settled.payment.status)
    }
}

enum SubscriptionJobs {
    static func register(_ registry: inout JobRegistry, confirmation: PaymentConfirmation, environment: ServiceEnvironment) {
        // a callback arrived: confirm it by query (a failed query is retried with backoff; the sweeper is the net)
        registry.register(SubscriptionsStore.confirmJob, as: SubscriptionsStore.ConfirmPayload.self) { payload, job, logger in
            let id = SubscriptionPaymentID(payload.paymentId)
            guard let payment = try await confirmation.store.payment(id, tenant: nil, logger: logger), payment.status == .pending,
                let checkout = payment.checkoutRequestId
            else { return }
            _ = try await confirmation.confirm(
                id, checkoutRequestID: checkout, requestedAt: payment.requestedAt, actor: "mpesa:callback", requestID: job.requestID, logger: logger)
        }
        // a callback that came before its payment row was committed: recorded once the row is there (until then tried
        // again every half second, for a minute)
        registry.register(SubscriptionsStore.earlyCallbackJob, as: SubscriptionsStore.EarlyCallback.self) { early, job, logger in
            let record = try await confirmation.store.recordCallback(early.callback, deferIfEarly: false, requestID: job.requestID, logger: logger)
            guard case .early = record else { return }
            guard early.tries + 1 < SubscriptionsStore.earlyCallbackTries else {
                logger.warning("an early mpesa callback found no payment in time", metadata: ["checkout": "\(early.callback.checkoutRequestID)"])
                return
            }
            try await confirmation.store.deferEarly(early.callback, tries: early.tries + 1, requestID: job.requestID, logger: logger)
        }
        // a paid subscription's plan becomes the tenant's plan in the gateway (its rate limits)
        registry.register(SubscriptionsStore.planJob, as: SubscriptionsStore.PlanPayload.self) { payload, job, logger in
            let tenant = TenantID(rawValue: payload.tenantId)
            let context = try await environment.serviceCallContext(tenant: tenant, requestID: job.requestID)
            try await environment.gateway.setPlan(tenant, plan: payload.plan, context: context)
        }
    }
}

/// Queries pending payments whose callback did not come in time (`wallet.mpesaQueryAfterMs` after the push, then
/// every `wallet.mpesaQueryEveryMs`), settles those Daraja has a result for, and marks subscriptions whose period
/// ended past due.
struct SubscriptionSweeper: Service {
    let confirmation: PaymentConfirmation
    let logger: Logger
    static let batch = 50

    func run() async throws {
        await PeriodicWork.run("subscription sweep", every: self.confirmation.settings.sweepInterval, firstAfter: .milliseconds(200), logger: self.logger) {
            _ = try await self.sweep()
        }
    }

    /// One pass: the payments settled, and the subscriptions lapsed.
    @discardableResult
    func sweep() async throws -> (settled: Int, lapsed: Int) {
        var settled = 0
        // first the pushes whose start failed after Daraja accepted them: from now on they are payments like any other
        _ = try await self.confirmation.store.adoptOrphanPushes(after: self.confirmation.settings.adoptAfter, limit: Self.batch, logger: self.logger)
        let due = try await self.confirmation.store.claimDue(
            limit: Self.batch, retryAfter: self.confirmation.settings.queryEvery, logger: self.logger)
        for payment in due {
            do {
                let outcome = try await self.confirmation.confirm(
                    payment.id, checkoutRequestID: payment.checkoutRequestID, requestedAt: payment.requestedAt, actor: "mpesa:query", requestID: nil,
                    logger: self.logger)
                if case .settled = outcome { settled += 1 }
            } catch {
                self.logger.warning("payment query failed", metadata: ["payment": "\(payment.id)", "error": "\(error)"])
            }
        }
        let lapsed = try await self.confirmation.store.lapse(logger: self.logger)
        return (settled, lapsed)
    }
}

extension PaymentConfirmation {
    /// Reads the billing settings and picks Daraja or the sandbox.
    static func from(_ environment: ServiceEnvironment) throws -> PaymentConfirmation {
        let settings = try BillingSettings.read(environment.settings.settings, gatewayURL: environment.settings.serviceURLs[.gateway]!)
        if settings.daraja == nil {
            environment.logger.notice("M-Pesa runs as the offline sandbox: no Daraja credentials are configured")
        }
        return PaymentConfirmation(
            store: SubscriptionsStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs),
            mpesa: Mpesa.express(configuration: settings.daraja, http: environment.httpClient), settings: settings)
    }
}
