import Foundation
import HTTPTypes
import Hummingbird
import Models
import NIOCore
import PostgresNIO
import ServiceClient

/// An error with a status and a stable code, answered as `{"error":{"code":"…","message":"…"}}`.
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(self.status.code) \(self.code): \(self.message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        self.response()
    }

    public func response() -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = (try? JSONEncoder.sokoni.encode(APIErrorBody(code: self.code, message: self.message))) ?? Data()
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    public static func badRequest(_ code: String = "bad_request", _ message: String) -> APIError {
        APIError(.badRequest, code: code, message: message)
    }
    public static func unauthorized(_ code: String = "unauthorized", _ message: String) -> APIError {
        APIError(.unauthorized, code: code, message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
    public static func forbidden(_ code: String = "forbidden", _ message: String) -> APIError {
        APIError(.forbidden, code: code, message: message)
    }
    public static func notFound(_ code: String = "not_found", _ message: String) -> APIError {
        APIError(.notFound, code: code, message: message)
    }
    public static func conflict(_ code: String = "conflict", _ message: String) -> APIError {
        APIError(.conflict, code: code, message: message)
    }
    public static func unprocessable(_ code: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code: code, message: message)
    }
    public static func tooManyRequests(_ code: String = "rate_limited", _ message: String, retryAfterSeconds: Int) -> APIError {
        APIError(.tooManyRequests, code: code, message: message, headers: [.retryAfter: String(max(1, retryAfterSeconds))])
    }

    /// Maps any error to the JSON error a client sees. Internal details never leave: unknown errors are a bare 500.
    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as PostgresTransactionError:
            // an error thrown inside a transaction arrives wrapped; answer what the closure threw
            if let inner = error.closureError { return Self.from(inner) }
            return APIError(.internalServerError, code: "internal_error", message: "An internal error occurred.")
        case let error as PSQLError:
            // a refused write no store named: still the caller's input, never a 500
            return ConstraintErrors.generic(error) ?? APIError(.internalServerError, code: "internal_error", message: "An internal error occurred.")
        case let error as ServiceClientError:
            switch error {
            case .api(401, _, _), .api(403, _, _):
                // the service refused this service's own credentials: not the caller's to fix, nor a reason to log them out
                return APIError(.badGateway, code: "upstream_error", message: "A service this request depends on refused it.")
            case .api(let status, let code, let message) where (400..<500).contains(status):
                return APIError(.init(code: status), code: code, message: message)
            case .api, .malformedResponse:
                return APIError(.badGateway, code: "upstream_error", message: "A service this request depends on failed.")
            case .unavailable:
                return APIError(.serviceUnavailable, code: "dependency_unavailable", message: "A service this request depends on is unavailable.")
            }
        case let error as HTTPError:
            let message = error.body ?? Self.defaultMessage(error.status)
            return APIError(error.status, code: Self.defaultCode(error.status), message: message, headers: error.headers)
        case let error as DecodingError:
            return .badRequest("invalid_json", Self.describe(error))
        case let error as any HTTPResponseError:
            return APIError(error.status, code: Self.defaultCode(error.status), message: Self.defaultMessage(error.status))
        default:
            return APIError(.internalServerError, code: "internal_error", message: "An internal error occurred.")
        }
    }

    static func defaultCode(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 408: "request_timeout"
        case 409: "conflict"
        case 413: "payload_too_large"
        case 415: "unsupported_media_type"
        case 422: "unprocessable"
        case 429: "rate_limited"
        case 502: "bad_gateway"
        case 503: "unavailable"
        case 504: "gateway_timeout"
        default: status.code >= 500 ? "internal_error" : "error"
        }
    }

    static func defaultMessage(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: "No such resource."
        case 413: "The request body is too large."
        default: status.reasonPhrase.isEmpty ? "HTTP \(status.code)" : status.reasonPhrase
        }
    }

    /// A decoding error as a client can act on it: which field, what was wrong.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "body" : "`\(keys.joined(separator: "."))`"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "Required field `\(key.stringValue)` is missing\(parent)."
        case .typeMismatch(let type, let context):
            return "Field \(path(context)) has the wrong type (expected \(type))."
        case .valueNotFound(let type, let context):
            return "Field \(path(context)) must not be null (expected \(type))."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The body is not valid JSON." }
            return "Field \(path(context)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "The body could not be decoded."
        }
    }
}
