import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import Models
import NIOCore

/// The request context of every Sokoni service: the verified identity and the client address.
public struct AppRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    /// The client's address, for rate limits and logs: the TCP peer, or behind a trusted proxy the client it names.
    public var remoteAddress: String?
    /// The TCP peer itself.
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.peerAddress = self.remoteAddress
    }

    /// The most a handler reads of a body: set by `BodyLimitMiddleware` to the service's limit, so a body of unknown
    /// length (chunked) is refused with 413 as it is read, also on routes whose bodies are not buffered up front.
    public var maxUploadSize: Int = 64 << 20

    public var requestDecoder: JSONDecoder { .sokoni }
    public var responseEncoder: JSONEncoder { .sokoni }

    /// The request id (`X-Request-ID`), the same one every log line of this request carries; set by
    /// `RequestLifecycleMiddleware` (kept here too, since a no-op log handler keeps no metadata).
    public var requestID: String = ""

    /// The verified identity, or 401.
    public func requireCaller() throws -> Identity {
        guard let identity = self.identity else {
            throw APIError.unauthorized("unauthorized", "A valid bearer token is required.")
        }
        return identity
    }

    /// The verified caller and the tenant the request acts on (401 without a caller, 400 when a platform caller
    /// named no tenant in `X-Tenant-ID`).
    public func requireTenantCaller() throws -> (caller: Identity, tenant: TenantID) {
        let caller = try self.requireCaller()
        return (caller, try caller.requireTenant())
    }
}

/// Encodes any Encodable value as a JSON response with a status.
public struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    public var status: HTTPResponse.Status
    public var value: Value
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status = .ok, _ value: Value, headers: HTTPFields = [:]) {
        self.status = status
        self.value = value
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let data = try JSONEncoder.sokoni.encode(self.value)
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
