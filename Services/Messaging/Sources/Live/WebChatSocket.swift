import Foundation
import HummingbirdWebSocket
import Logging
import Models
import ServiceKit

/// What the widget sends on `/webchat/socket?channel=ch_…`. The first frame is `hello`.
struct WebChatClientFrame: Decodable, Sendable {
    /// `hello`, `message`, `verify`, `confirm`
    var type: String
    /// hello: the visitor's token from an earlier visit (none: a new visitor)
    var token: String?
    /// hello: the conversation and the last sequence number the widget shows, to resume after it
    var conversationId: ConversationID?
    var after: Int?
    /// message: the widget's own id for it (a resend after a reconnect is stored once) and its text
    var clientId: String?
    var text: String?
    /// message: the id of the agent's choice the visitor tapped, when the text is that choice's
    var payload: String?
    /// verify: the number to send a code to; confirm: the code
    var phone: String?
    var code: String?
}

/// What the server sends the widget.
struct WebChatServerFrame: Encodable, Sendable {
    /// `welcome`, `message`, `ack`, `code_sent`, `verified`, `error`
    var type: String
    var token: String?
    var verifyPhone: Bool?
    var verified: Bool?
    var conversationId: ConversationID?
    var id: MessageID?
    var sequenceNo: Int?
    var direction: MessageDirection?
    var sender: MessageSender?
    var text: String?
    var createdAt: Date?
    var clientId: String?
    var phone: String?
    var code: String?
    var message: String?
    /// An agent's choices: the widget shows them as buttons, a tap sends the title.
    var options: [ReplyOption]?

    init(type: String) { self.type = type }

    static func error(_ code: String, _ message: String) -> WebChatServerFrame {
        var frame = WebChatServerFrame(type: "error")
        frame.code = code
        frame.message = message
        return frame
    }

    static func message(_ message: MessageDTO) -> WebChatServerFrame {
        var frame = WebChatServerFrame(type: "message")
        frame.conversationId = message.conversationId
        frame.id = message.id
        frame.sequenceNo = message.sequenceNo
        frame.direction = message.direction
        frame.sender = message.sender
        frame.text = message.body
        frame.createdAt = message.createdAt
        frame.options = message.payload?["options"].flatMap { try? $0.decode([ReplyOption].self) }
        if message.direction == .inbound, let id = message.providerMessageId, id.hasPrefix("wc:") { frame.clientId = String(id.dropFirst(3)) }
        return frame
    }
}

/// One visitor's socket: the channel's origin check, the visitor's token, the conversation pushed in sequence
/// order from where the widget left off, the visitor's messages taken in as any channel's inbound (so the same
/// agent replies, opt-out keywords apply, …), and the optional phone verification.
struct WebChatSocket: Sendable {
    let channels: ChannelsStore
    let visitors: WebChatStore
    let conversations: ConversationsStore
    let policy: PolicyStore
    let processor: InboundProcessor
    let outbox: OutboxStore
    let hub: LiveHub
    let now: @Sendable () -> Date

    func upgrade(_ request: WebSocketRequest) -> WebSocketUpgrade {
        let publicID = request.query["channel"] ?? ""
        // through the gateway the page's origin comes relayed; straight from a browser (development) it is the Origin
        let origin = request.head.headerFields[.forwardedOrigin] ?? request.head.headerFields[values: .origin].last
        return WebSocketUpgrade { inbound, outbound, logger in
            try await self.run(publicID: publicID, origin: origin, inbound: inbound, outbound: outbound, logger: logger)
        }
    }

    /// Origins are compared as the browser sends them (`https://shop.example`), case aside. No list: any site.
    static func allows(origin: String?, channel: ChannelDTO) -> Bool {
        guard let allowed = channel.config.allowedOrigins, !allowed.isEmpty else { return true }
        guard let origin = origin?.lowercased() else { return false }
        return allowed.contains { $0.lowercased().trimmingSuffix("/") == origin }
    }

    func refuse(_ outbound: WebSocketOutboundWriter, _ code: String, _ message: String) async throws {
        try await outbound.send(json: WebChatServerFrame.error(code, message))
        try await outbound.close(.policyViolation, reason: code)
    }

    func run(publicID: String, origin: String?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        // the client speaks first: an answer sent the moment the socket opens can arrive with the upgrade's own
        // response, before the client listens, and be lost (seen under load through the relay)
        var frames = inbound.messages(maxSize: webSocketMaxMessageSize).makeAsyncIterator()
        let first = try await frames.next()
        guard PublicChannelID.isValid(publicID[...]),
            let (channel, _) = try await self.channels.webhookTarget(publicID: publicID, kind: .webchat, logger: logger),
            channel.dto.status == .active
        else { return try await self.refuse(outbound, "unknown_channel", "No active web-chat channel has this id.") }
        guard Self.allows(origin: origin, channel: channel.dto) else {
            return try await self.refuse(outbound, "origin_not_allowed", "This site may not open the channel's chat.")
        }
        guard case .text(let text)? = first, let hello = try? JSONDecoder.sokoni.decode(WebChatClientFrame.self, from: Data(text.utf8)),
            hello.type == "hello"
        else { return try await self.refuse(outbound, "hello_required", "The first frame is {\"type\":\"hello\"}.") }

        var token = hello.token ?? ""
        var visitor = token.isEmpty ? nil : try await self.visitors.visitor(token: token, channel: channel.id, logger: logger)
        if visitor == nil {
            token = WebChatStore.newToken()
            visitor = try await self.visitors.createVisitor(token: token, channel: channel, logger: logger)
        }
        guard var visitor else { return }
        let verifyPhone = channel.dto.config.verifyPhone == true
        var welcome = WebChatServerFrame(type: "welcome")
        welcome.token = token
        welcome.verifyPhone = verifyPhone
        welcome.verified = visitor.verifiedPhone != nil
        try await outbound.send(json: welcome)

        let (subscription, events) = await self.hub.subscribe(.init(tenant: channel.tenant, channel: channel.id))
        let (wake, waker) = AsyncStream<LiveEvent?>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let pusher = Pusher(
            visitor: visitor, conversations: self.conversations, visitors: self.visitors, outbound: outbound,
            conversation: hello.conversationId, after: max(0, hello.after ?? 0))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pusher.run(wake, logger: logger) }
                group.addTask {
                    for await event in events { waker.yield(event) }
                }
                waker.yield(nil)
                while case let frame? = try await frames.next() {
                    guard case .text(let text) = frame, let message = try? JSONDecoder.sokoni.decode(WebChatClientFrame.self, from: Data(text.utf8)) else {
                        try await outbound.send(json: WebChatServerFrame.error("invalid_frame", "Frames are JSON text with a type."))
                        continue
                    }
                    try await self.handle(message, channel: channel, token: token, visitor: &visitor, outbound: outbound, logger: logger)
                    waker.yield(nil)
                }
                group.cancelAll()
            }
        } catch {
            await self.hub.unsubscribe(subscription)
            throw error
        }
        await self.hub.unsubscribe(subscription)
    }

    func handle(
        _ frame: WebChatClientFrame, channel: StoredChannel, token: String, visitor: inout WebChatStore.Visitor, outbound: WebSocketOutboundWriter,
        logger: Logger
    ) async throws {
        switch frame.type {
        case "message":
            guard let clientID = frame.clientId, (1...64).contains(clientID.count),
                clientID.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
            else { return try await outbound.send(json: WebChatServerFrame.error("invalid_client_id", "clientId is 1 to 64 letters, digits, - or _.")) }
            guard let text = frame.text?.trimmingCharacters(in: .whitespacesAndNewlines), (1...4096).contains(text.count),
                (try? TextRules.check(text, field: "text", length: 1...4096)) != nil
            else { return try await outbound.send(json: WebChatServerFrame.error("invalid_text", "text is 1 to 4096 characters.")) }
            if channel.dto.config.verifyPhone == true, visitor.verifiedPhone == nil {
                return try await outbound.send(json: WebChatServerFrame.error("verification_required", "Verify your phone number first."))
            }
            let settings = try await self.policy.settings(tenant: channel.tenant, logger: logger)
            var message = InboundMessage(
                providerMessageId: "wc:\(clientID)", from: visitor.address, profileName: visitor.verifiedPhone, timestamp: self.now(), kind: "text",
                text: text)
            if let payload = frame.payload, (1...200).contains(payload.count), !TextRules.containsNUL(payload) {
                message.kind = "button"
                message.payload = payload
            }
            try await self.processor.ingest(message, channel: channel, settings: settings, requestID: nil, logger: logger)
            var ack = WebChatServerFrame(type: "ack")
            ack.clientId = clientID
            try await outbound.send(json: ack)
        case "verify":
            guard let phone = frame.phone.flatMap({ try? PhoneNumber(parsing: $0) }) else {
                return try await outbound.send(json: WebChatServerFrame.error("invalid_phone", "Give a phone number in E.164, such as +250788123456."))
            }
            let code = String(format: "%06d", Int.random(in: 0..<1_000_000))
            guard try await self.visitors.startVerification(visitor, token: token, phone: phone.e164, code: code, now: self.now(), logger: logger) else {
                return try await outbound.send(json: WebChatServerFrame.error("code_recently_sent", "A code was sent less than a minute ago."))
            }
            // the code goes out like any message: the tenant's default phone channel, through the policy
            let sendVia = try await self.channels.defaultChannel(tenant: channel.tenant, logger: logger)
            _ = try await self.outbox.postgres.withTransaction(logger: logger) { connection in
                try await self.outbox.queue(
                    .init(
                        tenant: channel.tenant, channel: sendVia, to: phone.e164, sender: .system, text: "Your verification code: \(code)",
                        requestedBy: "webchat-verification"), on: connection, requestID: nil, logger: logger)
            }
            var sent = WebChatServerFrame(type: "code_sent")
            sent.phone = PhoneNumber.masked(e164: phone.e164)
            try await outbound.send(json: sent)
        case "confirm":
            guard let code = frame.code, code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else {
                return try await outbound.send(json: WebChatServerFrame.error("invalid_code", "The code is six digits."))
            }
            switch try await self.visitors.confirm(token: token, code: code, now: self.now(), logger: logger) {
            case .verified(let phone):
                visitor.verifiedPhone = phone
                var verified = WebChatServerFrame(type: "verified")
                verified.phone = PhoneNumber.masked(e164: phone)
                try await outbound.send(json: verified)
            case .wrongCode(let left):
                try await outbound.send(json: WebChatServerFrame.error("wrong_code", "That code is not right; \(left) tries left."))
            case .noCode:
                try await outbound.send(json: WebChatServerFrame.error("no_code", "No code is waiting: ask for a new one."))
            }
        default:
            try await outbound.send(json: WebChatServerFrame.error("unknown_frame", "Frames are message, verify or confirm."))
        }
    }
}

/// Sends the visitor's conversation in sequence order, each message once, from one task. It stops before an
/// outbound message that is still on its way (queued, held): the visitor sees replies in order, and one the
/// policy blocks is skipped rather than shown.
struct Pusher: Sendable {
    let visitor: WebChatStore.Visitor
    let conversations: ConversationsStore
    let visitors: WebChatStore
    let outbound: WebSocketOutboundWriter
    let conversation: ConversationID?
    let after: Int

    func run(_ wake: AsyncStream<LiveEvent?>, logger: Logger) async throws {
        var conversation = self.conversation
        var after = self.after
        for await event in wake {
            // another conversation on the channel: not this visitor's
            if let event, event.type != "resync", let conversation, event.conversationId != conversation { continue }
            guard let current = try await self.visitors.latestConversation(self.visitor, logger: logger) else { continue }
            if current != conversation {
                conversation = current
                after = 0
            }
            page: while true {
                let messages = try await self.conversations.messages(
                    conversation: current, tenant: self.visitor.tenant, after: after, limit: 100, logger: logger)
                for message in messages {
                    if message.direction == .outbound {
                        switch message.status {
                        case .queued, .queuedThrottled, .pending: break page
                        case .blocked, .failed:
                            after = message.sequenceNo
                            continue
                        default: break
                        }
                    }
                    try await self.outbound.send(json: WebChatServerFrame.message(message))
                    after = message.sequenceNo
                }
                if messages.count < 100 { break }
            }
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { self.hasSuffix(suffix) ? String(self.dropLast(suffix.count)) : self }
}
