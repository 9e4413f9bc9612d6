import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore

/// The request context of every Sokoni service: the verified identity and the client address.
public struct AppRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    /// `ip` of the peer, for rate limits and logs.
    public var remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are bounded by `BodyLimitMiddleware` (configured per service); this is only the outer cap.
    public var maxUploadSize: Int { 64 << 20 }

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

extension AppRequestContext {
    /// A UUID path parameter, or 400 `invalid_id`.
    public func uuidParameter(_ name: String = "id") throws -> UUID {
        guard let text = self.parameters.get(name), let id = UUID(uuidString: text) else {
            throw APIError.badRequest("invalid_id", "The \(name) in the path must be a UUID.")
        }
        return id
    }
}
