import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// The send throttle is one budget for the whole platform: two messaging instances on one database, their job
/// workers sending at once, never send more in a minute than the tenant's setting allows between them.
@Suite(.serialized) struct SharedThrottleTests {
    @Test func twoInstancesShareOneThrottleThroughPostgres() async throws {
        try await MessagingFlowTests.with { p in
            var settings = MessagingSettings.defaults
            settings.quietHours = [:]
            settings.sendThrottle.perMinute["sandbox"] = 5
            let put = try await TestHTTP.request(.PUT, "\(p.gateway)/v1/messaging/settings", token: p.admin, body: try JSONEncoder.sokoni.encode(settings))
            #expect(put.status == 200, "\(put.text)")
            // a second instance of messaging on the same database, its own job workers polling beside the first's
            try await TestServices.with([.messaging], database: p.database, overrides: ["JOBS_POLL_INTERVAL_MS": "20", "JOBS_WORKERS": "2"]) { _ in
                // the burst and the counts below within one minute: when a minute turns, the held messages are sent
                // again in the next, each taking its count before it is marked sent, and counts read meanwhile disagree
                try await HeldMessageTests.atLeast(20)
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<20 {
                        group.addTask { try await p.post("/v1/messages", ["to": "+2507880100\(10 + index)", "text": "Promo \(index)"]).status }
                    }
                    for try await status in group { #expect(status == 202) }
                }
                try await p.eventually("every send decided") {
                    try await p.count("SELECT count(*)::int FROM messaging.messages WHERE status = 'queued'") == 0
                }
                // one minute's budget at most, across both instances; whatever the clock, no window holds more than 5
                let sent = try await p.count("SELECT count(*)::int FROM messaging.messages WHERE status = 'sent'")
                let held = try await p.count("SELECT count(*)::int FROM messaging.messages WHERE status = 'queued_throttled'")
                #expect(sent + held == 20)
                // every send counted once in the shared counters, 5 a minute: exactly 5 unless a minute turned meanwhile
                let windows = try await p.count("SELECT count(*)::int FROM messaging.send_counters WHERE key LIKE 'channel:%'")
                #expect(try await p.count("SELECT coalesce(sum(count), 0)::int FROM messaging.send_counters WHERE key LIKE 'channel:%'") == sent)
                #expect(try await p.count("SELECT coalesce(max(count), 0)::int FROM messaging.send_counters WHERE key LIKE 'channel:%'") == 5)
                #expect(windows == 1 ? sent == 5 : sent <= 5 * windows, "sent \(sent) in \(windows) windows")
                // a held message says why and when it goes
                let reason = try await p.postgres.query(
                    "SELECT status_reason FROM messaging.messages WHERE status = 'queued_throttled' LIMIT 1", logger: TestLog.quiet
                ).first(as: String?.self)
                #expect(reason??.contains("Throttled") == true)
                // both instances took send jobs
                #expect(try await p.count("SELECT count(DISTINCT locked_by)::int FROM messaging.jobs WHERE kind = 'message.send'") == 2)
            }
        }
    }
}
