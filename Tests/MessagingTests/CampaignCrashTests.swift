import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import Messaging

#if canImport(Glibc)
    import Glibc
#endif

/// kill -9 of messaging mid-campaign, then a new process on the same database: no target is lost, none is sent
/// twice, and the send the provider had when the process died is flagged for review, not repeated. Messaging runs as
/// its own executable (built beside the tests); the gateway (tenant standing) and a fake Graph API run in this process.
@Suite(.serialized) struct CampaignCrashTests {
    final class Graph: Sendable {
        let received = Mutex<[String: Int]>([:])
        /// The number whose send the fake holds without answering, until the process that sent it is gone.
        let held: String

        init(held: String) { self.held = held }

        var router: Router<BasicRequestContext> {
            let router = Router()
            @Sendable func answer(_ json: String) -> Response {
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            router.post(":id/messages") { request, _ -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
                let to =
                    (try? JSONDecoder().decode([String: JSONValue].self, from: Data(body.utf8)))?["to"].flatMap { value -> String? in
                        if case .string(let text) = value { return text }
                        return nil
                    } ?? ""
                let count = self.received.withLock { counts in
                    counts[to, default: 0] += 1
                    return counts.values.reduce(0, +)
                }
                if to == self.held { try await Task.sleep(for: .seconds(10)) }
                // a provider that takes a moment: the kill lands mid-campaign
                try await Task.sleep(for: .milliseconds(15))
                return answer(#"{"messaging_product":"whatsapp","contacts":[{"input":"x","wa_id":"x"}],"messages":[{"id":"wamid.K\#(count)"}]}"#)
            }
            router.post(":id/message_templates") { _, _ -> Response in answer(#"{"id":"1","status":"APPROVED"}"#) }
            return router
        }
    }

    /// The `messaging` executable `swift build --build-tests` put beside the tests.
    static var executable: URL {
        TestSettings.migrationsDirectory.deletingLastPathComponent().appendingPathComponent(".build/debug/messaging")
    }

    /// The executable as a child process of its own (`Shell.spawn`: none of this process's descriptors), its output
    /// appended to `log`.
    static func start(_ environment: [String: String], log: String) throws -> pid_t {
        try Shell.spawn(Self.executable.path, [], output: log, environment: environment, append: true)
    }

    final class Child: Sendable {
        let pid: Mutex<pid_t>
        init(_ pid: pid_t) { self.pid = Mutex(pid) }

        func stop() {
            let pid = self.pid.withLock { $0 }
            guard pid != 0 else { return }
            kill(pid, SIGKILL)
            CampaignCrashTests.reap(pid)
        }
    }

    static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    @Test func aKilledMessagingLosesNoTargetAndRepeatsNoSend() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            Issue.record("no messaging executable at \(Self.executable.path): run swift build --build-tests first")
            return
        }
        let numbers = CampaignTests.numbers(300, prefix: "+25078832")
        let graph = Graph(held: String(numbers[120].dropFirst()))
        try await TestUpstream.with(graph.router) { fake in
            let database = try await TestPostgres.createDatabase(prefix: "crash")
            try await TestServices.with([.gateway], database: database, overrides: ["RATE_LIMIT_ENABLED": "false"]) { platform in
                let tenant = try await platform.createTenant(currency: "RWF")
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let port = try FreePort.find()
                let messaging = "http://127.0.0.1:\(port)"
                let environment = TestSettings.variables(
                    for: .messaging, database: database, ports: [.messaging: port, .gateway: platform.ports[.gateway]!],
                    overrides: [
                        "MESSAGING_GRAPH_BASE_URL": fake, "JOBS_WORKERS": "4", "JOBS_VISIBILITY_TIMEOUT_MS": "2000", "MESSAGING_CAMPAIGN_TICK_MS": "50",
                        "LOG_LEVEL": "warning",
                    ]
                ).merging(ProcessInfo.processInfo.environment.filter { $0.key == "PATH" || $0.key == "HOME" }) { mine, _ in mine }
                let log = NSTemporaryDirectory() + "crash-messaging-\(port).log"
                var pid = try Self.start(environment, log: log)
                // a failing expectation still leaves no process behind
                let child = Child(pid)
                defer { child.stop() }
                try await TestWait.until(timeout: .seconds(60)) {
                    (try? await TestHTTP.get("\(messaging)/readyz").status) == 200
                }.expectTrue("messaging ready")
                var settings = MessagingSettings.defaults
                settings.quietHours = [:]
                settings.sendThrottle.perMinute["whatsapp"] = 100_000
                #expect(
                    try await TestHTTP.request(.PUT, "\(messaging)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings))
                        .status == 200)
                let channel = try await TestHTTP.post("\(messaging)/v1/channels", token: admin, json: CampaignWhatsAppTests.NewChannel())
                    .json(ChannelDTO.self)
                let template = try await TestHTTP.post(
                    "\(messaging)/v1/templates", token: admin,
                    json: NewTemplate(channelId: channel.id, name: "crash_promo", language: "en", category: .marketing, body: "Hello {{1}}")
                ).json(TemplateDTO.self)
                #expect(template.status == .approved)
                let campaign = try await TestHTTP.post(
                    "\(messaging)/v1/campaigns", token: admin,
                    json: NewCampaign(name: "Crash", type: .promo, channelId: channel.id, templateId: template.id)
                ).json(CampaignDTO.self)
                let csv = "msisdn,name\n" + numbers.map { "\($0),A" }.joined(separator: "\n")
                let imported = try await TestHTTP.request(
                    .POST, "\(messaging)/v1/campaigns/\(campaign.id)/targets", token: admin, headers: ["Content-Type": "text/csv"], body: Data(csv.utf8))
                #expect(try imported.json(ImportReport.self).accepted == 300)
                #expect(try await TestHTTP.post("\(messaging)/v1/campaigns/\(campaign.id)/start", token: admin, json: [String: String]()).status == 200)
                // mid-campaign, with the held send in the provider's hands: kill -9
                try await TestWait.until(timeout: .seconds(60)) {
                    graph.received.withLock { $0[graph.held] == 1 && $0.values.reduce(0, +) >= 150 }
                }.expectTrue("half the campaign sent, the held one among them")
                kill(pid, SIGKILL)
                Self.reap(pid)
                child.pid.withLock { $0 = 0 }
                let atKill = graph.received.withLock { $0.values.reduce(0, +) }
                #expect(atKill < 300, "the kill came mid-campaign")
                // a new process on the same database finishes the campaign
                pid = try Self.start(environment, log: log)
                child.pid.withLock { $0 = pid }
                try await TestWait.until(timeout: .seconds(90)) {
                    (try? await TestHTTP.get("\(messaging)/v1/campaigns/\(campaign.id)", token: admin).json(CampaignDTO.self).status) == .done
                }.expectTrue("the campaign done after the restart")
                let progress = try await TestHTTP.get("\(messaging)/v1/campaigns/\(campaign.id)/progress", token: admin).json(CampaignProgress.self)
                // nothing lost: every target reached an end
                #expect(progress.counts.total == 300 && progress.counts.queued == 0 && progress.counts.queuedThrottled == 0, "\(progress)")
                #expect(progress.counts.sent + progress.counts.failed == 300, "\(progress.counts)")
                // nothing sent twice; every number but the flagged one(s) reached the provider exactly once
                let received = graph.received.withLock { $0 }
                #expect(received.values.allSatisfy { $0 == 1 }, "sent twice: \(received.filter { $0.value > 1 })")
                #expect(progress.needsReview >= 1)
                var flagged: [TargetDTO] = []
                var cursor: String?
                repeat {
                    let page = try await TestHTTP.get(
                        "\(messaging)/v1/campaigns/\(campaign.id)/targets?status=failed&limit=200\(cursor.map { "&cursor=\($0)" } ?? "")", token: admin
                    ).json(Page<TargetDTO>.self)
                    flagged += page.items
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(flagged.contains { $0.msisdn == "+\(graph.held)" && $0.needsReview && $0.errorCode == "in_flight_at_crash" })
                #expect(flagged.allSatisfy { $0.needsReview && $0.errorCode == "in_flight_at_crash" })
                for target in flagged { #expect((received[String(target.msisdn.dropFirst())] ?? 0) <= 1) }
                #expect(received.count == 300 - flagged.filter { received[String($0.msisdn.dropFirst())] == nil }.count)
                child.pid.withLock { $0 = 0 }
                kill(pid, SIGTERM)
                Self.reap(pid)
            }
        }
    }
}
