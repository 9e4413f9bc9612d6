import Contracts
import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

@testable import MarketplaceWallet

/// A completed purchase reaches the CRM (agent-core) from the transaction that completed it: the buyer's lead
/// becomes a customer with the amount spent, once, however often the purchase is completed again.
@Suite struct CustomerPurchasesTests {
    @Test func aCompletedPurchaseMakesTheBuyerACustomerOnce() async throws {
        try await MarketplaceTests.with(also: [.agentCore]) { market in
            let books = market.books
            let buyer = try await market.created("/v1/buyers", #"{"name":"Wanjiru","currency":"KES","phone":"+254712000601"}"#, as: BuyerDTO.self)
            let account = try await market.balance(buyer.accountId)
            #expect(try await books.transfer("topup", [(market.funding, account, "1000.00")]).status == 201)
            let vendor = try await market.vendor("Near Fuel")
            let intent = try await market.intent(buyer)
            let quote = try await market.quote(intent, vendor, "250.00")
            let purchase = try await books.post("/v1/quotes/\(quote.id)/accept", "").json(PurchaseDTO.self)
            // a cancelled or pending purchase tells the CRM nothing; completing it twice tells it once
            for _ in 0..<2 { #expect(try await books.post("/v1/purchases/\(purchase.id)/complete", "").status == 200) }

            var customers: [JSONValue] = []
            let arrived = try await TestWait.until(timeout: .seconds(60)) {
                customers = try await books.get("/v1/customers").json(Page<JSONValue>.self).items
                return !customers.isEmpty
            }
            #expect(arrived, "no customer")
            #expect(customers.count == 1)
            #expect(customers.first?["phone"] == .string("+254712000601") && customers.first?["name"] == .string("Wanjiru"), "\(customers)")
            #expect(customers.first?["spent"] == .array([.object(["currency": .string("KES"), "amount": .string("250.00")])]), "\(customers)")
            let jobs = try await books.postgres.query(
                "SELECT count(*)::int FROM wallet.jobs WHERE kind = 'crm.event'", logger: TestLog.quiet
            ).first(as: Int.self)
            #expect(jobs == 1)
        }
    }
}
