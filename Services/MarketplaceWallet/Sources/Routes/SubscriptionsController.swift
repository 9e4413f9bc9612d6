import Contracts
import Foundation
import Hummingbird
import Logging
import Models
import ServiceKit

/// `/v1/subscriptions`: the tenant's plan paid by M-Pesa Express (STK push), its payments, how to pay, and
/// `/webhooks/mpesa/{secret}`, Daraja's callback — accepted only on the secret path, matched by checkout request id,
/// and never believed: a job confirms it by STK query before anything is activated.
struct SubscriptionsController: Sendable {
    let confirmation: PaymentConfirmation
    let idempotency: Idempotency
    /// The tenant's billing currency, as the gateway has it (EUR: Malta, paid by the Revolut link).
    let tenantCurrency: @Sendable (TenantID, Logger) async throws -> String?

    var store: SubscriptionsStore { self.confirmation.store }
    var settings: BillingSettings { self.confirmation.settings }
    var mpesa: any MpesaExpress { self.confirmation.mpesa }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletBillingAPI.getSubscription, use: self.getSubscription)
        router.on(WalletBillingAPI.startSubscription, use: self.startSubscription)
        router.on(WalletBillingAPI.paymentOptions, use: self.paymentOptions)
        router.on(WalletBillingAPI.queryPayment, use: self.queryPayment)
        router.on(WalletBillingAPI.simulatePayment, use: self.simulatePayment)
        router.on(WalletBillingAPI.mpesaCallback, use: self.callback)
    }

    static let paymentNotFound = APIError.notFound("payment_not_found", "No such payment.")

    /// Daraja's refusals and silences as API errors: it is the upstream, so 502/503, never a 500.
    static func apiError(_ error: MpesaError) -> APIError {
        switch error {
        case .refused(_, let code, let message): APIError(.badGateway, code: "mpesa_refused", message: "M-Pesa refused the request (\(code)): \(message)")
        case .unreachable: APIError(.serviceUnavailable, code: "mpesa_unavailable", message: "M-Pesa did not answer; try again shortly.")
        case .malformed(let reason): APIError(.badGateway, code: "mpesa_bad_answer", message: "M-Pesa answered something unexpected: \(reason)")
        }
    }

    static func mapped<Result>(_ body: () async throws -> Result) async throws -> Result {
        do { return try await body() } catch let error as MpesaError { throw Self.apiError(error) }
    }

    @Sendable func getSubscription(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SubscriptionView> {
        let (_, tenant) = try context.requireTenantCaller()
        let limit = try request.queryValues.int("limit", range: 1...200) ?? 50
        let view = try await self.store.view(tenant: tenant, limit: limit, sandbox: self.mpesa.sandbox != nil, logger: context.logger)
        return JSONResponse(.ok, view)
    }

    /// 201 with the pending payment: the phone shows the prompt; the subscription activates when the payment is
    /// confirmed. A retry with the same `Idempotency-Key` answers the same payment and pushes nothing.
    @Sendable func startSubscription(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(StartSubscriptionBody.self, context: context)
        let plan = try SubscriptionRules.plan(body.plan)
        let phone = try SubscriptionRules.mpesaPhone(body.phone)
        let price = self.settings.mpesaPrices.price(plan)
        let push = STKPushRequest(
            amount: price.minorUnits / 100, phone: Mpesa.msisdn(e164: phone.e164), callbackURL: self.settings.callbackURL,
            accountReference: "Sokoni-\(plan.rawValue.prefix(5))", description: "Sokoni \(plan.rawValue.prefix(6))")
        return try await self.idempotency.write(request, context: context, postgres: self.store.postgres) { connection in
            let payment = try await self.store.startMpesa(
                plan: plan, price: price, phone: phone, sandbox: self.mpesa.sandbox != nil, queryAfter: self.settings.queryAfter, tenant: tenant,
                actor: caller.subject, requestID: context.requestID, on: connection, logger: context.logger
            ) { _ in
                try await Self.mapped { try await self.mpesa.push(push, logger: context.logger) }
            }
            return JSONResponse(.created, payment)
        }
    }

    @Sendable func paymentOptions(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PaymentOptionsDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let currency = try await self.tenantCurrency(tenant, context.logger)
        var options: [PaymentOptionsDTO.Option] = []
        if currency == Currency.EUR.code {
            if let link = self.settings.revolutLink {
                options.append(.init(provider: .revolut, currency: .EUR, prices: self.settings.eurPrices.json, url: link))
            }
        } else {
            options.append(.init(provider: .mpesa, currency: .KES, prices: self.settings.mpesaPrices.json, sandbox: self.mpesa.sandbox != nil))
        }
        return JSONResponse(.ok, PaymentOptionsDTO(options: options, periodDays: self.settings.periodDays))
    }

    /// Asks Daraja now (STK query) and answers the payment as it then is.
    @Sendable func queryPayment(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SubscriptionPaymentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: SubscriptionPaymentID.self)
        guard let payment = try await self.store.payment(id, tenant: tenant, logger: context.logger) else { throw Self.paymentNotFound }
        guard payment.status == .pending, let checkout = payment.checkoutRequestId else { return JSONResponse(.ok, payment) }
        _ = try await Self.mapped {
            try await self.confirmation.confirm(
                id, checkoutRequestID: checkout, requestedAt: payment.requestedAt, actor: caller.subject, requestID: context.requestID,
                logger: context.logger)
        }
        guard let after = try await self.store.payment(id, tenant: tenant, logger: context.logger) else { throw Self.paymentNotFound }
        return JSONResponse(.ok, after)
    }

    /// Sandbox only: the phone's answer (`resultCode`: 0 paid, 1032 cancelled, 1037 unreachable, 2001 wrong PIN, 1
    /// no funds), then the callback as Daraja would send it (unless `callback` is false: then the query sweeper
    /// finds it). 202: the payment settles as a real one does, after the confirming query.
    @Sendable func simulatePayment(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<SubscriptionPaymentDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let sandbox = self.mpesa.sandbox else {
            throw APIError.notFound("not_sandbox", "Payments are simulated only in the sandbox (no Daraja credentials configured).")
        }
        let id = try context.idParameter("id", as: SubscriptionPaymentID.self)
        let body = try await request.decodeJSON(SimulatePaymentBody.self, context: context)
        guard let code = body.resultCode, (0...99_999).contains(code) else {
            throw APIError.unprocessable("invalid_resultCode", "resultCode is Daraja's: 0 paid, 1032 cancelled, 1037 unreachable, 2001 wrong PIN, 1 no funds.")
        }
        guard let payment = try await self.store.payment(id, tenant: tenant, logger: context.logger) else { throw Self.paymentNotFound }
        guard payment.status == .pending, payment.sandbox, let checkout = payment.checkoutRequestId else {
            throw APIError.conflict("payment_settled", "This payment is no longer waiting for M-Pesa.")
        }
        guard let callback = sandbox.settle(checkoutRequestID: checkout, resultCode: code) else {
            throw APIError.conflict("sandbox_forgot", "The sandbox no longer knows this prompt (restarted); it times out.")
        }
        if body.callback ?? true {
            _ = try await self.store.recordCallback(callback, requestID: context.requestID, logger: context.logger)
        }
        return JSONResponse(.accepted, payment)
    }

    /// What Daraja expects back from a callback URL.
    struct Acknowledgement: Codable, Sendable {
        var ResultCode: Int
        var ResultDesc: String
    }

    /// 200 for every well-formed callback on the secret path (an unknown or repeated checkout changes nothing); 404
    /// on any other path, as if there were no such URL.
    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Acknowledgement> {
        guard let secret = context.parameters.get("secret"), SubscriptionRules.sameSecret(secret, self.settings.callbackSecret) else {
            throw APIError.notFound("not_found", "No such route.")
        }
        let bytes = try await request.body.collect(upTo: 64 * 1024)
        let callback: STKCallback
        do {
            callback = try STKCallback.parse(Data(bytes.readableBytesView))
        } catch {
            throw APIError.badRequest("invalid_callback", "\(error)")
        }
        let record = try await self.store.recordCallback(callback, requestID: context.requestID, logger: context.logger)
        switch record {
        case .unknown:
            context.logger.warning("mpesa callback for an unknown checkout", metadata: ["checkout": "\(callback.checkoutRequestID)"])
        case .duplicate:
            context.logger.info("mpesa callback repeated", metadata: ["checkout": "\(callback.checkoutRequestID)"])
        case .early:
            context.logger.info("mpesa callback before its payment was written, recorded later", metadata: ["checkout": "\(callback.checkoutRequestID)"])
        case .recorded: break
        }
        return JSONResponse(.ok, Acknowledgement(ResultCode: 0, ResultDesc: "Accepted"))
    }
}
