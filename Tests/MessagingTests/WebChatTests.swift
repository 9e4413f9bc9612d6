import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// The web-chat socket and the console's live events, through the gateway's relay on loopback: real sockets, a
/// real database, the fake agent of `MessagingFlowTests`.
@Suite(.serialized) struct WebChatTests {
    typealias Platform = MessagingFlowTests.Platform

    /// Any frame the server sends, read loosely.
    struct Frame: Decodable, Sendable {
        var type: String
        var token: String?
        var code: String?
        var message: String?
        var clientId: String?
        var conversationId: ConversationID?
        var id: MessageID?
        var sequenceNo: Int?
        var direction: String?
        var sender: String?
        var text: String?
        var verifyPhone: Bool?
        var verified: Bool?
        var phone: String?
        var status: String?
    }

    struct Hello: Encodable {
        var type = "hello"
        var token: String?
        var conversationId: ConversationID?
        var after: Int?
    }

    struct Say: Encodable {
        var type = "message"
        var clientId: String
        var text: String
    }

    struct NewWebChat: Encodable {
        var kind = "webchat"
        var name = "Website chat"
        var config: [String: JSONValue]
    }

    static func socketURL(_ p: Platform, _ path: String) -> String { p.gateway.replacingOccurrences(of: "http://", with: "ws://") + path }

    static func channel(_ p: Platform, config: [String: JSONValue] = ["allowedOrigins": .array([.string("https://shop.example")])]) async throws
        -> ChannelDTO
    {
        let created = try await p.post("/v1/channels", NewWebChat(config: config))
        #expect(created.status == 201, "\(created.text)")
        return try created.json(ChannelDTO.self)
    }

    @Test func aVisitorChatsTheAgentAnswersAndAReconnectResumesWithNothingLostOrTwice() async throws {
        try await MessagingFlowTests.with { p in
            let channel = try await Self.channel(p)
            let url = Self.socketURL(p, "/webchat/socket?channel=\(channel.publicId)")
            let socket = TestSocket(url, origin: "https://shop.example")
            try socket.send(Hello())
            let welcome = try #require(try await socket.next(Frame.self))
            #expect(welcome.type == "welcome" && welcome.verifyPhone == false && welcome.verified == false)
            let token = try #require(welcome.token)
            #expect(token.count >= 40)

            try socket.send(Say(clientId: "c-1", text: "Muraho, mufite lisansi?"))
            // the agent's reply comes through two jobs: generous under the whole suite's load
            let frames = try #require(try await socket.until(Frame.self, within: .seconds(30)) { $0.direction == "outbound" })
            let echo = try #require(frames.first { $0.type == "message" && $0.direction == "inbound" })
            #expect(echo.clientId == "c-1" && echo.sequenceNo == 1 && echo.text == "Muraho, mufite lisansi?")
            #expect(frames.contains { $0.type == "ack" && $0.clientId == "c-1" })
            let reply = try #require(frames.last)
            #expect(reply.sequenceNo == 2 && reply.text == "Murakoze! (1)" && reply.sender == "agent")
            let conversation = try #require(echo.conversationId)
            await socket.close()

            // while the widget is away the visitor's earlier message is resent (the widget did not see its ack), and
            // a person answers from the console
            let staff = try await p.post("/v1/messages", ["conversationId": conversation.rawValue.uuidString, "text": "Yego, turayifite."])
            #expect(staff.status == 202, "\(staff.text)")
            let back = TestSocket(url, origin: "https://shop.example")
            try back.send(Hello(token: token, conversationId: conversation, after: 1))
            #expect(try await back.next(Frame.self)?.token == token)
            try back.send(Say(clientId: "c-1", text: "Muraho, mufite lisansi?"))
            var resumed = try #require(try await back.until(Frame.self) { $0.text == "Yego, turayifite." })
            if !resumed.contains(where: { $0.type == "ack" }) { resumed += try #require(try await back.until(Frame.self) { $0.type == "ack" }) }
            let messages = resumed.filter { $0.type == "message" }
            // from after 1: the agent's reply, then the person's; the resent message is acked, not stored again
            #expect(messages.map(\.sequenceNo) == [2, 3], "\(resumed)")
            #expect(resumed.contains { $0.type == "ack" && $0.clientId == "c-1" })
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 1)
            // the staff message went out as sent, through the same outbox (its send job may still be on its way: the
            // socket showed the message as stored, not as sent)
            try await p.eventually("the agent's reply and the person's sent") {
                try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'outbound' AND status = 'sent'") == 2
            }
            await back.close()

            // a token is the visitor's proof: someone else's socket without it is a new visitor with an empty chat
            let stranger = TestSocket(url, origin: "https://shop.example")
            try stranger.send(Hello(conversationId: conversation, after: 0))
            let theirs = try #require(try await stranger.next(Frame.self))
            #expect(theirs.type == "welcome" && theirs.token != token)
            #expect(try await stranger.next(Frame.self, within: .milliseconds(500)) == nil)
            await stranger.close()
        }
    }

    @Test func aSiteNotAllowedAnUnknownChannelAndASocketWithoutHelloAreRefused() async throws {
        try await MessagingFlowTests.with { p in
            let channel = try await Self.channel(p)
            let url = Self.socketURL(p, "/webchat/socket?channel=\(channel.publicId)")
            for origin in ["https://evil.example", "https://shop.example.evil.example", nil] {
                let socket = TestSocket(url, origin: origin)
                try socket.send(Hello())
                let refused = try #require(try await socket.next(Frame.self, within: .seconds(30)))
                #expect(refused.type == "error" && refused.code == "origin_not_allowed", "\(origin ?? "no origin")")
                // nil at once when the server closes; the wait only bounds how late the close may come under load
                #expect(await socket.next(within: .seconds(30)) == nil)
                #expect(await socket.isClosed)
            }
            for id in ["ch_doesnotexist000000000000", "../../v1/channels", ""] {
                let socket = TestSocket(Self.socketURL(p, "/webchat/socket?channel=\(id)"), origin: "https://shop.example")
                try socket.send(Hello())
                // generous: under the whole suite's load on two cores a socket through the relay has taken over 10 s
                #expect(try await socket.next(Frame.self, within: .seconds(30))?.code == "unknown_channel", "\(id)")
                await socket.close()
            }
            let mute = TestSocket(url, origin: "https://shop.example")
            mute.send("not json")
            #expect(try await mute.next(Frame.self)?.code == "hello_required")
            await mute.close()
            // a bad frame after hello is answered, and the socket stays usable
            let visitor = TestSocket(url, origin: "https://shop.example")
            try visitor.send(Hello())
            #expect(try await visitor.next(Frame.self)?.type == "welcome")
            visitor.send("{\"type\":\"message\",\"clientId\":\"a b\",\"text\":\"hi\"}")
            #expect(try await visitor.next(Frame.self)?.code == "invalid_client_id")
            visitor.send("{\"type\":\"message\",\"clientId\":\"ok-1\",\"text\":\"   \"}")
            #expect(try await visitor.next(Frame.self)?.code == "invalid_text")
            visitor.send("[1,2,3]")
            #expect(try await visitor.next(Frame.self)?.code == "invalid_frame")
            try visitor.send(Say(clientId: "ok-2", text: "still here"))
            #expect(try await visitor.until(Frame.self) { $0.type == "ack" }?.last?.clientId == "ok-2")
            await visitor.close()
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 1)
        }
    }

    @Test func aChannelThatVerifiesPhonesTakesMessagesOnlyAfterTheCodeSentToTheNumber() async throws {
        try await MessagingFlowTests.with { p in
            let channel = try await Self.channel(p, config: ["verifyPhone": .bool(true)])
            let socket = TestSocket(Self.socketURL(p, "/webchat/socket?channel=\(channel.publicId)"), origin: "https://any.example")
            try socket.send(Hello())
            #expect(try await socket.next(Frame.self)?.verifyPhone == true)
            try socket.send(Say(clientId: "v-1", text: "Bonjour"))
            #expect(try await socket.next(Frame.self)?.code == "verification_required")
            socket.send("{\"type\":\"verify\",\"phone\":\"0788\"}")
            #expect(try await socket.next(Frame.self)?.code == "invalid_phone")
            socket.send("{\"type\":\"verify\",\"phone\":\"+250788123456\"}")
            let sent = try #require(try await socket.next(Frame.self))
            #expect(sent.type == "code_sent" && sent.phone?.hasSuffix("56") == true && sent.phone?.contains("788123") == false)
            // asking again at once sends nothing more
            socket.send("{\"type\":\"verify\",\"phone\":\"+250788123456\"}")
            #expect(try await socket.next(Frame.self)?.code == "code_recently_sent")
            // the code went to the number through the tenant's default channel (the sandbox here)
            var code = ""
            try await p.eventually("the code in the sandbox outbox") {
                let outbox = try await p.get("/v1/sandbox/outbox").text
                guard let range = outbox.range(of: #"verification code: \d{6}"#, options: .regularExpression) else { return false }
                code = String(outbox[range].suffix(6))
                return true
            }
            let wrong = code == "000000" ? "111111" : "000000"
            socket.send("{\"type\":\"confirm\",\"code\":\"\(wrong)\"}")
            #expect(try await socket.next(Frame.self)?.code == "wrong_code")
            socket.send("{\"type\":\"confirm\",\"code\":\"\(code)\"}")
            #expect(try await socket.next(Frame.self)?.type == "verified")
            try socket.send(Say(clientId: "v-2", text: "Bonjour, avez-vous du gasoil ?"))
            #expect(try await socket.until(Frame.self) { $0.direction == "outbound" } != nil)
            await socket.close()
            #expect(try await p.count("SELECT count(*)::int FROM messaging.webchat_visitors WHERE verified_phone = '+250788123456'") == 1)
        }
    }

    @Test func fiveGuessesUseUpACodeEvenWhenSentAtOnce() async throws {
        try await MessagingFlowTests.with { p in
            let channel = try await Self.channel(p, config: ["verifyPhone": .bool(true)])
            let url = Self.socketURL(p, "/webchat/socket?channel=\(channel.publicId)")
            let socket = TestSocket(url)
            try socket.send(Hello())
            let token = try #require(try await socket.next(Frame.self)?.token)
            socket.send("{\"type\":\"verify\",\"phone\":\"+250788123457\"}")
            #expect(try await socket.next(Frame.self)?.type == "code_sent")
            // eight sockets of the same visitor guess at once: five tries are spent, the rest find no code
            let guesses = (0..<8).map { _ in TestSocket(url) }
            for guess in guesses { try guess.send(Hello(token: token)) }
            for guess in guesses { #expect(try await guess.next(Frame.self)?.type == "welcome") }
            for (index, guess) in guesses.enumerated() { guess.send("{\"type\":\"confirm\",\"code\":\"99999\(index)\"}") }
            var answers: [String] = []
            for guess in guesses { answers.append(try #require(try await guess.next(Frame.self)?.code)) }
            for guess in guesses { await guess.close() }
            await socket.close()
            #expect(answers.filter { $0 == "wrong_code" }.count <= 5, "\(answers)")
            #expect(try await p.count("SELECT code_attempts FROM messaging.webchat_visitors WHERE code_hash IS NOT NULL") <= 5)
        }
    }

    @Test func theConsoleHearsItsTenantsMessagesAndNothingOfAnothers() async throws {
        try await MessagingFlowTests.with { p in
            let url = Self.socketURL(p, "/v1/messaging/live")
            let mine = TestSocket(url)
            mine.send("{\"type\":\"auth\",\"token\":\"\(p.admin)\"}")
            #expect(try await mine.next(Frame.self)?.type == "ready")
            let theirs = TestSocket(url)
            theirs.send("{\"type\":\"auth\",\"token\":\"\(p.otherAdmin)\"}")
            #expect(try await theirs.next(Frame.self)?.type == "ready")

            let posted = try await p.post("/v1/sandbox/inbound", MessagingFlowTests.Inbound(from: "+250788123456", text: "Muraho"))
            #expect(posted.status == 202)
            let heard = try #require(try await mine.until(Frame.self) { $0.type == "message" && $0.direction == "inbound" })
            let conversation = try #require(heard.last?.conversationId)
            #expect(try await p.get("/v1/conversations/\(conversation)").status == 200)
            // the agent's reply follows, and its status change when the sandbox sends it
            #expect(try await mine.until(Frame.self) { $0.type == "status" && $0.status == "sent" } != nil)
            // the other tenant heard none of it: its first frame is its own message
            let own = try await TestHTTP.post(
                "\(p.gateway)/v1/sandbox/inbound", token: p.otherAdmin, json: MessagingFlowTests.Inbound(from: "+250788999999", text: "Hello"))
            #expect(own.status == 202)
            let first = try #require(try await theirs.next(Frame.self))
            #expect(first.conversationId != conversation)
            let page = try await TestHTTP.get("\(p.gateway)/v1/conversations/\(try #require(first.conversationId))", token: p.otherAdmin)
            #expect(page.status == 200)
            await mine.close()
            await theirs.close()

            // a socket without a valid token, or of a role that reads no conversations, hears nothing
            let operatorToken = try await TestKeys.token(tenant: p.tenant, roles: [.stationOperator])
            for (auth, code) in [
                ("{\"type\":\"auth\",\"token\":\"\(p.admin.dropLast(4))AAAA\"}", "invalid_token"), ("{\"type\":\"hello\"}", "auth_required"),
                ("{\"type\":\"auth\",\"token\":\"\(operatorToken)\"}", "forbidden"),
            ] {
                let socket = TestSocket(url)
                socket.send(auth)
                #expect(try await socket.next(Frame.self)?.code == code, "\(auth.prefix(40))")
                #expect(await socket.next(within: .seconds(5)) == nil)
                await socket.close()
            }
        }
    }
}
