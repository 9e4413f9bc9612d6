import AsyncHTTPClient
import Foundation
import Models
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport

/// `sokoni-bench ledger [--accounts 1000]`: opens a funding account (platform, allowed below zero) and N buyer and
/// vendor accounts in KES through the gateway, tops each up, then posts transfers between random pairs of them
/// (random small amounts, one leg each, a new `Idempotency-Key` every time) through the gateway with `--concurrency`
/// connections driven by wrk, after `--warmup`, for `--duration`. Some transfers are refused for insufficient funds
/// (409 `insufficient_funds`): correct answers, counted apart from errors. Afterwards the ledger's invariants are
/// checked by `GET /v1/wallet/invariants` and in SQL (balances sum to zero per currency, every transaction balances,
/// no non-platform account below zero, every balance the sum of its entries, the 201s the transactions posted). The
/// anchor is pgbench's TPC-B tps on the same PostgreSQL server before the services start and after they stop; the
/// ratio uses the mean. Target: postings/s ≥ pgbench tps (TPC-B is itself one balance-changing transaction).
enum LedgerBenchmark {
    /// What each account is topped up with, and the largest transfer, in cents (KES has two decimals).
    static let topUpCents = 10_000
    static let maxTransferCents = 3_000
    static let setupConcurrency = 16

    static func run() async throws {
        let options = try BenchOptions.parse(extraKeys: ["accounts"])
        let accounts = try options.integer("accounts", default: 1_000, range: 2...100_000)
        guard let binary = try? Binaries.find("wrk") else { throw BenchError("wrk not found (Debian: apt-get install wrk): this scenario needs it") }
        progress("ledger benchmark: \(accounts) accounts, \(options.concurrency) connections, \(options.warmup) warm-up + \(options.duration)")

        // the anchor before and after, on a quiet server (the platform not running), as in `vouchers`
        let anchor = PgbenchAnchor(seconds: max(1, Int(options.duration.seconds.rounded())))
        let before = await VouchersBenchmark.measureAnchor(anchor, when: "before")

        // production job timings and tenant-standing cache (tests poll every 20 ms and re-check the tenant every 100 ms)
        let common = ["LOG_LEVEL": "error", "JOBS_POLL_INTERVAL_MS": "250", "JOBS_BACKOFF_BASE_MS": "1000", "AUTH_TENANT_STANDING_TTL_MS": "5000"]
        let wallet = ["DATABASE_MAX_CONNECTIONS": "20"]
        let gateway = ["RATE_LIMIT_ENABLED": "false", "AUTH_BCRYPT_COST": "4"]
        var run = try await BenchPlatform.run(
            [.marketplaceWallet, .gateway], common: common, settings: [.gateway: gateway, .marketplaceWallet: wallet]
        ) { platform in
            try await self.measure(platform, accounts: accounts, binary: binary, options: options)
        }
        let after = await VouchersBenchmark.measureAnchor(anchor, when: "after")
        run.pgbench = [before, after]
        run.anchor = anchor
        self.report(run)
        guard run.invariantHolds else { throw BenchError("the ledger's invariant does not hold: \(run.problems.joined(separator: "; "))") }
    }

    /// One wrk phase: the load result with its 201s, refusals for insufficient funds, and everything else.
    struct Phase: Sendable {
        var result: LoadResult
        var posted: UInt64 { self.result.statuses[201] ?? 0 }
        var refused: UInt64 = 0
        var errors: UInt64 { self.result.requests - self.posted - self.refused }
        var postingsPerSec: Double { self.result.seconds > 0 ? Double(self.posted) / self.result.seconds : 0 }
    }

    struct Run: Sendable {
        var accounts = 0
        var setupTime: Duration = .zero
        var connections = 0
        var generator = ""
        var warmup: Phase?
        var main = Phase(result: LoadResult(name: "transfers"))
        /// The reference prefix of the measured phase's transfers.
        var mainPrefix = ""
        /// `GET /v1/wallet/invariants` through the gateway: its `holds`, and the body when it did not.
        var endpointHolds = false
        var endpointBody = ""
        // the SQL checks (-1: not run)
        var currenciesNotZero = -1
        var unbalancedTransactions = -1
        var negativeAccounts = -1
        var balanceMismatches = -1
        var topups = -1
        var transfersPosted = -1
        var transfersPostedInMain = -1
        var transferEntries = -1
        var currencySums: [(String, Int, Int64)] = []
        var pgbench: [PgbenchAnchor.Result] = []
        var anchor: PgbenchAnchor?
        var pgbenchTps: Double? {
            let measured = self.pgbench.compactMap(\.tps)
            return measured.isEmpty ? nil : measured.reduce(0, +) / Double(measured.count)
        }

        var problems: [String] {
            var problems: [String] = []
            if !self.endpointHolds { problems.append("GET /v1/wallet/invariants does not hold: \(self.endpointBody.prefix(1000))") }
            if self.currenciesNotZero != 0 { problems.append("\(self.currenciesNotZero) currencies' balances do not sum to zero") }
            if self.unbalancedTransactions != 0 { problems.append("\(self.unbalancedTransactions) transactions do not balance (or have no entries)") }
            if self.negativeAccounts != 0 { problems.append("\(self.negativeAccounts) non-platform accounts are below zero") }
            if self.balanceMismatches != 0 { problems.append("\(self.balanceMismatches) balances are not the sum of their entries") }
            if self.topups != self.accounts { problems.append("\(self.topups) top-ups posted for \(self.accounts) accounts") }
            // wrk stops with requests in flight and never reads their answers: up to one per connection and phase may
            // have posted unseen
            let unseen = self.connections
            if !(0...unseen).contains(self.transfersPostedInMain - Int(self.main.posted)) {
                problems.append("\(self.main.posted) transfers answered 201 but \(self.transfersPostedInMain) were posted in the measured phase")
            }
            let answered = Int(self.main.posted + (self.warmup?.posted ?? 0))
            let phases = self.warmup == nil ? 1 : 2
            if !(0...(phases * unseen)).contains(self.transfersPosted - answered) {
                problems.append("\(answered) transfers answered 201 in all but \(self.transfersPosted) were posted")
            }
            if self.transferEntries != 2 * self.transfersPosted {
                problems.append("\(self.transfersPosted) one-leg transfers have \(self.transferEntries) entries, not two each")
            }
            return problems
        }
        var invariantHolds: Bool { self.problems.isEmpty }
    }

    static func measure(_ platform: BenchPlatform, accounts: Int, binary: String, options: BenchOptions) async throws -> Run {
        let client = LoadGenerator.makeClient(concurrency: Self.setupConcurrency)
        do {
            let run = try await VouchersBenchmark.withPostgres(platform.database) { postgres in
                try await self.measure(platform, postgres: postgres, client: client, accounts: accounts, binary: binary, options: options)
            }
            try await client.shutdown()
            return run
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func measure(
        _ platform: BenchPlatform, postgres: PostgresClient, client: HTTPClient, accounts count: Int, binary: String, options: BenchOptions
    ) async throws -> Run {
        var run = Run()
        run.accounts = count
        run.connections = options.concurrency
        run.generator = "wrk (\(binary))"
        let tenant = try await platform.createTenant(client: client, currency: "KES")
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin], lifetime: .seconds(3600))
        let gateway = platform.gatewayURL

        // the books: a funding account, N buyers and vendors, each topped up from the funding account
        progress("opening the funding account and \(count) accounts, topping each up …")
        let setupStart = ContinuousClock.now
        let funding = try await self.open(
            OpenAccount(ownerType: "platform", ownerId: "funding", allowNegative: true), gateway: gateway, token: admin, client: client)
        let ids = try await self.inParallel(0..<count) { index in
            let account = OpenAccount(ownerType: index % 2 == 0 ? "buyer" : "vendor", ownerId: "bench-\(index)", allowNegative: false)
            return try await self.open(account, gateway: gateway, token: admin, client: client)
        }
        _ = try await self.inParallel(ids.indices) { index in
            let amount = String(format: "%d.%02d", Self.topUpCents / 100, Self.topUpCents % 100)
            let (status, body) = try await self.transfer(
                NewTransfer(type: "topup", legs: [.init(from: funding, to: ids[index], amount: amount)]), key: "topup-\(index)", gateway: gateway,
                token: admin, client: client)
            guard status == 201 else { throw BenchError("topping up account \(index) answered \(status), not 201: \(body.prefix(500))") }
            return status
        }
        run.setupTime = setupStart.duration(to: .now)
        progress(String(format: "books opened in %.1f s", run.setupTime.seconds))

        // wrk: every request a random pair (two different accounts), a random amount, a new Idempotency-Key
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-ledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("transfers.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let list = directory.appendingPathComponent("accounts.txt")
        try (ids.joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
        let tag = String(UUID().uuidString.prefix(8)).lowercased()
        let url = "\(gateway)/v1/wallet/transfers"
        func phase(_ name: String, seconds: Int, prefix: String) async throws -> Phase {
            progress("\(name): \(options.concurrency) connections for \(seconds) s …")
            let (result, report) = try await WrkRedeemer.run(
                binary: binary, name: name, script: script, url: url, threads: 2, connections: options.concurrency, seconds: seconds,
                arguments: [list.path, admin, prefix, String(Self.maxTransferCents)])
            var phase = Phase(result: result, refused: report.extra?["insufficient_funds"] ?? 0)
            // wrk's generic count takes every answer but 200 for an error: here 201 is a posting and a 409
            // insufficient_funds a correct refusal
            phase.result.errors = phase.errors
            phase.result.firstError =
                phase.errors > 0
                ? "wrk: \(report.socketErrors) socket errors, statuses \(phase.result.statusSummary), of the 409s insufficient_funds: \(phase.refused)"
                : nil
            return phase
        }
        if options.warmup > .zero {
            run.warmup = try await phase("warm-up", seconds: max(1, Int(options.warmup.seconds.rounded())), prefix: "\(tag)-w")
        }
        run.mainPrefix = "\(tag)-m"
        run.main = try await phase("transfers", seconds: max(1, Int(options.duration.seconds.rounded())), prefix: run.mainPrefix)

        // the requests wrk left in flight finish in the service: wait until the count of transactions stands still
        var last = -1
        let settleDeadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < settleDeadline {
            let now = try await self.count("SELECT count(*)::int FROM wallet.transactions", postgres)
            if now == last { break }
            last = now
            try await Task.sleep(for: .milliseconds(500))
        }

        // the checks: the service's own, then SQL
        progress("checking the invariants …")
        let (status, body) = try await LoadGenerator.send(self.request("\(gateway)/v1/wallet/invariants", method: .GET, token: admin), client: client)
        struct Report: Decodable { var holds: Bool }
        run.endpointHolds = status == 200 && ((try? JSONDecoder().decode(Report.self, from: Data(body.utf8)))?.holds ?? false)
        run.endpointBody = "HTTP \(status): \(body)"
        let scope = "tenant_id = '\(tenant.rawValue.uuidString.lowercased())'"
        let signed = "CASE direction WHEN 'credit' THEN amount ELSE -amount END"
        run.currencySums = try await postgres.query(
            PostgresQuery(
                unsafeSQL: "SELECT currency, count(*)::int, sum(balance)::int8 FROM wallet.accounts WHERE \(scope) GROUP BY currency ORDER BY currency"),
            logger: TestLog.quiet
        ).collect().map { try $0.decode((String, Int, Int64).self) }
        run.currenciesNotZero = run.currencySums.filter { $0.2 != 0 }.count
        run.unbalancedTransactions = try await self.count(
            """
            SELECT count(*)::int FROM (
                SELECT t.id FROM wallet.transactions t LEFT JOIN wallet.entries e ON e.transaction_id = t.id WHERE t.\(scope)
                GROUP BY t.id HAVING count(e.id) = 0 OR sum(CASE e.direction WHEN 'credit' THEN e.amount ELSE -e.amount END) <> 0) x
            """, postgres)
        run.negativeAccounts = try await self.count(
            "SELECT count(*)::int FROM wallet.accounts WHERE \(scope) AND owner_type <> 'platform' AND (balance < 0 OR balance - held < 0)", postgres)
        run.balanceMismatches = try await self.count(
            """
            SELECT count(*)::int FROM wallet.accounts a
            LEFT JOIN (SELECT account_id, sum(\(signed)) AS total FROM wallet.entries GROUP BY account_id) e ON e.account_id = a.id
            WHERE a.\(scope) AND a.balance <> coalesce(e.total, 0)
            """, postgres)
        run.topups = try await self.count("SELECT count(*)::int FROM wallet.transactions WHERE \(scope) AND type = 'topup'", postgres)
        run.transfersPosted = try await self.count("SELECT count(*)::int FROM wallet.transactions WHERE \(scope) AND type = 'payout'", postgres)
        run.transfersPostedInMain = try await self.count(
            "SELECT count(*)::int FROM wallet.transactions WHERE \(scope) AND type = 'payout' AND reference LIKE '\(run.mainPrefix)-%'", postgres)
        run.transferEntries = try await self.count(
            "SELECT count(*)::int FROM wallet.entries e JOIN wallet.transactions t ON t.id = e.transaction_id WHERE t.\(scope) AND t.type = 'payout'",
            postgres)

        // the anchor after must meet a quiet server, as the one before did (see `vouchers`)
        progress("waiting for autovacuum, then a checkpoint …")
        let quietDeadline = ContinuousClock.now + .seconds(120)
        while try await self.count("SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'", postgres) > 0,
            ContinuousClock.now < quietDeadline
        {
            try await Task.sleep(for: .milliseconds(250))
        }
        try await postgres.query("CHECKPOINT", logger: TestLog.quiet)
        return run
    }

    struct OpenAccount: Encodable {
        var ownerType: String
        var ownerId: String
        var currency = "KES"
        var allowNegative: Bool
    }

    struct NewTransfer: Encodable {
        struct Leg: Encodable {
            var from: String
            var to: String
            var amount: String
        }
        var type: String
        var currency = "KES"
        var legs: [Leg]
    }

    static func request(_ url: String, method: HTTPMethod, token: String, key: String? = nil, body: Data? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let key { request.headers.add(name: "Idempotency-Key", value: key) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// Opens an account through the gateway; answers its id.
    static func open(_ account: OpenAccount, gateway: String, token: String, client: HTTPClient) async throws -> String {
        let (status, body) = try await LoadGenerator.postJSON("\(gateway)/v1/wallet/accounts", token: token, body: account, client: client)
        struct Created: Decodable { var id: String }
        guard status == 201, let created = try? JSONDecoder().decode(Created.self, from: Data(body.utf8)) else {
            throw BenchError("opening account \(account.ownerId) answered \(status), not 201: \(body.prefix(500))")
        }
        return created.id
    }

    static func transfer(_ transfer: NewTransfer, key: String, gateway: String, token: String, client: HTTPClient) async throws -> (Int, String) {
        try await LoadGenerator.send(
            self.request("\(gateway)/v1/wallet/transfers", method: .POST, token: token, key: key, body: try JSONEncoder().encode(transfer)), client: client)
    }

    /// `body` for each index, `setupConcurrency` at a time; the answers in index order.
    static func inParallel<T: Sendable>(_ indices: Range<Int>, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var results: [T?] = Array(repeating: nil, count: indices.count)
            var next = indices.lowerBound
            while next < indices.upperBound && next - indices.lowerBound < Self.setupConcurrency {
                let index = next
                group.addTask { (index, try await body(index)) }
                next += 1
            }
            while let (index, value) = try await group.next() {
                results[index - indices.lowerBound] = value
                if next < indices.upperBound {
                    let index = next
                    group.addTask { (index, try await body(index)) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }

    static func count(_ sql: String, _ postgres: PostgresClient) async throws -> Int {
        try await VouchersBenchmark.count(sql, postgres)
    }

    static func report(_ run: Run) {
        let rate = run.main.postingsPerSec
        let tps = run.pgbenchTps
        let ratio = tps.map { $0 > 0 ? rate / $0 : 0 }
        func row(_ phase: Phase) -> [String] {
            let result = phase.result
            return [
                result.name, String(result.requests), String(phase.posted), String(phase.refused), String(phase.errors),
                String(format: "%.0f", phase.postingsPerSec), String(format: "%.0f", result.rps), String(format: "%.3f", result.p50Ms),
                String(format: "%.3f", result.p99Ms),
            ]
        }
        var rows = (run.warmup.map { [row($0)] } ?? []) + [row(run.main)]
        for (pgbench, when) in zip(run.pgbench, ["before", "after"]) {
            rows.append([
                (run.anchor?.description ?? pgbench.command) + ", \(when)", pgbench.transactions.map(String.init) ?? "-",
                pgbench.transactions.map(String.init) ?? "-", "-", "-", pgbench.tps.map { String(format: "%.0f", $0) } ?? "skipped", "-",
                pgbench.latencyAverageMs.map { String(format: "avg %.3f", $0) } ?? "-", "-",
            ])
        }
        print(
            ResultTable.render(
                header: ["phase", "requests", "201s", "409 funds", "errors", "postings/s", "requests/s", "p50 ms", "p99 ms"], rows: rows))
        print(
            String(
                format: "books: %d accounts (half buyers, half vendors, KES) and a funding account, each topped up with %d.%02d, in %.1f s; "
                    + "transfers of 0.01–%d.%02d between random pairs, one leg, type payout",
                run.accounts, Self.topUpCents / 100, Self.topUpCents % 100, run.setupTime.seconds, Self.maxTransferCents / 100,
                Self.maxTransferCents % 100))
        print("transfers: \(run.main.result.statusSummary)" + (run.main.result.firstError.map { "; \($0)" } ?? ""))
        let sums = run.currencySums.map { "\($0.0): \($0.1) accounts, sum \($0.2)" }.joined(separator: "; ")
        print(
            "checks: \(run.invariantHolds ? "ok" : "FAILED (" + run.problems.joined(separator: "; ") + ")"); GET /v1/wallet/invariants holds: "
                + "\(run.endpointHolds); \(sums); unbalanced transactions \(run.unbalancedTransactions), non-platform accounts below zero "
                + "\(run.negativeAccounts), balances not the sum of their entries \(run.balanceMismatches); top-ups \(run.topups); transfers posted "
                + "\(run.transfersPosted) (\(run.transfersPostedInMain) in the measured phase) against 201s \((run.warmup?.posted ?? 0) + run.main.posted) "
                + "(\(run.main.posted)), entries \(run.transferEntries)")
        print(
            "load generator: \(run.generator); CPU µs per request: " + String(format: "%.0f", run.main.result.processCPUPerRequest)
                + " in this process (gateway and marketplace-wallet)"
                + (run.main.result.externalCPUPerRequest.map { String(format: ", %.0f in wrk", $0) } ?? ""))
        if let why = run.pgbench.compactMap(\.skipped).first { print("pgbench: skipped, \(why)") }
        if let ratio {
            print(
                String(
                    format: "postings/s %.0f vs pgbench tps %.0f (mean of before and after): ratio %.3f (target ≥ 1.0, acceptable ≥ 0.3)", rate, tps ?? 0,
                    ratio))
        }
        let json =
            #"{"scenario":"ledger","postingsPerSec":\#(jsonNumber(rate, 1)),"p99Ms":\#(jsonNumber(run.main.result.p99Ms, 3)),"#
            + #""pgbenchTps":\#(jsonNumber(tps, 1)),"ratioVsPgbench":\#(jsonNumber(ratio, 3)),"invariantHolds":\#(run.invariantHolds),"#
            + #""p50Ms":\#(jsonNumber(run.main.result.p50Ms, 3)),"posted":\#(run.main.posted),"refusedInsufficientFunds":\#(run.main.refused),"#
            + #""errors":\#(run.main.errors),"accounts":\#(run.accounts),"connections":\#(run.connections)}"#
        print(json)
    }

    /// Each request: two different accounts of the list at random, 0.01 to args[4] cents at random, and an
    /// Idempotency-Key never used before (the phase's prefix, the thread, a counter). A 409 `insufficient_funds` is
    /// counted in `extra`.
    static let script =
        WrkScript.common + #"""
            local accounts, headers, prefix, count, max_cents = {}, {}, "", 0, 1
            function init(args)
              for line in io.lines(args[1]) do accounts[#accounts + 1] = line end
              headers["Authorization"] = "Bearer " .. args[2]
              headers["Content-Type"] = "application/json"
              headers["Accept"] = "application/json"
              prefix = args[3] .. "-" .. thread_index .. "-"
              max_cents = tonumber(args[4])
              math.randomseed(now_us() + 7919 * thread_index)
              started = now_us()
            end

            function request()
              count = count + 1
              local n = #accounts
              local from = math.random(n)
              local to = math.random(n - 1)
              if to >= from then to = to + 1 end
              local cents = math.random(max_cents)
              headers["Idempotency-Key"] = prefix .. count
              local body = string.format('{"type":"payout","currency":"KES","legs":[{"from":"%s","to":"%s","amount":"%d.%02d"}]}',
                accounts[from], accounts[to], math.floor(cents / 100), cents % 100)
              return wrk.format("POST", nil, headers, body)
            end

            function response(status, headers, body)
              local key = tostring(status)
              statuses[key] = (statuses[key] or 0) + 1
              if status == 201 then last_ok = now_us() end
              if status == 409 and body ~= nil and string.find(body, "insufficient_funds", 1, true) then
                extra["insufficient_funds"] = (extra["insufficient_funds"] or 0) + 1
              end
            end

            """#
}
