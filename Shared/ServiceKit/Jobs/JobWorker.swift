import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs queued jobs: claims with `FOR UPDATE SKIP LOCKED` (so any number of replicas can share a queue),
/// retries failures with exponential backoff and jitter, and after `max_attempts` marks a job `dead` with its
/// last error. On graceful shutdown it claims no more and gives the jobs in hand `shutdownDeadline` to finish; a
/// handler still running then is cancelled and its job released (queued, unlocked, the attempt not counted) for
/// another worker, and the worker stops without waiting for it. A job whose worker died is claimed again once its
/// lock is older than `visibilityTimeout`.
public struct JobWorker: Service {
    public struct Options: Sendable {
        public var workers: Int
        public var pollInterval: Duration
        public var backoffBase: Duration
        public var maxBackoff: Duration
        public var visibilityTimeout: Duration
        /// How long a job in hand may keep running after graceful shutdown begins before it is abandoned and released.
        public var shutdownDeadline: Duration

        public init(
            workers: Int = 2, pollInterval: Duration = .milliseconds(250), backoffBase: Duration = .seconds(1),
            maxBackoff: Duration = .seconds(3600), visibilityTimeout: Duration = .seconds(300), shutdownDeadline: Duration = .seconds(10)
        ) {
            self.workers = workers
            self.pollInterval = pollInterval
            self.backoffBase = backoffBase
            self.maxBackoff = maxBackoff
            self.visibilityTimeout = visibilityTimeout
            self.shutdownDeadline = shutdownDeadline
        }
    }

    let postgres: PostgresClient
    let schema: String
    let registry: JobRegistry
    let options: Options
    let logger: Logger
    let gate: StartGate
    let workerID = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"

    public init(postgres: PostgresClient, schema: String, registry: JobRegistry, options: Options, logger: Logger, gate: StartGate) {
        self.postgres = postgres
        self.schema = schema
        self.registry = registry
        self.options = options
        self.logger = logger
        self.gate = gate
    }

    public func run() async throws {
        // no claims before the schema is migrated
        try await cancelWhenGracefulShutdown { try await self.gate.wait() }
        // a service that returns early stops the whole application, so an idle worker waits for shutdown
        guard self.options.workers > 0 else {
            try? await gracefulShutdown()
            return
        }
        guard !Task.isShuttingDownGracefully else { return }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<self.options.workers {
                group.addTask { await self.loop(index: index) }
            }
        }
    }

    func loop(index: Int) async {
        var lastMaintenance = ContinuousClock.now - .seconds(3600)
        // the job this worker finished last, recorded `done` by the claim of the next (one statement, not two); the
        // loop's exit records it alone
        var finished: Int64?
        work: while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // calls that may hang on an unresponsive database race the shutdown deadline, so they cannot hold up
                // shutdown past it
                if index == 0 && ContinuousClock.now - lastMaintenance > .seconds(60) {
                    // once a minute even when it fails: a failing maintenance must not keep the worker from claiming
                    lastMaintenance = .now
                    guard let maintained = await race({ try await self.maintenance() }, until: { await self.shutdownDeadlinePassed() }) else {
                        break work
                    }
                    if case .failure(let error) = maintained {
                        self.logger.warning("job maintenance failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
                let done = finished
                let claimed = await race({ try await self.claim(finished: done) }, until: { await self.shutdownDeadlinePassed() })
                guard let claimed else { break work }
                let job = try claimed.get()
                finished = nil
                if let job {
                    finished = await self.execute(job)
                    continue
                }
            } catch {
                if Task.isCancelled { break work }
                self.logger.error("job worker error", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.options.pollInterval) }
        }
        if let finished { await self.recordDone(finished) }
    }

    /// What recording a job `done` sets: in the claim that follows it, or alone when the worker stops.
    static let markDone = "status = 'done', locked_at = NULL, last_error = NULL, updated_at = now()"

    /// Claims a job whose worker died, else the next due job, marking it running. Two lookups, each walking its own
    /// partial index in order (`jobs_running`, `jobs_due`) and stopping at the first row no other worker holds: one
    /// lookup with `OR` read and sorted every due job on each claim (2.6 ms with 900 queued, the most expensive
    /// statement of a campaign at speed).
    /// `finished` (a job this worker ran to success) is recorded `done` in the same statement.
    public func claim(finished: Int64? = nil) async throws -> Job? {
        let visibility = Double(self.options.visibilityTimeout.components.seconds)
        let rows = try await self.postgres.query(
            """
            WITH finished AS (
                UPDATE \(unescaped: self.schema).jobs SET \(unescaped: Self.markDone)
                WHERE id = \(finished) AND status = 'running' AND locked_by = \(self.workerID))
            UPDATE \(unescaped: self.schema).jobs SET status = 'running', attempts = attempts + 1, locked_at = now(),
                locked_by = \(self.workerID), updated_at = now()
            WHERE id = coalesce(
                (SELECT id FROM \(unescaped: self.schema).jobs
                 WHERE status = 'running' AND locked_at < now() - make_interval(secs => \(visibility)) AND id IS DISTINCT FROM \(finished)
                 ORDER BY locked_at LIMIT 1 FOR UPDATE SKIP LOCKED),
                (SELECT id FROM \(unescaped: self.schema).jobs
                 WHERE status = 'queued' AND run_at <= now()
                 ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED))
            RETURNING id, kind, payload::text, attempts, max_attempts, request_id
            """, logger: self.logger)
        guard let (id, kind, payload, attempt, maxAttempts, requestID) = try await rows.first(as: (Int64, String, String, Int, Int, String?).self)
        else { return nil }
        return Job(id: id, kind: kind, payload: payload, attempt: attempt, maxAttempts: maxAttempts, requestID: requestID)
    }

    /// Runs one claimed job and records the outcome, but for success: answers the job's id, for the next claim to
    /// record.
    public func execute(_ job: Job) async -> Int64? {
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "job.kind"] = .string(job.kind)
        logger[metadataKey: "job.attempt"] = "\(job.attempt)"
        if let requestID = job.requestID { logger[metadataKey: "hb.request.id"] = .string(requestID) }
        do {
            guard let handler = self.registry.handlers[job.kind] else {
                throw JobError(message: "no handler for job kind \(job.kind)")
            }
            // the handler runs in a task of its own so that one ignoring cancellation cannot keep the worker alive
            let handlerLogger = logger
            let outcome = await race({ try await handler(job, handlerLogger) }, until: { await self.shutdownDeadlinePassed() })
            guard let outcome else {
                logger.warning("job still running at the shutdown deadline, releasing it")
                await self.release(job, logger: logger)
                return nil
            }
            try outcome.get()
            logger.debug("job done")
            return job.id
        } catch is CancellationError where Task.isCancelled {
            // hard stop mid-job: hand it back without counting the attempt
            await self.release(job, logger: logger)
        } catch {
            await self.recordFailure(job, error: error, logger: logger)
        }
        return nil
    }

    /// Records a finished job `done` on its own (the worker stops, so no claim follows), bounded as a release is; if
    /// this fails the job runs again after `visibilityTimeout`, as any job may.
    func recordDone(_ id: Int64) async {
        // in a task of its own, as a release: the worker may be cancelled already
        let logger = self.logger
        let result = await Task { [self] in
            await race(
                {
                    try await self.postgres.query(
                        """
                        UPDATE \(unescaped: self.schema).jobs SET \(unescaped: Self.markDone)
                        WHERE id = \(id) AND status = 'running' AND locked_by = \(self.workerID)
                        """, logger: logger)
                }, until: { try? await Task.sleep(for: .seconds(5)) })
        }.value
        if case .success? = result { return }
        logger.warning("could not record a finished job done; it runs again after the visibility timeout", metadata: ["job.id": "\(id)"])
    }

    /// Returns once graceful shutdown began and `shutdownDeadline` passed since, or early when cancelled (`race`
    /// ignores a trigger that returns cancelled).
    func shutdownDeadlinePassed() async {
        try? await gracefulShutdown()
        try? await Task.sleep(for: self.options.shutdownDeadline)
    }

    /// Hands a claimed job back: queued, due now, unlocked, the attempt not counted. Bounded, since the database may
    /// be the reason the job is stuck; if this fails the job is claimed again after `visibilityTimeout`.
    func release(_ job: Job, logger: Logger) async {
        // in a task of its own: after a hard stop the caller is already cancelled, and the release must still run
        let result = await Task { [self] in
            await race(
                {
                    try await self.postgres.query(
                        """
                        UPDATE \(unescaped: self.schema).jobs SET status = 'queued', attempts = greatest(attempts - 1, 0),
                            locked_at = NULL, locked_by = NULL, run_at = now(), updated_at = now()
                        WHERE id = \(job.id) AND status = 'running' AND locked_by = \(self.workerID)
                        """, logger: logger)
                }, until: { try? await Task.sleep(for: .seconds(5)) })
        }.value
        switch result {
        case .success?: logger.info("job released")
        case .failure(let error)?: logger.error("could not release job", metadata: ["error": "\(String(reflecting: error))"])
        case nil: logger.error("could not release job: the database did not answer in time")
        }
    }

    func recordFailure(_ job: Job, error: any Error, logger: Logger) async {
        let message = String(describing: error).prefix(2000).description
        do {
            if job.attempt >= job.maxAttempts {
                logger.error("job dead", metadata: ["error": .string(message)])
                try await self.postgres.query(
                    """
                    UPDATE \(unescaped: self.schema).jobs SET status = 'dead', locked_at = NULL, last_error = \(message), updated_at = now()
                    WHERE id = \(job.id)
                    """, logger: logger)
            } else {
                let delay = Self.backoff(attempt: job.attempt, base: self.options.backoffBase, max: self.options.maxBackoff)
                logger.warning("job failed, will retry", metadata: ["error": .string(message), "retry_in_ms": "\(delay.milliseconds)"])
                try await self.postgres.query(
                    """
                    UPDATE \(unescaped: self.schema).jobs SET status = 'queued', locked_at = NULL, last_error = \(message),
                        run_at = now() + make_interval(secs => \(delay.seconds)), updated_at = now()
                    WHERE id = \(job.id)
                    """, logger: logger)
            }
        } catch {
            logger.error("could not record job failure", metadata: ["error": "\(error)"])
        }
    }

    /// base·2^(attempt−1), capped, times a random factor in [0.5, 1] so retries of a burst spread out.
    public static func backoff(attempt: Int, base: Duration, max: Duration) -> Duration {
        let exponent = Swift.min(Swift.max(attempt - 1, 0), 30)
        let raw = base * Double(1 << exponent)
        let capped = raw > max ? max : raw
        return capped * Double.random(in: 0.5...1.0)
    }

    /// Drops finished jobs after a week and expired idempotency keys.
    func maintenance() async throws {
        try await self.postgres.query(
            "DELETE FROM \(unescaped: self.schema).jobs WHERE status = 'done' AND updated_at < now() - interval '7 days'", logger: self.logger)
        try await self.postgres.query(
            "DELETE FROM \(unescaped: self.schema).idempotency_keys WHERE expires_at < now()", logger: self.logger)
    }
}

public struct JobError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { self.message }
}

/// Opens once (after migrations) for everything that must not touch the schema before then.
public final class StartGate: Sendable {
    let stream: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    public init() {
        (self.stream, self.continuation) = AsyncStream.makeStream()
    }

    public func open() {
        self.continuation.finish()
    }

    /// Returns once opened. One waiter only.
    public func wait() async throws {
        for await _ in self.stream {}
        try Task.checkCancellation()
    }
}

extension Duration {
    public var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
    var milliseconds: Int { Int(self.seconds * 1000) }
}
