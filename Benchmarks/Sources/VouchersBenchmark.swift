import AsyncHTTPClient
import Foundation
import Models
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Vouchers

/// `sokoni-bench vouchers [--vouchers 30000]`: issues N vouchers (bulk, straight to the vouchers service), then
/// redeems distinct codes through the gateway with `--concurrency` connections (wrk when installed, one station
/// operator per wrk thread; else the in-process generator, one per connection) until `--duration` ends or the codes
/// run out (then the rate counts the time they lasted), after `--warmup` on a separate pool of codes. Before that,
/// 100 concurrent redemptions of one code must give exactly one 200. Afterwards SQL checks that no voucher has two
/// `redeemed` events and that the 200s match the vouchers marked redeemed. The anchor is pgbench's TPC-B tps on the
/// same PostgreSQL server, run before the services start and again after they stop; the ratio uses the mean.
/// Target (ARCHITECTURE §7): thousands of redemptions/s; here, redemptions/s ≥ pgbench tps.
enum VouchersBenchmark {
    static let raceAttempts = 100
    static let batchSize = 10_000
    static let warmupPool = 2_000

    static func run() async throws {
        let options = try BenchOptions.parse(extraKeys: ["vouchers"])
        let count = try options.integer("vouchers", default: 30_000, range: 1...1_000_000)
        progress("vouchers benchmark: \(count) vouchers, \(options.concurrency) connections, \(options.warmup) warm-up + up to \(options.duration)")

        // the anchor before and after, on a quiet server (the platform not running): this machine's speed drifts
        // within a run, so the ratio takes the mean of the two
        let anchor = PgbenchAnchor(seconds: max(1, Int(options.duration.seconds.rounded())))
        let before = await self.measureAnchor(anchor, when: "before")

        // production job timings (tests poll every 20 ms): the redemption jobs retry in the background as deployed
        let common = ["LOG_LEVEL": "error", "JOBS_POLL_INTERVAL_MS": "250", "JOBS_BACKOFF_BASE_MS": "1000"]
        let vouchers = [
            "DATABASE_MAX_CONNECTIONS": "20",
            // every code is valid here; the lockouts (at their maximum, 10,000) must not turn a slow run into 429s
            "VOUCHERS_MAX_FAILURES_PER_OPERATOR": "10000", "VOUCHERS_MAX_FAILURES_PER_STATION": "10000",
            "JOBS_WORKERS": "1", "VOUCHERS_SWEEP_INTERVAL_MS": "600000",
        ]
        let gateway = ["RATE_LIMIT_ENABLED": "false", "AUTH_BCRYPT_COST": "4"]
        var run = try await BenchPlatform.run(common: common, gateway: gateway, vouchers: vouchers) { platform in
            try await self.measure(platform, count: count, options: options)
        }
        let after = await self.measureAnchor(anchor, when: "after")
        run.pgbench = [before, after]
        run.anchor = anchor
        self.report(run)
        guard run.consistent else { throw BenchError("the redemption checks failed: \(run.problems.joined(separator: "; "))") }
    }

    struct Run: Sendable {
        var issued = 0
        var issueTime: Duration = .zero
        var renderJobsDeleted = 0
        var renderJobsDone = 0
        var race = LoadResult(name: "race: \(VouchersBenchmark.raceAttempts) × one code")
        var raceErrorCodes: [String: Int] = [:]
        var warmup: LoadResult?
        var main = LoadResult(name: "redeem distinct codes")
        var codesLeft = 0
        var generator = ""
        var connections = 0
        var doubleRedemptions = -1
        var redeemedInCampaign = -1
        var redeemedTotal = -1
        var redeemedEvents = -1
        /// The anchor before and after the platform ran.
        var pgbench: [PgbenchAnchor.Result] = []
        var anchor: PgbenchAnchor?
        /// The mean of the anchor's runs, nil when pgbench could not run.
        var pgbenchTps: Double? {
            let measured = self.pgbench.compactMap(\.tps)
            return measured.isEmpty ? nil : measured.reduce(0, +) / Double(measured.count)
        }

        var problems: [String] {
            var problems: [String] = []
            if self.race.successes != 1 {
                problems.append("\(self.race.successes) of \(VouchersBenchmark.raceAttempts) redemptions of one code succeeded, not 1")
            }
            if self.doubleRedemptions != 0 { problems.append("\(self.doubleRedemptions) vouchers have more than one redeemed event") }
            // wrk stops with requests in flight and never reads their answers: up to one per connection may have redeemed unseen
            let unseen = self.generator.hasPrefix("wrk") ? self.connections : 0
            if !(0...unseen).contains(self.redeemedInCampaign - Int(self.main.successes)) {
                problems.append("\(self.main.successes) redemptions answered 200 but \(self.redeemedInCampaign) vouchers of the campaign are redeemed")
            }
            let answered = Int(self.race.successes + self.main.successes + (self.warmup?.successes ?? 0))
            if !(0...(2 * unseen)).contains(self.redeemedTotal - answered) || self.redeemedEvents != self.redeemedTotal {
                problems.append("\(answered) 200s in all, \(self.redeemedTotal) vouchers redeemed, \(self.redeemedEvents) redeemed events")
            }
            return problems
        }
        var consistent: Bool { self.problems.isEmpty }
    }

    static func measure(_ platform: BenchPlatform, count: Int, options: BenchOptions) async throws -> Run {
        let client = LoadGenerator.makeClient(concurrency: max(options.concurrency, Self.raceAttempts))
        // a bulk issue of 10,000 answers only when all are written
        let setup = LoadGenerator.makeClient(concurrency: 2, readTimeout: .seconds(600))
        do {
            let run = try await self.withPostgres(platform.database) { postgres in
                try await self.measure(platform, postgres: postgres, client: client, setup: setup, count: count, options: options)
            }
            try await client.shutdown()
            try await setup.shutdown()
            return run
        } catch {
            try? await client.shutdown()
            try? await setup.shutdown()
            throw error
        }
    }

    static func measure(
        _ platform: BenchPlatform, postgres: PostgresClient, client: HTTPClient, setup: HTTPClient, count: Int, options: BenchOptions
    ) async throws -> Run {
        var run = Run()
        let tenant = try await platform.createTenant(client: client, currency: "RWF")
        let admin = try await BenchPlatform.tenantAdminToken(tenant)
        let (stationStatus, stationBody) = try await LoadGenerator.postJSON(
            "\(platform.gatewayURL)/v1/stations", token: admin, body: CreateStation(name: "S1", engencode: "BENCH-1"), client: client)
        struct Created: Decodable { var id: String }
        guard stationStatus == 201, let created = try? JSONDecoder().decode(Created.self, from: Data(stationBody.utf8)),
            let station = StationID(created.id)
        else { throw BenchError("creating the station answered \(stationStatus), not 201: \(stationBody.prefix(500))") }

        // issue: the campaign measured, and a second one for the race and the warm-up, so the checks tell them apart
        let service = try await TestKeys.token(tenant: tenant, roles: [.service], lifetime: .seconds(3600))
        let campaign = UUID()
        progress("issuing \(count) vouchers …")
        let issueStart = ContinuousClock.now
        let codes = try await self.issue(count, campaign: campaign, keyPrefix: "r", platform: platform, token: service, client: setup)
        run.issueTime = issueStart.duration(to: .now)
        run.issued = codes.count
        let extra = try await self.issue(
            1 + (options.warmup > .zero ? Self.warmupPool : 0), campaign: UUID(), keyPrefix: "w", platform: platform, token: service, client: setup)
        let raceCode = extra[0]
        let warmupCodes = Array(extra.dropFirst())

        // image rendering is the bulk issue's work, not the redemptions': the queued render jobs are deleted, and the
        // running ones (one worker) finished, so none of it runs in the measured window
        run.renderJobsDone = try await self.count("SELECT count(*)::int FROM vouchers.jobs WHERE kind = 'voucher.render' AND status = 'done'", postgres)
        run.renderJobsDeleted = try await self.count(
            "WITH gone AS (DELETE FROM vouchers.jobs WHERE kind = 'voucher.render' AND status = 'queued' RETURNING 1) SELECT count(*)::int FROM gone",
            postgres)
        progress("deleted \(run.renderJobsDeleted) queued image jobs (\(run.renderJobsDone) done); waiting for the job queue to empty …")
        let queueDeadline = ContinuousClock.now + .seconds(120)
        while try await self.count("SELECT count(*)::int FROM vouchers.jobs WHERE status IN ('queued', 'running')", postgres) > 0 {
            guard ContinuousClock.now < queueDeadline else { throw BenchError("the vouchers job queue did not empty within 120 s") }
            try await Task.sleep(for: .milliseconds(100))
        }

        // one station operator per connection, all at the one station
        let operators = try await (0..<options.concurrency).asyncMap { index in
            try await TestKeys.token(subject: "op-\(index)", tenant: tenant, roles: [.stationOperator], station: station, lifetime: .seconds(3600))
        }
        let url = "\(platform.gatewayURL)/v1/redemptions"
        let templates = operators.map { token in
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "application/json")
            return request
        }
        @Sendable func redeem(_ code: String, worker: Int) -> HTTPClientRequest {
            var request = templates[worker % templates.count]
            request.body = .bytes(ByteBuffer(string: #"{"code":"\#(code)"}"#))
            return request
        }

        // the race: every attempt at once, each on its own connection
        progress("race: \(Self.raceAttempts) concurrent redemptions of \(raceCode) …")
        let raceStart = ContinuousClock.now
        let attempts = await withTaskGroup(of: (Int, String?, Duration).self) { group in
            for attempt in 0..<Self.raceAttempts {
                group.addTask {
                    let sent = ContinuousClock.now
                    do {
                        let (status, body) = try await LoadGenerator.send(redeem(raceCode, worker: attempt), client: client)
                        struct Failure: Decodable {
                            struct Detail: Decodable { var code: String }
                            var error: Detail
                        }
                        let code = status == 200 ? nil : (try? JSONDecoder().decode(Failure.self, from: Data(body.utf8)))?.error.code ?? "HTTP \(status)"
                        return (status, code, sent.duration(to: .now))
                    } catch {
                        return (0, "\(error)", sent.duration(to: .now))
                    }
                }
            }
            return await group.reduce(into: [(Int, String?, Duration)]()) { $0.append($1) }
        }
        run.race.elapsed = raceStart.duration(to: .now)
        for (status, code, latency) in attempts {
            run.race.requests += 1
            run.race.statuses[status, default: 0] += 1
            if status != 200 { run.race.errors += 1 }
            if let code { run.raceErrorCodes[code, default: 0] += 1 }
            run.race.latencies.record(UInt64(max(1, latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000)))
        }
        guard run.race.successes == 1 else {
            throw BenchError(
                "RACE CHECK FAILED: \(Self.raceAttempts) concurrent redemptions of one code gave \(run.race.successes) successes, not exactly 1 "
                    + "(\(run.race.statusSummary); \(run.raceErrorCodes))")
        }

        // the load: wrk when installed (its CPU outside this process, as pgbench's client is), else the in-process generator
        let wrk = WrkRedeemer()
        defer { wrk?.cleanUp() }
        run.connections = options.concurrency
        run.generator = wrk.map { "wrk (\($0.binary))" } ?? "in-process AsyncHTTPClient (wrk not found; Debian: apt-get install wrk)"
        progress("load generator: \(run.generator)")
        func phase(_ codes: [String], name: String, duration: Duration) async throws -> (LoadResult, Int) {
            if let wrk {
                return try await wrk.redeem(codes, name: name, url: url, tokens: operators, connections: options.concurrency, duration: duration)
            }
            return await self.redeemAll(codes, name: name, client: client, concurrency: options.concurrency, duration: duration, redeem: redeem)
        }
        if !warmupCodes.isEmpty {
            progress("warming up on \(warmupCodes.count) other codes for up to \(options.warmup) …")
            run.warmup = try await phase(warmupCodes, name: "warm-up (other codes)", duration: options.warmup).0
        }
        progress("redeeming \(codes.count) distinct codes for up to \(options.duration) …")
        (run.main, run.codesLeft) = try await phase(codes, name: "redeem distinct codes", duration: options.duration)

        run.doubleRedemptions = try await self.count(
            """
            SELECT count(*)::int FROM (SELECT voucher_id FROM vouchers.voucher_events WHERE event_type = 'redeemed'
            GROUP BY voucher_id HAVING count(*) > 1) x
            """, postgres)
        run.redeemedInCampaign = try await self.count(
            "SELECT count(*)::int FROM vouchers.vouchers WHERE campaign_id = '\(campaign.uuidString)' AND status = 'redeemed'", postgres)
        run.redeemedTotal = try await self.count("SELECT count(*)::int FROM vouchers.vouchers WHERE status = 'redeemed'", postgres)
        run.redeemedEvents = try await self.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE event_type = 'redeemed'", postgres)

        // the anchor after must meet a quiet server, as the one before did: autovacuum's clean-up after this run and
        // its dirty pages are left to finish first (pgbench leaves the same behind for whatever comes after it)
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

    /// Closed-loop redemptions of `codes`, each taken once, until they run out or `duration` ends; with the number of
    /// codes never tried.
    static func redeemAll(
        _ codes: [String], name: String, client: HTTPClient, concurrency: Int, duration: Duration,
        redeem: @escaping @Sendable (String, Int) -> HTTPClientRequest
    ) async -> (result: LoadResult, left: Int) {
        let cursor = Cursor()
        let result = await LoadGenerator.measure(name: name, client: client, concurrency: concurrency, duration: duration) { worker in
            let index = cursor.take()
            return index < codes.count ? redeem(codes[index], worker) : nil
        }
        return (result, max(0, codes.count - cursor.taken))
    }

    /// Issues `count` vouchers of 1000 RWF in one campaign through `POST /v1/vouchers/bulk` on the vouchers service, in
    /// batches of up to 10,000; answers their codes.
    static func issue(
        _ count: Int, campaign: UUID, keyPrefix: String, platform: BenchPlatform, token: String, client: HTTPClient
    ) async throws -> [String] {
        struct Issued: Decodable {
            struct Voucher: Decodable { var code: String }
            var created: Int
            var vouchers: [Voucher]
        }
        var codes: [String] = []
        codes.reserveCapacity(count)
        var start = 0
        while start < count {
            let end = min(count, start + Self.batchSize)
            let recipients = (start..<end).map { index in
                BulkRecipient(recipientKey: "\(keyPrefix)\(index)", msisdn: "+25078" + String(format: "%07d", index % 10_000_000))
            }
            let body = BulkIssue(campaignId: campaign.uuidString.lowercased(), amount: "1000", recipients: recipients)
            let (status, text) = try await LoadGenerator.postJSON(
                "\(platform.vouchersURL)/v1/vouchers/bulk", token: token, body: body, client: client, timeout: .seconds(600))
            guard status == 200, let issued = try? JSONDecoder().decode(Issued.self, from: Data(text.utf8)) else {
                throw BenchError("the bulk issue answered \(status): \(text.prefix(500))")
            }
            guard issued.created == recipients.count, issued.vouchers.count == recipients.count else {
                throw BenchError("the bulk issue of \(recipients.count) created \(issued.created) and answered \(issued.vouchers.count) vouchers")
            }
            codes += issued.vouchers.map(\.code)
            start = end
            progress("issued \(codes.count) of \(count)")
        }
        guard Set(codes).count == codes.count else { throw BenchError("the bulk issue answered a code twice") }
        return codes
    }

    /// A PostgreSQL client of its own (two connections) on the platform's database, for the checks.
    static func withPostgres<T: Sendable>(_ url: DatabaseURL, _ body: (PostgresClient) async throws -> T) async throws -> T {
        let postgres = PostgresClient(configuration: url.clientConfiguration(maxConnections: 2), backgroundLogger: TestLog.quiet)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await postgres.run() }
            defer { group.cancelAll() }
            return try await body(postgres)
        }
    }

    static func count(_ sql: String, _ postgres: PostgresClient) async throws -> Int {
        try await postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? -1
    }

    /// Hands out 0, 1, 2, … once each, to any number of workers.
    final class Cursor: Sendable {
        private let next = Atomic<Int>(0)
        func take() -> Int { self.next.wrappingAdd(1, ordering: .relaxed).oldValue }
        var taken: Int { self.next.load(ordering: .relaxed) }
    }

    static func measureAnchor(_ anchor: PgbenchAnchor, when: String) async -> PgbenchAnchor.Result {
        let result = await anchor.measure()
        if let why = result.skipped { progress("pgbench (\(when)): skipped, \(why)") }
        if let tps = result.tps { progress(String(format: "pgbench (\(when)): %.0f tps", tps)) }
        return result
    }

    static func report(_ run: Run) {
        let rps = run.main.seconds > 0 ? Double(run.main.successes) / run.main.seconds : 0
        let tps = run.pgbenchTps
        let ratio = tps.map { $0 > 0 ? rps / $0 : 0 }
        func row(_ result: LoadResult) -> [String] {
            [
                result.name, String(result.requests), String(result.successes),
                String(format: "%.0f", result.seconds > 0 ? Double(result.successes) / result.seconds : 0),
                String(format: "%.3f", result.p50Ms), String(format: "%.3f", result.p99Ms), String(result.errors),
            ]
        }
        var rows = [row(run.race)] + (run.warmup.map { [row($0)] } ?? []) + [row(run.main)]
        for (pgbench, when) in zip(run.pgbench, ["before", "after"]) {
            rows.append([
                (run.anchor?.description ?? pgbench.command) + ", \(when)", pgbench.transactions.map(String.init) ?? "-",
                pgbench.transactions.map(String.init) ?? "-", pgbench.tps.map { String(format: "%.0f", $0) } ?? "skipped",
                pgbench.latencyAverageMs.map { String(format: "avg %.3f", $0) } ?? "-", "-", "-",
            ])
        }
        print(ResultTable.render(header: ["phase", "requests", "200s", "per s", "p50 ms", "p99 ms", "errors"], rows: rows))
        let issueSeconds = run.issueTime.seconds
        print(
            "issued: \(run.issued) vouchers in \(String(format: "%.1f", issueSeconds)) s (bulk, batches of \(Self.batchSize), "
                + "\(String(format: "%.0f", issueSeconds > 0 ? Double(run.issued) / issueSeconds : 0))/s); image jobs: "
                + "\(run.renderJobsDeleted) queued deleted before measuring, \(run.renderJobsDone) rendered during issue")
        let raceCodes = run.raceErrorCodes.sorted { $0.value > $1.value }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
        print("race: \(run.race.successes == 1 ? "ok" : "FAILED"), \(run.race.successes) of \(run.race.requests) answered 200; the rest: \(raceCodes)")
        print(
            "redeem: \(run.main.statusSummary); \(run.codesLeft) codes left unused"
                + (run.main.ranOut
                    ? String(format: "; the codes ran out after %.1f s, the rate counts that time only (issue more with --vouchers)", run.main.seconds) : "")
                + (run.main.firstError.map { "; first error: \($0)" } ?? ""))
        print(
            "checks: \(run.consistent ? "ok" : "FAILED (" + run.problems.joined(separator: "; ") + ")"); vouchers with >1 redeemed event: "
                + "\(run.doubleRedemptions); 200s \(run.main.successes), redeemed in the campaign \(run.redeemedInCampaign); "
                + "all 200s \(run.race.successes + run.main.successes + (run.warmup?.successes ?? 0)), redeemed \(run.redeemedTotal), events \(run.redeemedEvents)"
        )
        print(
            "load generator: \(run.generator); CPU µs per redemption: " + String(format: "%.0f", run.main.processCPUPerRequest)
                + " in this process (gateway and vouchers\(run.main.externalCPU == nil ? ", load generator" : ""))"
                + (run.main.externalCPUPerRequest.map { String(format: ", %.0f in wrk", $0) } ?? ""))
        if let why = run.pgbench.compactMap(\.skipped).first { print("pgbench: skipped, \(why)") }
        if let ratio {
            print(
                String(
                    format: "redemptions/s %.0f vs pgbench tps %.0f (mean of before and after): ratio %.3f (target ≥ 1.0, acceptable ≥ 0.3)", rps, tps ?? 0,
                    ratio))
        }
        let json =
            #"{"scenario":"vouchers","redemptionsPerSec":\#(jsonNumber(rps, 1)),"p50Ms":\#(jsonNumber(run.main.p50Ms, 3)),"#
            + #""p99Ms":\#(jsonNumber(run.main.p99Ms, 3)),"pgbenchTps":\#(jsonNumber(tps, 1)),"ratioVsPgbench":\#(jsonNumber(ratio, 3)),"#
            + #""doubleRedemptions":\#(run.doubleRedemptions),"issued":\#(run.issued),"redeemed":\#(run.main.successes),"errors":\#(run.main.errors)}"#
        print(json)
    }
}

extension Sequence where Element: Sendable {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
