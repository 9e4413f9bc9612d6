import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import PostgresNIO

/// `Idempotency-Key` for creating requests. The first response is stored in `<schema>.idempotency_keys` in the
/// same transaction as the work it describes; a retry with the same key (same caller) gets that response back,
/// the same key with a different request is a 409, and keys expire after `lifetime`.
///
/// Concurrent requests with one key serialize on the key's row: the second waits for the first to commit and
/// then replays it.
public struct Idempotency: Sendable {
    public let schema: String
    public let lifetime: Duration

    public init(schema: String, lifetime: Duration = .seconds(24 * 3600)) {
        self.schema = schema
        self.lifetime = lifetime
    }

    /// Runs a write in one transaction and answers its response; when the request carries an `Idempotency-Key`, at
    /// most once for that key. `singleStatement`: the write is one statement, atomic by itself, so without a key it
    /// needs no BEGIN/COMMIT.
    public func write<Value: Encodable & Sendable>(
        _ request: Request, context: AppRequestContext, postgres: PostgresClient, singleStatement: Bool = false,
        _ operation: (PostgresConnection) async throws -> JSONResponse<Value>
    ) async throws -> Response {
        guard let key = request.headers[.idempotencyKey] else {
            let result =
                if singleStatement {
                    try await postgres.withConnection { connection in try await operation(connection) }
                } else {
                    try await postgres.withTransaction(logger: context.logger) { connection in try await operation(connection) }
                }
            return try result.response(from: request, context: context)
        }
        guard !key.isEmpty, key.count <= 255, key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value < 0x7F }) else {
            throw APIError.badRequest("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters.")
        }
        let scope = Self.scope(context.identity)
        let fingerprint = try await Self.fingerprint(request)
        let seconds = self.lifetime.seconds
        let stored: (status: Int, body: [UInt8], replayed: Bool) = try await postgres.withTransaction(logger: context.logger) { connection in
            try await connection.query(
                "DELETE FROM \(unescaped: self.schema).idempotency_keys WHERE scope = \(scope) AND key = \(key) AND expires_at < now()",
                logger: context.logger)
            let inserted = try await connection.query(
                """
                INSERT INTO \(unescaped: self.schema).idempotency_keys (scope, key, request_hash, expires_at)
                VALUES (\(scope), \(key), \(fingerprint), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (scope, key) DO NOTHING RETURNING 1
                """, logger: context.logger
            ).first(as: Int.self)
            if inserted == nil {
                let existing = try await connection.query(
                    """
                    SELECT request_hash, status_code, response_body FROM \(unescaped: self.schema).idempotency_keys
                    WHERE scope = \(scope) AND key = \(key)
                    """, logger: context.logger
                ).first(as: (String, Int?, ByteBuffer?).self)
                guard let (hash, status, body) = existing, let status else {
                    throw APIError.conflict("idempotency_key_in_use", "A request with this Idempotency-Key is still in progress.")
                }
                guard hash == fingerprint else {
                    throw APIError.conflict(
                        "idempotency_key_reused", "This Idempotency-Key was already used with a different request.")
                }
                return (status, body.map { Array(buffer: $0) } ?? [], true)
            }
            let result = try await operation(connection)
            let body = try JSONEncoder.sokoni.encode(result.value)
            try await connection.query(
                """
                UPDATE \(unescaped: self.schema).idempotency_keys SET status_code = \(Int(result.status.code)), response_body = \(ByteBuffer(bytes: body))
                WHERE scope = \(scope) AND key = \(key)
                """, logger: context.logger)
            return (Int(result.status.code), Array(body), false)
        }
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if stored.replayed { headers[.idempotentReplayed] = "true" }
        return Response(status: .init(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
    }

    /// Keys belong to a caller: the same key from two callers never collides.
    static func scope(_ identity: Identity?) -> String {
        guard let identity else { return "anonymous" }
        return "\(identity.tenantID?.description ?? "-")|\(identity.subject)"
    }

    /// SHA-256 over method, path and body.
    static func fingerprint(_ request: Request) async throws -> String {
        var request = request
        let body = try await request.collectBody(upTo: 64 << 20)
        var hasher = SHA256()
        hasher.update(data: Data(request.method.rawValue.utf8))
        hasher.update(data: Data(request.uri.path.utf8))
        hasher.update(data: Data([0]))
        hasher.update(data: Data(buffer: body))
        return hasher.finalize().hex
    }
}
