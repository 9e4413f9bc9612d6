import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import MarketplaceWallet

/// The ledger through the gateway over real HTTP, on a real PostgreSQL: postings once per reference, funds and
/// account status checked under concurrency, holds, reversals, statements, the database's own refusals, the
/// invariants, and who may do what in which tenant.
@Suite struct LedgerTests {
    struct Books {
        let gateway: String
        let tenant: TenantID
        let admin: String
        let postgres: PostgresClient
        let platform: TestPlatform

        func post(_ path: String, _ json: String, token: String? = nil, key: String? = nil) async throws -> TestResponse {
            try await TestHTTP.request(
                .POST, "\(self.gateway)\(path)", token: token ?? self.admin, headers: key.map { ["Idempotency-Key": $0] } ?? [:], body: Data(json.utf8))
        }

        func get(_ path: String, token: String? = nil) async throws -> TestResponse {
            try await TestHTTP.get("\(self.gateway)\(path)", token: token ?? self.admin)
        }

        func open(_ type: String, _ owner: String, currency: String = "KES", negative: Bool = false) async throws -> AccountDTO {
            let response = try await self.post(
                "/v1/wallet/accounts", #"{"ownerType":"\#(type)","ownerId":"\#(owner)","currency":"\#(currency)","allowNegative":\#(negative)}"#)
            #expect(response.status == 201, "\(response.text)")
            return try response.json(AccountDTO.self)
        }

        func transfer(
            _ type: String, _ legs: [(AccountDTO, AccountDTO, String)], currency: String = "KES", reason: String? = "test", key: String = UUID().uuidString
        )
            async throws -> TestResponse
        {
            let legsJSON = legs.map { #"{"from":"\#($0.0.id)","to":"\#($0.1.id)","amount":"\#($0.2)"}"# }.joined(separator: ",")
            let reasonJSON = reason.map { #","reason":"\#($0)""# } ?? ""
            return try await self.post("/v1/wallet/transfers", #"{"type":"\#(type)","currency":"\#(currency)","legs":[\#(legsJSON)]\#(reasonJSON)}"#, key: key)
        }

        func account(_ account: AccountDTO) async throws -> AccountDTO {
            try await self.get("/v1/wallet/accounts/\(account.id)").json(AccountDTO.self)
        }

        func count(_ sql: String) async throws -> Int {
            try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }

        func invariants() async throws -> InvariantReport {
            try await self.get("/v1/wallet/invariants").json(InvariantReport.self)
        }
    }

    static func with(settings: [String: String] = [:], also: [ServiceName] = [], _ body: (Books) async throws -> Void) async throws {
        // the rate limiter off: these tests send hundreds of requests at once from one address
        try await TestServices.with(
            [.gateway, .marketplaceWallet] + also, settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .marketplaceWallet: settings]
        ) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            try await body(
                Books(
                    gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.marketplaceWallet).postgres,
                    platform: platform))
        }
    }

    static func kes(_ amount: String) -> Money { try! Money(decimal: amount, currency: .KES) }

    @Test func aPostingMovesBalancesOnceAndBadInputIsA4xxThatWritesNothing() async throws {
        try await Self.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            let topup = try await books.transfer("topup", [(funding, a, "100.00")], key: "topup-1")
            #expect(topup.status == 201, "\(topup.text)")
            let posted = try topup.json(TransferDTO.self)
            #expect(posted.balances.first { $0.accountId == a.id }?.balance == Self.kes("100.00"))
            #expect(posted.balances.first { $0.accountId == funding.id }?.balance == Self.kes("-100.00"))
            // the same reference again: the first result, not a second posting
            let again = try await books.transfer("topup", [(funding, a, "100.00")], key: "topup-1")
            #expect(again.status == 200 && again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try again.json(TransferDTO.self) == posted)
            // the same reference for something else: refused
            let reused = try await books.transfer("topup", [(funding, a, "5.00")], key: "topup-1")
            #expect(reused.status == 409 && reused.errorCode == "reference_reused")
            // two legs in one posting: a pays b and the platform's commission account
            let commission = try await books.open("commission", "platform")
            let split = try await books.transfer("adjustment", [(a, b, "27.50"), (a, commission, "2.50")], reason: "order 7")
            #expect(split.status == 201, "\(split.text)")
            #expect(try await books.account(a).balance == Self.kes("70.00"))
            #expect(try await books.account(b).balance == Self.kes("27.50"))
            #expect(try await books.account(commission).balance == Self.kes("2.50"))

            let before = try await books.count("SELECT count(*)::int FROM wallet.transactions")
            let entriesBefore = try await books.count("SELECT count(*)::int FROM wallet.entries")
            let refused: [(TestResponse, Int, String)] = [
                (try await books.transfer("adjustment", [(a, b, "70.01")]), 409, "insufficient_funds"),
                (try await books.transfer("adjustment", [(a, b, "1.234")]), 422, "invalid_amount"),
                (try await books.transfer("adjustment", [(a, b, "-5")]), 422, "invalid_amount"),
                (try await books.transfer("adjustment", [(a, b, "0")]), 422, "invalid_amount"),
                (try await books.transfer("adjustment", [(a, b, "1e3")]), 422, "invalid_amount"),
                (try await books.transfer("adjustment", [(a, a, "1")]), 422, "same_account"),
                (try await books.transfer("adjustment", [(a, b, "1")], reason: nil), 422, "reason_required"),
                (try await books.transfer("adjustment", [(a, b, "1")], currency: "RWF"), 422, "currency_mismatch"),
                (try await books.transfer("adjustment", [(a, b, "1")], currency: "XXX"), 422, "invalid_currency"),
                (try await books.transfer("purchase", [(a, b, "1")]), 422, "invalid_type"),
                (try await books.transfer("reversal", [(a, b, "1")]), 422, "invalid_type"),
                (try await books.post("/v1/wallet/transfers", #"{"type":"topup","currency":"KES","legs":[]}"#, key: "k-empty"), 422, "invalid_legs"),
                (
                    try await books.post("/v1/wallet/transfers", #"{"type":"topup","currency":"KES","legs":[{"from":"x","to":"y","amount":"1"}]}"#, key: "k"),
                    422, "invalid_legs[0].from"
                ),
                (
                    try await books.post(
                        "/v1/wallet/transfers", #"{"type":"topup","currency":"KES","legs":[{"from":"\#(a.id)","to":"\#(UUID())","amount":"1"}]}"#, key: "k2"),
                    422, "unknown_account"
                ),
                (
                    try await books.post(
                        "/v1/wallet/transfers", #"{"type":"topup","currency":"KES","legs":[{"from":"\#(a.id)","to":"\#(b.id)","amount":"1"}]}"#), 400,
                    "idempotency_key_required"
                ),
                (try await books.post("/v1/wallet/transfers", "{\"type\":\"topup\",\u{0}}", key: "k3"), 400, "invalid_json"),
                (try await books.post("/v1/wallet/transfers", #"{"type":"topup","currency":"KES","legs":"#, key: "k4"), 400, "invalid_json"),
            ]
            for (response, status, code) in refused {
                #expect(response.status == status && response.errorCode == code, "\(status) \(code): \(response.status) \(response.text)")
            }
            #expect(try await books.count("SELECT count(*)::int FROM wallet.transactions") == before)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.entries") == entriesBefore)

            // a frozen account takes nothing and gives nothing; unfrozen, it does again; a closed one stays closed
            let frozen = try await books.post("/v1/wallet/accounts/\(b.id)", "", token: nil)
            #expect(frozen.status == 405 || frozen.status == 404)
            let freeze = try await TestHTTP.request(
                .PATCH, "\(books.gateway)/v1/wallet/accounts/\(b.id)", token: books.admin, body: Data(#"{"status":"frozen","reason":"dispute"}"#.utf8))
            #expect(freeze.status == 200, "\(freeze.text)")
            #expect(try freeze.json(AccountDTO.self).status == .frozen)
            let toFrozen = try await books.transfer("adjustment", [(a, b, "1")])
            #expect(toFrozen.status == 409 && toFrozen.errorCode == "account_frozen")
            let close = try await TestHTTP.request(
                .PATCH, "\(books.gateway)/v1/wallet/accounts/\(b.id)", token: books.admin, body: Data(#"{"status":"closed"}"#.utf8))
            #expect(close.status == 409 && close.errorCode == "account_not_empty", "\(close.text)")
            let unfreeze = try await TestHTTP.request(
                .PATCH, "\(books.gateway)/v1/wallet/accounts/\(b.id)", token: books.admin, body: Data(#"{"status":"active"}"#.utf8))
            #expect(unfreeze.status == 200)
            #expect(try await books.transfer("adjustment", [(a, b, "1")]).status == 201)
            let empty = try await books.open("buyer", "empty")
            let closed = try await TestHTTP.request(
                .PATCH, "\(books.gateway)/v1/wallet/accounts/\(empty.id)", token: books.admin, body: Data(#"{"status":"closed"}"#.utf8))
            #expect(closed.status == 200)
            let reopen = try await TestHTTP.request(
                .PATCH, "\(books.gateway)/v1/wallet/accounts/\(empty.id)", token: books.admin, body: Data(#"{"status":"active"}"#.utf8))
            #expect(reopen.status == 409 && reopen.errorCode == "account_closed")
            #expect(try await books.transfer("adjustment", [(a, empty, "1")]).errorCode == "account_closed")
            // only the funding account may go below zero; one owner has one account per currency
            let negative = try await books.post("/v1/wallet/accounts", #"{"ownerType":"buyer","ownerId":"n","currency":"KES","allowNegative":true}"#)
            #expect(negative.status == 422 && negative.errorCode == "negative_not_allowed")
            let twice = try await books.post("/v1/wallet/accounts", #"{"ownerType":"buyer","ownerId":"a","currency":"KES"}"#)
            #expect(twice.status == 409 && twice.errorCode == "account_exists")

            // the account shows its newest entries; the audit log has the adjustment and the freeze
            let shown = try await books.account(a)
            #expect(shown.recentEntries?.first?.balanceAfter == shown.balance)
            #expect(try await books.count("SELECT count(*)::int FROM wallet.audit_log WHERE action IN ('transfer.adjustment', 'account.freeze')") >= 2)
            #expect(try await books.invariants().holds)
        }
    }

    @Test func aStatementHasTheRunningBalanceAndDownloadsAsCSV() async throws {
        try await Self.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            for amount in ["10.00", "25.50", "4.50"] {
                #expect(try await books.transfer("topup", [(funding, a, amount)], reason: "=cmd|' /C calc'!A0").status == 201)
            }
            #expect(try await books.transfer("payout", [(a, funding, "15.00")]).status == 201)
            let statement = try await books.get("/v1/wallet/statements?accountId=\(a.id)").json(StatementDTO.self)
            #expect(statement.openingBalance == Self.kes("0.00"))
            #expect(statement.lines.map(\.balanceAfter.decimalString) == ["10.00", "35.50", "40.00", "25.00"])
            #expect(statement.closingBalance == Self.kes("25.00") && statement.totalCredits == Self.kes("40.00") && statement.totalDebits == Self.kes("15.00"))
            // a later period opens where the earlier one closed
            let tomorrow = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))
            let later = try await books.get(
                "/v1/wallet/statements?accountId=\(a.id)&from=\(tomorrow)&to=\(ISO8601DateFormatter().string(from: Date().addingTimeInterval(2 * 86_400)))")
            #expect(try later.json(StatementDTO.self).openingBalance == Self.kes("25.00") && (try later.json(StatementDTO.self).lines.isEmpty))
            let csv = try await books.get("/v1/wallet/statements?accountId=\(a.id)&format=csv")
            #expect(csv.headers.first(name: "Content-Type")?.hasPrefix("text/csv") == true)
            let rows = csv.text.split(separator: "\r\n").map(String.init)
            #expect(rows.first == "at,transaction_id,type,reference,reason,debit,credit,balance,currency")
            #expect(rows.count == 7 && rows[2].hasSuffix(",10.00,10.00,KES") && rows.last?.hasSuffix(",15.00,40.00,25.00,KES") == true, "\(rows)")
            // a reason a spreadsheet would run is defused
            #expect(rows[2].contains("'=cmd|' /C calc'!A0"), "\(rows[2])")
            for bad in [
                "accountId=nope", "", "accountId=\(a.id)&from=2026-13-01", "accountId=\(a.id)&format=xml", "accountId=\(a.id)&from=2026-12-02&to=2026-12-01",
            ] {
                let response = try await books.get("/v1/wallet/statements?\(bad)")
                #expect(response.status == 400, "\(bad): \(response.status) \(response.text)")
            }
            #expect(try await books.get("/v1/wallet/statements?accountId=\(UUID())").status == 404)
        }
    }

    @Test func theDatabaseRefusesWhatTheCodeMustNeverDo() async throws {
        try await Self.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("buyer", "b")
            #expect(try await books.transfer("topup", [(funding, a, "10.00")]).status == 201)
            func refused(_ sql: String) async -> String? {
                do {
                    // one statement at a time (the extended protocol takes one per query), in one transaction
                    _ = try await books.postgres.withTransaction(logger: TestLog.quiet) { connection in
                        for statement in sql.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                            try await connection.query(PostgresQuery(unsafeSQL: String(statement)), logger: TestLog.quiet)
                        }
                    }
                    return nil
                } catch {
                    return LedgerStore.psql(error)?.sqlState ?? "\(error)"
                }
            }
            #expect(await refused("UPDATE wallet.entries SET amount = amount + 1") == "WL001")
            #expect(await refused("DELETE FROM wallet.entries") == "WL001")
            #expect(await refused("DELETE FROM wallet.transactions") == "WL001")
            #expect(await refused("TRUNCATE wallet.entries CASCADE") == "WL001")
            let t = UUID()
            let insertTransaction = """
                INSERT INTO wallet.transactions (id, tenant_id, type, reference, request_hash, created_by)
                VALUES ('\(t)', '\(books.tenant)', 'adjustment', 'sql-\(t)', 'x', 'test');
                """
            // one-sided: refused at commit
            #expect(
                await refused(
                    insertTransaction
                        + "INSERT INTO wallet.entries (transaction_id, account_id, tenant_id, currency, direction, amount) VALUES ('\(t)', '\(b.id)', '\(books.tenant)', 'KES', 'credit', 100)"
                ) == "WL003")
            // overdrawn: refused by the check, whatever the code thought
            #expect(
                await refused(
                    insertTransaction
                        + """
                        INSERT INTO wallet.entries (transaction_id, account_id, tenant_id, currency, direction, amount) VALUES
                            ('\(t)', '\(b.id)', '\(books.tenant)', 'KES', 'credit', 5000), ('\(t)', '\(a.id)', '\(books.tenant)', 'KES', 'debit', 5000)
                        """) == "23514")
            // the wrong currency for the account: refused by the foreign key
            #expect(
                await refused(
                    insertTransaction
                        + """
                        INSERT INTO wallet.entries (transaction_id, account_id, tenant_id, currency, direction, amount) VALUES
                            ('\(t)', '\(b.id)', '\(books.tenant)', 'RWF', 'credit', 1), ('\(t)', '\(a.id)', '\(books.tenant)', 'RWF', 'debit', 1)
                        """) == "23503")
            try await books.postgres.query("UPDATE wallet.accounts SET status = 'frozen' WHERE id = \(b.id.rawValue)", logger: TestLog.quiet)
            #expect(
                await refused(
                    insertTransaction
                        + """
                        INSERT INTO wallet.entries (transaction_id, account_id, tenant_id, currency, direction, amount) VALUES
                            ('\(t)', '\(b.id)', '\(books.tenant)', 'KES', 'credit', 1), ('\(t)', '\(a.id)', '\(books.tenant)', 'KES', 'debit', 1)
                        """) == "WL002")
            #expect(await refused("UPDATE wallet.accounts SET status = 'closed' WHERE id = '\(a.id)'") == "23514")
            #expect(try await books.invariants().holds)
        }
    }

    @Test func holdsReserveThenArePostedVoidedOrExpire() async throws {
        try await Self.with(settings: ["WALLET_HOLD_SWEEP_INTERVAL_MS": "50"]) { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            #expect(try await books.transfer("topup", [(funding, a, "100.00")]).status == 201)
            func hold(_ amount: String, key: String = UUID().uuidString) async throws -> TestResponse {
                try await books.post(
                    "/v1/wallet/holds",
                    #"{"type":"payout","currency":"KES","legs":[{"from":"\#(a.id)","to":"\#(b.id)","amount":"\#(amount)"}],"timeoutSeconds":60}"#,
                    key: key)
            }
            let first = try await hold("60.00", key: "h1")
            #expect(first.status == 201, "\(first.text)")
            let held = try first.json(HoldDTO.self)
            #expect(held.status == .pending && held.amount == Self.kes("60.00"))
            #expect(try await hold("60.00", key: "h1").status == 200)
            var account = try await books.account(a)
            #expect(account.balance == Self.kes("100.00") && account.held == Self.kes("60.00") && account.available == Self.kes("40.00"))
            // what is held cannot be spent twice: not by another hold, nor by a transfer
            #expect(try await hold("40.01").errorCode == "insufficient_funds")
            #expect(try await books.transfer("adjustment", [(a, b, "40.01")]).errorCode == "insufficient_funds")
            let posted = try await books.post("/v1/wallet/holds/\(held.id)/post", "")
            #expect(posted.status == 200, "\(posted.text)")
            let transfer = try posted.json(TransfersController.PostedHold.self).transfer
            #expect(transfer.holdId == held.id && transfer.type == .payout)
            account = try await books.account(a)
            #expect(account.balance == Self.kes("40.00") && account.held == Self.kes("0.00"))
            #expect(try await books.account(b).balance == Self.kes("60.00"))
            // posted twice: the same transaction; voided after: refused
            #expect(try await books.post("/v1/wallet/holds/\(held.id)/post", "").json(TransfersController.PostedHold.self).transfer.id == transfer.id)
            #expect(try await books.post("/v1/wallet/holds/\(held.id)/void", "").errorCode == "hold_posted")
            // voided: released
            let second = try await hold("30.00").json(HoldDTO.self)
            #expect(try await books.post("/v1/wallet/holds/\(second.id)/void", "").json(HoldDTO.self).status == .voided)
            #expect(try await books.account(a).held == Self.kes("0.00"))
            #expect(try await books.post("/v1/wallet/holds/\(second.id)/post", "").errorCode == "hold_voided")
            // its time ran out: posting it is refused and releases it, and the sweeper expires the others
            let late = try await hold("10.00").json(HoldDTO.self)
            let forgotten = try await hold("20.00").json(HoldDTO.self)
            try await books.postgres.query(
                "UPDATE wallet.holds SET expires_at = now() - interval '1 second' WHERE id = ANY(\([late.id.rawValue, forgotten.id.rawValue]))",
                logger: TestLog.quiet)
            let tooLate = try await books.post("/v1/wallet/holds/\(late.id)/post", "")
            #expect(tooLate.status == 409 && tooLate.errorCode == "hold_expired")
            #expect(try await books.get("/v1/wallet/holds/\(late.id)").json(HoldDTO.self).status == .expired)
            let swept = try await TestWait.until { try await books.get("/v1/wallet/holds/\(forgotten.id)").json(HoldDTO.self).status == .expired }
            #expect(swept)
            account = try await books.account(a)
            #expect(account.held == Self.kes("0.00") && account.balance == Self.kes("40.00"))
            let pending = try await books.get("/v1/wallet/holds?status=pending").json(Page<HoldDTO>.self)
            #expect(pending.items.isEmpty)
            for timeout in ["0", "59", "2592001", "\"60\""] {
                let bad = try await books.post(
                    "/v1/wallet/holds",
                    #"{"type":"payout","currency":"KES","legs":[{"from":"\#(a.id)","to":"\#(b.id)","amount":"1"}],"timeoutSeconds":\#(timeout)}"#,
                    key: UUID().uuidString)
                #expect(bad.status == 422 || bad.status == 400, "\(timeout): \(bad.text)")
            }
            #expect(try await books.post("/v1/wallet/holds/\(UUID())/post", "").status == 404)
            #expect(try await books.invariants().holds)
        }
    }

    @Test func aReversalUndoesATransferOnce() async throws {
        try await Self.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            let c = try await books.open("commission", "platform")
            #expect(try await books.transfer("topup", [(funding, a, "50.00")]).status == 201)
            let sale = try await books.transfer("adjustment", [(a, b, "18.00"), (a, c, "2.00")]).json(TransferDTO.self)
            let reversal = try await books.post("/v1/wallet/transfers/\(sale.id)/reverse", #"{"reason":"customer refunded"}"#)
            #expect(reversal.status == 201, "\(reversal.text)")
            let reversed = try reversal.json(TransferDTO.self)
            #expect(reversed.type == .reversal && reversed.reverses == sale.id)
            #expect(try await books.account(a).balance == Self.kes("50.00"))
            #expect(try await books.account(b).balance == Self.kes("0.00"))
            #expect(try await books.account(c).balance == Self.kes("0.00"))
            #expect(try await books.get("/v1/wallet/transfers/\(sale.id)").json(TransferDTO.self).reversedBy == reversed.id)
            // retried: the same reversal; under another key: refused, never a second
            let retried = try await books.post("/v1/wallet/transfers/\(sale.id)/reverse", #"{"reason":"customer refunded"}"#)
            #expect(retried.status == 200)
            #expect(try retried.json(TransferDTO.self).id == reversed.id)
            let again = try await books.post("/v1/wallet/transfers/\(sale.id)/reverse", #"{"reason":"again"}"#, key: "other")
            #expect(again.status == 409 && again.errorCode == "already_reversed", "\(again.text)")
            #expect(try await books.post("/v1/wallet/transfers/\(reversed.id)/reverse", #"{"reason":"x"}"#).errorCode == "reversal_of_reversal")
            #expect(try await books.post("/v1/wallet/transfers/\(sale.id)/reverse", "{}", key: "k").errorCode == "reason_required")
            // a reversal the receiver can no longer pay back is refused, like any posting
            let second = try await books.transfer("adjustment", [(a, b, "30.00")]).json(TransferDTO.self)
            #expect(try await books.transfer("payout", [(b, funding, "30.00")]).status == 201)
            #expect(try await books.post("/v1/wallet/transfers/\(second.id)/reverse", #"{"reason":"late"}"#).errorCode == "insufficient_funds")
            let listed = try await books.get("/v1/wallet/transfers?accountId=\(b.id)").json(Page<TransferDTO>.self).items
            #expect(listed.count == 4 && listed.first?.type == .payout)
            #expect(try await books.invariants().holds)
        }
    }

    @Test func aHundredConcurrentSpendsFromAWalletThatAffordsTen() async throws {
        try await Self.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            let b = try await books.open("vendor", "b")
            #expect(try await books.transfer("topup", [(funding, a, "100.00")]).status == 201)
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let response = try await books.transfer("adjustment", [(a, b, "10.00")], key: "spend-\(index)")
                        return (response.status, response.errorCode)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 201 }.count == 10)
            #expect(
                statuses.filter { $0.0 == 409 && $0.1 == "insufficient_funds" }.count == 90,
                "\(statuses.filter { $0.0 != 201 && $0.1 != "insufficient_funds" })")
            #expect(try await books.account(a).balance == Self.kes("0.00"))
            #expect(try await books.account(b).balance == Self.kes("100.00"))
            // and fifty concurrent retries of one reference post it once
            let replays = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<50 { group.addTask { try await books.transfer("topup", [(funding, a, "1.00")], key: "one-topup") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replays.filter { $0.status == 201 }.count == 1 && replays.filter { $0.status == 200 }.count == 49, "\(replays.map(\.status))")
            #expect(Set(try replays.map { try $0.json(TransferDTO.self).id }).count == 1)
            #expect(try await books.account(a).balance == Self.kes("1.00"))
        }
    }

    /// Thousands of random concurrent operations (transfers that may overdraw, duplicate and reused references,
    /// freezes, holds posted, voided or left to time out, reversals), then the books must balance.
    @Test func randomConcurrentPostingsLeaveTheBooksBalanced() async throws {
        try await Self.with(settings: ["WALLET_HOLD_SWEEP_INTERVAL_MS": "20"]) { books in
            let funding = try await books.open("platform", "funding", negative: true)
            var accounts: [AccountDTO] = []
            for index in 0..<8 { accounts.append(try await books.open(index % 2 == 0 ? "buyer" : "vendor", "p-\(index)")) }
            for account in accounts { #expect(try await books.transfer("topup", [(funding, account, "50.00")]).status == 201) }
            let wallets = accounts
            // each worker tallies its own outcomes; they are added up once all are done
            var counts: [String: Int] = [:]
            var serverErrors: [String] = []
            try await withThrowingTaskGroup(of: (outcomes: [String: Int], serverErrors: [String]).self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        var outcomes: [String: Int] = [:]
                        var serverErrors: [String] = []
                        var random = SystemRandomNumberGenerator()
                        for step in 0..<130 {
                            let from = wallets.randomElement(using: &random)!
                            var to = wallets.randomElement(using: &random)!
                            while to.id == from.id { to = wallets.randomElement(using: &random)! }
                            let amount = "\(Int.random(in: 1...30, using: &random)).\(Int.random(in: 10...99, using: &random))"
                            let response: TestResponse
                            switch Int.random(in: 0..<100, using: &random) {
                            case 0..<50:
                                response = try await books.transfer("adjustment", [(from, to, amount)], key: "w\(worker)-\(step)")
                            case 50..<58:
                                // a duplicate of an earlier step of this worker, or the same key for another transfer
                                let earlier = "w\(worker)-\(Int.random(in: 0...max(step - 1, 0), using: &random))"
                                response = try await books.transfer("adjustment", [(from, to, amount)], key: earlier)
                            case 58..<64:
                                let status = Bool.random(using: &random) ? "frozen" : "active"
                                response = try await TestHTTP.request(
                                    .PATCH, "\(books.gateway)/v1/wallet/accounts/\(from.id)", token: books.admin, body: Data(#"{"status":"\#(status)"}"#.utf8))
                            case 64..<84:
                                let made = try await books.post(
                                    "/v1/wallet/holds",
                                    #"{"type":"payout","currency":"KES","legs":[{"from":"\#(from.id)","to":"\#(to.id)","amount":"\#(amount)"}],"timeoutSeconds":60}"#,
                                    key: "h\(worker)-\(step)")
                                if made.status == 201, let hold = try? made.json(HoldDTO.self) {
                                    switch Int.random(in: 0..<3, using: &random) {
                                    case 0: response = try await books.post("/v1/wallet/holds/\(hold.id)/post", "")
                                    case 1: response = try await books.post("/v1/wallet/holds/\(hold.id)/void", "")
                                    default:
                                        // left to time out (made due now; the sweeper or a late post expires it)
                                        try await books.postgres.query(
                                            "UPDATE wallet.holds SET expires_at = now() WHERE id = \(hold.id.rawValue)", logger: TestLog.quiet)
                                        response = Bool.random(using: &random) ? try await books.post("/v1/wallet/holds/\(hold.id)/post", "") : made
                                    }
                                } else {
                                    response = made
                                }
                            default:
                                let recent = try await books.get("/v1/wallet/transfers?accountId=\(from.id)&type=adjustment&limit=5").json(
                                    Page<TransferDTO>.self)
                                guard let target = recent.items.randomElement(using: &random) else { continue }
                                response = try await books.post("/v1/wallet/transfers/\(target.id)/reverse", #"{"reason":"random"}"#)
                            }
                            if response.status >= 500 { serverErrors.append("\(response.status) \(response.text)") }
                            outcomes["\(response.status) \(response.errorCode ?? "")", default: 0] += 1
                        }
                        return (outcomes, serverErrors)
                    }
                }
                for try await result in group {
                    counts.merge(result.outcomes, uniquingKeysWith: +)
                    serverErrors += result.serverErrors
                }
            }
            print("ledger property test outcomes: \(counts.sorted { $0.key < $1.key })")
            #expect(serverErrors.isEmpty, "\(serverErrors.prefix(5))")
            #expect((counts["201 "] ?? 0) > 200 && (counts["409 insufficient_funds"] ?? 0) > 0 && (counts["409 reference_reused"] ?? 0) > 0)
            #expect((counts["409 account_frozen"] ?? 0) > 0 && (counts["200 "] ?? 0) > 0)
            _ = try await TestWait.until {
                try await books.count("SELECT count(*)::int FROM wallet.holds WHERE status = 'pending' AND expires_at <= now()") == 0
            }
            let report = try await books.invariants()
            #expect(report.holds, "\(report)")
            #expect(report.currencies == [.init(currency: "KES", accounts: 9, sum: 0)])
            // every balance is the sum of its entries, none is below zero, and each transaction has two or more entries
            #expect(try await books.count("SELECT count(*)::int FROM wallet.accounts WHERE NOT allow_negative AND balance < 0") == 0)
            #expect(
                try await books.count(
                    "SELECT count(*)::int FROM wallet.transactions t WHERE (SELECT count(*) FROM wallet.entries e WHERE e.transaction_id = t.id) < 2") == 0)
        }
    }

    @Test func rolesAndTenants() async throws {
        try await Self.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")

            let transferBody = #"{"type":"topup","currency":"KES","legs":[{"from":"\#(funding.id)","to":"\#(a.id)","amount":"1"}]}"#
            for role in Role.allCases {
                let staff = role.isPlatformStaff
                let token = try await TestKeys.token(tenant: staff ? nil : books.tenant, roles: [role])
                let headers = staff || role == .service ? ["X-Tenant-ID": books.tenant.description] : [:]
                let read = try await TestHTTP.get("\(books.gateway)/v1/wallet/accounts", token: token, headers: headers)
                let mayRead = [.superAdmin, .support, .dataOps, .readonly, .tenantAdmin, .service].contains(role)
                #expect(read.status == (mayRead ? 200 : 403), "\(role) read: \(read.status)")
                let mayWrite = [.superAdmin, .tenantAdmin, .service].contains(role)
                let accountBody = #"{"ownerType":"buyer","ownerId":"r-\#(UUID())","currency":"KES"}"#
                let create = try await TestHTTP.request(
                    .POST, "\(books.gateway)/v1/wallet/accounts", token: token, headers: headers, body: Data(accountBody.utf8))
                #expect(create.status == (mayWrite ? 201 : 403), "\(role) create: \(create.status) \(create.text)")
                let post = try await TestHTTP.request(
                    .POST, "\(books.gateway)/v1/wallet/transfers", token: token, headers: headers.merging(["Idempotency-Key": "role-\(role)"]) { $1 },
                    body: Data(transferBody.utf8))
                #expect(post.status == (mayWrite ? 201 : 403), "\(role) transfer: \(post.status) \(post.text)")
            }
            // another tenant sees none of it and cannot use its accounts
            let other = try await books.platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await books.get("/v1/wallet/accounts/\(a.id)", token: otherAdmin).status == 404)
            #expect(try await books.get("/v1/wallet/accounts", token: otherAdmin).json(Page<AccountDTO>.self).items.isEmpty)
            #expect(try await books.get("/v1/wallet/statements?accountId=\(a.id)", token: otherAdmin).status == 404)
            let theirs = try await books.post("/v1/wallet/transfers", transferBody, token: otherAdmin, key: "steal")
            #expect(theirs.status == 422 && theirs.errorCode == "unknown_account")
            let ownFunding = try await TestHTTP.request(
                .POST, "\(books.gateway)/v1/wallet/accounts", token: otherAdmin,
                body: Data(#"{"ownerType":"platform","ownerId":"funding","currency":"KES","allowNegative":true}"#.utf8)
            ).json(AccountDTO.self)
            let mixed = try await books.post(
                "/v1/wallet/transfers", #"{"type":"topup","currency":"KES","legs":[{"from":"\#(ownFunding.id)","to":"\#(a.id)","amount":"1"}]}"#,
                token: otherAdmin,
                key: "mixed")
            #expect(mixed.status == 422 && mixed.errorCode == "unknown_account")
            let report = try await books.get("/v1/wallet/invariants", token: otherAdmin).json(InvariantReport.self)
            #expect(report.tenantId == other && report.accounts == 1)
            // platform staff without a tenant check the whole platform
            let platformWide = try await books.get("/v1/wallet/invariants", token: try await TestKeys.token(tenant: nil, roles: [.support]))
            #expect(try platformWide.json(InvariantReport.self).tenantId == nil && (try platformWide.json(InvariantReport.self).accounts) >= 4)
        }
    }

    @Test func theInvariantWatchRaisesItsMetricWhenTheBooksBreak() async throws {
        try await Self.with { books in
            let funding = try await books.open("platform", "funding", negative: true)
            let a = try await books.open("buyer", "a")
            #expect(try await books.transfer("topup", [(funding, a, "10.00")]).status == 201)
            let environment = books.platform.environment(.marketplaceWallet)
            let watch = InvariantWatch(
                ledger: LedgerStore(postgres: environment.postgres, audit: environment.audit), metrics: environment.metrics, interval: .seconds(60),
                logger: TestLog.quiet)
            #expect(try await watch.check().holds)
            #expect(environment.metrics.render().contains("wallet_ledger_invariant_holds 1"))
            // someone edits a balance by hand, past the entries
            try await books.postgres.query("UPDATE wallet.accounts SET balance = balance + 100 WHERE id = \(a.id.rawValue)", logger: TestLog.quiet)
            let broken = try await watch.check()
            #expect(!broken.holds && broken.balanceMismatches == [a.id] && broken.currencies.first?.sum == 100)
            let metrics = environment.metrics.render()
            #expect(metrics.contains("wallet_ledger_invariant_holds 0") && metrics.contains("wallet_ledger_invariant_failures_total 1"), "\(metrics)")
            #expect(try await books.invariants().holds == false)
        }
    }
}
