import AsyncHTTPClient
import Foundation
import Logging
import Models
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// On whose behalf a call is made: the request id to carry and the bearer token to present
/// (the caller's own token in user context, a service token in background jobs).
public struct CallContext: Sendable {
    public var requestID: String?
    public var bearerToken: String?
    /// For platform callers and services: the tenant to act on (`X-Tenant-ID`).
    public var tenantHeader: String?

    public init(requestID: String?, bearerToken: String?, tenantHeader: String? = nil) {
        self.requestID = requestID
        self.bearerToken = bearerToken
        self.tenantHeader = tenantHeader
    }
}

/// A failed call: the other service's JSON error, or no usable answer at all.
public enum ServiceClientError: Error, CustomStringConvertible, Equatable {
    /// The service answered with an error body (`{"error":{"code","message"}}`).
    case api(status: Int, code: String, message: String)
    /// No answer (connection refused, timeout) after the allowed retries.
    case unavailable(service: String, reason: String)
    /// An answer that was not the expected JSON.
    case malformedResponse(service: String, reason: String)

    public var description: String {
        switch self {
        case .api(let status, let code, let message): "\(status) \(code): \(message)"
        case .unavailable(let service, let reason): "\(service) unavailable: \(reason)"
        case .malformedResponse(let service, let reason): "\(service) sent a malformed response: \(reason)"
        }
    }

    public var status: Int? {
        if case .api(let status, _, _) = self { return status }
        return nil
    }
}

/// Typed JSON over HTTP to another Sokoni service. Safe calls (GET, or POST with an idempotency key) are
/// retried with exponential backoff on connection failures and 502/503/504; others are tried once.
public struct ServiceClient: Sendable {
    public let service: String
    public let baseURL: URL
    let httpClient: HTTPClient
    public var timeout: Duration
    public var maxRetries: Int
    public var backoffBase: Duration
    let logger: Logger

    public init(
        service: String, baseURL: URL, httpClient: HTTPClient, logger: Logger, timeout: Duration = .seconds(10), maxRetries: Int = 3,
        backoffBase: Duration = .milliseconds(100)
    ) {
        self.service = service
        self.baseURL = baseURL
        self.httpClient = httpClient
        self.logger = logger
        self.timeout = timeout
        self.maxRetries = maxRetries
        self.backoffBase = backoffBase
    }

    public func get<Response: Decodable>(_ path: String, query: [String: String] = [:], context: CallContext, as type: Response.Type = Response.self)
        async throws -> Response
    {
        let (_, body) = try await self.send(.GET, path, query: query, body: nil, idempotencyKey: nil, context: context)
        return try self.decode(Response.self, body)
    }

    /// `get`, with nil for a 404: the resource does not exist (other errors still throw).
    public func find<Response: Decodable>(_ path: String, context: CallContext, as type: Response.Type = Response.self) async throws -> Response? {
        do {
            return try await self.get(path, context: context, as: Response.self)
        } catch ServiceClientError.api(404, _, _) {
            return nil
        }
    }

    public func post<Body: Encodable, Response: Decodable>(
        _ path: String, body: Body, idempotencyKey: String? = nil, context: CallContext, as type: Response.Type = Response.self
    ) async throws -> Response {
        let data = try JSONEncoder.sokoni.encode(body)
        let (_, responseBody) = try await self.send(.POST, path, body: data, idempotencyKey: idempotencyKey, context: context)
        return try self.decode(Response.self, responseBody)
    }

    public func put<Body: Encodable, Response: Decodable>(
        _ path: String, body: Body, idempotencyKey: String? = nil, context: CallContext, as type: Response.Type = Response.self
    ) async throws -> Response {
        let data = try JSONEncoder.sokoni.encode(body)
        let (_, responseBody) = try await self.send(.PUT, path, body: data, idempotencyKey: idempotencyKey, context: context)
        return try self.decode(Response.self, responseBody)
    }

    /// One call; answers the status and body of a 2xx, throws ServiceClientError otherwise.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [String: String] = [:], body: Data?, idempotencyKey: String?, context: CallContext,
        headers extraHeaders: [(String, String)] = []
    ) async throws -> (status: Int, body: ByteBuffer) {
        var request = HTTPClientRequest(url: self.url(path, query: query))
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let requestID = context.requestID { request.headers.add(name: "X-Request-ID", value: requestID) }
        if let token = context.bearerToken { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let tenant = context.tenantHeader { request.headers.add(name: "X-Tenant-ID", value: tenant) }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        for (name, value) in extraHeaders { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let retriable = method == .GET || method == .HEAD || idempotencyKey != nil
        let attempts = retriable ? self.maxRetries + 1 : 1
        var lastFailure = ""
        for attempt in 0..<attempts {
            if attempt > 0 {
                let jitter = Double.random(in: 0.5...1.0)
                try await Task.sleep(for: self.backoffBase * (Double(1 << (attempt - 1)) * jitter))
            }
            do {
                let response = try await self.httpClient.execute(
                    request, timeout: .nanoseconds(Int64(self.timeout.components.seconds) * 1_000_000_000 + self.timeout.components.attoseconds / 1_000_000_000)
                )
                let bytes = try await response.body.collect(upTo: 16 << 20)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return (status, bytes) }
                if [502, 503, 504].contains(status) && attempt + 1 < attempts {
                    lastFailure = "HTTP \(status)"
                    continue
                }
                throw self.apiError(status: status, body: bytes)
            } catch let error as ServiceClientError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastFailure = String(describing: error)
                self.logger.debug("call failed", metadata: ["service": "\(self.service)", "attempt": "\(attempt + 1)", "error": "\(error)"])
            }
        }
        throw ServiceClientError.unavailable(service: self.service, reason: lastFailure)
    }

    func url(_ path: String, query: [String: String]) -> String {
        var base = self.baseURL.absoluteString
        if base.hasSuffix("/") { base.removeLast() }
        var url = base + (path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty {
            var components = URLComponents()
            components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            url += "?" + (components.percentEncodedQuery ?? "")
        }
        return url
    }

    func apiError(status: Int, body: ByteBuffer) -> ServiceClientError {
        if let decoded = try? JSONDecoder.sokoni.decode(APIErrorBody.self, from: Data(buffer: body)) {
            return .api(status: status, code: decoded.error.code, message: decoded.error.message)
        }
        return .api(status: status, code: "http_\(status)", message: String(buffer: body).prefix(200).description)
    }

    func decode<Response: Decodable>(_ type: Response.Type, _ body: ByteBuffer) throws -> Response {
        do {
            return try JSONDecoder.sokoni.decode(Response.self, from: Data(buffer: body))
        } catch {
            throw ServiceClientError.malformedResponse(service: self.service, reason: String(describing: error))
        }
    }
}
