import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import MarketplaceWallet

/// What a review found and these tests keep fixed: a retry racing its first attempt replays it (never "insufficient
/// funds" for money it moved), the ledger's own references are not a caller's to take, a purchase's hold moves only
/// with its purchase, a released credit reservation is reserved again, a top-up key is one top-up, a quote names its
/// vendor's own product, and commission arithmetic near the largest amounts stays exact.
@Suite struct LedgerRetriesTests {
    @Test func aRetryRacingItsFirstAttemptIsItsReplay() async throws {
        try await LedgerTests.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            #expect(try await books.transfer("topup", [(funding, a, "10.00")]).status == 201)
            // the wallet affords the transfer once; twenty deliveries of it arrive at once
            let answers = try await withThrowingTaskGroup(of: (Int, String?, String?).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let response = try await books.transfer("adjustment", [(a, b, "10.00")], key: "one-payment")
                        return (response.status, response.errorCode, (try? response.json(TransferDTO.self))?.id.description)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0.0 == 201 }.count == 1)
            #expect(answers.allSatisfy { $0.0 == 201 || $0.0 == 200 }, "\(answers.filter { ![200, 201].contains($0.0) })")
            #expect(Set(answers.compactMap(\.2)).count == 1)
            #expect(try await books.account(a).balance == LedgerTests.kes("0.00"))
        }
    }

    @Test func theLedgersOwnReferencesAndAPurchasesHoldAreNotACallers() async throws {
        try await MarketplaceTests.with { market in
            let books = market.books
            let funding = market.funding
            let a = try await books.open("buyer", "a")
            for key in ["hold/\(UUID())", "purchase/x", "reversal/y", "initial-grant"] {
                let response = try await books.transfer("topup", [(funding, a, "1.00")], key: key)
                #expect(response.status == 400 && response.errorCode == "invalid_idempotency_key", "\(key): \(response.text)")
            }
            let buyer = try await market.buyer(balance: "100.00")
            let vendor = try await market.vendor("V")
            let intent = try await market.intent(buyer)
            let quote = try await market.quote(intent, vendor, "40.00")
            let purchase = try await books.post("/v1/quotes/\(quote.id)/accept", "").json(PurchaseDTO.self)
            for action in ["post", "void"] {
                let response = try await books.post("/v1/wallet/holds/\(purchase.holdId)/\(action)", "")
                #expect(response.status == 409 && response.errorCode == "purchase_hold", "\(action): \(response.text)")
            }
            #expect(try await books.get("/v1/purchases/\(purchase.id)").json(PurchaseDTO.self).status == .pending)
            // a quote names its own vendor's product, never another's (whose commission schedule would apply)
            let other = try await market.vendor("Other")
            let theirs = try await market.created(
                "/v1/products", #"{"vendorId":"\#(other.id)","name":"Theirs","price":"5.00"}"#, as: ProductDTO.self)
            let second = try await market.intent(buyer)
            let borrowed = try await books.post(
                "/v1/quotes",
                #"{"intentId":"\#(second.id)","vendorId":"\#(vendor.id)","productId":"\#(theirs.id)","price":"5.00","currency":"KES","etaMinutes":5}"#)
            #expect(borrowed.status == 422 && borrowed.errorCode == "product_not_vendors")
            // near the largest amount a quote may have, the commission is exact and nothing overflows
            #expect(TestCommission.at(rateBps: 9225, fee: 0, on: 999_823_527_030_328) == 922_337_203_685_478)
            #expect(TestCommission.at(rateBps: 10_000, fee: 0, on: 1_000_000_000_000_000) == 1_000_000_000_000_000)
        }
    }

    @Test func creatingRequestsAreMadeOncePerIdempotencyKey() async throws {
        try await MarketplaceTests.with { market in
            let books = market.books
            let vendor = #"{"name":"Once","currency":"KES"}"#
            let first = try await books.post("/v1/vendors", vendor, key: "vendor-1")
            let again = try await books.post("/v1/vendors", vendor, key: "vendor-1")
            #expect(first.status == 201 && again.status == 201 && again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try first.json(VendorDTO.self).id == (try again.json(VendorDTO.self).id))
            let different = try await books.post("/v1/vendors", #"{"name":"Twice","currency":"KES"}"#, key: "vendor-1")
            #expect(different.status == 409 && different.errorCode == "idempotency_key_reused")
            #expect(try await books.count("SELECT count(*)::int FROM wallet.vendors") == 1)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.accounts WHERE owner_type = 'vendor'") == 1)
            // an intent asked for twice by a retried reply is one intent
            let buyer = try await market.buyer(balance: nil)
            let body = #"{"buyerId":"\#(buyer.id)","channel":"whatsapp"}"#
            let intent = try await books.post("/v1/intents", body, key: "reply-7/intent")
            let retried = try await books.post("/v1/intents", body, key: "reply-7/intent")
            #expect(try intent.json(IntentDTO.self).id == (try retried.json(IntentDTO.self).id))
            #expect(try await books.count("SELECT count(*)::int FROM wallet.intents") == 1)
        }
    }

    @Test func aReleasedReservationIsReservedAgainAndATopUpKeyIsOneTopUp() async throws {
        try await CreditsTests.with(grant: 5) { credits in
            #expect(try await credits.reserve("msg").status == 201)
            #expect(try await credits.resolve("msg", "release").status == 200)
            // the same reply retried after its credit was released: reserved again, funds checked again
            let again = try await credits.reserve("msg")
            #expect(again.status == 201, "\(again.text)")
            #expect(try again.json(WalletAPI.CreditReservation.self).status == "reserved")
            #expect(try await credits.state().reserved == 1)
            #expect(try await credits.resolve("msg", "settle").status == 200)
            #expect(try await credits.state().used == 1)

            let first = try await credits.books.post("/v1/credits/topups", #"{"credits":5,"reason":"plan"}"#, token: credits.service, key: "k-1")
            #expect(first.status == 201)
            let different = try await credits.books.post("/v1/credits/topups", #"{"credits":500,"reason":"plan"}"#, token: credits.service, key: "k-1")
            #expect(different.status == 409 && different.errorCode == "reference_reused")
            #expect(try await credits.state().remaining == 9)
        }
    }
}
