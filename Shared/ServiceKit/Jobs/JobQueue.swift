import Foundation
import Logging
import PostgresNIO

/// A job as a handler sees it.
public struct Job: Sendable {
    public var id: Int64
    public var kind: String
    /// The payload's JSON text.
    public var payload: String
    /// 1 on the first run.
    public var attempt: Int
    public var maxAttempts: Int
    /// The request that enqueued it, carried into the handler's logs and calls.
    public var requestID: String?

    public func decode<Payload: Decodable>(_ type: Payload.Type) throws -> Payload {
        try JSONDecoder.sokoni.decode(Payload.self, from: Data(self.payload.utf8))
    }
}

/// Writes jobs into `<schema>.jobs`. Always inside the caller's transaction, so a job exists exactly when the
/// state change that caused it committed.
public struct JobQueue: Sendable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    @discardableResult
    public func enqueue(
        _ kind: String, payload: some Encodable, on connection: PostgresConnection, runAt: Date? = nil, maxAttempts: Int = 12,
        requestID: String? = nil, logger: Logger
    ) async throws -> Int64 {
        let json = String(decoding: try JSONEncoder.sokoni.encode(payload), as: UTF8.self)
        let rows = try await connection.query(
            """
            INSERT INTO \(unescaped: self.schema).jobs (kind, payload, run_at, max_attempts, request_id)
            VALUES (\(kind), \(json)::jsonb, coalesce(\(runAt), now()), \(maxAttempts), \(requestID))
            RETURNING id
            """, logger: logger)
        guard let id = try await rows.first(as: Int64.self) else { throw MigrationError(description: "job insert returned nothing") }
        return id
    }

    /// One job per payload, queued by one statement.
    public func enqueueMany<Payload: Encodable>(
        _ kind: String, payloads: [Payload], on connection: PostgresConnection, maxAttempts: Int = 12, requestID: String? = nil, logger: Logger
    ) async throws {
        guard !payloads.isEmpty else { return }
        let json = try payloads.map { String(decoding: try JSONEncoder.sokoni.encode($0), as: UTF8.self) }
        try await connection.query(
            """
            INSERT INTO \(unescaped: self.schema).jobs (kind, payload, max_attempts, request_id)
            SELECT \(kind), p::jsonb, \(maxAttempts), \(requestID) FROM unnest(\(json)::text[]) AS p
            """, logger: logger)
    }

    /// Job counts by status (for `/metrics` and tests).
    public func counts(client: PostgresClient, logger: Logger) async throws -> [String: Int] {
        let rows = try await client.query("SELECT status, count(*)::int FROM \(unescaped: self.schema).jobs GROUP BY status", logger: logger)
        var counts: [String: Int] = ["queued": 0, "running": 0, "done": 0, "dead": 0]
        for try await (status, count) in rows.decode((String, Int).self) {
            counts[status] = count
        }
        return counts
    }
}

/// Handlers by job kind.
public struct JobRegistry: Sendable {
    public typealias Handler = @Sendable (Job, Logger) async throws -> Void
    var handlers: [String: Handler] = [:]

    public init() {}

    public mutating func register(_ kind: String, _ handler: @escaping Handler) {
        self.handlers[kind] = handler
    }

    /// A handler that receives its payload decoded.
    public mutating func register<Payload: Decodable & Sendable>(
        _ kind: String, as type: Payload.Type, _ handler: @escaping @Sendable (Payload, Job, Logger) async throws -> Void
    ) {
        self.handlers[kind] = { job, logger in
            try await handler(try job.decode(Payload.self), job, logger)
        }
    }

    public var isEmpty: Bool { self.handlers.isEmpty }
}
