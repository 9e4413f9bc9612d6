import Hummingbird
import Logging

/// The outermost responder: answers 503 `timeout` when the router has not answered within the deadline. A request
/// caught in flight by a database that stopped answering (a partition, a restart) must not hang its caller forever,
/// and PostgresNIO has no query or pool-lease timeout of its own. The handler is cancelled and left behind; a write
/// that it still commits is found again by retrying with the same `Idempotency-Key`. Requests whose bodies stream
/// (the gateway's proxy) are left to their own upstream timeout.
public struct RequestDeadline: HTTPResponder {
    public typealias Context = AppRequestContext
    let responder: RouterResponder<AppRequestContext>
    /// Zero: no deadline.
    let deadline: Duration
    let streams: @Sendable (Request) -> Bool

    public func respond(to request: Request, context: AppRequestContext) async throws -> Response {
        guard self.deadline > .zero, !self.streams(request) else { return try await self.responder.respond(to: request, context: context) }
        let deadline = self.deadline
        let answer = await race(
            { try await self.responder.respond(to: request, context: context) }, until: { try? await Task.sleep(for: deadline) })
        if let answer { return try answer.get() }
        context.logger.warning(
            "request timed out",
            metadata: ["http.method": .string(request.method.rawValue), "http.path": .string(request.uri.path), "deadline": .stringConvertible(deadline)])
        var response = APIError(
            .serviceUnavailable, code: "timeout",
            message: "The request could not be finished in time; it may still take effect. Retry with the same Idempotency-Key.",
            headers: [.retryAfter: "1"]
        ).response()
        if let id = RequestID.accept(request.headers[.requestID]) { response.headers[.requestID] = id }
        return response
    }
}
