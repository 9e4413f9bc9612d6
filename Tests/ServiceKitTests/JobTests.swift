import Foundation
import Logging
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@Suite struct JobTests {
    func enqueue(_ probe: RunningService<ProbeService>, _ kind: String, _ payload: ProbeService.FlakyJob, maxAttempts: Int = 12) async throws -> Int64 {
        let env = probe.environment
        return try await env.postgres.withTransaction(logger: TestLog.quiet) { connection in
            try await env.jobs.enqueue(kind, payload: payload, on: connection, maxAttempts: maxAttempts, requestID: "job-req", logger: TestLog.quiet)
        }
    }

    func state(_ probe: RunningService<ProbeService>, _ id: Int64) async throws -> (String, Int, String?) {
        try await probe.environment.postgres.query(
            "SELECT status, attempts, last_error FROM messaging.jobs WHERE id = \(id)", logger: TestLog.quiet
        ).first(as: (String, Int, String?).self)!
    }

    /// Waits until the job has `status` (and, when given, at least `attempts` attempts: a new job is `queued` too), for
    /// 30 s at most (time, not a number of polls: each poll is a query, slow on a runner busy with the whole suite).
    func waitFor(_ probe: RunningService<ProbeService>, _ id: Int64, status: String, attempts: Int = 0) async throws -> (String, Int, String?) {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let current = try await self.state(probe, id)
            if current.0 == status && current.1 >= attempts { return current }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await self.state(probe, id)
    }

    @Test func aFailingJobIsRetriedWithBackoffUntilItSucceeds() async throws {
        try await withProbe { probe in
            let key = UUID().uuidString
            let id = try await enqueue(probe, "probe.flaky", .init(key: key, failures: 2))
            let (status, attempts, lastError) = try await waitFor(probe, id, status: "done")
            #expect(status == "done")
            #expect(attempts == 3)
            #expect(lastError == nil)
            #expect(ProbeService.jobRuns.withLockedValue { $0[key] } == 3)
        }
    }

    @Test func aJobThatKeepsFailingEndsDeadWithItsLastError() async throws {
        try await withProbe { probe in
            let key = UUID().uuidString
            let id = try await enqueue(probe, "probe.flaky", .init(key: key, failures: 100), maxAttempts: 3)
            let (status, attempts, lastError) = try await waitFor(probe, id, status: "dead")
            #expect(status == "dead")
            #expect(attempts == 3)
            #expect(lastError == "planned failure 3 of \(key)")
            try await Task.sleep(for: .milliseconds(200))
            #expect(ProbeService.jobRuns.withLockedValue { $0[key] } == 3)
            let unknown = try await enqueue(probe, "probe.nobody-handles-this", .init(key: key, failures: 0), maxAttempts: 1)
            #expect(try await waitFor(probe, unknown, status: "dead").2 == "no handler for job kind probe.nobody-handles-this")
        }
    }

    @Test func retriesBackOffExponentiallyWithJitter() {
        for attempt in 1...6 {
            let delay = JobWorker.backoff(attempt: attempt, base: .seconds(1), max: .seconds(20))
            let full = min(Double(1 << (attempt - 1)), 20)
            #expect(delay >= .seconds(full * 0.5) && delay <= .seconds(full), "attempt \(attempt): \(delay)")
        }
        let delays = Set((0..<20).map { _ in JobWorker.backoff(attempt: 3, base: .seconds(1), max: .seconds(60)) })
        #expect(delays.count > 1)
    }

    @Test func aRetryWaitsForItsRunAt() async throws {
        try await withProbe(overrides: ["JOBS_BACKOFF_BASE_MS": "60000"]) { probe in
            let key = UUID().uuidString
            let id = try await enqueue(probe, "probe.flaky", .init(key: key, failures: 1))
            // queued again after its failed first run (a new job is queued too, with run_at now)
            _ = try await waitFor(probe, id, status: "queued", attempts: 1)
            try await Task.sleep(for: .milliseconds(300))
            let wait = try await probe.environment.postgres.query(
                "SELECT extract(epoch FROM run_at - now())::float8 FROM messaging.jobs WHERE id = \(id)", logger: TestLog.quiet
            ).first(as: Double.self)!
            #expect(wait > 20 && wait <= 60)
            #expect(ProbeService.jobRuns.withLockedValue { $0[key] } == 1)
        }
    }

    @Test func aJobEnqueuedInARolledBackTransactionNeverRuns() async throws {
        try await withProbe { probe in
            let env = probe.environment
            let key = UUID().uuidString
            await #expect(throws: (any Error).self) {
                try await env.postgres.withTransaction(logger: TestLog.quiet) { connection in
                    try await env.jobs.enqueue("probe.flaky", payload: ProbeService.FlakyJob(key: key, failures: 0), on: connection, logger: TestLog.quiet)
                    throw JobError(message: "the state change failed")
                }
            }
            // a committed job enqueued after it runs, so the worker was looking
            let marker = try await enqueue(probe, "probe.flaky", .init(key: key + "-marker", failures: 0))
            _ = try await waitFor(probe, marker, status: "done")
            #expect(ProbeService.jobRuns.withLockedValue { $0[key] } == nil)
            let count = try await env.postgres.query("SELECT count(*)::int FROM messaging.jobs WHERE payload->>'key' = \(key)", logger: TestLog.quiet).first(
                as: Int.self)
            #expect(count == 0)
        }
    }

    @Test func gracefulShutdownFinishesTheJobInHand() async throws {
        let key = UUID().uuidString
        let database = try await TestPostgres.createDatabase()
        let settings = try TestSettings.settings(for: .messaging, database: database)
        let id: Int64 = try await TestServices.with(ProbeService.self, settings: settings) { probe in
            let id = try await enqueue(probe, "probe.slow", .init(key: key, failures: 0))
            _ = try await waitFor(probe, id, status: "running")
            return id
        }
        // the service stopped while the job slept; it finished and was recorded as done
        #expect(ProbeService.jobRuns.withLockedValue { $0[key] } == 1)
        try await withClient(database) { client in
            let status = try await client.query("SELECT status FROM messaging.jobs WHERE id = \(id)", logger: TestLog.quiet).first(as: String.self)
            #expect(status == "done")
        }
    }

    @Test func concurrentWorkersNeverRunAJobTwice() async throws {
        try await withProbe(overrides: ["JOBS_WORKERS": "6"]) { probe in
            let keys = (0..<60).map { _ in UUID().uuidString }
            var ids: [Int64] = []
            for key in keys { ids.append(try await enqueue(probe, "probe.flaky", .init(key: key, failures: 0))) }
            for id in ids { _ = try await waitFor(probe, id, status: "done") }
            let runs = ProbeService.jobRuns.withLockedValue { runs in keys.map { runs[$0] ?? 0 } }
            #expect(runs.allSatisfy { $0 == 1 })
        }
    }

    @Test func auditRowsAreWrittenWithTheChangeAndCarryTheDiff() async throws {
        try await withProbe { probe in
            let token = try await TestKeys.token(subject: "auditor", tenant: tenantA, roles: [.tenantAdmin])
            let response = try await TestHTTP.post(
                "\(probe.baseURL)/v1/probe/items", token: token, headers: ["X-Request-ID": "audit-1"], json: ProbeService.CreateItem(name: "audited"))
            let item = try response.json(ProbeService.Item.self)
            let row = try await probe.environment.postgres.query(
                "SELECT actor, action, target_table, target_id, diff::text, request_id FROM messaging.audit_log", logger: TestLog.quiet
            ).all(as: (String, String, String, String, String, String?).self)
            #expect(row.count == 1)
            #expect(row.first?.0 == "auditor")
            #expect(row.first?.3 == String(item.id))
            #expect(row.first?.5 == "audit-1")
            #expect(row.first?.4.contains(#""name": {"after": "audited", "before": null}"#) == true)
            // a write that fails leaves no audit row (and no job)
            _ = try await TestHTTP.post("\(probe.baseURL)/v1/probe/items", token: token, json: ProbeService.CreateItem(name: "boom"))
            let counts = try await probe.environment.postgres.query(
                "SELECT (SELECT count(*)::int FROM messaging.audit_log), (SELECT count(*)::int FROM messaging.jobs)", logger: TestLog.quiet
            ).first(as: (Int, Int).self)
            #expect(counts?.0 == 1)
            #expect(counts?.1 == 1)
        }
    }
}

@Suite struct BlobStoreTests {
    @Test func storesReadsAndRefusesKeysThatLeaveTheDirectory() async throws {
        let store = try FileBlobStore(directory: URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("blobs-\(UUID().uuidString)"))
        try await store.put("a/b/c.png", bytes: [1, 2, 3], contentType: "image/png")
        try await store.put("a/b/c.png", bytes: [4, 5], contentType: "image/png")
        let read = try await store.get("a/b/c.png")
        #expect(read?.bytes == [4, 5])
        #expect(read?.contentType == "image/png")
        #expect(try await store.get("a/b/missing.png") == nil)
        for bad in ["../etc/passwd", "/etc/passwd", "a/../../x", "a b"] {
            await #expect(throws: APIError.self) { try await store.put(bad, bytes: [0], contentType: "x") }
        }
    }

    @Test func signedLinksExpireAndCannotBeAltered() throws {
        let links = SignedURLs(secret: "s")
        let now = Date()
        let query = links.query(path: "/x", lifetime: .seconds(60), now: now)
        let parts = Dictionary(
            uniqueKeysWithValues: query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }.map { ($0[0], $0[1]) })
        try links.verify(path: "/x", expires: parts["expires"], signature: parts["sig"], now: now)
        #expect(throws: APIError.self) { try links.verify(path: "/y", expires: parts["expires"], signature: parts["sig"], now: now) }
        #expect(throws: APIError.self) { try links.verify(path: "/x", expires: parts["expires"], signature: parts["sig"], now: now.addingTimeInterval(61)) }
        #expect(throws: APIError.self) { try SignedURLs(secret: "t").verify(path: "/x", expires: parts["expires"], signature: parts["sig"], now: now) }
    }
}
