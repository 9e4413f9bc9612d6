import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import MarketplaceWallet

/// Subscriptions paid by M-Pesa Express through the gateway over real HTTP, on a real PostgreSQL, with the real
/// Daraja adapter against a fake Daraja on loopback: every outcome, a missing callback, forged and repeated callbacks,
/// the token kept until it expires, the sandbox, roles and tenants, and the gateway's plan kept in step.
@Suite struct SubscriptionsTests {
    static let secret = "cb-0123456789abcdefghijklmnopqrstuv"

    static func money(_ amount: String, _ currency: Currency) -> Money { try! Money(decimal: amount, currency: currency) }

    struct Billing {
        let gateway: String
        let tenant: TenantID
        let admin: String
        let postgres: PostgresClient
        let platform: TestPlatform
        let fake: FakeDaraja?

        func post(_ path: String, _ json: String, token: String? = nil, key: String? = nil, headers: [String: String] = [:]) async throws -> TestResponse {
            var headers = headers
            if let key { headers["Idempotency-Key"] = key }
            return try await TestHTTP.request(.POST, "\(self.gateway)\(path)", token: token ?? self.admin, headers: headers, body: Data(json.utf8))
        }

        func get(_ path: String, token: String? = nil, headers: [String: String] = [:]) async throws -> TestResponse {
            try await TestHTTP.get("\(self.gateway)\(path)", token: token ?? self.admin, headers: headers)
        }

        func view(token: String? = nil) async throws -> SubscriptionView {
            let response = try await self.get("/v1/subscriptions", token: token)
            #expect(response.status == 200, "\(response.text)")
            return try response.json(SubscriptionView.self)
        }

        func start(_ plan: String = "pro", phone: String = "0712345678", key: String? = nil) async throws -> SubscriptionPaymentDTO {
            let response = try await self.post("/v1/subscriptions", #"{"plan":"\#(plan)","phone":"\#(phone)"}"#, key: key)
            #expect(response.status == 201, "\(response.text)")
            return try response.json(SubscriptionPaymentDTO.self)
        }

        func payment(_ id: SubscriptionPaymentID) async throws -> SubscriptionPaymentDTO? {
            try await self.view().payments.first { $0.id == id }
        }

        /// Waits until the payment left `pending`.
        func settled(_ id: SubscriptionPaymentID, timeout: Duration = .seconds(90)) async throws -> SubscriptionPaymentDTO {
            var last: SubscriptionPaymentDTO? = nil
            let done = try await TestWait.until(timeout: timeout, every: .milliseconds(50)) {
                last = try await self.payment(id)
                return last?.status != .pending
            }
            #expect(done, "payment \(id) still pending")
            return try #require(last)
        }

        func gatewayPlan() async throws -> String {
            let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
            let tenant = try await TestHTTP.get("\(self.gateway)/v1/tenants/\(self.tenant)", token: superAdmin)
            struct Plan: Decodable { var plan: String }
            return try tenant.json(Plan.self).plan
        }

        func count(_ sql: String) async throws -> Int {
            try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }
    }

    /// Gateway and marketplace-wallet against a fake Daraja (or, with `fake` nil, the sandbox).
    static func with(
        fake: FakeDaraja? = FakeDaraja(), settings: [String: String] = [:], currency: String = "KES", _ body: (Billing) async throws -> Void
    ) async throws {
        let fast = ["WALLET_MPESA_SWEEP_INTERVAL_MS": "50", "WALLET_MPESA_QUERY_AFTER_MS": "60000", "WALLET_MPESA_QUERY_EVERY_MS": "100"]
        func run(_ extra: [String: String]) async throws {
            try await TestServices.with([.gateway, .marketplaceWallet], settings: [.marketplaceWallet: fast.merging(extra) { $1 }.merging(settings) { $1 }]) {
                platform in
                let tenant = try await platform.createTenant(currency: currency)
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                try await body(
                    Billing(
                        gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.marketplaceWallet).postgres,
                        platform: platform, fake: fake))
            }
        }
        if let fake {
            try await TestUpstream.with(fake.router) { url in try await run(fake.settings(url: url, callbackSecret: Self.secret)) }
        } else {
            try await run([:])
        }
    }

    @Test func aConfirmedPaymentActivatesTheSubscriptionWithItsReceiptAndThePlanReachesTheGateway() async throws {
        try await Self.with { billing in
            let fake = try #require(billing.fake)
            #expect(try await billing.gatewayPlan() == "lite")
            fake.next(.init(0, receipt: "RLA0R69NXM"))
            let payment = try await billing.start("pro", phone: "+254 712 345 678", key: "pay-1")
            #expect(payment.status == .pending && payment.plan == .pro && payment.amount == Self.money("3000", .KES))
            #expect(payment.phone == "+254712345678" && !payment.sandbox && payment.checkoutRequestId?.hasPrefix("ws_CO_") == true)
            // the same key again: the same payment, no second prompt
            let again = try await billing.post("/v1/subscriptions", #"{"plan":"pro","phone":"+254 712 345 678"}"#, key: "pay-1")
            #expect(again.status == 201 && again.headers.first(name: "Idempotent-Replayed") == "true", "\(again.status) \(again.text)")
            #expect(try again.json(SubscriptionPaymentDTO.self).id == payment.id)
            // Daraja got its real body: paybill, whole shillings, the number without +, the secret callback URL
            let checkout = try #require(fake.checkouts.first)
            #expect(fake.pushes == 1 && fake.refusals.isEmpty, "\(fake.refusals)")
            #expect(checkout.amount == 3000 && checkout.phone == "254712345678" && checkout.accountReference.count <= 12)
            #expect(checkout.callbackURL == "\(billing.gateway)/webhooks/mpesa/\(Self.secret)")

            // the callback arrives through the gateway; a query confirms it; then the subscription is active
            let settled = try await billing.settled(payment.id)
            #expect(settled.status == .succeeded && settled.resultCode == 0 && settled.receiptNumber == "RLA0R69NXM", "\(settled)")
            #expect(settled.callbackReceivedAt != nil && settled.confirmedAt != nil)
            #expect(fake.queries >= 1)
            let subscription = try #require(try await billing.view().subscription)
            #expect(subscription.status == .active && subscription.plan == .pro && subscription.receiptNumber == "RLA0R69NXM")
            let start = try #require(subscription.periodStart)
            #expect(abs(try #require(subscription.periodEnd).timeIntervalSince(start) - 30 * 86_400) < 1)
            // the gateway's tenant plan follows (a job, with the service's token)
            #expect(try await TestWait.until(timeout: .seconds(20)) { try await billing.gatewayPlan() == "pro" })
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.audit_log WHERE action = 'subscription.activated'") == 1)
            #expect(await fake.deliveries() == [200])

            // renewing the same plan extends the period from its end
            fake.next(.init(0))
            let renewal = try await billing.start("pro")
            #expect(try await billing.settled(renewal.id).status == .succeeded)
            let renewed = try #require(try await billing.view().subscription)
            #expect(abs(try #require(renewed.periodEnd).timeIntervalSince(start) - 60 * 86_400) < 1)
            #expect(renewed.receiptNumber != "RLA0R69NXM")
        }
    }

    @Test func everyUnsuccessfulOutcomeLeavesTheSubscriptionUnpaid() async throws {
        try await Self.with { billing in
            let fake = try #require(billing.fake)
            for (code, status) in [(1032, PaymentStatus.cancelled), (1037, .timeout), (2001, .failed), (1, .failed)] {
                fake.next(.init(code))
                let payment = try await billing.start("enterprise")
                let settled = try await billing.settled(payment.id)
                #expect(settled.status == status && settled.resultCode == code && settled.receiptNumber == nil, "\(code): \(settled)")
                #expect(settled.resultDescription == FakeDaraja.description(code))
            }
            let view = try await billing.view()
            #expect(view.payments.count == 4 && view.subscription?.status == .pendingPayment && view.subscription?.activatedAt == nil)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.jobs WHERE kind = 'wallet.subscription.plan'") == 0)
            #expect(try await billing.gatewayPlan() == "lite")
            // after all of them, a paid one still activates
            fake.next(.init(0))
            let paid = try await billing.start("lite")
            #expect(try await billing.settled(paid.id).status == .succeeded)
            #expect(try await billing.view().subscription?.status == .active)
        }
    }

    @Test func aMissingCallbackIsSettledByTheQueryJob() async throws {
        let settings = ["WALLET_MPESA_QUERY_AFTER_MS": "300", "WALLET_MPESA_EXPIRY_MS": "8000"]
        try await Self.with(settings: settings) { billing in
            let fake = try #require(billing.fake)
            // paid, but Daraja never calls back: the sweeper's query settles it (no receipt: only a callback has one)
            fake.next(.init(0, callsBack: false, receipt: "RKT1234567"))
            let payment = try await billing.start("pro")
            let settled = try await billing.settled(payment.id)
            #expect(settled.status == .succeeded && settled.callbackReceivedAt == nil && settled.receiptNumber == nil)
            #expect(try await billing.view().subscription?.status == .active)
            // the late callback brings the receipt, and changes nothing else
            let checkout = try #require(settled.checkoutRequestId)
            #expect(try await fake.deliverCallback(checkout) == 200)
            let late = try #require(try await billing.payment(payment.id))
            #expect(late.receiptNumber == "RKT1234567" && late.confirmedAt == settled.confirmedAt && late.status == .succeeded)
            #expect(try await billing.view().subscription?.receiptNumber == "RKT1234567")

            // still processing every time it is asked: timed out after the expiry, never called failed
            fake.next(.init(0, callsBack: false, queryProcessing: true))
            let stuck = try await billing.start("enterprise")
            let asked = try await billing.post("/v1/subscriptions/payments/\(stuck.id)/query", "")
            #expect(try asked.status == 200 && asked.json(SubscriptionPaymentDTO.self).status == .pending, "\(asked.text)")
            let expired = try await billing.settled(stuck.id)
            #expect(expired.status == .timeout && expired.resultCode == nil, "\(expired)")
            #expect(try await billing.view().subscription?.plan == .pro)
        }
    }

    @Test func aPushWhoseStartFailedAfterDarajaAcceptedItIsAdoptedAndSettled() async throws {
        try await Self.with(settings: ["WALLET_MPESA_ADOPT_AFTER_MS": "1000"]) { billing in
            let fake = try #require(billing.fake)
            // the payment row cannot be written once Daraja has accepted the push (as when the commit fails or the
            // connection drops): the customer has the prompt on the phone all the same, and pays
            try await billing.postgres.query(
                """
                CREATE FUNCTION wallet.lose_payment() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'connection lost' USING ERRCODE = '08006'; END $$
                """, logger: TestLog.quiet)
            try await billing.postgres.query(
                "CREATE TRIGGER lose_payment BEFORE INSERT ON wallet.subscription_payments FOR EACH ROW EXECUTE FUNCTION wallet.lose_payment()",
                logger: TestLog.quiet)
            fake.next(.init(0, callsBack: false, receipt: "RKT7777777"))
            let failed = try await billing.post("/v1/subscriptions", #"{"plan":"pro","phone":"0712345678"}"#)
            #expect(failed.status != 201, "\(failed.text)")
            #expect(fake.checkouts.count == 1)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.subscription_payments") == 0)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.mpesa_pushes") == 1)
            try await billing.postgres.query("DROP TRIGGER lose_payment ON wallet.subscription_payments", logger: TestLog.quiet)

            // the sweeper adopts the push as a pending payment, the STK query confirms it, the plan is paid for
            let adopted = try await TestWait.until(timeout: .seconds(30), every: .milliseconds(50)) {
                try await billing.view().subscription?.status == .active
            }
            #expect(adopted)
            let payments = try await billing.view().payments
            #expect(payments.count == 1 && payments.first?.status == .succeeded && payments.first?.checkoutRequestId == fake.checkouts.first?.checkoutRequestID)
            #expect(
                try await billing.count("SELECT count(*)::int FROM wallet.audit_log WHERE action = 'subscription_payment.adopted'") == 1)
            // adopted once: later passes find its payment
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.subscription_payments") == 1)
        }
    }

    @Test func aCallbackThatComesBeforeItsPaymentRowIsRecordedOnceTheRowIsThere() async throws {
        try await Self.with { billing in
            let fake = try #require(billing.fake)
            // the start's transaction is slow to write its payment row: Daraja's callback (150 ms after the push) comes first,
            // even on two cores busy with the rest of the suite (at 1.5 s it once came after)
            try await billing.postgres.query(
                """
                CREATE FUNCTION wallet.slow_payment() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(5); RETURN NEW; END $$
                """, logger: TestLog.quiet)
            try await billing.postgres.query(
                "CREATE TRIGGER slow_payment BEFORE INSERT ON wallet.subscription_payments FOR EACH ROW EXECUTE FUNCTION wallet.slow_payment()",
                logger: TestLog.quiet)
            fake.next(.init(0, receipt: "RKE1234567"))
            let payment = try await billing.start("pro")
            let settled = try await billing.settled(payment.id)
            #expect(settled.status == .succeeded && settled.receiptNumber == "RKE1234567" && settled.callbackReceivedAt != nil, "\(settled)")
            #expect(try await billing.view().subscription?.status == .active)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.jobs WHERE kind = 'wallet.mpesa.early-callback'") >= 1)
        }
    }

    @Test func aForgedCallbackChangesNothing() async throws {
        try await Self.with { billing in
            let fake = try #require(billing.fake)
            fake.next(.init(1032, callsBack: false))
            let payment = try await billing.start("pro")
            let checkout = try #require(fake.checkouts.first)
            let forged = fake.callbackBody(checkout, resultCode: 0)
            // a wrong secret path is no route at all, for Daraja's callback or anyone's
            for path in ["/webhooks/mpesa/wrong-secret", "/webhooks/mpesa/\(Self.secret.dropLast())", "/webhooks/mpesa/\(Self.secret)x"] {
                let response = try await TestHTTP.request(.POST, "\(billing.gateway)\(path)", body: Data(forged.utf8))
                #expect(response.status == 404, "\(path): \(response.status) \(response.text)")
            }
            #expect(try await billing.payment(payment.id)?.callbackReceivedAt == nil)
            // an unknown checkout on the right path: acknowledged, nothing changes
            let unknown = forged.replacingOccurrences(of: checkout.checkoutRequestID, with: "ws_CO_000000000000000")
            let acknowledged = try await TestHTTP.request(.POST, checkout.callbackURL, body: Data(unknown.utf8))
            #expect(acknowledged.status == 200 && acknowledged.text.contains(#""ResultCode":0"#), "\(acknowledged.text)")
            // not a callback at all
            #expect(try await TestHTTP.request(.POST, checkout.callbackURL, body: Data(#"{"Body":{}}"#.utf8)).status == 400)
            // a callback claiming success that the query contradicts (the user cancelled): not activated, no receipt
            #expect(try await fake.deliverCallback(checkout.checkoutRequestID, resultCode: 0) == 200)
            let settled = try await billing.settled(payment.id)
            #expect(settled.status == .cancelled && settled.resultCode == 1032 && settled.receiptNumber == nil, "\(settled)")
            let view = try await billing.view()
            #expect(view.subscription?.status == .pendingPayment && view.subscription?.receiptNumber == nil)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.subscription_payments WHERE receipt_number IS NOT NULL") == 0)
            #expect(try await billing.gatewayPlan() == "lite")
        }
    }

    @Test func aRepeatedCallbackChangesNothingTwice() async throws {
        try await Self.with { billing in
            let fake = try #require(billing.fake)
            fake.next(.init(0, receipt: "RLB1111111"))
            let payment = try await billing.start("pro")
            let settled = try await billing.settled(payment.id)
            #expect(settled.status == .succeeded)
            let queries = fake.queries
            let subscription = try await billing.view().subscription
            let checkout = try #require(settled.checkoutRequestId)
            for _ in 0..<3 {
                #expect(try await fake.deliverCallback(checkout) == 200)
            }
            // even a repeat that now claims otherwise
            #expect(try await fake.deliverCallback(checkout, resultCode: 1032) == 200)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await billing.payment(payment.id) == settled)
            #expect(try await billing.view().subscription == subscription)
            #expect(fake.queries == queries)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.audit_log WHERE action = 'subscription_payment.callback'") == 1)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.audit_log WHERE action = 'subscription.activated'") == 1)
            #expect(try await billing.count("SELECT count(*)::int FROM wallet.jobs WHERE kind = 'wallet.mpesa.confirm'") == 1)
        }
    }

    @Test func oneTokenServesEveryCallUntilDarajaRefusesIt() async throws {
        try await Self.with { billing in
            let fake = try #require(billing.fake)
            for _ in 0..<4 {
                fake.next(.init(1032))
                let payment = try await billing.start("lite")
                #expect(try await billing.settled(payment.id).status == .cancelled)
            }
            // four pushes, four queries, one OAuth call
            #expect(fake.pushes == 4 && fake.queries >= 4)
            #expect(fake.oauthCalls == 1)
            // a token Daraja no longer accepts is replaced once, and the call goes through
            fake.revokeTokens()
            fake.next(.init(0))
            let payment = try await billing.start("lite")
            #expect(try await billing.settled(payment.id).status == .succeeded)
            #expect(fake.oauthCalls == 2 && fake.refusals == ["invalid token"])
        }
        // wrong consumer credentials: Daraja's refusal is a 502 with its code, and nothing is written
        let wrong = FakeDaraja(consumerSecret: "other")
        try await TestUpstream.with(wrong.router) { url in
            var settings = wrong.settings(url: url, callbackSecret: Self.secret)
            settings["WALLET_DARAJA_CONSUMER_SECRET"] = "not-the-secret"
            try await Self.with(fake: nil, settings: settings) { billing in
                let refused = try await billing.post("/v1/subscriptions", #"{"plan":"pro","phone":"0712345678"}"#)
                #expect(refused.status == 502 && refused.errorCode == "mpesa_refused" && refused.text.contains("400.008.01"), "\(refused.text)")
                #expect(try await billing.count("SELECT count(*)::int FROM wallet.subscription_payments") == 0)
                #expect(try await billing.count("SELECT count(*)::int FROM wallet.subscriptions") == 0)
            }
        }
    }

    @Test func thePasswordIsTheShortcodePasskeyAndNairobiTime() {
        // 2024-03-01 21:30:05 UTC is 2024-03-02 00:30:05 in Nairobi
        let moment = Date(timeIntervalSince1970: 1_709_328_605)
        #expect(Mpesa.timestamp(moment) == "20240302003005")
        #expect(Mpesa.password(shortcode: "174379", passkey: "pk", timestamp: "20240302003005") == Data("174379pk20240302003005".utf8).base64EncodedString())
        #expect(PaymentStatus.of(resultCode: 0) == .succeeded && PaymentStatus.of(resultCode: 1032) == .cancelled)
        #expect(PaymentStatus.of(resultCode: 1037) == .timeout && PaymentStatus.of(resultCode: 2001) == .failed && PaymentStatus.of(resultCode: 1) == .failed)
        #expect(SubscriptionRules.sameSecret("abc", "abc") && !SubscriptionRules.sameSecret("abd", "abc") && !SubscriptionRules.sameSecret("ab", "abc"))
    }

    @Test func onlyTheTenantsAdminsPayReadersReadAndAnotherTenantSeesNothing() async throws {
        try await Self.with { billing in
            let fake = try #require(billing.fake)
            fake.next(.init(0, callsBack: false))
            let payment = try await billing.start("pro")
            let body = #"{"plan":"pro","phone":"0712345678"}"#
            let agent = try await TestKeys.token(tenant: billing.tenant, roles: [.agent])
            let readonly = try await TestKeys.token(tenant: nil, roles: [.readonly])
            let support = try await TestKeys.token(tenant: nil, roles: [.support])
            let station = try await TestKeys.token(tenant: billing.tenant, roles: [.stationOperator])
            let asTenant = ["X-Tenant-ID": billing.tenant.description]
            // one prompt at a time
            let second = try await billing.post("/v1/subscriptions", #"{"plan":"lite","phone":"0712345678"}"#)
            #expect(second.status == 409 && second.errorCode == "payment_in_progress", "\(second.text)")
            for token in [agent, readonly, support, station] {
                let start = try await billing.post("/v1/subscriptions", body, token: token, headers: asTenant)
                #expect(start.status == 403, "\(start.status) \(start.text)")
                let query = try await billing.post("/v1/subscriptions/payments/\(payment.id)/query", "", token: token, headers: asTenant)
                #expect(query.status == 403)
            }
            // platform readers read the tenant's subscription; its agents and station staff do not
            for token in [readonly, support] {
                let view = try await billing.get("/v1/subscriptions", token: token, headers: asTenant)
                #expect(try view.status == 200 && view.json(SubscriptionView.self).payments.map(\.id) == [payment.id])
            }
            #expect(try await billing.get("/v1/subscriptions", token: agent).status == 403)
            #expect(try await billing.get("/v1/subscriptions", token: station).status == 403)
            #expect(try await TestHTTP.get("\(billing.gateway)/v1/subscriptions").status == 401)
            // a super admin pays for a tenant it names (the pending one first ends)
            let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
            let queried = try await billing.post("/v1/subscriptions/payments/\(payment.id)/query", "", token: superAdmin, headers: asTenant)
            #expect(try queried.status == 200 && queried.json(SubscriptionPaymentDTO.self).status == .succeeded, "\(queried.text)")

            // another tenant: nothing of the first, and the first's payment is no payment of its own
            let other = try await billing.platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            let view = try await billing.view(token: otherAdmin)
            #expect(view.subscription == nil && view.payments.isEmpty)
            let foreign = try await billing.post("/v1/subscriptions/payments/\(payment.id)/query", "", token: otherAdmin)
            #expect(foreign.status == 404 && foreign.errorCode == "payment_not_found")
            // the simulator is the sandbox's only
            let simulate = try await billing.post("/v1/subscriptions/payments/\(payment.id)/simulate", #"{"resultCode":0}"#)
            #expect(simulate.status == 404 && simulate.errorCode == "not_sandbox")
            // bad input
            for (json, code) in [
                (#"{"plan":"gold","phone":"0712345678"}"#, "invalid_plan"), (#"{"plan":"pro"}"#, "invalid_phone"),
                (#"{"plan":"pro","phone":"+250788123456"}"#, "phone_not_mpesa"),
            ] {
                let response = try await billing.post("/v1/subscriptions", json)
                #expect(response.status == 422 && response.errorCode == code, "\(json): \(response.text)")
            }
        }
    }

    @Test func theGatewaySetsAPlanOnlyForTheServicesOwnTenant() async throws {
        try await Self.with(fake: nil) { billing in
            let other = try await billing.platform.createTenant()
            let service = try await billing.platform.environment(.marketplaceWallet).serviceTokens.token(tenant: billing.tenant)
            let url = "\(billing.gateway)/v1/gateway/tenants/\(billing.tenant)/plan"
            let set = try await TestHTTP.request(.PUT, url, token: service, body: Data(#"{"plan":"enterprise"}"#.utf8))
            #expect(set.status == 200, "\(set.text)")
            #expect(try await billing.gatewayPlan() == "enterprise")
            let foreign = try await TestHTTP.request(
                .PUT, "\(billing.gateway)/v1/gateway/tenants/\(other)/plan", token: service, body: Data(#"{"plan":"pro"}"#.utf8))
            #expect(foreign.status == 403 && foreign.errorCode == "other_tenant")
            let wrong = try await TestHTTP.request(.PUT, url, token: service, body: Data(#"{"plan":"gold"}"#.utf8))
            #expect(wrong.status == 422 && wrong.errorCode == "invalid_plan")
            // a tenant's own admin cannot set its plan: it is paid for
            let own = try await TestHTTP.request(.PUT, url, token: billing.admin, body: Data(#"{"plan":"enterprise"}"#.utf8))
            #expect(own.status == 403)
        }
    }

    @Test func theSandboxSettlesThroughTheAPIAndMaltaPaysByRevolut() async throws {
        try await Self.with(fake: nil) { billing in
            let options = try await billing.get("/v1/subscriptions/payment-options").json(PaymentOptionsDTO.self)
            #expect(options.options.map(\.provider) == [.mpesa] && options.options.first?.sandbox == true)
            #expect(options.options.first?.prices["pro"] == Self.money("3000", .KES))
            let payment = try await billing.start("enterprise")
            #expect(payment.sandbox && payment.checkoutRequestId?.hasPrefix("ws_CO_SANDBOX_") == true)
            #expect(try await billing.view().sandbox)
            let bad = try await billing.post("/v1/subscriptions/payments/\(payment.id)/simulate", #"{"resultCode":"yes"}"#)
            #expect(bad.status == 400 || bad.status == 422)
            let simulated = try await billing.post("/v1/subscriptions/payments/\(payment.id)/simulate", #"{"resultCode":0}"#)
            #expect(simulated.status == 202, "\(simulated.text)")
            let settled = try await billing.settled(payment.id)
            #expect(settled.status == .succeeded && settled.receiptNumber?.hasPrefix("SBX") == true)
            #expect(try await billing.view().subscription?.status == .active)
            #expect(try await TestWait.until(timeout: .seconds(20)) { try await billing.gatewayPlan() == "enterprise" })
            // a period that ends unpaid: the subscription is past due and the gateway's plan falls back to lite
            try await billing.postgres.query("UPDATE wallet.subscriptions SET period_end = now()", logger: TestLog.quiet)
            #expect(try await TestWait.until(timeout: .seconds(20)) { try await billing.view().subscription?.status == .pastDue })
            #expect(try await TestWait.until(timeout: .seconds(20)) { try await billing.gatewayPlan() == "lite" })
            try await billing.postgres.query(
                "UPDATE wallet.subscriptions SET status = 'active', period_end = now() + interval '30 days'", logger: TestLog.quiet)
            let again = try await billing.post("/v1/subscriptions/payments/\(payment.id)/simulate", #"{"resultCode":1032}"#)
            #expect(again.status == 409 && again.errorCode == "payment_settled")
            // without the callback, the query sweeper finds the result
            let quiet = try await billing.start("pro")
            #expect(try await billing.post("/v1/subscriptions/payments/\(quiet.id)/simulate", #"{"resultCode":2001,"callback":false}"#).status == 202)
            let asked = try await billing.post("/v1/subscriptions/payments/\(quiet.id)/query", "")
            #expect(try asked.json(SubscriptionPaymentDTO.self).status == .failed, "\(asked.text)")
        }
        let link = "https://checkout.revolut.com/pay/0b7c5f2e-sokoni"
        try await Self.with(fake: nil, settings: ["WALLET_REVOLUT_PAYMENT_LINK": link], currency: "EUR") { billing in
            let options = try await billing.get("/v1/subscriptions/payment-options").json(PaymentOptionsDTO.self)
            #expect(options.options.count == 1 && options.options[0].provider == .revolut && options.options[0].url == link)
            #expect(options.options[0].prices["lite"] == Self.money("10.00", .EUR))
        }
    }
}
