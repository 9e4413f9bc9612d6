import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Models
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceKit

/// Forwards requests to the service that owns them, streaming both bodies. The gateway checks the route table
/// (401/403), the tenant's standing and the rate limit first; then the caller's token (or the one minted for
/// an API key), the request id and the client address travel with the request. Hop-by-hop headers stop here.
struct Proxy: Sendable {
    let client: HTTPClient
    let upstreams: [ServiceName: URL]
    let tenants: Tenants
    let limiter: RateLimiter
    let timeout: Duration

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host",
        "content-length",
    ]

    func addRoutes(to router: Router<AppRequestContext>) {
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete] {
            router.on("v1/**", method: method, use: self.forward)
            router.on("webhooks/**", method: method, use: self.forward)
        }
    }

    @Sendable func forward(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let route = RouteTable.match(request.uri.path) else {
            throw APIError.notFound("no_route", "No service answers \(request.uri.path).")
        }
        var principal = "ip:\(context.remoteAddress ?? "unknown")"
        var plan: Plan?
        if !route.isPublic {
            let caller = try context.requireCaller()
            guard route.allows(caller.roles, method: request.method.rawValue) else {
                throw APIError.forbidden("forbidden", "Your role may not do this.")
            }
            // the tenant's standing was checked by ServiceKit's TenantStandingMiddleware; its plan sets the rate limit
            if let tenant = caller.tokenTenantID {
                plan = try await self.tenants.tenant(tenant, logger: context.logger).flatMap { Plan(rawValue: $0.plan) }
            }
            principal = caller.subject
        }
        var limitHeaders = HTTPFields()
        if self.limiter.enabled {
            let decision = self.limiter.take(principal, limit: self.limiter.limit(plan: plan, anonymous: route.isPublic))
            limitHeaders = RateLimiter.headers(decision)
            guard decision.allowed else {
                var error = APIError.tooManyRequests("rate_limited", "Too many requests; slow down.", retryAfterSeconds: decision.retryAfterSeconds)
                error.headers.append(contentsOf: limitHeaders)
                throw error
            }
        }
        var response = try await self.send(request, context: context, to: route.service)
        response.headers.append(contentsOf: limitHeaders)
        return response
    }

    func send(_ request: Request, context: AppRequestContext, to service: ServiceName) async throws -> Response {
        guard let base = self.upstreams[service] else { throw APIError(.badGateway, code: "bad_gateway", message: "No upstream for \(service).") }
        var target = base.absoluteString
        if target.hasSuffix("/") { target.removeLast() }
        target += request.uri.path
        if let query = request.uri.query, !query.isEmpty { target += "?" + query }
        var outgoing = HTTPClientRequest(url: target)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        let connectionListed = Set((request.headers[.connection] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        for field in request.headers {
            let name = field.name.canonicalName
            if Self.hopByHop.contains(name) || connectionListed.contains(name) || name == "authorization" || name == "x-api-key" { continue }
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if let identity = context.identity { outgoing.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(identity.token)") }
        outgoing.headers.replaceOrAdd(name: "X-Request-ID", value: context.requestID)
        if let address = context.peerAddress {
            let prior = request.headers[HTTPField.Name("X-Forwarded-For")!].map { "\($0), " } ?? ""
            outgoing.headers.replaceOrAdd(name: "X-Forwarded-For", value: prior + address)
        }
        let length = request.headers[.contentLength].flatMap(Int64.init)
        if request.method != .get && request.method != .head {
            if let length, length <= 64 << 10 {
                // small bodies (most JSON) are held, so the client may resend them on a fresh connection
                var request = request
                outgoing.body = .bytes(try await request.collectBody(upTo: Int(length)))
            } else {
                outgoing.body = .stream(SingleUseBody(base: request.body), length: length.map { .known($0) } ?? .unknown)
            }
        }
        let upstream: HTTPClientResponse
        do {
            upstream = try await self.client.execute(outgoing, deadline: .now() + .nanoseconds(Int64(self.timeout.seconds * 1e9)), logger: context.logger)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw APIError(.gatewayTimeout, code: "upstream_timeout", message: "\(service.rawValue) did not answer in time.")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.warning("upstream unreachable", metadata: ["upstream": .string(service.rawValue), "error": "\(error)"])
            throw APIError(.badGateway, code: "upstream_unreachable", message: "\(service.rawValue) is unreachable.")
        }
        var headers = HTTPFields()
        let listed = Set(upstream.headers["connection"].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        for (name, value) in upstream.headers {
            let lower = name.lowercased()
            guard !Self.hopByHop.contains(lower) || lower == "content-length", !listed.contains(lower), let fieldName = HTTPField.Name(name) else { continue }
            headers.append(HTTPField(name: fieldName, value: value))
        }
        return Response(status: .init(code: Int(upstream.status.code)), headers: headers, body: ResponseBody(asyncSequence: upstream.body))
    }
}

/// A request body that can be read once. The HTTP client may try to read a body again to resend it on a new
/// connection; a streamed body cannot be replayed, so the second reader gets an error instead of a crash.
struct SingleUseBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let taken = NIOLockedValueBox(false)

    struct AlreadyRead: Error {}

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator?

        mutating func next() async throws -> ByteBuffer? {
            guard self.base != nil else { throw AlreadyRead() }
            return try await self.base!.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let first = self.taken.withLockedValue { taken -> Bool in
            defer { taken = true }
            return !taken
        }
        return AsyncIterator(base: first ? self.base.makeAsyncIterator() : nil)
    }
}
