import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import MarketplaceWallet

/// The marketplace through the gateway over real HTTP, on a real PostgreSQL: vendors ranked with their reasons,
/// purchases at the quote's price with the commission in force, settled through a ledger hold (completed, cancelled,
/// compensated when the ledger refuses, failed when the hold times out), races, bad input, roles and tenants.
@Suite struct MarketplaceTests {
    typealias Books = LedgerTests.Books

    /// A funded market: a funding account, a buyer with `balance` KES, and vendors.
    struct Market {
        let books: Books
        let funding: AccountDTO

        func created<Value: Decodable>(_ path: String, _ json: String, as type: Value.Type, token: String? = nil) async throws -> Value {
            let response = try await self.books.post(path, json, token: token)
            #expect(response.status == 201, "\(path): \(response.status) \(response.text)")
            return try response.json(Value.self)
        }

        func buyer(_ name: String = "Amina", balance: String?) async throws -> BuyerDTO {
            let buyer = try await self.created("/v1/buyers", #"{"name":"\#(name)","currency":"KES"}"#, as: BuyerDTO.self)
            if let balance {
                let account = try await self.books.get("/v1/wallet/accounts/\(buyer.accountId)").json(AccountDTO.self)
                let topup = try await self.books.transfer("topup", [(self.funding, account, balance)])
                #expect(topup.status == 201, "\(topup.text)")
            }
            return buyer
        }

        func vendor(_ name: String, region: String = "Kigali", categories: [String] = ["fuel"], rating: Double = 4.5, fulfilment: Double = 0.9)
            async throws -> VendorDTO
        {
            let categories = categories.map { "\"\($0)\"" }.joined(separator: ",")
            return try await self.created(
                "/v1/vendors",
                #"{"name":"\#(name)","currency":"KES","region":"\#(region)","categories":[\#(categories)],"rating":\#(rating),"fulfilmentRate":\#(fulfilment),"avgResponseMs":120000}"#,
                as: VendorDTO.self)
        }

        func intent(_ buyer: BuyerDTO, category: String = "fuel", product: ProductDTO? = nil) async throws -> IntentDTO {
            let product = product.map { #","productId":"\#($0.id)""# } ?? ""
            return try await self.created(
                "/v1/intents", #"{"buyerId":"\#(buyer.id)","channel":"whatsapp","category":"\#(category)","region":"Kigali"\#(product)}"#,
                as: IntentDTO.self)
        }

        func quote(_ intent: IntentDTO, _ vendor: VendorDTO, _ price: String, eta: Int = 30, product: ProductDTO? = nil) async throws -> QuoteDTO {
            let product = product.map { #","productId":"\#($0.id)""# } ?? ""
            return try await self.created(
                "/v1/quotes", #"{"intentId":"\#(intent.id)","vendorId":"\#(vendor.id)","price":"\#(price)","currency":"KES","etaMinutes":\#(eta)\#(product)}"#,
                as: QuoteDTO.self)
        }

        func balance(_ account: WalletAccountID) async throws -> AccountDTO {
            try await self.books.get("/v1/wallet/accounts/\(account)").json(AccountDTO.self)
        }

        func commissionBalance() async throws -> Money? {
            try await self.books.get("/v1/wallet/accounts?ownerType=commission").json(Page<AccountDTO>.self).items.first?.balance
        }
    }

    static func with(settings: [String: String] = [:], also: [ServiceName] = [], _ body: (Market) async throws -> Void) async throws {
        try await LedgerTests.with(settings: settings, also: also) { books in
            let funding = try await books.open("platform", "funding", negative: true)
            try await body(Market(books: books, funding: funding))
        }
    }

    static func kes(_ amount: String) -> Money { LedgerTests.kes(amount) }

    @Test func aQuoteAcceptedIsAPurchaseAtItsPriceWithTheCommissionInForceSettledOnce() async throws {
        try await Self.with { market in
            let books = market.books
            let buyer = try await market.buyer(balance: "1000.00")
            let near = try await market.vendor("Near Fuel", rating: 4.8, fulfilment: 0.97)
            let far = try await market.vendor("Far Fuel", region: "Huye", rating: 3.0, fulfilment: 0.6)
            let bakery = try await market.vendor("Bakery", categories: ["bread"])
            let diesel = try await market.created(
                "/v1/products", #"{"vendorId":"\#(near.id)","name":"Diesel 20 L","price":"300.00","category":"fuel","metadata":{"fuel":"diesel"}}"#,
                as: ProductDTO.self)
            // the tenant's default 2%, the product's own 5% + 10.00 from now, and a later one that is not in force yet
            _ = try await market.created("/v1/commission-schedules", #"{"rateBps":200}"#, as: CommissionScheduleDTO.self)
            let own = try await market.created(
                "/v1/commission-schedules", #"{"productId":"\#(diesel.id)","rateBps":500,"flatFee":"10.00","currency":"KES"}"#,
                as: CommissionScheduleDTO.self)
            let future = Date().addingTimeInterval(86_400).ISO8601Format()
            _ = try await market.created(
                "/v1/commission-schedules", #"{"productId":"\#(diesel.id)","rateBps":5000,"effectiveFrom":"\#(future)"}"#, as: CommissionScheduleDTO.self)

            let intent = try await market.intent(buyer, product: diesel)
            let cheap = try await market.quote(intent, near, "250.00", eta: 20, product: diesel)
            let dear = try await market.quote(intent, far, "400.00", eta: 90)
            // ranked with reasons: category, region, rating, fulfilment, price and ETA; the bakery sells no fuel
            let ranked = try await books.get("/v1/intents/\(intent.id)").json(IntentDTO.self)
            let ranking = try #require(ranked.ranking)
            #expect(ranking.map(\.vendorId) == [near.id, far.id])
            #expect(!ranking.contains { $0.vendorId == bakery.id })
            #expect(ranking[0].reasons.contains("cheapest quote (250.00 KES)") && ranking[0].reasons.contains("in Kigali"))
            #expect(ranking[0].components["price"] == 0.2 && ranking[1].components["price"] == 0.125 && ranking[1].components["region"] == 0)
            #expect(abs(ranking[0].score - ranking[0].components.values.reduce(0, +)) < 0.0005)
            #expect(ranked.quotes?.count == 2)

            // accepting: the quote's price, the product's schedule (5% of 250.00 + 10.00 = 22.50); no price is taken from the caller
            let accepted = try await books.post("/v1/quotes/\(cheap.id)/accept", #"{"price":"1.00"}"#)
            #expect(accepted.status == 201, "\(accepted.text)")
            let purchase = try accepted.json(PurchaseDTO.self)
            #expect(purchase.amount == Self.kes("250.00") && purchase.commission == Self.kes("22.50") && purchase.vendorNet == Self.kes("227.50"))
            #expect(purchase.commissionScheduleId == own.id && purchase.status == .pending)
            // the funds are held, not moved; the other quote is rejected and the intent matched
            let held = try await market.balance(buyer.accountId)
            #expect(held.balance == Self.kes("1000.00") && held.available == Self.kes("750.00"))
            #expect(try await books.get("/v1/quotes/\(dear.id)").json(QuoteDTO.self).status == .rejected)
            #expect(try await books.get("/v1/intents/\(intent.id)").json(IntentDTO.self).status == .matched)
            // accepting again answers the same purchase; the other quote cannot be accepted any more
            let again = try await books.post("/v1/quotes/\(cheap.id)/accept", "")
            #expect(again.status == 200 && again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try again.json(PurchaseDTO.self).id == purchase.id)
            let other = try await books.post("/v1/quotes/\(dear.id)/accept", "")
            #expect(other.status == 409 && other.errorCode == "intent_already_purchased")

            // completing posts it once: buyer −250.00, vendor +227.50, commission +22.50
            let completed = try await books.post("/v1/purchases/\(purchase.id)/complete", "")
            #expect(completed.status == 200, "\(completed.text)")
            let done = try completed.json(PurchaseDTO.self)
            #expect(done.status == .completed && done.transactionId != nil)
            #expect(try await books.post("/v1/purchases/\(purchase.id)/complete", "").json(PurchaseDTO.self).transactionId == done.transactionId)
            let paid = try await market.balance(buyer.accountId)
            #expect(paid.balance == Self.kes("750.00") && paid.held == Self.kes("0.00"))
            #expect(try await market.balance(near.accountId).balance == Self.kes("227.50"))
            #expect(try await market.commissionBalance() == Self.kes("22.50"))
            let transfer = try await books.get("/v1/wallet/transfers/\(try #require(done.transactionId))").json(TransferDTO.self)
            #expect(transfer.type == .purchase && transfer.entries.count == 4)
            #expect(try await books.get("/v1/vendors/\(near.id)").json(VendorDTO.self).totalTrips == 1)
            #expect(try await books.invariants().holds)

            // without a product schedule the tenant's default applies (2% of 400.00 = 8.00)
            let second = try await market.intent(buyer)
            let plain = try await market.quote(second, far, "400.00")
            let bought = try await books.post("/v1/quotes/\(plain.id)/accept", "").json(PurchaseDTO.self)
            #expect(bought.commission == Self.kes("8.00"))
            let cancelled = try await books.post("/v1/purchases/\(bought.id)/cancel", #"{"reason":"changed my mind"}"#)
            #expect(cancelled.status == 200)
            #expect(try cancelled.json(PurchaseDTO.self).status == .cancelled)
            #expect(try await market.balance(buyer.accountId).available == Self.kes("750.00"))
            #expect(try await books.post("/v1/purchases/\(bought.id)/complete", "").errorCode == "purchase_not_pending")
            // the audit log has each step
            let audit = try await books.get("/v1/marketplace-wallet/audit?limit=200").text
            for action in [
                "vendor.create", "buyer.create", "product.create", "commission_schedule.create", "quote.create", "purchase.create",
                "purchase.completed", "purchase.cancelled",
            ] {
                #expect(audit.contains("\"\(action)\""), "\(action)")
            }
        }
    }

    @Test func aCommissionLargerThanThePurchaseIsRefusedNotRedirected() async throws {
        try await Self.with { market in
            let books = market.books
            let buyer = try await market.buyer(balance: "100.00")
            let vendor = try await market.vendor("Tiny")
            _ = try await market.created(
                "/v1/commission-schedules", #"{"rateBps":100,"flatFee":"20.00","currency":"KES"}"#, as: CommissionScheduleDTO.self)
            let intent = try await market.intent(buyer)
            let quote = try await market.quote(intent, vendor, "15.00")
            let refused = try await books.post("/v1/quotes/\(quote.id)/accept", "")
            #expect(refused.status == 422 && refused.errorCode == "commission_exceeds_amount", "\(refused.text)")
            // nothing changed: no purchase, no hold, the quote still open, the buyer's money all there
            #expect(try await books.count("SELECT count(*)::int FROM wallet.purchases") == 0)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.holds") == 0)
            #expect(try await books.get("/v1/quotes/\(quote.id)").json(QuoteDTO.self).status == .pending)
            #expect(try await market.balance(buyer.accountId).available == Self.kes("100.00"))
            #expect(TestCommission.at(rateBps: 250, fee: 0, on: 1_001) == 25)  // 25.025 rounds half up to 25
            #expect(TestCommission.at(rateBps: 250, fee: 0, on: 1_002) == 25 && TestCommission.at(rateBps: 250, fee: 0, on: 1_020) == 26)
            #expect(TestCommission.at(rateBps: 10_000, fee: 1, on: 50) == nil)
        }
    }

    @Test func aHundredConcurrentPurchasesFromAWalletThatAffordsTen() async throws {
        try await Self.with { market in
            let books = market.books
            let buyer = try await market.buyer(balance: "100.00")
            let vendor = try await market.vendor("Busy")
            var quotes: [QuoteDTO] = []
            for _ in 0..<100 {
                let intent = try await market.intent(buyer)
                quotes.append(try await market.quote(intent, vendor, "10.00"))
            }
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for quote in quotes {
                    group.addTask {
                        let response = try await books.post("/v1/quotes/\(quote.id)/accept", "")
                        return (response.status, response.errorCode)
                    }
                }
                return try await group.reduce(into: [String: Int]()) { $0["\($1.0) \($1.1 ?? "")", default: 0] += 1 }
            }
            #expect(statuses == ["201 ": 10, "409 insufficient_funds": 90], "\(statuses)")
            let account = try await market.balance(buyer.accountId)
            #expect(account.balance == Self.kes("100.00") && account.available == Self.kes("0.00"))
            // the ten complete; nothing more can be spent
            let pending = try await books.get("/v1/purchases?status=pending&limit=200").json(Page<PurchaseDTO>.self).items
            #expect(pending.count == 10)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for purchase in pending {
                    group.addTask {
                        let completed = try await books.post("/v1/purchases/\(purchase.id)/complete", "")
                        #expect(completed.status == 200, "\(completed.text)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await market.balance(buyer.accountId).balance == Self.kes("0.00"))
            #expect(try await market.balance(vendor.accountId).balance == Self.kes("100.00"))
            #expect(try await books.invariants().holds)
        }
    }

    @Test func acceptingQuotesOfOneIntentAtOnceMakesOnePurchase() async throws {
        try await Self.with { market in
            let books = market.books
            let buyer = try await market.buyer(balance: "1000.00")
            let intent = try await market.intent(buyer)
            var quotes: [QuoteDTO] = []
            for index in 0..<12 { quotes.append(try await market.quote(intent, try await market.vendor("V\(index)"), "\(10 + index).00")) }
            let results = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for quote in quotes + quotes {
                    group.addTask {
                        let response = try await books.post("/v1/quotes/\(quote.id)/accept", "")
                        return (response.status, response.errorCode)
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            // one quote won (its second request replays it); every other answer is a clear 409
            #expect(results.filter { $0.0 == 201 }.count == 1)
            #expect(results.filter { $0.0 == 200 }.count <= 1)
            #expect(
                results.allSatisfy { [200, 201].contains($0.0) || ($0.0 == 409 && ["intent_already_purchased", "quote_not_pending"].contains($0.1 ?? "")) })
            #expect(try await books.count("SELECT count(*)::int FROM wallet.purchases") == 1)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.quotes WHERE status = 'accepted'") == 1)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.holds WHERE status = 'pending'") == 1)
            let account = try await market.balance(buyer.accountId)
            #expect(account.held.minorUnits >= 1_000 && account.held.minorUnits <= 2_100)
        }
    }

    @Test func aCompletionTheLedgerRefusesVoidsTheHoldAndFailsThePurchase() async throws {
        try await Self.with(settings: ["WALLET_HOLD_SWEEP_INTERVAL_MS": "20"]) { market in
            let books = market.books
            let buyer = try await market.buyer(balance: "500.00")
            let vendor = try await market.vendor("Frozen")
            let intent = try await market.intent(buyer)
            let quote = try await market.quote(intent, vendor, "200.00")
            let purchase = try await books.post("/v1/quotes/\(quote.id)/accept", "").json(PurchaseDTO.self)
            // the vendor's wallet is frozen before the purchase completes
            let freeze = try await TestHTTP.request(
                .PATCH, "\(books.gateway)/v1/wallet/accounts/\(vendor.accountId)", token: books.admin, body: Data(#"{"status":"frozen"}"#.utf8))
            #expect(freeze.status == 200)
            let refused = try await books.post("/v1/purchases/\(purchase.id)/complete", "")
            #expect(refused.status == 409 && refused.errorCode == "account_frozen", "\(refused.text)")
            let failed = try await books.get("/v1/purchases/\(purchase.id)").json(PurchaseDTO.self)
            #expect(failed.status == .failed && failed.failureReason?.contains("frozen") == true && failed.transactionId == nil)
            #expect(try await books.get("/v1/wallet/holds/\(purchase.holdId)").json(HoldDTO.self).status == .voided)
            let account = try await market.balance(buyer.accountId)
            #expect(account.balance == Self.kes("500.00") && account.available == Self.kes("500.00"))
            #expect(try await books.count("SELECT count(*)::int FROM wallet.transactions WHERE type = 'purchase'") == 0)

            // a purchase whose hold times out fails by itself, and its funds are free again
            let late = try await market.intent(buyer)
            let lateQuote = try await market.quote(late, try await market.vendor("Slow"), "100.00")
            let waiting = try await books.post("/v1/quotes/\(lateQuote.id)/accept", "").json(PurchaseDTO.self)
            #expect(try await market.balance(buyer.accountId).available == Self.kes("400.00"))
            try await books.postgres.query("UPDATE wallet.holds SET expires_at = now() WHERE id = \(waiting.holdId.rawValue)", logger: TestLog.quiet)
            #expect(try await TestWait.until { try await books.get("/v1/purchases/\(waiting.id)").json(PurchaseDTO.self).status == .failed })
            let expired = try await books.get("/v1/purchases/\(waiting.id)").json(PurchaseDTO.self)
            #expect(expired.failureReason?.contains("expired") == true)
            #expect(try await market.balance(buyer.accountId).available == Self.kes("500.00"))
            #expect(try await books.post("/v1/purchases/\(waiting.id)/complete", "").errorCode == "purchase_not_pending")
            #expect(try await books.invariants().holds)
        }
    }

    @Test func intentsExpireAndBadInputIsAClear4xxThatWritesNothing() async throws {
        try await Self.with(settings: ["WALLET_HOLD_SWEEP_INTERVAL_MS": "20"]) { market in
            let books = market.books
            let buyer = try await market.buyer(balance: "50.00")
            let vendor = try await market.vendor("Any")
            let intent = try await market.intent(buyer)
            let before = try await books.count("SELECT count(*)::int FROM wallet.quotes")
            let cases: [(String, String, Int, String)] = [
                (
                    "/v1/quotes", #"{"intentId":"\#(intent.id)","vendorId":"\#(vendor.id)","price":"10.00","currency":"USD","etaMinutes":5}"#, 422,
                    "currency_mismatch"
                ),
                ("/v1/quotes", #"{"intentId":"\#(intent.id)","vendorId":"\#(vendor.id)","price":"-1","currency":"KES","etaMinutes":5}"#, 422, "invalid_amount"),
                (
                    "/v1/quotes", #"{"intentId":"\#(intent.id)","vendorId":"\#(vendor.id)","price":"1.001","currency":"KES","etaMinutes":5}"#, 422,
                    "invalid_amount"
                ),
                ("/v1/quotes", #"{"intentId":"\#(intent.id)","vendorId":"\#(UUID())","price":"1","currency":"KES","etaMinutes":5}"#, 422, "unknown_vendor"),
                ("/v1/quotes", #"{"intentId":"\#(UUID())","vendorId":"\#(vendor.id)","price":"1","currency":"KES","etaMinutes":5}"#, 422, "unknown_intent"),
                (
                    "/v1/quotes", #"{"intentId":"\#(intent.id)","vendorId":"\#(vendor.id)","price":"1","currency":"KES","etaMinutes":-3}"#, 422,
                    "invalid_etaMinutes"
                ),
                ("/v1/intents", #"{"buyerId":"\#(UUID())","channel":"whatsapp"}"#, 422, "unknown_buyer"),
                ("/v1/intents", #"{"buyerId":"\#(buyer.id)","channel":"pigeon"}"#, 422, "invalid_channel"),
                ("/v1/intents", #"{"buyerId":"\#(buyer.id)","channel":"sms","expiresInSeconds":5}"#, 422, "invalid_expiresInSeconds"),
                ("/v1/vendors", #"{"name":"X","currency":"KES","rating":7}"#, 422, "invalid_rating"),
                ("/v1/vendors", #"{"name":"X","currency":"XXX"}"#, 422, "invalid_currency"),
                ("/v1/vendors", #"{"name":"\u0000","currency":"KES"}"#, 422, "invalid_text"),
                ("/v1/buyers", #"{"name":"B","currency":"KES","phone":"12"}"#, 422, "invalid_phone"),
                ("/v1/commission-schedules", #"{"rateBps":10001}"#, 422, "invalid_rateBps"),
                ("/v1/commission-schedules", #"{"rateBps":10,"productId":"\#(UUID())"}"#, 422, "unknown_product"),
                ("/v1/products", #"{"vendorId":"\#(vendor.id)","name":"P","price":"1","currency":"RWF"}"#, 422, "currency_mismatch"),
            ]
            for (path, body, status, code) in cases {
                let response = try await books.post(path, body)
                #expect(response.status == status, "\(path) \(body): \(response.status) \(response.text)")
                if !code.isEmpty { #expect(response.errorCode == code, "\(path) \(body): \(response.text)") }
            }
            #expect(try await books.count("SELECT count(*)::int FROM wallet.quotes") == before)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.vendors") == 1)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.commission_schedules") == 0)
            // a second buyer with the same phone is a 409, not a second wallet
            _ = try await market.created("/v1/buyers", #"{"name":"P","currency":"KES","phone":"+250788123456"}"#, as: BuyerDTO.self)
            let twin = try await books.post("/v1/buyers", #"{"name":"Q","currency":"KES","phone":"+250788123456"}"#)
            #expect(twin.status == 409 && twin.errorCode == "buyer_exists")
            #expect(try await books.get("/v1/buyers?phone=%2B250788123456").json(Page<BuyerDTO>.self).items.map(\.name) == ["P"])

            // an intent past its time expires with its open quotes, and takes no more
            let quote = try await market.quote(intent, vendor, "5.00")
            try await books.postgres.query("UPDATE wallet.intents SET expires_at = now() WHERE id = \(intent.id.rawValue)", logger: TestLog.quiet)
            #expect(try await TestWait.until { try await books.get("/v1/intents/\(intent.id)").json(IntentDTO.self).status == .expired })
            #expect(try await books.get("/v1/quotes/\(quote.id)").json(QuoteDTO.self).status == .expired)
            #expect(try await books.post("/v1/quotes/\(quote.id)/accept", "").errorCode == "quote_not_pending")
            let late = try await books.post(
                "/v1/quotes", #"{"intentId":"\#(intent.id)","vendorId":"\#(vendor.id)","price":"1","currency":"KES","etaMinutes":5}"#)
            #expect(late.status == 409 && late.errorCode == "intent_not_pending")
            // cancelling a pending intent expires its open quotes
            let another = try await market.intent(buyer)
            let open = try await market.quote(another, vendor, "5.00")
            #expect(try await books.post("/v1/intents/\(another.id)/cancel", "").json(IntentDTO.self).status == .cancelled)
            #expect(try await books.get("/v1/quotes/\(open.id)").json(QuoteDTO.self).status == .expired)
        }
    }

    @Test func productsAreFoundByWordsAndByMetadata() async throws {
        try await Self.with { market in
            let books = market.books
            let vendor = try await market.vendor("Station")
            let other = try await market.vendor("Shop", categories: ["food"])
            for (owner, name, category, metadata) in [
                (vendor, "Diesel 20 litres", "fuel", #"{"fuel":"diesel","litres":20}"#),
                (vendor, "Petrol 10 litres", "fuel", #"{"fuel":"petrol","litres":10}"#),
                (other, "Maize flour", "food", #"{"organic":true}"#),
            ] {
                _ = try await market.created(
                    "/v1/products", #"{"vendorId":"\#(owner.id)","name":"\#(name)","price":"5.00","category":"\#(category)","metadata":\#(metadata)}"#,
                    as: ProductDTO.self)
            }
            func names(_ query: String) async throws -> [String] {
                try await books.get("/v1/products?\(query)").json(Page<ProductDTO>.self).items.map(\.name)
            }
            #expect(try await names("q=litres") == ["Diesel 20 litres", "Petrol 10 litres"])
            #expect(try await names("q=diesel%20litres") == ["Diesel 20 litres"])
            #expect(try await names("metadata=%7B%22fuel%22%3A%22petrol%22%7D") == ["Petrol 10 litres"])
            #expect(try await names("metadata=%7B%22organic%22%3Atrue%7D&category=food") == ["Maize flour"])
            #expect(try await names("vendorId=\(other.id)") == ["Maize flour"])
            #expect(try await books.get("/v1/products?metadata=nope").status == 400)
            #expect(try await books.get("/v1/products?available=maybe").status == 400)
            let product = try await books.get("/v1/products?q=maize").json(Page<ProductDTO>.self).items[0]
            let patched = try await TestHTTP.request(
                .PATCH, "\(books.gateway)/v1/products/\(product.id)", token: books.admin, body: Data(#"{"available":false,"price":"7.50"}"#.utf8))
            #expect(patched.status == 200)
            #expect(try patched.json(ProductDTO.self).price == Self.kes("7.50"))
            #expect(try await names("available=false") == ["Maize flour"])
            #expect(try await books.count("SELECT count(*)::int FROM wallet.products") == 3)
        }
    }

    @Test func rolesAndTenants() async throws {
        try await Self.with { market in
            let books = market.books
            let buyer = try await market.buyer(balance: "100.00")
            let vendor = try await market.vendor("Mine")
            let intent = try await market.intent(buyer)
            let readers: Set<Role> = [.superAdmin, .support, .dataOps, .readonly, .tenantAdmin, .agent, .service]
            let sellers: Set<Role> = [.superAdmin, .tenantAdmin, .agent, .service]
            let bookkeepers: Set<Role> = [.superAdmin, .tenantAdmin, .service]
            for role in Role.allCases {
                let staff = role.isPlatformStaff
                let token = try await TestKeys.token(tenant: staff ? nil : books.tenant, roles: [role])
                let headers = staff || role == .service ? ["X-Tenant-ID": books.tenant.description] : [:]
                for path in ["/v1/vendors", "/v1/buyers", "/v1/products", "/v1/intents", "/v1/quotes", "/v1/purchases"] {
                    let read = try await TestHTTP.get("\(books.gateway)\(path)", token: token, headers: headers)
                    #expect(read.status == (readers.contains(role) ? 200 : 403), "\(role) GET \(path): \(read.status)")
                }
                let quote = try await TestHTTP.request(
                    .POST, "\(books.gateway)/v1/quotes", token: token, headers: headers,
                    body: Data(#"{"intentId":"\#(intent.id)","vendorId":"\#(vendor.id)","price":"1","currency":"KES","etaMinutes":1}"#.utf8))
                #expect(quote.status == (sellers.contains(role) ? 201 : 403), "\(role) quote: \(quote.status) \(quote.text)")
                let newVendor = try await TestHTTP.request(
                    .POST, "\(books.gateway)/v1/vendors", token: token, headers: headers, body: Data(#"{"name":"By \#(role)","currency":"KES"}"#.utf8))
                #expect(newVendor.status == (bookkeepers.contains(role) ? 201 : 403), "\(role) vendor: \(newVendor.status)")
            }
            // an agent may accept a quote but not complete the purchase (money moves for bookkeepers only)
            let agent = try await TestKeys.token(tenant: books.tenant, roles: [.agent])
            let open = try await books.get("/v1/quotes?intentId=\(intent.id)&status=pending").json(Page<QuoteDTO>.self).items
            let accepted = try await books.post("/v1/quotes/\(try #require(open.first).id)/accept", "", token: agent)
            #expect(accepted.status == 201, "\(accepted.text)")
            let purchase = try accepted.json(PurchaseDTO.self)
            #expect(try await books.post("/v1/purchases/\(purchase.id)/complete", "", token: agent).status == 403)

            // another tenant sees none of it and can use none of it
            let other = try await books.platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await books.get("/v1/vendors/\(vendor.id)", token: otherAdmin).status == 404)
            #expect(try await books.get("/v1/intents/\(intent.id)", token: otherAdmin).status == 404)
            #expect(try await books.get("/v1/purchases/\(purchase.id)", token: otherAdmin).status == 404)
            #expect(try await books.get("/v1/vendors", token: otherAdmin).json(Page<VendorDTO>.self).items.isEmpty)
            #expect(try await books.post("/v1/purchases/\(purchase.id)/complete", "", token: otherAdmin).status == 404)
            #expect(try await books.post("/v1/quotes/\(purchase.quoteId)/accept", "", token: otherAdmin).status == 404)
            let theirs = try await books.post(
                "/v1/intents", #"{"buyerId":"\#(buyer.id)","channel":"whatsapp"}"#, token: otherAdmin)
            #expect(theirs.status == 422 && theirs.errorCode == "unknown_buyer")
        }
    }
}

/// The commission arithmetic on its own: nil when refused.
enum TestCommission {
    static func at(rateBps: Int, fee: Int64, on amount: Int64) -> Int64? {
        try? CommissionTerms(rateBps: rateBps, flatFee: fee).commission(on: amount)
    }
}
