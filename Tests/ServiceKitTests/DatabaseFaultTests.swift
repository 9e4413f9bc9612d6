import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceKit
import ServiceLifecycle
import TestSupport
import Testing

/// What a service does when PostgreSQL stops answering: readiness answers 503 quickly instead of hanging, and a job
/// worker stopping gracefully releases a job whose handler outlives the shutdown deadline.
@Suite struct DatabaseFaultTests {
    /// A new database reached through a proxy that can be told to swallow everything.
    static func databaseBehindAProxy() async throws -> (BlackholeProxy, DatabaseURL) {
        let database = try await TestPostgres.createDatabase()
        let proxy = try await BlackholeProxy.start(upstream: database)
        var viaProxy = database
        viaProxy.host = "127.0.0.1"
        viaProxy.port = proxy.port
        viaProxy.socketDirectory = nil
        return (proxy, viaProxy)
    }

    @Test func readyzAnswers503QuicklyWhenTheDatabaseStopsAnswering() async throws {
        let (proxy, viaProxy) = try await Self.databaseBehindAProxy()
        // no job workers: a claim stuck on the silenced database would hold the shutdown for its 10 s deadline (that
        // deadline has a test of its own below)
        let settings = try TestSettings.settings(for: .messaging, database: viaProxy, overrides: ["JOBS_WORKERS": "0"])
        // the proxy is closed before the service stops (also when an expectation throws), so nothing waits on it
        try await TestServices.with(ProbeService.self, settings: settings) { probe in
            defer { Task { await proxy.close() } }
            let url = "\(probe.baseURL)/readyz"
            // ready first (on a machine busy with the rest of the suite the first check may miss its 1.5 s deadline)
            var ready = false
            for _ in 0..<20 where !ready {
                ready = try await TestHTTP.request(.GET, url, timeout: .seconds(10)).status == 200
                if !ready { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(ready)
            // from now on the "database" swallows everything: pooled connections never get an answer and new ones
            // are accepted but never greeted (a partition, or a server stuck mid-restart)
            proxy.blackhole()
            // the first probe runs into a pooled connection, the next ones into new connections
            for attempt in 1...3 {
                let start = ContinuousClock.now
                let response = try await TestHTTP.request(.GET, url, timeout: .seconds(10))
                let elapsed = start.duration(to: .now)
                #expect(response.status == 503, "attempt \(attempt)")
                #expect(response.text.contains(#""status":"unavailable""#), "attempt \(attempt): \(response.text)")
                #expect(response.text.contains(#""database":"unreachable""#), "attempt \(attempt): \(response.text)")
                #expect(elapsed < .seconds(3), "attempt \(attempt) took \(elapsed)")
            }
            // liveness does not depend on the database
            #expect(try await TestHTTP.request(.GET, "\(probe.baseURL)/healthz", timeout: .seconds(3)).status == 200)
            await proxy.close()
        }
        await proxy.close()
    }

    @Test func aRequestCaughtByASilentDatabaseGetsATimeoutNotAHang() async throws {
        let (proxy, viaProxy) = try await Self.databaseBehindAProxy()
        let settings = try TestSettings.settings(
            for: .messaging, database: viaProxy, overrides: ["JOBS_WORKERS": "0", "HTTP_REQUEST_TIMEOUT_MS": "1000"])
        try await TestServices.with(ProbeService.self, settings: settings) { probe in
            defer { Task { await proxy.close() } }
            let token = try await TestKeys.token(tenant: tenantA, roles: [.tenantAdmin])
            let url = "\(probe.baseURL)/v1/probe/items"
            // answered first (on a machine busy with the rest of the suite a read through the proxy, on a new connection,
            // may miss the 1 s deadline: it is asked again until the database answered in time)
            var answered = try await TestHTTP.get(url, token: token).status
            for _ in 0..<10 where answered != 200 {
                try await Task.sleep(for: .milliseconds(250))
                answered = try await TestHTTP.get(url, token: token).status
            }
            #expect(answered == 200)
            proxy.blackhole()
            for attempt in 1...2 {
                let start = ContinuousClock.now
                let read = try await TestHTTP.request(.GET, url, token: token, headers: ["X-Request-ID": "stuck-\(attempt)"], timeout: .seconds(10))
                let elapsed = start.duration(to: .now)
                #expect(read.status == 503, "attempt \(attempt): \(read.text)")
                #expect(read.errorCode == "timeout")
                #expect(read.headers.first(name: "Retry-After") == "1")
                #expect(read.headers.first(name: "X-Request-ID") == "stuck-\(attempt)")
                #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(3), "attempt \(attempt) took \(elapsed)")
            }
            let write = try await TestHTTP.post(url, token: token, json: ProbeService.CreateItem(name: "stuck"))
            #expect(write.status == 503 && write.errorCode == "timeout")
            await proxy.close()
        }
        await proxy.close()
    }

    @Test func aJobStillRunningAtTheShutdownDeadlineIsReleasedForAnotherWorker() async throws {
        try await withProbe { probe in
            let env = probe.environment
            // a queue of our own, so the probe's worker (which has no handler for this kind) never sees the job
            let schema = "fault_\(UUID().uuidString.prefix(8).lowercased())"
            try await env.postgres.query("CREATE SCHEMA \(unescaped: schema)", logger: TestLog.quiet)
            try await env.postgres.query(
                "CREATE TABLE \(unescaped: schema).jobs (LIKE messaging.jobs INCLUDING ALL)", logger: TestLog.quiet)
            // the worker's maintenance also prunes idempotency keys
            try await env.postgres.query(
                "CREATE TABLE \(unescaped: schema).idempotency_keys (LIKE messaging.idempotency_keys INCLUDING ALL)",
                logger: TestLog.quiet)
            let queue = JobQueue(schema: schema)
            let id = try await env.postgres.withTransaction(logger: TestLog.quiet) { connection in
                try await queue.enqueue("fault.stuck", payload: ["k": "v"], on: connection, logger: TestLog.quiet)
            }

            let (started, startedContinuation) = AsyncStream.makeStream(of: Int64.self)
            var registry = JobRegistry()
            registry.register("fault.stuck") { job, _ in
                startedContinuation.yield(job.id)
                // a handler stuck in a call that ignores cancellation, far longer than the deadline
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 60) { continuation.resume() }
                }
            }
            let gate = StartGate()
            gate.open()
            let worker = JobWorker(
                postgres: env.postgres, schema: schema, registry: registry,
                options: .init(workers: 1, pollInterval: .milliseconds(20), shutdownDeadline: .seconds(1)),
                logger: TestLog.quiet, gate: gate)
            let group = ServiceGroup(configuration: .init(services: [worker], gracefulShutdownSignals: [], logger: TestLog.quiet))
            let running = Task { try await group.run() }
            defer { running.cancel() }

            let claimedID = try await firstValue(of: started, within: .seconds(10))
            #expect(claimedID == id)
            let (status, attempts, lockedBy) = try await env.postgres.query(
                "SELECT status, attempts, locked_by FROM \(unescaped: schema).jobs WHERE id = \(id)", logger: TestLog.quiet
            ).first(as: (String, Int, String?).self)!
            #expect(status == "running")
            #expect(attempts == 1)
            #expect(lockedBy != nil)

            let stopping = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await withTimeout(.seconds(8)) { try await running.value }
            let elapsed = stopping.duration(to: .now)
            #expect(elapsed >= .milliseconds(900), "stopped after \(elapsed), before the deadline")
            #expect(elapsed < .seconds(5), "stopped after \(elapsed)")

            let row = try await env.postgres.query(
                """
                SELECT status, attempts, locked_at IS NULL, locked_by, run_at <= now()
                FROM \(unescaped: schema).jobs WHERE id = \(id)
                """, logger: TestLog.quiet
            ).first(as: (String, Int, Bool, String?, Bool).self)!
            #expect(row.0 == "queued")
            #expect(row.1 == 0, "the abandoned attempt is not counted")
            #expect(row.2, "locked_at cleared")
            #expect(row.3 == nil, "locked_by cleared")
            #expect(row.4, "due now")

            // and another worker takes it straight away, long before the visibility timeout
            let other = JobWorker(
                postgres: env.postgres, schema: schema, registry: JobRegistry(), options: .init(workers: 1), logger: TestLog.quiet,
                gate: StartGate())
            let again = try await other.claim()
            #expect(again?.id == id)
            #expect(again?.attempt == 1)
        }
    }

    func firstValue<T: Sendable>(of stream: AsyncStream<T>, within limit: Duration) async throws -> T {
        try await withTimeout(limit) {
            for await value in stream { return value }
            throw TestSupportError("stream ended")
        }
    }

    func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw TestSupportError("timed out after \(limit)")
            }
            return value
        }
    }
}

/// A TCP proxy on loopback in front of PostgreSQL that can be switched to swallow everything: after `blackhole()`
/// bytes in either direction are dropped and new connections are accepted but never answered.
final class BlackholeProxy: Sendable {
    let port: Int
    private let server: any Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var blackholed = false
        var channels: [any Channel] = []
    }

    var isBlackholed: Bool { self.state.withLockedValue { $0.blackholed } }

    private init(server: any Channel, state: NIOLockedValueBox<State>) {
        self.server = server
        self.port = server.localAddress?.port ?? 0
        self.state = state
    }

    static func start(upstream: DatabaseURL) async throws -> BlackholeProxy {
        let state = NIOLockedValueBox(State())
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { child in
                state.withLockedValue { $0.channels.append(child) }
                let forward = Forward(state: state)
                do {
                    try child.pipeline.syncOperations.addHandler(forward)
                } catch {
                    return child.eventLoop.makeFailedFuture(error)
                }
                if state.withLockedValue({ $0.blackholed }) {
                    // accepted, never answered
                    return child.setOption(.autoRead, value: true)
                }
                let connect: EventLoopFuture<any Channel>
                let bootstrap = ClientBootstrap(group: child.eventLoop).channelInitializer { upstreamChannel in
                    state.withLockedValue { $0.channels.append(upstreamChannel) }
                    do {
                        let back = Forward(state: state)
                        back.peer = child
                        try upstreamChannel.pipeline.syncOperations.addHandler(back)
                        return upstreamChannel.eventLoop.makeSucceededVoidFuture()
                    } catch {
                        return upstreamChannel.eventLoop.makeFailedFuture(error)
                    }
                }
                if let socket = upstream.socketDirectory {
                    connect = bootstrap.connect(unixDomainSocketPath: "\(socket)/.s.PGSQL.\(upstream.port)")
                } else {
                    connect = bootstrap.connect(host: upstream.host, port: upstream.port)
                }
                let loopBound = NIOLoopBound(forward, eventLoop: child.eventLoop)
                return connect.flatMap { upstreamChannel in
                    loopBound.value.peer = upstreamChannel
                    return child.setOption(.autoRead, value: true)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return BlackholeProxy(server: server, state: state)
    }

    func blackhole() {
        self.state.withLockedValue { $0.blackholed = true }
    }

    /// Closes the listener and every connection, so whatever still waits on them fails.
    func close() async {
        let channels = self.state.withLockedValue { state in
            let channels = state.channels
            state.channels = []
            return channels
        }
        try? await self.server.close()
        for channel in channels { try? await channel.close() }
    }

    /// Copies bytes to the other side unless the proxy is blackholed.
    final class Forward: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let state: NIOLockedValueBox<State>
        var peer: (any Channel)?

        init(state: NIOLockedValueBox<State>) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = self.unwrapInboundIn(data)
            guard !self.state.withLockedValue({ $0.blackholed }), let peer = self.peer else { return }
            peer.writeAndFlush(buffer, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.peer?.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
