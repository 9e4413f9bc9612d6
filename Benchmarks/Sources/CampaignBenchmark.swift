import AsyncHTTPClient
import Foundation
import Hummingbird
import Messaging
import Models
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport

/// `sokoni-bench campaign`: a WhatsApp campaign of `--campaign-targets` (100,000) recipients against a fake Graph API
/// in this process on loopback, the targets uploaded as one CSV, the tenant's own throttle and quiet hours out of the
/// way, so the campaign's own rate is what is measured (ARCHITECTURE §7, campaign dispatch).
///
/// 1. Unthrottled: messaging in this process; start, `GET /v1/campaigns/{id}/progress` every 250 ms until `done`.
///    Messages/s = targets sent over the time from the start to done; also the median of the sends the fake received
///    per whole second.
/// 2. Throttled: a second campaign with `metadata.perMinute` set (`--throttle`, per second; default half the
///    unthrottled rate rounded to tens, at most 500/s), about 40 seconds of targets (at most 20,000): the rate the
///    fake received over the steady part (the first and last second left out) against the one configured.
/// 3. Crash: the `messaging` executable built beside this one runs as a process of its own on the same database
///    (`JOBS_VISIBILITY_TIMEOUT_MS=2000`); a campaign of `--crash-targets` (20,000) starts, and once the fake has
///    about half of them the process gets SIGKILL and a new one starts. After done: targets not in a final status
///    (lost, must be 0), recipients the fake received more than once (duplicated), targets flagged `needs_review`
///    (sends in flight at the kill), and the duplicated recipients not among the flagged (must be 0); recovery is the
///    time from the restart to the fake's first new send.
///
/// Goal ≥ 1,000 messages/s unthrottled; done at ≥ 300 with the throttle within ±2 % and the crash losing nothing.
/// Options besides the common ones (which it ignores): `--campaign-targets N` (or SOKONI_BENCH_CAMPAIGN_TARGETS, for a
/// quick run), `--workers N` (the service's job workers, 12), `--throttle N` (per second), `--throttled-targets N`,
/// `--crash-targets N`.
enum CampaignBenchmark {
    static let phoneNumberID = "106540352242922"
    static let businessAccountID = "102290129340398"
    static let finalStatuses: Set<String> = ["sent", "delivered", "read", "failed", "opted_out"]
    static let pollInterval: Duration = .milliseconds(250)
    /// A campaign whose settled count stands still this long has stalled: the run fails rather than wait forever.
    static let stallTimeout: Duration = .seconds(120)

    static func run() async throws {
        let options = try BenchOptions.parse(extraKeys: ["campaign-targets", "workers", "throttle", "throttled-targets", "crash-targets"])
        let targets = try options.integer("campaign-targets", default: 100_000, range: 100...1_000_000)
        let workers = try options.integer("workers", default: 12, range: 1...64)
        let crashTargets = try options.integer("crash-targets", default: min(20_000, targets), range: 100...1_000_000)
        let throttle = try options.extras["throttle"].map { _ in try options.integer("throttle", default: 0, range: 1...1_666) }
        let throttledTargets = try options.extras["throttled-targets"].map { _ in
            try options.integer("throttled-targets", default: 0, range: 100...1_000_000)
        }
        let binary = Self.messagingBinary()
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError(
                "\(binary) not found: the crash phase runs the messaging executable built beside sokoni-bench "
                    + "(swift build -c release --product messaging, with the same --scratch-path)")
        }
        progress("campaign: \(targets) targets unthrottled, then throttled, then \(crashTargets) with a crash; \(workers) job workers")

        let began = ContinuousClock.now
        let graph = FakeGraph()
        var run = try await TestUpstream.with(graph.router) { graphURL in
            let database = try await TestPostgres.createDatabase(prefix: "bench")
            // production job backoff and tenant-standing cache; job polling as in messaging-ingest
            let common = ["LOG_LEVEL": "error", "JOBS_BACKOFF_BASE_MS": "1000", "AUTH_TENANT_STANDING_TTL_MS": "5000"]
            let messaging = [
                "JOBS_WORKERS": String(workers), "DATABASE_MAX_CONNECTIONS": String(workers + 8), "JOBS_POLL_INTERVAL_MS": "50",
                "MESSAGING_GRAPH_BASE_URL": graphURL,
                // a 100,000-row CSV is one request (streamed, one transaction): more than the default 30 s on two cores
                "HTTP_REQUEST_TIMEOUT_MS": "600000",
            ]
            return try await TestServices.with(
                [.gateway], database: database, overrides: common, settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]
            ) { gateway in
                let tenant = try await gateway.createTenant()
                let token = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin], lifetime: .seconds(6 * 3600))
                // phases 1 and 2: messaging in this process, talked to directly (no gateway in the path)
                var run = try await TestServices.with(
                    [.messaging], database: database, overrides: common, settings: [.messaging: messaging], upstreams: [.gateway: gateway.url(.gateway)]
                ) { platform in
                    var run = Run(targets: targets, workers: workers)
                    let api = API(base: platform.url(.messaging), token: token)
                    run.setup = try await Self.setUp(api)
                    run.unthrottled = try await Self.unthrottled(api, run.setup, graph: graph, count: targets, imports: &run.imports)
                    let perSecond =
                        throttle ?? max(10, min(500, Int((run.unthrottled.perSecond * 0.5 / 10).rounded()) * 10))
                    let count = throttledTargets ?? min(20_000, targets, max(100, perSecond * 40))
                    run.throttled = try await Self.throttled(api, run.setup, graph: graph, perSecond: perSecond, count: count, imports: &run.imports)
                    return run
                }
                // phase 3: messaging as a process of its own, on the same database, killed and started again
                let variables = TestSettings.variables(
                    for: .messaging, database: database, ports: [.gateway: gateway.ports[.gateway]!, .messaging: try FreePort.find()],
                    overrides: common.merging(messaging) { $1 }.merging(["JOBS_VISIBILITY_TIMEOUT_MS": "2000", "LOG_LEVEL": "warning"]) { $1 })
                run.crash = try await Self.crash(
                    binary: binary, variables: variables, database: database, token: token, setup: run.setup, graph: graph, count: crashTargets,
                    imports: &run.imports)
                return run
            }
        }
        run.totalSeconds = began.duration(to: .now).seconds
        Self.report(run)
        guard run.crash.lost == 0, run.crash.duplicatesOutsideFlagged == 0 else {
            throw BenchError(
                "the crash lost \(run.crash.lost) targets and sent \(run.crash.duplicatesOutsideFlagged) recipients twice that were not flagged")
        }
    }

    // MARK: results

    struct Setup: Sendable {
        var channel = ChannelID()
        var template = TemplateID()
        var tier: String?
    }

    struct Import: Sendable {
        var phase: String
        var rows: Int
        var seconds: Double
    }

    /// One campaign from start to done.
    struct Phase: Sendable {
        var name = ""
        var targets = 0
        var sent = 0
        var failed = 0
        /// Targets in no final status when it ended.
        var unsettled = 0
        /// From the start request to the first progress that said done.
        var seconds = 0.0
        var perSecond: Double { self.seconds > 0 ? Double(self.sent) / self.seconds : 0 }
        /// Send requests the fake received, and the median of them per whole second from its first to its last.
        var received = 0
        var p50PerSecond: Double?
        /// The rate over each tenth of the sends, in order (a rate that falls as the campaign goes on shows here).
        var tenths: [Double] = []
        /// How long each progress request took (the polling's own cost).
        var progressMs: [Double] = []
        var failureReasons: [String] = []
    }

    struct Throttled: Sendable {
        var phase = Phase()
        var targetPerSecond = 0
        var achievedPerSecond: Double?
        var steadySeconds = 0.0
        var deviationPercent: Double? {
            self.achievedPerSecond.map { ($0 - Double(self.targetPerSecond)) / Double(self.targetPerSecond) * 100 }
        }
    }

    struct Crash: Sendable {
        var phase = Phase()
        var receivedAtKill = 0
        var lost = -1
        var duplicated = -1
        var duplicatesOutsideFlagged = -1
        var flagged = -1
        /// Flagged targets the fake did receive (the others never left the dead process).
        var flaggedReceived = -1
        /// Targets recorded as sent that the fake never received.
        var sentNotReceived = -1
        var statuses: [String: Int] = [:]
        var readySeconds = 0.0
        var restartReadySeconds = 0.0
        var recoverySeconds: Double?
        var log = ""
    }

    struct Run: Sendable {
        var targets: Int
        var workers: Int
        var setup = Setup()
        var imports: [Import] = []
        var unthrottled = Phase()
        var throttled = Throttled()
        var crash = Crash()
        var totalSeconds = 0.0
    }

    // MARK: the fake Graph API

    /// WhatsApp Cloud API as messaging calls it: sends answered at once with a new `wamid`, each request's `to` and
    /// time kept; templates approved at once; an unlimited messaging tier.
    final class FakeGraph: Sendable {
        struct Received: Sendable {
            var to: String
            var at: ContinuousClock.Instant
        }

        let received = Mutex<[Received]>([])
        let total = Atomic<Int>(0)

        init() { self.received.withLock { $0.reserveCapacity(150_000) } }

        var count: Int { self.received.withLock { $0.count } }

        /// What was received since the last take, and a clean slate.
        func take() -> [Received] {
            self.received.withLock { list in
                let taken = list
                list = []
                return taken
            }
        }

        var router: Router<BasicRequestContext> {
            let router = Router()
            @Sendable func answer(_ json: String) -> Response {
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            // one parameter name at each position: the router refuses `:waba` beside `:phone`
            router.post(":id/messages") { request, _ -> Response in
                let to = Self.recipient(in: try await request.body.collect(upTo: 1 << 20))
                let now = ContinuousClock.now
                self.received.withLock { $0.append(Received(to: to, at: now)) }
                let number = self.total.wrappingAdd(1, ordering: .relaxed).newValue
                return answer(
                    #"{"messaging_product":"whatsapp","contacts":[{"input":"\#(to)","wa_id":"\#(to)"}],"messages":[{"id":"wamid.bench.\#(number)"}]}"#)
            }
            router.post(":id/message_templates") { request, _ -> Response in
                _ = try await request.body.collect(upTo: 1 << 20)
                return answer(#"{"id":"1","status":"APPROVED"}"#)
            }
            router.get(":id/message_templates") { _, _ -> Response in answer(#"{"data":[]}"#) }
            router.get(":id") { _, _ -> Response in answer(#"{"messaging_limit_tier":"TIER_UNLIMITED"}"#) }
            return router
        }

        /// The `to` of a send's JSON body (digits, no `+`), found by a byte scan rather than a JSON parse.
        static func recipient(in body: ByteBuffer) -> String {
            let bytes = Array(body.readableBytesView)
            let key = Array(#""to""#.utf8)
            var index = 0
            while index + key.count <= bytes.count {
                if bytes[index] == key[0], bytes[index..<(index + key.count)].elementsEqual(key) {
                    var start = index + key.count
                    while start < bytes.count, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: ":") { start += 1 }
                    guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return "" }
                    start += 1
                    var end = start
                    while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                    return String(decoding: bytes[start..<end], as: UTF8.self)
                }
                index += 1
            }
            return ""
        }
    }

    // MARK: the API

    /// messaging's API as the tenant's admin calls it.
    struct API: Sendable {
        var base: String
        var token: String

        func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [String: String] = [:], timeout: TimeAmount = .seconds(60))
            async throws -> TestResponse
        {
            try await TestHTTP.request(method, self.base + path, token: self.token, headers: headers, body: body, timeout: timeout)
        }

        func post(_ path: String, _ body: some Encodable) async throws -> TestResponse {
            try await self.send(.POST, path, body: try JSONEncoder.sokoni.encode(body))
        }

        /// The answer decoded when its status is `status`, else an error that says what was asked and what came back.
        func expect<T: Decodable>(_ response: TestResponse, _ status: Int, _ what: String, as type: T.Type = T.self) throws -> T {
            guard response.status == status else { throw BenchError("\(what) answered \(response.status), not \(status): \(response.text.prefix(500))") }
            return try response.json(T.self)
        }
    }

    /// The tenant's throttle and quiet hours out of the way, a WhatsApp channel, its tier synced, an approved template.
    static func setUp(_ api: API) async throws -> Setup {
        var settings = MessagingSettings.defaults
        settings.quietHours = [:]
        settings.sendThrottle.perMinute["whatsapp"] = 100_000
        settings.sendThrottle.perRecipientPerHour = 10_000
        let put = try await api.send(.PUT, "/v1/messaging/settings", body: try JSONEncoder.sokoni.encode(settings))
        guard put.status == 200 else { throw BenchError("PUT /v1/messaging/settings answered \(put.status): \(put.text.prefix(500))") }
        struct NewChannel: Encodable {
            var kind = "whatsapp"
            var name = "Bench number"
            var config = ["phoneNumberId": CampaignBenchmark.phoneNumberID, "businessAccountId": CampaignBenchmark.businessAccountID]
            var secrets = ["accessToken": "EAAG-bench-access-token", "appSecret": "bench-meta-app-secret", "verifyToken": "bench-verify"]
        }
        let channel = try api.expect(try await api.post("/v1/channels", NewChannel()), 201, "creating the channel", as: ChannelDTO.self)
        let template = try api.expect(
            try await api.post(
                "/v1/templates",
                NewTemplate(
                    channelId: channel.id, name: "bench_promo", language: "en", category: .marketing, body: "Hello {{1}}, {{2}} off this week at Kigali Fuel.",
                    footer: "Reply STOP")), 201, "creating the template", as: TemplateDTO.self)
        guard template.status == .approved else { throw BenchError("the template is \(template.status.rawValue), not approved") }
        let sync = try api.expect(
            try await api.post("/v1/templates/sync", ["channelId": channel.id.description]), 200, "syncing the templates", as: TemplateSyncResult.self)
        return Setup(channel: channel.id, template: template.id, tier: sync.messagingTier)
    }

    /// Rwandan mobile numbers, +25078…, each phase its own million: no recipient is in two campaigns.
    static func numbers(phase: Int, count: Int) -> [String] {
        (0..<count).map { "+\(250_780_000_000 + phase * 1_000_000 + $0)" }
    }

    /// A draft campaign with `count` targets uploaded as one CSV (two variables each).
    static func campaign(
        _ api: API, _ setup: Setup, name: String, perMinute: Int?, phase: Int, count: Int, imports: inout [Import]
    ) async throws -> CampaignID {
        let campaign = try api.expect(
            try await api.post(
                "/v1/campaigns",
                NewCampaign(
                    name: name, type: .promo, channelId: setup.channel, templateId: setup.template, metadata: CampaignMetadata(perMinute: perMinute))),
            201, "creating campaign \(name)", as: CampaignDTO.self)
        var csv = "msisdn,name,discount\n"
        csv.reserveCapacity(count * 40)
        for (index, number) in Self.numbers(phase: phase, count: count).enumerated() {
            csv += "\(number),Customer \(index),\(5 + index % 4 * 5)%\n"
        }
        progress("\(name): uploading \(count) targets (\(csv.utf8.count / 1024) KiB of CSV) …")
        let started = ContinuousClock.now
        let answer = try await api.send(
            .POST, "/v1/campaigns/\(campaign.id)/targets", body: Data(csv.utf8), headers: ["Content-Type": "text/csv"], timeout: .seconds(900))
        let report = try api.expect(answer, 200, "importing the targets", as: ImportReport.self)
        guard report.accepted == count else { throw BenchError("the import accepted \(report.accepted) of \(count) rows: \(report.problems.prefix(5))") }
        imports.append(Import(phase: name, rows: count, seconds: started.duration(to: .now).seconds))
        return campaign.id
    }

    /// Starts a campaign and polls its progress until done: the phase with its time from the start request.
    static func startAndFinish(_ api: API, _ campaign: CampaignID, name: String, count: Int) async throws -> Phase {
        var phase = Phase(name: name, targets: count)
        let started = ContinuousClock.now
        _ = try api.expect(try await api.send(.POST, "/v1/campaigns/\(campaign)/start", body: Data("{}".utf8)), 200, "starting \(name)", as: CampaignDTO.self)
        let last = try await Self.waitDone(api, campaign, name: name, phase: &phase)
        phase.seconds = started.duration(to: last).seconds
        return phase
    }

    /// Polls `progress` every 250 ms until the campaign is done; answers when that was seen, with the phase's counts.
    static func waitDone(_ api: API, _ campaign: CampaignID, name: String, phase: inout Phase) async throws -> ContinuousClock.Instant {
        var settled = -1
        var settledAt = ContinuousClock.now
        var said = ContinuousClock.now
        while true {
            let asked = ContinuousClock.now
            let answer = try await api.send(.GET, "/v1/campaigns/\(campaign)/progress")
            let seen = ContinuousClock.now
            phase.progressMs.append(asked.duration(to: seen).seconds * 1000)
            let state = try api.expect(answer, 200, "progress of \(name)", as: CampaignProgress.self)
            let counts = state.counts
            phase.sent = counts.sent + counts.delivered + counts.read
            phase.failed = counts.failed
            phase.unsettled = counts.queued + counts.queuedThrottled
            phase.failureReasons = state.failureReasons.map { "\($0.code)×\($0.count)" }
            if state.status == .done { return seen }
            let now = counts.total - phase.unsettled
            if now != settled {
                settled = now
                settledAt = seen
            } else if settledAt.duration(to: seen) > Self.stallTimeout {
                throw BenchError("\(name) stalled: \(settled) of \(counts.total) targets settled, nothing more for \(Self.stallTimeout); \(state)")
            }
            if said.duration(to: seen) > .seconds(5) {
                said = seen
                progress(
                    "\(name): \(phase.sent) sent, \(phase.failed) failed of \(counts.total), \(state.sentPerMinute) in the last minute"
                        + (state.waitingReason.map { "; waiting: \($0)" } ?? ""))
            }
            try await Task.sleep(for: Self.pollInterval)
        }
    }

    // MARK: 1. unthrottled

    static func unthrottled(_ api: API, _ setup: Setup, graph: FakeGraph, count: Int, imports: inout [Import]) async throws -> Phase {
        let campaign = try await Self.campaign(api, setup, name: "unthrottled", perMinute: nil, phase: 0, count: count, imports: &imports)
        _ = graph.take()
        progress("unthrottled: \(count) targets …")
        var phase = try await Self.startAndFinish(api, campaign, name: "unthrottled", count: count)
        let received = graph.take()
        phase.received = received.count
        phase.p50PerSecond = Self.medianPerSecond(received.map(\.at))
        phase.tenths = Self.tenths(received.map(\.at))
        progress(String(format: "unthrottled: %d sent in %.1f s, %.0f/s", phase.sent, phase.seconds, phase.perSecond))
        return phase
    }

    /// The median of the sends per whole second from the first to the last (the last, partial second left out).
    static func medianPerSecond(_ times: [ContinuousClock.Instant]) -> Double? {
        guard let first = times.min(), let last = times.max() else { return nil }
        let seconds = Int(first.duration(to: last).seconds)
        guard seconds > 0 else { return Double(times.count) }
        var buckets = [Int](repeating: 0, count: seconds)
        for time in times {
            let second = Int(first.duration(to: time).seconds)
            if second < seconds { buckets[second] += 1 }
        }
        buckets.sort()
        return seconds % 2 == 1 ? Double(buckets[seconds / 2]) : Double(buckets[seconds / 2 - 1] + buckets[seconds / 2]) / 2
    }

    /// Sends per second over each tenth of the sends (from the time of the first of the tenth to that of the next).
    static func tenths(_ times: [ContinuousClock.Instant]) -> [Double] {
        let sorted = times.sorted()
        guard sorted.count >= 20 else { return [] }
        return (0..<10).map { tenth in
            let from = sorted.count * tenth / 10
            let to = min(sorted.count - 1, sorted.count * (tenth + 1) / 10)
            let seconds = sorted[from].duration(to: sorted[to]).seconds
            return seconds > 0 ? Double(to - from) / seconds : 0
        }
    }

    // MARK: 2. throttled

    static func throttled(
        _ api: API, _ setup: Setup, graph: FakeGraph, perSecond: Int, count: Int, imports: inout [Import]
    ) async throws -> Throttled {
        let campaign = try await Self.campaign(api, setup, name: "throttled", perMinute: perSecond * 60, phase: 1, count: count, imports: &imports)
        _ = graph.take()
        progress("throttled: \(count) targets at \(perSecond)/s (perMinute \(perSecond * 60)) …")
        var result = Throttled(targetPerSecond: perSecond)
        result.phase = try await Self.startAndFinish(api, campaign, name: "throttled", count: count)
        let times = graph.take().map(\.at)
        result.phase.received = times.count
        result.phase.p50PerSecond = Self.medianPerSecond(times)
        result.phase.tenths = Self.tenths(times)
        // the steady part: the first second (a second's credit may go at once) and the last left out
        if let first = times.min(), let last = times.max() {
            let span = first.duration(to: last)
            if span > .seconds(3) {
                let from = first + .seconds(1)
                let to = last - .seconds(1)
                result.steadySeconds = from.duration(to: to).seconds
                result.achievedPerSecond = Double(times.filter { $0 >= from && $0 <= to }.count) / result.steadySeconds
            } else if span > .zero {
                result.steadySeconds = span.seconds
                result.achievedPerSecond = Double(times.count - 1) / span.seconds
            }
        }
        progress(
            String(
                format: "throttled: %.1f/s achieved over %.1f s for %d/s (%+.2f %%)", result.achievedPerSecond ?? 0, result.steadySeconds, perSecond,
                result.deviationPercent ?? 0))
        return result
    }

    // MARK: 3. crash

    static func crash(
        binary: String, variables: [String: String], database: DatabaseURL, token: String, setup: Setup, graph: FakeGraph, count: Int,
        imports: inout [Import]
    ) async throws -> Crash {
        var crash = Crash()
        let port = variables["HTTP_PORT"]!
        let api = API(base: "http://127.0.0.1:\(port)", token: token)
        crash.log = NSTemporaryDirectory() + "sokoni-bench-messaging-\(UUID().uuidString.prefix(8)).log"
        var environment = ProcessInfo.processInfo.environment
        environment.merge(variables) { $1 }
        progress("crash: starting \(binary) on port \(port) (log \(crash.log)) …")
        var process = try Child.start(binary, environment: environment, output: crash.log)
        do {
            crash.readySeconds = try await Self.ready(api, process: process, log: crash.log)
            let campaign = try await Self.campaign(api, setup, name: "crash", perMinute: nil, phase: 2, count: count, imports: &imports)
            _ = graph.take()
            let started = ContinuousClock.now
            _ = try api.expect(try await api.send(.POST, "/v1/campaigns/\(campaign)/start", body: Data("{}".utf8)), 200, "starting crash", as: CampaignDTO.self)
            // about half sent: kill -9, then a new process at once
            while graph.count < count / 2 {
                guard process.running else { throw BenchError("messaging exited before the kill: \(Self.tail(crash.log))") }
                guard started.duration(to: .now) < Self.stallTimeout else { throw BenchError("crash: only \(graph.count) of \(count) sent before the kill") }
                try await Task.sleep(for: .milliseconds(10))
            }
            kill(process.pid, SIGKILL)
            crash.receivedAtKill = graph.count
            try await process.wait(timeout: .seconds(30))
            progress("crash: SIGKILL after \(crash.receivedAtKill) sends; starting a new process …")
            let restarted = ContinuousClock.now
            process = try Child.start(binary, environment: environment, output: crash.log)
            crash.restartReadySeconds = try await Self.ready(api, process: process, log: crash.log)
            var phase = Phase(name: "crash", targets: count)
            let done = try await Self.waitDone(api, campaign, name: "crash", phase: &phase)
            phase.seconds = started.duration(to: done).seconds
            let received = graph.take()
            phase.received = received.count
            phase.p50PerSecond = Self.medianPerSecond(received.map(\.at))
            phase.tenths = Self.tenths(received.map(\.at))
            crash.recoverySeconds = received.lazy.map(\.at).filter { $0 > restarted }.min().map { restarted.duration(to: $0).seconds }
            crash.phase = phase
            try await Self.check(&crash, campaign: campaign, received: received, database: database)
            try await process.stop()
        } catch {
            kill(process.pid, SIGKILL)
            try? await process.wait(timeout: .seconds(10))
            throw error
        }
        try? FileManager.default.removeItem(atPath: crash.log)
        return crash
    }

    /// Waits for `/readyz` (migrations applied, the database reachable): the seconds it took.
    static func ready(_ api: API, process: Child, log: String) async throws -> Double {
        let started = ContinuousClock.now
        while started.duration(to: .now) < .seconds(120) {
            guard process.running else { throw BenchError("messaging exited before it was ready: \(Self.tail(log))") }
            if let answer = try? await TestHTTP.request(.GET, api.base + "/readyz", timeout: .seconds(5)), answer.status == 200 {
                return started.duration(to: .now).seconds
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("messaging was not ready within 120 s: \(Self.tail(log))")
    }

    /// The database's word on the crashed campaign, against what the fake received.
    static func check(_ crash: inout Crash, campaign: CampaignID, received: [FakeGraph.Received], database: DatabaseURL) async throws {
        var times: [String: Int] = [:]
        for send in received { times[send.to, default: 0] += 1 }
        let duplicated = Set(times.filter { $0.value > 1 }.map(\.key))
        let id = campaign.rawValue
        let (statuses, flagged, sent) = try await VouchersBenchmark.withPostgres(database) { postgres in
            let statuses = try await postgres.query(
                "SELECT status, count(*)::int FROM messaging.campaign_targets WHERE campaign_id = \(id) GROUP BY status", logger: TestLog.quiet
            ).all(as: (String, Int).self)
            let flagged = try await postgres.query(
                "SELECT msisdn FROM messaging.campaign_targets WHERE campaign_id = \(id) AND needs_review", logger: TestLog.quiet
            ).all(as: String.self)
            let sent = try await postgres.query(
                "SELECT msisdn FROM messaging.campaign_targets WHERE campaign_id = \(id) AND status IN ('sent', 'delivered', 'read')", logger: TestLog.quiet
            ).all(as: String.self)
            return (statuses, flagged, sent)
        }
        // the fake sees the number as WhatsApp takes it, without the +
        let flaggedNumbers = Set(flagged.map { String($0.drop { $0 == "+" }) })
        crash.statuses = Dictionary(statuses) { $0 + $1 }
        crash.lost = statuses.filter { !Self.finalStatuses.contains($0.0) }.map(\.1).reduce(0, +)
        crash.duplicated = duplicated.count
        crash.duplicatesOutsideFlagged = duplicated.subtracting(flaggedNumbers).count
        crash.flagged = flaggedNumbers.count
        crash.flaggedReceived = flaggedNumbers.filter { times[$0] != nil }.count
        crash.sentNotReceived = sent.filter { times[String($0.drop { $0 == "+" })] == nil }.count
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)").suffix(2000))
    }

    /// The `messaging` executable beside this one (both built into the same folder).
    static func messagingBinary() -> String {
        let this = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        return this.deletingLastPathComponent().appendingPathComponent("messaging").path
    }

    // MARK: report

    static func report(_ run: Run) {
        func row(_ phase: Phase, _ note: String) -> [String] {
            [
                phase.name, String(phase.targets), String(phase.sent), String(phase.failed), String(phase.unsettled), String(phase.received),
                String(format: "%.1f", phase.seconds), String(format: "%.0f", phase.perSecond), phase.p50PerSecond.map { String(format: "%.0f", $0) } ?? "-",
                note,
            ]
        }
        let throttled = run.throttled
        let crash = run.crash
        let rows = [
            row(run.unthrottled, "no campaign rate"),
            row(
                throttled.phase,
                String(
                    format: "%d/s asked, %.1f/s over %.1f s steady (%+.2f %%)", throttled.targetPerSecond, throttled.achievedPerSecond ?? 0,
                    throttled.steadySeconds, throttled.deviationPercent ?? 0)),
            row(crash.phase, "SIGKILL after \(crash.receivedAtKill) sends, restarted"),
        ]
        print(
            ResultTable.render(
                header: ["campaign", "targets", "sent", "failed", "unsettled", "received", "seconds", "per s", "p50 per s", "note"], rows: rows))
        for item in run.imports {
            print(
                "import \(item.phase): \(item.rows) CSV rows in "
                    + String(format: "%.1f s (%.0f rows/s)", item.seconds, Double(item.rows) / max(0.001, item.seconds)))
        }
        for phase in [run.unthrottled, throttled.phase, crash.phase] {
            let sorted = phase.progressMs.sorted()
            print(
                "\(phase.name): progress polled \(sorted.count) times, "
                    + String(format: "median %.1f ms, max %.1f ms", sorted.isEmpty ? 0 : sorted[sorted.count / 2], sorted.last ?? 0)
                    + "; sends/s by tenth of the sends: \(phase.tenths.map { String(format: "%.0f", $0) }.joined(separator: " "))"
                    + (phase.failureReasons.isEmpty ? "" : "; failures: \(phase.failureReasons.joined(separator: ", "))"))
        }
        let statuses = crash.statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print(
            "crash: \(statuses); lost \(crash.lost), duplicated \(crash.duplicated) (outside the flagged \(crash.duplicatesOutsideFlagged)), "
                + "flagged \(crash.flagged) (\(crash.flaggedReceived) of them reached the fake), sent but never received \(crash.sentNotReceived); "
                + String(
                    format: "ready in %.1f s, after the restart %.1f s; first new send %.2f s after the restart", crash.readySeconds, crash.restartReadySeconds,
                    crash.recoverySeconds ?? -1))
        print(
            "messaging: \(run.workers) job workers, WhatsApp tier \(run.setup.tier ?? "-"); "
                + String(format: "goal ≥ 1000 messages/s unthrottled (done at ≥ 300): %.0f; the whole run %.0f s", run.unthrottled.perSecond, run.totalSeconds))
        print(
            #"{"scenario":"campaign","targets":\#(run.targets),"unthrottledPerSecond":\#(jsonNumber(run.unthrottled.perSecond, 1)),"#
                + #""unthrottledP50PerSecond":\#(jsonNumber(run.unthrottled.p50PerSecond, 1)),"#
                + #""throttledTargetPerSecond":\#(throttled.targetPerSecond),"throttledAchievedPerSecond":\#(jsonNumber(throttled.achievedPerSecond, 1)),"#
                + #""throttledDeviationPercent":\#(jsonNumber(throttled.deviationPercent, 2)),"#
                + #""crash":{"lost":\#(crash.lost),"duplicated":\#(crash.duplicated),"duplicatesOutsideFlagged":\#(crash.duplicatesOutsideFlagged),"#
                + #""flagged":\#(crash.flagged),"recoverySeconds":\#(jsonNumber(crash.recoverySeconds, 2))}}"#)
    }
}

extension CampaignBenchmark {
    /// A child process with its own environment, output to a file (`Shell.spawn`: a cleared signal mask and none of
    /// this process's descriptors), so SIGTERM stops it and SIGKILL is a crash.
    struct Child: Sendable {
        let pid: pid_t

        static func start(_ executable: String, environment: [String: String], output: String) throws -> Child {
            Child(pid: try Shell.spawn(executable, [], output: output, environment: environment, append: true))
        }

        /// False once it has exited (and is reaped).
        var running: Bool {
            var status: Int32 = 0
            let result = waitpid(self.pid, &status, WNOHANG)
            return result == 0
        }

        /// Waits until it has exited.
        func wait(timeout: Duration) async throws {
            let deadline = ContinuousClock.now + timeout
            while self.running {
                guard ContinuousClock.now < deadline else { throw BenchError("process \(self.pid) did not exit within \(timeout)") }
                try await Task.sleep(for: .milliseconds(10))
            }
        }

        /// SIGTERM (graceful shutdown), SIGKILL when that takes more than 15 s.
        func stop() async throws {
            kill(self.pid, SIGTERM)
            do {
                try await self.wait(timeout: .seconds(15))
            } catch {
                kill(self.pid, SIGKILL)
                try await self.wait(timeout: .seconds(10))
            }
        }
    }
}
