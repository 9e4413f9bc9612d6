import Crypto
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// The retention sweeper removes handled webhook bodies past the retention period and spent throttle windows, and
/// nothing else: an unhandled delivery stays however old, and so do the messages the deleted bodies carried.
@Suite(.serialized) struct RetentionTests {
    @Test func handledDeliveriesPastRetentionAndOldCountersGoTheRestStays() async throws {
        try await MessagingFlowTests.with { p in
            #expect(try await p.post("/v1/sandbox/inbound", MessagingFlowTests.Inbound(from: "+250788123456", text: "Muraho")).status == 202)
            try await p.eventually("the delivery handled") {
                try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NOT NULL") == 1
            }
            let channel = try #require(
                try await p.postgres.query("SELECT channel_id FROM messaging.webhook_deliveries LIMIT 1", logger: TestLog.quiet).first(as: UUID.self))
            try await p.postgres.query(
                """
                INSERT INTO messaging.webhook_deliveries (channel_id, provider, body, received_at, processed_at) VALUES
                    (\(channel), 'sandbox', '\\x7b7d', now() - interval '40 days', now() - interval '40 days'),
                    (\(channel), 'sandbox', '\\x7b7d', now() - interval '40 days', now() - interval '31 days'),
                    (\(channel), 'sandbox', '\\x7b7d', now() - interval '40 days', NULL),
                    (\(channel), 'sandbox', '\\x7b7d', now() - interval '2 days', now() - interval '2 days')
                """, logger: TestLog.quiet)
            try await p.postgres.query(
                """
                INSERT INTO messaging.send_counters (key, window_start, count) VALUES
                    ('channel:old', now() - interval '3 hours', 5), ('channel:now', date_trunc('minute', now()), 2)
                ON CONFLICT DO NOTHING
                """, logger: TestLog.quiet)
            let sweeper = RetentionSweeper(
                webhooks: WebhookStore(postgres: p.postgres, jobs: JobQueue(schema: "messaging")),
                policy: PolicyStore(
                    postgres: p.postgres, audit: AuditLog(schema: "messaging"), optOutKey: SymmetricKey(data: Data("k".utf8)),
                    crm: CRMEvents(jobs: JobQueue(schema: "messaging"))),
                retention: .seconds(30 * 86_400), interval: .seconds(3600), logger: TestLog.quiet)
            try await sweeper.sweep()
            // left: the fresh handled one, the two-day-old one, and the unhandled one of 40 days
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries") == 3)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NULL") == 1)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.send_counters WHERE key = 'channel:old'") == 0)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.send_counters WHERE key = 'channel:now'") == 1)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 1)
        }
    }
}
