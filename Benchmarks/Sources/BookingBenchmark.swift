import AsyncHTTPClient
import Foundation
import Models
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport

/// `sokoni-bench booking`: calendar-booking's two hot paths, through the gateway.
///
/// 1. Slot search: one calendar agent (Africa/Nairobi, open 08:00–18:00 every day, 30-minute slots, 10-minute buffers
///    before and after) with a year of appointments on each side of today (`--appointments`, about 2,500, booked
///    through the gateway 16 at a time with source `manual`, starts at least an hour apart so no buffers clash), then
///    `GET /v1/availability?agentId=…&from=…&to=…&duration=30&tz=Europe/Malta` for a 14-day window starting at a
///    random minute of the coming year (chosen per request by wrk's Lua script), at each of `--levels` connections:
///    p50/p99 and requests/s. The anchor, in the same run at the same levels: `GET /v1/calendar-booking/whoami`
///    through the gateway (token check, route table, tenant check, proxy, the service's token check) with the same
///    query string. At the first level the same two are also sent straight to the service, and the four SQL
///    statements a search runs and the JSON encoding of its answer are timed on their own, to tell the gateway, the
///    database and the service's own work apart.
///    Goal: p99 ≤ 10 ms through the gateway.
/// 2. Booking race: `--race-attempts` (200) concurrent `POST /v1/appointments` at one free slot (source `web`, each
///    with its own `Idempotency-Key`, alternately `scheduled` and `pending`), `--race-rounds` (5) rounds on
///    different days. Exactly one 201 per slot and 409 `slot_taken` for the rest, or the run fails (exit 1); the
///    appointments are counted in SQL afterwards.
///
/// Options besides the common ones (`--duration`, `--warmup`; `--concurrency` is ignored): `--appointments N`,
/// `--levels 1,16`, `--race-rounds N`, `--race-attempts N`.
enum BookingBenchmark {
    static let agentZone = "Africa/Nairobi"
    /// Nairobi keeps UTC+3 all year.
    static let agentOffsetSeconds = 3 * 3600
    static let askerZone = "Europe/Malta"
    static let windowDays = 14
    static let durationMinutes = 30
    /// 08:00–18:00: twenty half-hour slots a day.
    static let openMinute = 8 * 60
    static let slotsPerDay = 20
    static let sqlSamples = 50

    static func run() async throws {
        let options = try BenchOptions.parse(extraKeys: ["appointments", "levels", "race-rounds", "race-attempts"])
        let appointments = try options.integer("appointments", default: 2_500, range: 100...7_000)
        let levels = (options.extras["levels"] ?? "1,16").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ (1...4096).contains($0) }) else { throw BenchError("--levels is a comma list of 1…4096") }
        let rounds = try options.integer("race-rounds", default: 5, range: 1...50)
        let attempts = try options.integer("race-attempts", default: 200, range: 2...1_000)
        guard let binary = try? Binaries.find("wrk") else { throw BenchError("wrk not found (Debian: apt-get install wrk): this scenario needs it") }
        progress(
            "booking: ~\(appointments) appointments, slot search at \(levels) connections, \(options.warmup) warm-up + \(options.duration) per phase; "
                + "race: \(rounds) rounds of \(attempts)")

        // production timings: job polling, the tenant-standing cache (tests re-check it every 100 ms), the pool size
        let common = ["LOG_LEVEL": "error", "JOBS_POLL_INTERVAL_MS": "250", "JOBS_BACKOFF_BASE_MS": "1000", "AUTH_TENANT_STANDING_TTL_MS": "5000"]
        let settings: [ServiceName: [String: String]] = [
            .gateway: ["RATE_LIMIT_ENABLED": "false", "DATABASE_MAX_CONNECTIONS": "10"],
            // messaging is not running: the reminder sender stays idle rather than fail the bookings' confirmations in
            // the background while the searches are measured (each booking still plans them, as in production)
            .calendarBooking: ["DATABASE_MAX_CONNECTIONS": "20", "CALENDAR_REMINDER_INTERVAL_MS": "86400000"],
        ]
        let run = try await TestServices.with([.calendarBooking, .gateway], overrides: common, settings: settings) { platform in
            try await self.measure(
                platform, binary: binary, target: appointments, levels: levels, rounds: rounds, attempts: attempts, options: options)
        }
        self.report(run)
        guard run.problems.isEmpty else { throw BenchError("the booking checks failed: \(run.problems.joined(separator: "; "))") }
    }

    struct Level: Sendable {
        var connections: Int
        var search: LoadResult
        var anchor: LoadResult
        var searchBytes: UInt64 = 0
    }

    struct RaceRound: Sendable {
        var slot: String
        var elapsed: Duration = .zero
        /// `201`, `409 slot_taken`, `409 outside_availability`, `HTTP 500`, `no answer: …` with their counts.
        var answers: [String: Int] = [:]
        var latencies = LoadGenerator.newHistogram()
        /// Appointments at the slot's start in SQL afterwards: all, and active.
        var rowsAtSlot = -1
        var activeAtSlot = -1
        var winners: Int { self.answers["201"] ?? 0 }
        var refusals: Int { self.answers["409 slot_taken"] ?? 0 }
        var ok: Bool { self.winners == 1 && self.refusals == self.answers.values.reduce(0, +) - 1 && self.rowsAtSlot == 1 && self.activeAtSlot == 1 }
    }

    struct Run: Sendable {
        var seeded = 0
        var seededPast = 0
        var seedTime: Duration = .zero
        var appointmentsInSQL = -1
        var sampleSlots: [Int] = []
        var levels: [Level] = []
        var directSearch: LoadResult?
        var directAnchor: LoadResult?
        /// Median ms of each statement a search runs, in order, with the rows the booked one read.
        var sql: [(name: String, ms: Double)] = []
        var bookedRows = 0.0
        /// Median ms to encode an answer of the mean number of slots as the service does (`JSONEncoder.sokoni`).
        var encodeMs = 0.0
        var plan: [String] = []
        var attempts = 0
        var race: [RaceRound] = []
        var appointmentsAfter = -1

        var problems: [String] {
            var problems: [String] = []
            for level in self.levels {
                for result in [level.search, level.anchor] where result.errors > 0 {
                    problems.append("\(result.name): \(result.errors) of \(result.requests) not 200 (\(result.firstError ?? result.statusSummary))")
                }
            }
            for result in [self.directSearch, self.directAnchor].compactMap({ $0 }) where result.errors > 0 {
                problems.append("\(result.name): \(result.errors) of \(result.requests) not 200 (\(result.firstError ?? result.statusSummary))")
            }
            if self.appointmentsInSQL != self.seeded { problems.append("\(self.seeded) bookings answered 201 but \(self.appointmentsInSQL) are stored") }
            for (index, round) in self.race.enumerated() where !round.ok {
                problems.append(
                    "race round \(index + 1) at \(round.slot): \(round.winners) winners, answers \(BookingBenchmark.summary(round.answers)), "
                        + "\(round.rowsAtSlot) rows (\(round.activeAtSlot) active) at the slot in SQL")
            }
            if self.appointmentsAfter != self.seeded + self.race.count {
                problems.append("\(self.appointmentsAfter) appointments after the race, not \(self.seeded) + \(self.race.count)")
            }
            return problems
        }
        var raceOk: Bool { !self.race.isEmpty && self.race.allSatisfy(\.ok) && self.appointmentsAfter == self.seeded + self.race.count }
    }

    static func measure(
        _ platform: TestPlatform, binary: String, target: Int, levels: [Int], rounds: Int, attempts: Int, options: BenchOptions
    ) async throws -> Run {
        let setup = LoadGenerator.makeClient(concurrency: LedgerBenchmark.setupConcurrency)
        let racing = LoadGenerator.makeClient(concurrency: attempts)
        do {
            let run = try await self.measure(
                platform, setup: setup, racing: racing, binary: binary, target: target, levels: levels, rounds: rounds, attempts: attempts,
                options: options)
            try await setup.shutdown()
            try await racing.shutdown()
            return run
        } catch {
            try? await setup.shutdown()
            try? await racing.shutdown()
            throw error
        }
    }

    static func measure(
        _ platform: TestPlatform, setup: HTTPClient, racing: HTTPClient, binary: String, target: Int, levels: [Int], rounds: Int, attempts: Int,
        options: BenchOptions
    ) async throws -> Run {
        var run = Run()
        run.attempts = attempts
        let gateway = platform.url(.gateway)
        let direct = platform.url(.calendarBooking)
        let postgres = platform.environment(.calendarBooking).postgres
        let tenant = try await platform.createTenant()
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin], lifetime: .seconds(7200))

        // the calendar: Nairobi, 08:00–18:00 every day, 30-minute slots, 10-minute buffers
        let (created, agentBody) = try await LoadGenerator.postJSON(
            "\(gateway)/v1/calendar/agents", token: admin, body: NewAgent(name: "Amina", timeZone: Self.agentZone), client: setup)
        struct Created: Decodable { var id: String }
        guard created == 201, let agent = try? JSONDecoder().decode(Created.self, from: Data(agentBody.utf8)).id else {
            throw BenchError("creating the calendar agent answered \(created): \(agentBody.prefix(500))")
        }
        let weekly = (1...7).map { #"{"weekday":\#($0),"start":"08:00","end":"18:00"}"# }.joined(separator: ",")
        let rules =
            #"{"agentId":"\#(agent)","schedule":{"timeZone":"\#(Self.agentZone)","weekly":[\#(weekly)],"overrides":[],"#
            + #""bufferBeforeMinutes":10,"bufferAfterMinutes":10,"slotStepMinutes":30}}"#
        let (ruled, rulesBody) = try await LoadGenerator.send(
            LedgerBenchmark.request("\(gateway)/v1/availability/rules", method: .PUT, token: admin, body: Data(rules.utf8)), client: setup)
        guard ruled == 200 else { throw BenchError("setting the rules answered \(ruled): \(rulesBody.prefix(500))") }

        // a year back and a year ahead of appointments, booked through the gateway as staff book by hand
        let now = Date()
        let starts = Self.appointmentStarts(target: target, now: now)
        run.seededPast = starts.filter { $0 < now }.count
        progress("booking \(starts.count) appointments (\(run.seededPast) past) through the gateway, \(LedgerBenchmark.setupConcurrency) at a time …")
        let seedStarted = ContinuousClock.now
        _ = try await LedgerBenchmark.inParallel(starts.indices) { index in
            let body = Self.booking(agent: agent, start: Self.iso(starts[index]), status: "scheduled", source: "manual", phone: 712_000_000 + index)
            let (status, text) = try await LoadGenerator.send(
                LedgerBenchmark.request("\(gateway)/v1/appointments", method: .POST, token: admin, body: Data(body.utf8)), client: setup)
            guard status == 201 else { throw BenchError("booking appointment \(index) at \(starts[index]) answered \(status): \(text.prefix(500))") }
            return status
        }
        run.seedTime = seedStarted.duration(to: .now)
        run.seeded = starts.count
        let scope = "agent_id = '\(agent.lowercased())'"
        run.appointmentsInSQL = try await VouchersBenchmark.count("SELECT count(*)::int FROM calendar.appointments WHERE \(scope)", postgres)
        // the statistics a table of this size has in production (autovacuum would analyze it soon)
        try await postgres.query("ANALYZE calendar.appointments", logger: TestLog.quiet)
        progress(String(format: "booked %d in %.1f s; %d stored", run.seeded, run.seedTime.seconds, run.appointmentsInSQL))

        // the windows: 14 days from a random minute of the coming year (the seeded year ahead less the window)
        let windowSeconds = Self.windowDays * 86_400
        let firstFrom = Int(now.timeIntervalSince1970) + 300
        let spanMinutes = (365 * 86_400 - windowSeconds - 300) / 60
        var generator = Generator(seed: 7)
        let sampleWindows = (0..<Self.sqlSamples).map { _ in
            let from = Date(timeIntervalSince1970: Double(firstFrom + 60 * generator.next(spanMinutes + 1)))
            return (from, from.addingTimeInterval(Double(windowSeconds)))
        }
        let query = "agentId=\(agent)&duration=\(Self.durationMinutes)&tz=\(Self.askerZone)"
        let searchPath = "/v1/availability?\(query)"
        let anchorPath = "/v1/calendar-booking/whoami?\(query)"

        // every target answers 200 before anything is measured; a few windows say how many slots a search returns
        for (from, to) in sampleWindows.prefix(20) {
            let url = "\(gateway)\(searchPath)&from=\(Self.iso(from))&to=\(Self.iso(to))"
            let (status, text) = try await LoadGenerator.send(LedgerBenchmark.request(url, method: .GET, token: admin), client: setup)
            guard status == 200, let found = try? JSONDecoder().decode(FoundSlots.self, from: Data(text.utf8)) else {
                throw BenchError("the slot search \(url) answered \(status): \(text.prefix(500))")
            }
            run.sampleSlots.append(found.slots.count)
        }
        guard run.sampleSlots.allSatisfy({ $0 > 0 }) else { throw BenchError("a 14-day window of the coming year had no free slot: \(run.sampleSlots)") }
        for base in [gateway, direct] {
            let (status, text) = try await LoadGenerator.send(LedgerBenchmark.request("\(base)\(anchorPath)", method: .GET, token: admin), client: setup)
            guard status == 200 else { throw BenchError("\(base)\(anchorPath) answered \(status): \(text.prefix(500))") }
        }

        // the statements a search runs, timed alone on the service's own pool (nothing else running)
        progress("timing the search's SQL on its own …")
        (run.sql, run.bookedRows) = try await Self.sqlTimings(postgres: postgres, agent: agent, tenant: tenant, windows: sampleWindows)
        run.plan = try await Self.bookedPlan(postgres: postgres, agent: agent, window: sampleWindows[0])
        run.encodeMs = try Self.encodeTiming(slots: run.sampleSlots.reduce(0, +) / run.sampleSlots.count)

        // wrk: a new window per request
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-booking-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("windows.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let seconds = max(1, Int(options.duration.seconds.rounded()))
        func phase(_ name: String, base: String, path: String, connections: Int, seconds: Int) async throws -> (LoadResult, UInt64) {
            progress("\(name) for \(seconds) s …")
            let (result, report) = try await WrkRedeemer.run(
                binary: binary, name: name, script: script, url: base + "/", threads: min(2, connections), connections: connections, seconds: seconds,
                arguments: [path, admin, String(firstFrom), String(spanMinutes), String(windowSeconds)])
            return (result, report.extra?["bytes"] ?? 0)
        }
        if options.warmup > .zero {
            let warmup = max(1, Int(options.warmup.seconds.rounded()))
            _ = try await phase("warm-up (slot search)", base: gateway, path: searchPath, connections: levels.last!, seconds: warmup)
            _ = try await phase("warm-up (whoami)", base: gateway, path: anchorPath, connections: levels.last!, seconds: warmup)
        }
        for connections in levels {
            let (search, bytes) = try await phase("slot search c=\(connections)", base: gateway, path: searchPath, connections: connections, seconds: seconds)
            let (anchor, _) = try await phase("whoami (anchor) c=\(connections)", base: gateway, path: anchorPath, connections: connections, seconds: seconds)
            run.levels.append(Level(connections: connections, search: search, anchor: anchor, searchBytes: bytes))
        }
        // the same, straight to the service, at the first level: what the gateway adds
        run.directSearch = try await phase("direct slot search c=\(levels[0])", base: direct, path: searchPath, connections: levels[0], seconds: seconds).0
        run.directAnchor = try await phase("direct whoami c=\(levels[0])", base: direct, path: anchorPath, connections: levels[0], seconds: seconds).0

        // the race: a free slot on each of the next days, every attempt at once, each on its own connection
        for round in 0..<rounds {
            let dayStart = Self.localMidnight(now, plusDays: 2 + round)
            let url = "\(gateway)\(searchPath)&from=\(Self.iso(dayStart))&to=\(Self.iso(dayStart.addingTimeInterval(86_400)))"
            let (status, text) = try await LoadGenerator.send(LedgerBenchmark.request(url, method: .GET, token: admin), client: setup)
            guard status == 200, let slot = (try? JSONDecoder().decode(FoundSlots.self, from: Data(text.utf8)))?.slots.first?.startsAt else {
                throw BenchError("no free slot for race round \(round + 1) (\(url) answered \(status): \(text.prefix(300)))")
            }
            progress("race round \(round + 1): \(attempts) concurrent bookings of \(slot) …")
            var result = await Self.race(slot: slot, agent: agent, round: round, attempts: attempts, gateway: gateway, token: admin, client: racing)
            result.rowsAtSlot = try await VouchersBenchmark.count(
                "SELECT count(*)::int FROM calendar.appointments WHERE \(scope) AND starts_at = '\(slot)'::timestamptz", postgres)
            result.activeAtSlot = try await VouchersBenchmark.count(
                "SELECT count(*)::int FROM calendar.appointments WHERE \(scope) AND starts_at = '\(slot)'::timestamptz "
                    + "AND status IN ('pending', 'scheduled', 'confirmed')", postgres)
            run.race.append(result)
        }
        run.appointmentsAfter = try await VouchersBenchmark.count("SELECT count(*)::int FROM calendar.appointments WHERE \(scope)", postgres)
        return run
    }

    /// What `GET /v1/availability` answers, as far as the set-up reads it.
    struct FoundSlots: Decodable {
        struct Slot: Decodable { var startsAt: String }
        var slots: [Slot]
    }

    struct NewAgent: Encodable {
        var name: String
        var timeZone: String
    }

    /// One round: `attempts` bookings of `slot` at once; every answer by status and error code, and the round's time.
    static func race(slot: String, agent: String, round: Int, attempts: Int, gateway: String, token: String, client: HTTPClient) async -> RaceRound {
        let tag = UUID().uuidString.prefix(8).lowercased()
        var result = RaceRound(slot: slot)
        let started = ContinuousClock.now
        let answers = await withTaskGroup(of: (String, Duration).self) { group in
            for attempt in 0..<attempts {
                group.addTask {
                    let body = Self.booking(
                        agent: agent, start: slot, status: attempt % 2 == 0 ? "scheduled" : "pending", source: "web", phone: 722_000_000 + attempt)
                    let request = LedgerBenchmark.request(
                        "\(gateway)/v1/appointments", method: .POST, token: token, key: "race-\(tag)-\(round)-\(attempt)", body: Data(body.utf8))
                    let sent = ContinuousClock.now
                    do {
                        let (status, text) = try await LoadGenerator.send(request, client: client)
                        struct Failure: Decodable {
                            struct Detail: Decodable { var code: String }
                            var error: Detail
                        }
                        let code = (try? JSONDecoder().decode(Failure.self, from: Data(text.utf8)))?.error.code
                        return (status == 201 ? "201" : "\(status == 409 ? "409" : "HTTP \(status)")\(code.map { " \($0)" } ?? "")", sent.duration(to: .now))
                    } catch {
                        return ("no answer: \(error)", sent.duration(to: .now))
                    }
                }
            }
            return await group.reduce(into: [(String, Duration)]()) { $0.append($1) }
        }
        result.elapsed = started.duration(to: .now)
        for (answer, latency) in answers {
            result.answers[answer, default: 0] += 1
            result.latencies.record(UInt64(max(1, latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000)))
        }
        return result
    }

    /// A booking's JSON: 30 minutes from `start` (an ISO 8601 instant), in the asker's zone.
    static func booking(agent: String, start: String, status: String, source: String, phone: Int) -> String {
        #"{"agentId":"\#(agent)","type":"property_visit","title":"Viewing","startsAt":"\#(start)","durationMinutes":\#(Self.durationMinutes),"#
            + #""status":"\#(status)","source":"\#(source)","timeZone":"\#(Self.askerZone)","contactPhone":"+254\#(phone)"}"#
    }

    /// About `target` appointment starts, spread over the 365 local days before today and the 365 from today: each day
    /// 0 to twice the mean of its twenty half-hour slots at random, at least an hour apart (so the buffers never make two
    /// clash).
    static func appointmentStarts(target: Int, now: Date) -> [Date] {
        var generator = Generator(seed: 42)
        let today = (Int(now.timeIntervalSince1970) + Self.agentOffsetSeconds) / 86_400
        // the number per day averages target / 730
        let perDay = Double(target) / 730
        var starts: [Date] = []
        for day in (today - 365)..<(today + 365) {
            // uniform in 0…2 × perDay; an hour apart, at most ten fit in a day
            let count = min(Self.slotsPerDay / 2, Int((Double(generator.next(1_000_001)) / 1_000_000 * 2 * perDay).rounded()))
            var taken: [Int] = []
            var order = Array(0..<Self.slotsPerDay)
            for index in order.indices.reversed() { order.swapAt(index, generator.next(index + 1)) }
            for slot in order where taken.count < count && !taken.contains(where: { abs($0 - slot) < 2 }) { taken.append(slot) }
            for slot in taken.sorted() {
                let seconds = day * 86_400 + (Self.openMinute + 30 * slot) * 60 - Self.agentOffsetSeconds
                starts.append(Date(timeIntervalSince1970: Double(seconds)))
            }
        }
        return starts
    }

    /// Nairobi's midnight `days` days after today's.
    static func localMidnight(_ now: Date, plusDays days: Int) -> Date {
        let today = (Int(now.timeIntervalSince1970) + Self.agentOffsetSeconds) / 86_400
        return Date(timeIntervalSince1970: Double((today + days) * 86_400 - Self.agentOffsetSeconds))
    }

    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    /// The median time of each statement `GET /v1/availability` runs (as its stores write them), over `windows`.
    static func sqlTimings(postgres: PostgresClient, agent: String, tenant: TenantID, windows: [(Date, Date)]) async throws -> (
        [(name: String, ms: Double)], Double
    ) {
        guard let agentID = UUID(uuidString: agent) else { throw BenchError("the agent id \(agent) is not a UUID") }
        let tenantID = tenant.rawValue
        var times: [[Double]] = Array(repeating: [], count: 4)
        var rows = 0
        let margin: TimeInterval = 24 * 3600
        for (from, to) in windows {
            let (low, high) = (from.addingTimeInterval(-margin), to.addingTimeInterval(margin))
            var started = ContinuousClock.now
            _ = try await postgres.query(
                """
                SELECT id, name, kind, agent_core_id, user_id, email, time_zone, service_durations::text, active, created_at, updated_at
                FROM calendar.agents WHERE id = \(agentID) AND tenant_id = \(tenantID)
                """, logger: TestLog.quiet
            ).all(as: (UUID, String, String, UUID?, UUID?, String?, String, String, Bool, Date, Date).self)
            times[0].append(started.duration(to: .now).seconds * 1000)
            started = ContinuousClock.now
            _ = try await postgres.query(
                "SELECT time_zone, schedule::text FROM calendar.agents WHERE id = \(agentID) AND tenant_id = \(tenantID)", logger: TestLog.quiet
            ).all(as: (String, String).self)
            times[1].append(started.duration(to: .now).seconds * 1000)
            started = ContinuousClock.now
            rows += try await postgres.query(
                """
                SELECT starts_at, ends_at, buffer_before_minutes, buffer_after_minutes FROM calendar.appointments
                WHERE agent_id = \(agentID) AND occupies && tstzrange(\(low), \(high), '[)')
                  AND (status IN ('scheduled', 'confirmed') OR (status = 'pending' AND hold_expires_at > now()))
                ORDER BY starts_at
                """, logger: TestLog.quiet
            ).all(as: (Date, Date, Int, Int).self).count
            times[2].append(started.duration(to: .now).seconds * 1000)
            started = ContinuousClock.now
            _ = try await postgres.query(
                """
                SELECT id, agent_id, starts_at, ends_at, reason, created_by, created_at FROM calendar.blocks
                WHERE agent_id = \(agentID) AND tenant_id = \(tenantID) AND starts_at < \(high) AND ends_at > \(low)
                ORDER BY starts_at, id
                """, logger: TestLog.quiet
            ).all(as: (UUID, UUID, Date, Date, String?, String, Date).self)
            times[3].append(started.duration(to: .now).seconds * 1000)
        }
        let names = ["agent row", "schedule", "booked appointments", "blocks"]
        return (zip(names, times).map { (name: $0.0, ms: Self.median($0.1)) }, Double(rows) / Double(max(1, windows.count)))
    }

    /// PostgreSQL's plan for the booked-appointments statement of one window, as it ran.
    static func bookedPlan(postgres: PostgresClient, agent: String, window: (Date, Date)) async throws -> [String] {
        let (low, high) = (window.0.addingTimeInterval(-86_400), window.1.addingTimeInterval(86_400))
        let sql = """
            EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
            SELECT starts_at, ends_at, buffer_before_minutes, buffer_after_minutes FROM calendar.appointments
            WHERE agent_id = '\(agent.lowercased())' AND occupies && tstzrange('\(Self.iso(low))', '\(Self.iso(high))', '[)')
              AND (status IN ('scheduled', 'confirmed') OR (status = 'pending' AND hold_expires_at > now()))
            ORDER BY starts_at
            """
        return try await postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).all(as: String.self)
    }

    /// The shape of the service's answer (`AvailabilityController.SlotsView`), its dates encoded as the service does.
    struct SlotsAnswer: Encodable {
        struct Slot: Encodable {
            var startsAt: Date
            var endsAt: Date
            var localStart: String
            var localEnd: String
        }
        var agentId = UUID()
        var timeZone = BookingBenchmark.askerZone
        var durationMinutes = BookingBenchmark.durationMinutes
        var slots: [Slot]
    }

    /// The median ms of encoding an answer of `slots` slots with `JSONEncoder.sokoni` (the service's encoder), here in
    /// this process while nothing else runs: the JSON part of a search, apart from building the slots' local times.
    static func encodeTiming(slots count: Int) throws -> Double {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let answer = SlotsAnswer(
            slots: (0..<count).map { index in
                let from = start.addingTimeInterval(Double(index) * 1_800)
                return .init(
                    startsAt: from, endsAt: from.addingTimeInterval(1_800), localStart: "2027-01-15T09:00:00+01:00", localEnd: "2027-01-15T09:30:00+01:00")
            })
        var times: [Double] = []
        for _ in 0..<200 {
            let started = ContinuousClock.now
            _ = try JSONEncoder.sokoni.encode(answer)
            times.append(started.duration(to: .now).seconds * 1000)
        }
        return Self.median(times)
    }

    static func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }

    static func rps(_ result: LoadResult) -> Double { result.seconds > 0 ? Double(result.statuses[200] ?? 0) / result.seconds : 0 }

    static func summary(_ answers: [String: Int]) -> String {
        answers.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
    }

    static func report(_ run: Run) {
        var rows = run.levels.flatMap { [$0.search, $0.anchor] }
        rows += [run.directSearch, run.directAnchor].compactMap { $0 }
        print(ResultTable.render(rows))
        for row in rows where row.errors > 0 { print("\(row.name): \(row.errors) errors, first: \(row.firstError ?? "?")") }
        let sampleMean = Double(run.sampleSlots.reduce(0, +)) / Double(max(1, run.sampleSlots.count))
        print(
            String(
                format: "calendar: %d appointments booked through the gateway in %.1f s (%d past, %d ahead; %d stored); a 14-day window "
                    + "holds %.0f free 30-minute slots on average (of 280); a search reads %.1f appointments (its window and a day either side)",
                run.seeded, run.seedTime.seconds, run.seededPast, run.seeded - run.seededPast, run.appointmentsInSQL, sampleMean, run.bookedRows))
        for level in run.levels {
            let search = level.search
            let anchor = level.anchor
            let answered = search.statuses[200] ?? 0
            print(
                String(
                    format: "c=%d: slot search %.0f/s, p50 %.2f ms, p99 %.2f ms (%.0f bytes a response); whoami %.0f/s, p99 %.2f ms; "
                        + "p99 ratio %.2f, requests/s ratio %.3f; CPU µs a search %.0f in this process, %.0f in wrk (whoami %.0f, %.0f)",
                    level.connections, Self.rps(search), search.p50Ms, search.p99Ms, answered > 0 ? Double(level.searchBytes) / Double(answered) : 0,
                    Self.rps(anchor), anchor.p99Ms, anchor.p99Ms > 0 ? search.p99Ms / anchor.p99Ms : 0,
                    Self.rps(anchor) > 0 ? Self.rps(search) / Self.rps(anchor) : 0, search.processCPUPerRequest, search.externalCPUPerRequest ?? 0,
                    anchor.processCPUPerRequest, anchor.externalCPUPerRequest ?? 0))
        }
        let sqlTotal = run.sql.map(\.ms).reduce(0, +)
        print(
            "SQL of one search, each alone (median of \(Self.sqlSamples) windows): "
                + run.sql.map { String(format: "%@ %.3f ms", $0.name, $0.ms) }.joined(separator: ", ") + String(format: "; %.3f ms in all", sqlTotal))
        // at one connection the latencies add up; at more they queue
        if let directSearch = run.directSearch, let directAnchor = run.directAnchor, let first = run.levels.first, first.connections == 1 {
            let handler = directSearch.p50Ms - directAnchor.p50Ms
            print(
                String(
                    format: "at c=%d, p50: through the gateway %.2f ms, straight to the service %.2f ms (the gateway adds %.2f; %.2f for whoami); "
                        + "the search beyond whoami in the service %.2f ms, of it SQL %.2f and the engine, JSON and bigger response %.2f",
                    first.connections, first.search.p50Ms, directSearch.p50Ms, first.search.p50Ms - directSearch.p50Ms,
                    first.anchor.p50Ms - directAnchor.p50Ms, handler, sqlTotal, handler - sqlTotal))
        }
        if let directSearch = run.directSearch, let directAnchor = run.directAnchor {
            print(
                String(
                    format: "straight to the service, CPU µs in this process: a search %.0f, whoami %.0f; encoding an answer of %.0f slots "
                        + "with the service's JSONEncoder takes %.3f ms alone",
                    directSearch.processCPUPerRequest, directAnchor.processCPUPerRequest, sampleMean, run.encodeMs))
        }
        print("plan of the booked-appointments statement: " + run.plan.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " | "))
        for (index, round) in run.race.enumerated() {
            print(
                String(
                    format: "race round %d at %@: %@ in %.0f ms (answers p50 %.0f ms, p99 %.0f ms); in SQL %d row(s) at the slot, %d active: %@",
                    index + 1, round.slot, Self.summary(round.answers), round.elapsed.seconds * 1000, Double(round.latencies.valueAtPercentile(50)) / 1000,
                    Double(round.latencies.valueAtPercentile(99)) / 1000, round.rowsAtSlot, round.activeAtSlot, round.ok ? "ok" : "FAILED"))
        }
        print(
            "race: \(run.raceOk ? "ok" : "FAILED"), \(run.race.count) rounds of \(run.attempts); appointments in SQL afterwards \(run.appointmentsAfter) "
                + "(\(run.seeded) booked + \(run.race.count) winners)")
        if !run.problems.isEmpty { print("checks: FAILED (\(run.problems.joined(separator: "; ")))") }

        let first = run.levels.first
        let busiest = run.levels.last
        let raceMs = Self.median(run.race.map { $0.elapsed.seconds * 1000 })
        let winners = run.race.map(\.winners)
        let levelsJSON = run.levels.map { level in
            #"{"connections":\#(level.connections),"rps":\#(jsonNumber(Self.rps(level.search), 1)),"p50Ms":\#(jsonNumber(level.search.p50Ms, 3)),"#
                + #""p99Ms":\#(jsonNumber(level.search.p99Ms, 3)),"anchorRps":\#(jsonNumber(Self.rps(level.anchor), 1)),"#
                + #""anchorP50Ms":\#(jsonNumber(level.anchor.p50Ms, 3)),"anchorP99Ms":\#(jsonNumber(level.anchor.p99Ms, 3))}"#
        }.joined(separator: ",")
        let ratio = first.flatMap { $0.anchor.p99Ms > 0 ? $0.search.p99Ms / $0.anchor.p99Ms : nil }
        let json =
            #"{"scenario":"booking","slotSearchP99Ms":\#(jsonNumber(first?.search.p99Ms, 3)),"slotSearchP50Ms":\#(jsonNumber(first?.search.p50Ms, 3)),"#
            + #""slotSearchPerSec":\#(jsonNumber(busiest.map { Self.rps($0.search) }, 1)),"anchorP99Ms":\#(jsonNumber(first?.anchor.p99Ms, 3)),"#
            + #""p99VsAnchor":\#(jsonNumber(ratio, 2)),"latencyConnections":\#(first?.connections ?? 0),"perSecConnections":\#(busiest?.connections ?? 0),"#
            + #""worstP99Ms":\#(jsonNumber(run.levels.map(\.search.p99Ms).max(), 3)),"levels":[\#(levelsJSON)],"#
            + #""sqlMs":\#(jsonNumber(run.sql.map(\.ms).reduce(0, +), 3)),"encodeMs":\#(jsonNumber(run.encodeMs, 3)),"appointments":\#(run.appointmentsInSQL),"raceRounds":\#(run.race.count),"#
            + #""raceAttempts":\#(run.attempts),"raceRoundMs":\#(jsonNumber(raceMs, 1)),"#
            + #""raceWinnersPerRound":\#(Set(winners).count == 1 ? String(winners[0]) : "[" + winners.map(String.init).joined(separator: ",") + "]"),"#
            + #""raceOk":\#(run.raceOk)}"#
        print(json)
    }

    /// A small seeded generator (xorshift), so every run books the same calendar.
    struct Generator {
        var state: UInt64

        init(seed: UInt64) { self.state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

        mutating func next(_ bound: Int) -> Int {
            self.state ^= self.state >> 12
            self.state ^= self.state << 25
            self.state ^= self.state >> 27
            return Int((self.state &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
        }
    }

    /// Each request: a 14-day window from a random minute of the coming year. args: the path with the fixed query, the
    /// token, the first `from` (seconds since 1970), the span of `from` in minutes, the window in seconds. Counts the
    /// bytes of the bodies in `extra`.
    static let script =
        WrkScript.common + #"""
            local headers, path, first, span, window = {}, "", 0, 0, 0
            function init(args)
              path = args[1]
              headers["Authorization"] = "Bearer " .. args[2]
              headers["Accept"] = "application/json"
              first = tonumber(args[3])
              span = tonumber(args[4])
              window = tonumber(args[5])
              math.randomseed(now_us() + 7919 * thread_index)
              started = now_us()
            end

            function request()
              local from = first + 60 * math.random(0, span)
              return wrk.format("GET", path .. "&from=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", from) .. "&to=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", from + window),
                headers)
            end

            function response(status, headers, body)
              local key = tostring(status)
              statuses[key] = (statuses[key] or 0) + 1
              if status == 200 then last_ok = now_us() end
              if body ~= nil then extra["bytes"] = (extra["bytes"] or 0) + #body end
            end

            """#
}
