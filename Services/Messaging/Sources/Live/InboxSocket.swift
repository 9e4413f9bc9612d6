import Contracts
import Foundation
import HummingbirdWebSocket
import Logging
import Models
import ServiceKit

/// The console's first frame on `/v1/messaging/live`: the access token (a browser cannot set headers on a
/// socket, and a token in the URL would land in access logs), and for platform staff the tenant they act on.
struct LiveAuthFrame: Decodable, Sendable {
    var type: String
    var token: String?
    var tenantId: String?
}

/// What the console hears: which rows changed, never their content (the page reads them with its own rights).
struct LiveFrame: Encodable, Sendable {
    var type: String
    var conversationId: ConversationID?
    var messageId: MessageID?
    var sequenceNo: Int?
    var direction: String?
    var status: String?
    var code: String?
    var message: String?

    init(_ event: LiveEvent) {
        self.type = event.type
        self.conversationId = event.conversationId
        self.messageId = event.messageId
        self.sequenceNo = event.sequenceNo
        self.direction = event.direction
        self.status = event.status
    }

    init(type: String, code: String? = nil, message: String? = nil) {
        self.type = type
        self.code = code
        self.message = message
    }
}

/// The inbox's live events: every message and status change of the caller's tenant, for as long as the access
/// token is valid (the socket closes when it expires; the console reconnects with a fresh one).
struct InboxSocket: Sendable {
    let verifier: TokenVerifier
    let tenants: Tenants
    let hub: LiveHub

    static var roles: Set<Role> {
        if case .roles(let roles) = MessagingAPI.liveSocket.access { return roles }
        return []
    }

    func upgrade(_ request: WebSocketRequest) -> WebSocketUpgrade {
        WebSocketUpgrade { inbound, outbound, logger in try await self.run(inbound: inbound, outbound: outbound, logger: logger) }
    }

    func refuse(_ outbound: WebSocketOutboundWriter, _ code: String, _ message: String) async throws {
        try await outbound.send(json: LiveFrame(type: "error", code: code, message: message))
        try await outbound.close(.policyViolation, reason: code)
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        var frames = inbound.messages(maxSize: webSocketMaxMessageSize).makeAsyncIterator()
        guard case .text(let text)? = try await frames.next(), let auth = try? JSONDecoder().decode(LiveAuthFrame.self, from: Data(text.utf8)),
            auth.type == "auth", let token = auth.token
        else { return try await self.refuse(outbound, "auth_required", "The first frame is {\"type\":\"auth\",\"token\":…}.") }
        let identity: Identity
        let expiresAt: Date
        do {
            let claims = try await self.verifier.verify(token)
            identity = try AuthMiddleware.identity(claims: claims, token: token, tenantHeader: auth.tenantId)
            expiresAt = claims.exp.value
        } catch {
            return try await self.refuse(outbound, "invalid_token", "The access token is not valid.")
        }
        guard !identity.roles.isDisjoint(with: Self.roles) else { return try await self.refuse(outbound, "forbidden", "Your role cannot read conversations.") }
        guard let tenant = identity.tenantID else { return try await self.refuse(outbound, "tenant_required", "Name the tenant (tenantId).") }
        guard let standing = try await self.tenants.tenant(tenant, logger: logger), !standing.isSuspended || identity.tokenTenantID == nil else {
            return try await self.refuse(outbound, "tenant_unavailable", "This tenant does not exist or is suspended.")
        }

        let (subscription, events) = await self.hub.subscribe(.init(tenant: tenant, channel: nil))
        defer { Task { await self.hub.unsubscribe(subscription) } }
        try await outbound.send(json: LiveFrame(type: "ready"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in events { try await outbound.send(json: LiveFrame(event)) }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(max(1, expiresAt.timeIntervalSinceNow)))
                try await outbound.send(json: LiveFrame(type: "expired", code: "token_expired", message: "Reconnect with a fresh token."))
                try await outbound.close(.normalClosure, reason: "token expired")
            }
            // the console says nothing more; reading notices when it goes away
            while try await frames.next() != nil {}
            group.cancelAll()
        }
    }
}
