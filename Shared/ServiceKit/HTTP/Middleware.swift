import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// What happens to every request, outermost: take or make the request id (echoed, in every log line),
/// turn any error into the JSON error body (internal details only in the log), write one access log
/// line (method, route, status, duration) and record the request metrics.
public struct RequestLifecycleMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let metrics: ServiceMetrics?

    public init(metrics: ServiceMetrics?) {
        self.metrics = metrics
    }

    public func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = RequestID.accept(request.headers[.requestID]) ?? RequestID.make()
        var context = context
        // overwrite Hummingbird's own id so `context.id` and the logs agree with the header
        context.logger[metadataKey: "hb.request.id"] = .string(requestID)
        context.requestID = requestID
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": .string(String(reflecting: error))])
            }
            response = apiError.response()
        }
        response.headers[.requestID] = requestID
        let duration = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        if context.logger.logLevel <= .info {
            context.logger.info(
                "request",
                metadata: [
                    "http.method": .string(request.method.rawValue),
                    "http.route": .string(route),
                    "http.path": .string(request.uri.path),
                    "http.status": .stringConvertible(response.status.code),
                    "http.duration_ms": .string(String(format: "%.3f", duration.seconds * 1000)),
                ])
        }
        self.metrics?.recordRequest(method: request.method.rawValue, route: route, status: response.status.code, duration: duration)
        return response
    }
}

/// Refuses bodies over the limit with 413: by `Content-Length` up front, and, unless the body streams, while
/// reading a body of unknown length (the body is then held in memory for the handler). The limit is the service's,
/// or a larger `allowance` for the endpoint a request is for (an upload).
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let maxSize: Int
    let streams: @Sendable (Request) -> Bool
    let allowance: @Sendable (Request) -> Int?

    public init(
        maxSize: Int, streams: @escaping @Sendable (Request) -> Bool = { _ in false }, allowance: @escaping @Sendable (Request) -> Int? = { _ in nil }
    ) {
        self.maxSize = maxSize
        self.streams = streams
        self.allowance = allowance
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let maxSize = max(self.maxSize, self.allowance(request) ?? 0)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxSize {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "The request body exceeds \(maxSize) bytes.")
        }
        var context = context
        context.maxUploadSize = maxSize
        guard request.method != .get, request.method != .head, !self.streams(request) else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "The request body exceeds \(maxSize) bytes.")
        }
        return try await next(request, context)
    }
}

public enum RequestID {
    /// A sane incoming id: 1–128 characters of letters, digits and `-_.:`. Anything else is replaced.
    public static func accept(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.count <= 128,
            value.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.:".unicodeScalars.contains($0)) })
        else { return nil }
        return value
    }

    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 16) + String(generator.next() as UInt32, radix: 16)
    }
}
