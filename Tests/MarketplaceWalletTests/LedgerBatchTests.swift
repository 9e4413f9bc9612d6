import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import MarketplaceWallet

/// Transfers posted together (`LedgerStore+Batch`): each posting of a batch answers as it would alone, on the
/// balances the ones before it left; a batch the database refuses is posted one by one; and under concurrent
/// requests batches do form.
@Suite struct LedgerBatchTests {
    static func store(_ books: LedgerTests.Books, metrics: ServiceMetrics? = nil) -> LedgerStore {
        LedgerStore(postgres: books.postgres, audit: AuditLog(schema: "wallet"), metrics: metrics, batching: false)
    }

    /// A counter's value in the metrics' text (0 when it was never made).
    static func value(_ name: String, in metrics: String) -> Int {
        metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    static func posting(_ books: LedgerTests.Books, _ reference: String, _ legs: [(AccountDTO, AccountDTO, Int64)], currency: Currency = .KES)
        -> (posting: Posting, requestID: String)
    {
        (
            Posting(
                tenant: books.tenant, type: .payout, reference: reference, currency: currency,
                legs: legs.map { Leg(from: $0.0.id, to: $0.1.id, amount: $0.2) }, reason: nil, metadata: [:], actor: "batch-test"),
            "req-\(reference)"
        )
    }

    static func code(_ outcome: PostingBatcher.Outcome) -> String? {
        guard case .failure(let error) = outcome else { return nil }
        return (error as? APIError)?.code ?? "\(error)"
    }

    static func transfer(_ outcome: PostingBatcher.Outcome) -> (TransferDTO, replayed: Bool)? {
        guard case .success(let value) = outcome else { return nil }
        return value
    }

    @Test func eachPostingOfABatchIsJudgedOnTheBalancesTheOnesBeforeItLeft() async throws {
        try await LedgerTests.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            let c = try await books.open("vendor", "c")
            let frozen = try await books.open("vendor", "frozen")
            let francs = try await books.open("vendor", "francs", currency: "RWF")
            #expect(try await books.transfer("topup", [(funding, a, "100.00")], key: "topup-a").status == 201)
            let earlier = try await books.transfer("payout", [(a, c, "1.00")], reason: nil, key: "earlier")
            #expect(earlier.status == 201, "\(earlier.text)")
            let metrics = ServiceMetrics()
            let store = Self.store(books, metrics: metrics)
            _ = try await store.setStatus(
                frozen.id, tenant: books.tenant, status: .frozen, reason: "test", actor: "test", requestID: "test", logger: TestLog.quiet)
            // another tenant's account, named by this tenant's posting
            let other = try await books.platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            let foreignResponse = try await books.post("/v1/wallet/accounts", #"{"ownerType":"vendor","ownerId":"x","currency":"KES"}"#, token: otherAdmin)
            #expect(foreignResponse.status == 201, "\(foreignResponse.text)")
            let foreign = try foreignResponse.json(AccountDTO.self)

            // a has 99.00
            let batch = [
                Self.posting(books, "one", [(a, b, 6_000)]),  // 39.00 left
                Self.posting(books, "two", [(a, c, 5_000)]),  // more than is left
                Self.posting(books, "three", [(a, c, 3_900)]),  // exactly what is left
                Self.posting(books, "one", [(a, b, 6_000)]),  // a retry of "one" in the same batch
                Self.posting(books, "one", [(a, b, 7_000)]),  // "one" for another transfer
                Self.posting(books, "four", [(b, frozen, 100)]),
                Self.posting(books, "five", [(b, foreign, 100)]),
                Self.posting(books, "earlier", [(a, c, 100)]),  // posted before the batch, the same request
                Self.posting(books, "six", [(b, francs, 100)]),
                Self.posting(books, "seven", [(b, c, 6_000)]),  // all b got from "one"
            ]
            let outcomes = await store.postBatch(batch, logger: TestLog.quiet)
            #expect(outcomes.count == batch.count)
            // posted as one batch, not one by one after a refusal
            #expect(Self.value("wallet_posting_batches_total", in: metrics.render()) == 1)
            #expect(Self.value("wallet_postings_batched_total", in: metrics.render()) == batch.count)
            let codes = outcomes.map(Self.code)
            #expect(
                codes == [
                    nil, "insufficient_funds", nil, nil, "reference_reused", "account_frozen", "unknown_account", nil, "currency_mismatch", nil,
                ], "\(codes)")
            let one = try #require(Self.transfer(outcomes[0]))
            let retry = try #require(Self.transfer(outcomes[3]))
            #expect(!one.replayed && retry.replayed && retry.0 == one.0)
            #expect(one.0.balances.first { $0.accountId == a.id }?.balance == LedgerTests.kes("39.00"))
            let three = try #require(Self.transfer(outcomes[2]))
            #expect(three.0.balances.first { $0.accountId == a.id }?.balance == LedgerTests.kes("0.00"))
            let replayed = try #require(Self.transfer(outcomes[7]))
            let earlierID = try earlier.json(TransferDTO.self).id
            #expect(replayed.replayed && replayed.0.id == earlierID)
            let seven = try #require(Self.transfer(outcomes[9]))
            #expect(seven.0.balances.first { $0.accountId == b.id }?.balance == LedgerTests.kes("0.00"))

            // what the database holds: the three accepted, once each, and the books balanced
            #expect(try await books.account(a).balance == LedgerTests.kes("0.00"))
            #expect(try await books.account(b).balance == LedgerTests.kes("0.00"))
            #expect(try await books.account(c).balance == LedgerTests.kes("100.00"))
            #expect(try await books.count("SELECT count(*)::int FROM wallet.transactions WHERE reference IN ('one', 'three', 'seven')") == 3)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.transactions WHERE reference IN ('two', 'four', 'five', 'six')") == 0)
            #expect(try await books.invariants().holds)
        }
    }

    @Test func aBatchTheDatabaseRefusesIsPostedOneByOne() async throws {
        try await LedgerTests.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            #expect(try await books.transfer("topup", [(funding, a, "100.00")], key: "topup-a").status == 201)
            // a rule the code does not know: the database refuses one reference (as its own rules refuse the unbalanced)
            try await books.postgres.query(
                """
                CREATE FUNCTION wallet.refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.reference = 'boom' THEN RAISE EXCEPTION 'no' USING ERRCODE = 'WL003'; END IF;
                    RETURN NEW;
                END $$
                """, logger: TestLog.quiet)
            try await books.postgres.query(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON wallet.transactions FOR EACH ROW EXECUTE FUNCTION wallet.refuse_boom()",
                logger: TestLog.quiet)
            let batch = [
                Self.posting(books, "first", [(a, b, 1_000)]), Self.posting(books, "boom", [(a, b, 1_000)]),
                Self.posting(books, "last", [(a, b, 1_000)]),
            ]
            let metrics = ServiceMetrics()
            let outcomes = await Self.store(books, metrics: metrics).postBatch(batch, logger: TestLog.quiet)
            #expect(outcomes.map(Self.code) == [nil, "unbalanced", nil])
            #expect(Self.value("wallet_posting_batches_total", in: metrics.render()) == 0)
            #expect(try await books.account(b).balance == LedgerTests.kes("20.00"))
            #expect(try await books.count("SELECT count(*)::int FROM wallet.transactions WHERE reference IN ('first', 'boom', 'last')") == 2)
            #expect(try await books.invariants().holds)
        }
    }

    @Test func concurrentTransfersArePostedInBatchesAndAnswerAsAlone() async throws {
        try await LedgerTests.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            #expect(try await books.transfer("topup", [(funding, a, "100.00")], key: "topup-a").status == 201)
            // 150 transfers of 1.00 at once from an account holding 100.00: exactly 100 are posted, however batched
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<150 {
                    group.addTask { try await books.transfer("payout", [(a, b, "1.00")], reason: nil, key: "spend-\(index)").status }
                }
                return try await group.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(statuses == [201: 100, 409: 50], "\(statuses)")
            #expect(try await books.account(a).balance == LedgerTests.kes("0.00"))
            let metrics = try await TestHTTP.get("\(books.platform.url(.marketplaceWallet))/metrics").text
            // some batch held more than one posting
            #expect(Self.value("wallet_postings_batched_total", in: metrics) > Self.value("wallet_posting_batches_total", in: metrics), "\(metrics)")
            #expect(try await books.invariants().holds)
        }
    }
}
