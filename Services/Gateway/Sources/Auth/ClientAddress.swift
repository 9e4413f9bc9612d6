import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// Behind a load balancer every request comes from the balancer's address, so the client's own address (which login
/// throttling and rate limits key on) is read from `X-Forwarded-For`, but only when the peer is a configured proxy:
/// from anyone else the header is the client's own claim and is ignored. The client is the right-most address that
/// is not itself a trusted proxy.
struct ClientAddress: RouterMiddleware {
    typealias Context = AppRequestContext
    let trustedProxies: Set<String>
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        guard !self.trustedProxies.isEmpty, let peer = context.peerAddress, self.trustedProxies.contains(peer),
            let header = request.headers[values: Self.forwardedFor].joined(separator: ",") as String?, !header.isEmpty
        else { return try await next(request, context) }
        let hops = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let client = hops.last(where: { !self.trustedProxies.contains($0) }), client.utf8.count <= 64 else {
            return try await next(request, context)
        }
        var context = context
        context.remoteAddress = client
        return try await next(request, context)
    }
}
