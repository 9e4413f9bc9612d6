import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of subscriptions and their payments: starting a payment (on the idempotency transaction, around the STK
/// push), recording what a callback claims, claiming payments due for an STK query, and settling a payment once —
/// with the subscription's activation, its audit rows and the job that tells the gateway the tenant's new plan, all
/// in one database transaction.
struct SubscriptionsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let jobs: JobQueue

    /// Job kinds: confirm a payment by STK query (after a callback), record a callback that came before its payment
    /// row was committed, and set the tenant's plan in the gateway.
    static let confirmJob = "wallet.mpesa.confirm"
    static let earlyCallbackJob = "wallet.mpesa.early-callback"
    static let planJob = "wallet.subscription.plan"

    struct ConfirmPayload: Codable, Sendable {
        var paymentId: UUID
    }

    struct PlanPayload: Codable, Sendable {
        var tenantId: UUID
        var plan: String
    }

    static let errors = ConstraintErrors(
        [
            "subscription_payments_one_pending": .conflict(
                "payment_in_progress", "A payment of this tenant is still waiting for M-Pesa; query it or wait for it to end."),
            "subscription_payments_checkout_key": .conflict("checkout_reused", "M-Pesa answered a checkout request id already used."),
        ])

    // MARK: rows

    static let subscriptionColumns =
        "id, plan, status, amount, currency, period_start, period_end, receipt_number, activated_at, created_at, updated_at"
    typealias SubscriptionRow = (UUID, String, String, Int64, String, Date?, Date?, String?, Date?, Date, Date)

    static func subscription(_ row: SubscriptionRow) throws -> SubscriptionDTO {
        guard let currency = Currency(code: row.4) else { throw CorruptRow("subscription \(row.0) has currency \(row.4)") }
        return SubscriptionDTO(
            id: SubscriptionID(row.0), plan: try CorruptRow.known(row.1), status: try CorruptRow.known(row.2),
            amount: Money(minorUnits: row.3, currency: currency), periodStart: row.5, periodEnd: row.6, receiptNumber: row.7, activatedAt: row.8,
            createdAt: row.9, updatedAt: row.10)
    }

    static let paymentColumns = """
        id, subscription_id, provider, plan, amount, currency, phone, sandbox, merchant_request_id, checkout_request_id, status, result_code, \
        result_description, receipt_number, callback_at, requested_at, confirmed_at
        """
    typealias PaymentRow = (UUID, UUID, String, String, Int64, String, String?, Bool, String?, String?, String, Int32?, String?, String?, Date?, Date, Date?)

    static func payment(_ row: PaymentRow) throws -> SubscriptionPaymentDTO {
        guard let currency = Currency(code: row.5) else { throw CorruptRow("payment \(row.0) has currency \(row.5)") }
        return SubscriptionPaymentDTO(
            id: SubscriptionPaymentID(row.0), subscriptionId: SubscriptionID(row.1), provider: try CorruptRow.known(row.2),
            plan: try CorruptRow.known(row.3), amount: Money(minorUnits: row.4, currency: currency), phone: row.6, sandbox: row.7,
            merchantRequestId: row.8, checkoutRequestId: row.9, status: try CorruptRow.known(row.10), resultCode: row.11.map(Int.init),
            resultDescription: row.12, receiptNumber: row.13, callbackReceivedAt: row.14, requestedAt: row.15, confirmedAt: row.16)
    }

    // MARK: reads

    func view(tenant: TenantID, limit: Int, sandbox: Bool, logger: Logger) async throws -> SubscriptionView {
        let subscription = try await self.postgres.query(
            "SELECT \(unescaped: Self.subscriptionColumns) FROM wallet.subscriptions WHERE tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: SubscriptionRow.self).map(Self.subscription)
        let payments = try await self.postgres.query(
            """
            SELECT \(unescaped: Self.paymentColumns) FROM wallet.subscription_payments WHERE tenant_id = \(tenant.rawValue)
            ORDER BY requested_at DESC, id LIMIT \(limit)
            """, logger: logger
        ).all(as: PaymentRow.self).map(Self.payment)
        return SubscriptionView(subscription: subscription, payments: payments, sandbox: sandbox)
    }

    func payment(_ id: SubscriptionPaymentID, tenant: TenantID?, logger: Logger) async throws -> SubscriptionPaymentDTO? {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.paymentColumns) FROM wallet.subscription_payments
            WHERE id = \(id.rawValue) AND (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue))
            """, logger: logger
        ).first(as: PaymentRow.self).map(Self.payment)
    }

    func tenant(of payment: SubscriptionPaymentID, logger: Logger) async throws -> TenantID? {
        try await self.postgres.query(
            "SELECT tenant_id FROM wallet.subscription_payments WHERE id = \(payment.rawValue)", logger: logger
        ).first(as: UUID.self).map { TenantID(rawValue: $0) }
    }

    // MARK: starting a payment

    /// On the caller's transaction: the tenant's subscription row (opened, or locked), no other pending payment, then
    /// `push` (the STK push), the push in the journal (its own write, kept if this transaction fails), then the
    /// payment row with what Daraja answered. When the push throws, nothing stays.
    func startMpesa(
        plan: SubscriptionPlan, price: Money, phone: PhoneNumber, sandbox: Bool, queryAfter: Duration, tenant: TenantID, actor: String,
        requestID: String, on connection: PostgresConnection, logger: Logger, push: (SubscriptionID) async throws -> STKPushAccepted
    ) async throws -> SubscriptionPaymentDTO {
        try await Self.errors.map {
            let subscription = try await Self.openSubscription(plan: plan, price: price, tenant: tenant, on: connection, logger: logger)
            let pending = try await connection.query(
                "SELECT 1 FROM wallet.subscription_payments WHERE tenant_id = \(tenant.rawValue) AND status = 'pending'", logger: logger
            ).first(as: Int.self)
            guard pending == nil else { throw Self.errors.byConstraint["subscription_payments_one_pending"]! }
            let accepted = try await push(SubscriptionID(subscription))
            await self.journal(accepted, plan: plan, price: price, phone: phone, sandbox: sandbox, tenant: tenant, actor: actor, logger: logger)
            return try await self.insertPayment(
                SubscriptionPaymentID(), subscription: subscription, accepted: accepted, plan: plan, price: price, phone: phone, sandbox: sandbox,
                queryAfter: queryAfter, tenant: tenant, actor: actor, action: "subscription_payment.requested", requestID: requestID,
                on: connection, logger: logger)
        }
    }

    /// The tenant's one subscription row, opened or locked (the upsert locks it, so a tenant's starts queue here); a
    /// row still waiting for its first payment takes the plan and price asked for now.
    static func openSubscription(plan: SubscriptionPlan, price: Money, tenant: TenantID, on connection: PostgresConnection, logger: Logger)
        async throws -> UUID
    {
        let id = try await connection.query(
            """
            INSERT INTO wallet.subscriptions (id, tenant_id, plan, amount, currency)
            VALUES (\(UUID()), \(tenant.rawValue), \(plan.rawValue), \(price.minorUnits), \(price.currency.code))
            ON CONFLICT (tenant_id) DO UPDATE SET
                plan = CASE WHEN wallet.subscriptions.status = 'pending_payment' THEN excluded.plan ELSE wallet.subscriptions.plan END,
                amount = CASE WHEN wallet.subscriptions.status = 'pending_payment' THEN excluded.amount ELSE wallet.subscriptions.amount END,
                currency = CASE WHEN wallet.subscriptions.status = 'pending_payment' THEN excluded.currency ELSE wallet.subscriptions.currency END
            RETURNING id
            """, logger: logger
        ).first(as: UUID.self)
        guard let id else { throw CorruptRow("the subscription upsert returned no row") }
        return id
    }

    func insertPayment(
        _ id: SubscriptionPaymentID, subscription: UUID, accepted: STKPushAccepted, plan: SubscriptionPlan, price: Money, phone: PhoneNumber,
        sandbox: Bool, queryAfter: Duration, tenant: TenantID, actor: String, action: String, requestID: String?, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> SubscriptionPaymentDTO {
        let row = try await connection.query(
            """
            INSERT INTO wallet.subscription_payments (id, tenant_id, subscription_id, provider, plan, amount, currency, phone, sandbox,
                merchant_request_id, checkout_request_id, next_query_at, created_by)
            VALUES (\(id.rawValue), \(tenant.rawValue), \(subscription), 'mpesa', \(plan.rawValue), \(price.minorUnits), \(price.currency.code),
                \(phone.e164), \(sandbox), \(accepted.merchantRequestID), \(accepted.checkoutRequestID),
                now() + make_interval(secs => \(queryAfter.seconds)), \(actor))
            RETURNING \(unescaped: Self.paymentColumns)
            """, logger: logger
        ).first(as: PaymentRow.self)!
        let payment = try Self.payment(row)
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: action, table: "subscription_payments", targetID: id.description,
            before: nil as SubscriptionPaymentDTO?, after: payment, requestID: requestID, logger: logger)
        return payment
    }

    /// The push in the journal, on a connection of its own so that it outlives the start's transaction. Best effort
    /// within two seconds (the start goes on without it: the payment row is then its only record, as before).
    func journal(
        _ accepted: STKPushAccepted, plan: SubscriptionPlan, price: Money, phone: PhoneNumber, sandbox: Bool, tenant: TenantID, actor: String,
        logger: Logger
    ) async {
        let postgres = self.postgres
        let write: @Sendable () async throws -> Void = {
            try await postgres.query(
                """
                INSERT INTO wallet.mpesa_pushes (checkout_request_id, merchant_request_id, tenant_id, plan, amount, currency, phone, sandbox, created_by)
                VALUES (\(accepted.checkoutRequestID), \(accepted.merchantRequestID), \(tenant.rawValue), \(plan.rawValue), \(price.minorUnits),
                    \(price.currency.code), \(phone.e164), \(sandbox), \(actor))
                ON CONFLICT (checkout_request_id) DO NOTHING
                """, logger: logger)
        }
        switch await race(write, until: { try? await Task.sleep(for: .seconds(2)) }) {
        case .success: return
        case .failure(let error):
            logger.error("an accepted STK push is not in the journal", metadata: ["checkout": "\(accepted.checkoutRequestID)", "error": "\(error)"])
        case nil:
            logger.error("an accepted STK push is not in the journal", metadata: ["checkout": "\(accepted.checkoutRequestID)", "error": "timed out"])
        }
    }

    /// Pushes Daraja accepted more than `after` ago that have no payment (their start's transaction failed after the
    /// push): each becomes a pending payment, due for its STK query now, with an audit row. A push whose tenant has
    /// another payment pending waits for it to end. Journal rows older than a week go.
    func adoptOrphanPushes(after: Duration, limit: Int, logger: Logger) async throws -> Int {
        let orphans = try await self.postgres.query(
            """
            SELECT checkout_request_id, merchant_request_id, tenant_id, plan, amount, currency, phone, sandbox, created_by FROM wallet.mpesa_pushes p
            WHERE p.pushed_at < now() - make_interval(secs => \(after.seconds)) AND p.pushed_at > now() - interval '7 days'
              AND NOT EXISTS (SELECT 1 FROM wallet.subscription_payments s WHERE s.checkout_request_id = p.checkout_request_id)
              AND NOT EXISTS (SELECT 1 FROM wallet.subscription_payments s WHERE s.tenant_id = p.tenant_id AND s.status = 'pending')
            ORDER BY p.pushed_at LIMIT \(limit)
            """, logger: logger
        ).all(as: (String, String?, UUID, String, Int64, String, String, Bool, String).self)
        var adopted = 0
        for (checkout, merchant, tenantID, planName, amount, currencyCode, phoneText, sandbox, actor) in orphans {
            guard let plan = SubscriptionPlan(rawValue: planName), let currency = Currency(code: currencyCode), let phone = try? PhoneNumber(parsing: phoneText)
            else { throw CorruptRow("mpesa push \(checkout)") }
            let price = Money(minorUnits: amount, currency: currency)
            let tenant = TenantID(rawValue: tenantID)
            do {
                _ = try await self.postgres.withTransaction(logger: logger) { connection in
                    let subscription = try await Self.openSubscription(plan: plan, price: price, tenant: tenant, on: connection, logger: logger)
                    return try await self.insertPayment(
                        SubscriptionPaymentID(), subscription: subscription,
                        accepted: STKPushAccepted(merchantRequestID: merchant ?? "", checkoutRequestID: checkout, responseDescription: "", customerMessage: ""),
                        plan: plan, price: price, phone: phone,
                        sandbox: sandbox, queryAfter: .zero, tenant: tenant, actor: actor, action: "subscription_payment.adopted", requestID: nil,
                        on: connection, logger: logger)
                }
                adopted += 1
                logger.warning("adopted an STK push whose payment was never written", metadata: ["checkout": "\(checkout)"])
            } catch let error as PostgresTransactionError where Self.psqlConstraint(error) != nil {
                // a start or another sweeper wrote it meanwhile (or the tenant's other payment): the next pass sees
                continue
            }
        }
        try await self.postgres.query("DELETE FROM wallet.mpesa_pushes WHERE pushed_at < now() - interval '7 days'", logger: logger)
        return adopted
    }

    static func psqlConstraint(_ error: PostgresTransactionError) -> String? {
        ((error.closureError ?? error.commitError) as? PSQLError)?.serverInfo?[.constraintName]
    }

    // MARK: callbacks

    /// A callback that came before its payment row, and how many times it was tried.
    struct EarlyCallback: Codable, Sendable {
        var callback: STKCallback
        var tries: Int
    }

    /// How many half-second tries an early callback gets (a minute) before the journal's adoption takes over.
    static let earlyCallbackTries = 120

    /// Queues the early callback's next try half a second from now (a fixed pace, not the job queue's backoff: the
    /// row it waits for is a commit away).
    func deferEarly(_ callback: STKCallback, tries: Int, on connection: PostgresConnection? = nil, requestID: String?, logger: Logger) async throws {
        let payload = EarlyCallback(callback: callback, tries: tries)
        let runAt = Date().addingTimeInterval(0.5)
        if let connection {
            try await self.jobs.enqueue(Self.earlyCallbackJob, payload: payload, on: connection, runAt: runAt, requestID: requestID, logger: logger)
        } else {
            try await self.postgres.withTransaction(logger: logger) { connection in
                try await self.jobs.enqueue(Self.earlyCallbackJob, payload: payload, on: connection, runAt: runAt, requestID: requestID, logger: logger)
            }
        }
    }

    enum CallbackRecord: Equatable {
        /// No payment has this checkout request id.
        case unknown
        /// A callback for it came before; nothing changed.
        case duplicate
        /// Recorded; a job confirms it by STK query when the payment is still pending.
        case recorded(SubscriptionPaymentID, pending: Bool)
        /// Daraja accepted the push (it is in the journal) but its payment row is not committed yet: the callback
        /// raced the start's own transaction. Recorded again by a job once the row is there (`deferred`: queued now).
        case early(deferred: Bool)
    }

    /// Keeps what the first callback for a checkout claims (never the result: a query confirms that) and queues the
    /// confirming query. A later callback for the same checkout changes nothing. When a query already settled the
    /// payment as paid, the callback's receipt is kept (if its amount matches and no other payment has it).
    func recordCallback(_ callback: STKCallback, deferIfEarly: Bool = true, requestID: String?, logger: Logger) async throws -> CallbackRecord {
        // an amount no payment could have (negative, not finite, past 10^13 shillings) is kept as none, never a crash
        let amount = callback.amount.flatMap { $0.isFinite && $0 >= 0 && $0 < 1e13 ? Int64(exactly: ($0 * 100).rounded()) : nil }
        let receipt = callback.resultCode == 0 ? callback.receiptNumber : nil
        return try await self.postgres.withTransaction(logger: logger) { connection in
            let updated = try await connection.query(
                """
                UPDATE wallet.subscription_payments p SET callback_at = now(), callback_result_code = \(callback.resultCode),
                    callback_receipt = \(receipt), callback_amount = \(amount), updated_at = now(),
                    receipt_number = CASE
                        WHEN p.status = 'succeeded' AND p.receipt_number IS NULL AND \(receipt)::text IS NOT NULL AND p.amount = \(amount)
                             AND NOT EXISTS (SELECT 1 FROM wallet.subscription_payments o WHERE o.receipt_number = \(receipt))
                        THEN \(receipt) ELSE p.receipt_number END
                WHERE p.checkout_request_id = \(callback.checkoutRequestID) AND p.callback_at IS NULL
                RETURNING p.id, p.tenant_id, p.subscription_id, p.status, p.receipt_number
                """, logger: logger
            ).first(as: (UUID, UUID, UUID, String, String?).self)
            guard let (id, tenantID, subscriptionID, status, storedReceipt) = updated else {
                let known = try await connection.query(
                    "SELECT 1 FROM wallet.subscription_payments WHERE checkout_request_id = \(callback.checkoutRequestID)", logger: logger
                ).first(as: Int.self)
                guard known == nil else { return .duplicate }
                let pushed = try await connection.query(
                    "SELECT 1 FROM wallet.mpesa_pushes WHERE checkout_request_id = \(callback.checkoutRequestID)", logger: logger
                ).first(as: Int.self)
                guard pushed != nil else { return .unknown }
                if deferIfEarly {
                    // recorded again every half second until the start commits its row (or, if it never does, the push
                    // is adopted and its query settles it)
                    try await self.deferEarly(callback, tries: 0, on: connection, requestID: requestID, logger: logger)
                }
                return .early(deferred: deferIfEarly)
            }
            let tenant = TenantID(rawValue: tenantID)
            struct Claimed: Encodable {
                var resultCode: Int
                var resultDescription: String
                var receiptNumber: String?
            }
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: "mpesa:callback", action: "subscription_payment.callback", table: "subscription_payments",
                targetID: id.uuidString, before: nil as Claimed?,
                after: Claimed(resultCode: callback.resultCode, resultDescription: callback.resultDescription, receiptNumber: receipt),
                requestID: requestID, logger: logger)
            if status == PaymentStatus.pending.rawValue {
                try await self.jobs.enqueue(
                    Self.confirmJob, payload: ConfirmPayload(paymentId: id), on: connection, requestID: requestID, logger: logger)
                return .recorded(SubscriptionPaymentID(id), pending: true)
            }
            if let storedReceipt {
                // the late receipt of a payment a query already confirmed: the subscription it paid shows it too
                try await connection.query(
                    """
                    UPDATE wallet.subscriptions SET receipt_number = \(storedReceipt), updated_at = now()
                    WHERE id = \(subscriptionID) AND receipt_number IS NULL AND status = 'active'
                    """, logger: logger)
            }
            return .recorded(SubscriptionPaymentID(id), pending: false)
        }
    }

    // MARK: the query sweeper

    struct Due: Sendable {
        var id: SubscriptionPaymentID
        var tenant: TenantID
        var checkoutRequestID: String
        var requestedAt: Date
    }

    /// Pending payments whose query is due, claimed by moving their next query `retryAfter` on (so that several
    /// replicas never ask about one payment at once).
    func claimDue(limit: Int, retryAfter: Duration, logger: Logger) async throws -> [Due] {
        try await self.postgres.query(
            """
            UPDATE wallet.subscription_payments SET next_query_at = now() + make_interval(secs => \(retryAfter.seconds)),
                query_attempts = query_attempts + 1
            WHERE id IN (
                SELECT id FROM wallet.subscription_payments
                WHERE status = 'pending' AND next_query_at <= now() AND checkout_request_id IS NOT NULL
                ORDER BY next_query_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id, checkout_request_id, requested_at
            """, logger: logger
        ).all(as: (UUID, UUID, String, Date).self).map {
            Due(id: SubscriptionPaymentID($0.0), tenant: TenantID(rawValue: $0.1), checkoutRequestID: $0.2, requestedAt: $0.3)
        }
    }

    /// Active subscriptions whose period ended become past due.
    /// A lapsed tenant falls back to `lite` in the gateway (its rate limits, its plan), queued with the lapse: a paid
    /// plan lasts as long as its payment.
    func lapse(logger: Logger) async throws -> Int {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let lapsed = try await connection.query(
                """
                UPDATE wallet.subscriptions SET status = 'past_due', updated_at = now()
                WHERE status = 'active' AND period_end <= now() RETURNING tenant_id
                """, logger: logger
            ).all(as: UUID.self)
            for tenant in lapsed {
                try await self.jobs.enqueue(
                    Self.planJob, payload: PlanPayload(tenantId: tenant, plan: "lite"), on: connection, requestID: nil, logger: logger)
            }
            return lapsed.count
        }
    }

    // MARK: settling

    struct Settled: Sendable {
        var payment: SubscriptionPaymentDTO
        var subscription: SubscriptionDTO?
    }

    /// Settles a pending payment with its confirmed result, once: a payment no longer pending is left as it is (nil).
    /// A paid one activates the subscription for `periodDays` (extending the current period when it renews the
    /// active plan), keeps the callback's receipt when the callback said paid for the same amount, and queues the
    /// gateway's plan change — in the same transaction.
    func settle(
        _ id: SubscriptionPaymentID, status: PaymentStatus, resultCode: Int?, description: String, periodDays: Int, actor: String, requestID: String?,
        logger: Logger
    ) async throws -> Settled? {
        precondition(status != .pending)
        return try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.paymentColumns) FROM wallet.subscription_payments WHERE id = \(id.rawValue) FOR UPDATE", logger: logger
                ).first(as: PaymentRow.self).map(Self.payment), before.status == .pending
            else { return nil }
            let tenant = try await connection.query(
                "SELECT tenant_id FROM wallet.subscription_payments WHERE id = \(id.rawValue)", logger: logger
            ).first(as: UUID.self).map { TenantID(rawValue: $0) }!
            let row = try await connection.query(
                """
                UPDATE wallet.subscription_payments p SET status = \(status.rawValue), result_code = \(resultCode),
                    result_description = \(String(description.prefix(500))), confirmed_at = now(), updated_at = now(), next_query_at = NULL,
                    receipt_number = CASE
                        WHEN \(status.rawValue) = 'succeeded' AND p.callback_result_code = 0 AND p.callback_amount = p.amount
                             AND NOT EXISTS (SELECT 1 FROM wallet.subscription_payments o WHERE o.receipt_number = p.callback_receipt)
                        THEN p.callback_receipt END
                WHERE p.id = \(id.rawValue)
                RETURNING \(unescaped: Self.paymentColumns)
                """, logger: logger
            ).first(as: PaymentRow.self)!
            let payment = try Self.payment(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "subscription_payment.\(status.rawValue)", table: "subscription_payments",
                targetID: id.description, before: before, after: payment, requestID: requestID, logger: logger)
            guard status == .succeeded else { return Settled(payment: payment, subscription: nil) }
            let previous = try await connection.query(
                "SELECT \(unescaped: Self.subscriptionColumns) FROM wallet.subscriptions WHERE id = \(payment.subscriptionId.rawValue) FOR UPDATE",
                logger: logger
            ).first(as: SubscriptionRow.self).map(Self.subscription)
            let plan = payment.plan.rawValue
            let subscriptionRow = try await connection.query(
                """
                UPDATE wallet.subscriptions SET
                    period_start = CASE WHEN status = 'active' AND plan = \(plan) AND period_end > now() THEN period_start ELSE now() END,
                    period_end = CASE WHEN status = 'active' AND plan = \(plan) AND period_end > now() THEN period_end ELSE now() END
                        + make_interval(days => \(periodDays)::int),
                    plan = \(plan), status = 'active', amount = \(payment.amount.minorUnits), currency = \(payment.amount.currency.code),
                    receipt_number = \(payment.receiptNumber), activated_at = coalesce(activated_at, now()), updated_at = now()
                WHERE id = \(payment.subscriptionId.rawValue)
                RETURNING \(unescaped: Self.subscriptionColumns)
                """, logger: logger
            ).first(as: SubscriptionRow.self)!
            let subscription = try Self.subscription(subscriptionRow)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "subscription.activated", table: "subscriptions",
                targetID: subscription.id.description, before: previous, after: subscription, requestID: requestID, logger: logger)
            try await self.jobs.enqueue(
                Self.planJob, payload: PlanPayload(tenantId: tenant.rawValue, plan: plan), on: connection, requestID: requestID, logger: logger)
            return Settled(payment: payment, subscription: subscription)
        }
    }
}
