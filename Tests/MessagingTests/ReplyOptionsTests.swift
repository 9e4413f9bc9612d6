import Contracts
import Foundation
import Models
import Testing

@testable import Messaging

/// An agent's choices as each provider's documented wire format has them, and a numbered answer read back as the
/// choice it names.
@Suite struct ReplyOptionsTests {
    let three = [ReplyOption(id: "faq:1", title: "Opening hours"), .init(id: "faq:2", title: "Prices"), .init(id: "handoff", title: "Ongea na mtu")]

    @Test func whatsAppGetsButtonsWhenTheyFitAndAListOtherwise() throws {
        let adapter = WhatsAppAdapter(http: .shared, baseURL: "http://127.0.0.1:1")
        var message = OutboundMessage(id: MessageID(), to: "+250788000111", text: "Habari! Nikusaidie vipi?", template: nil, media: nil)
        message.options = self.three
        let buttons = adapter.body(message)
        #expect(buttons["type"] == .string("interactive"))
        #expect(buttons["interactive"]?["type"] == .string("button"))
        #expect(buttons["interactive"]?["body"]?["text"] == .string("Habari! Nikusaidie vipi?"))
        let sent = buttons["interactive"]?["action"]?["buttons"]
        #expect(sent?[0]?["type"] == .string("reply") && sent?[0]?["reply"]?["id"] == .string("faq:1"))
        #expect(sent?[2]?["reply"]?["title"] == .string("Ongea na mtu"))

        // a title over 20 characters, or a fourth choice: a list, long titles cut to 24 and said whole below
        message.options.append(.init(id: "faq:3", title: "How do I use a fuel voucher at a station?"))
        let list = adapter.body(message)
        #expect(list["interactive"]?["type"] == .string("list"))
        let rows = list["interactive"]?["action"]?["sections"]?[0]?["rows"]
        #expect(rows?[3]?["title"] == .string("How do I use a fuel vou…"))
        #expect(rows?[3]?["description"] == .string("How do I use a fuel voucher at a station?"))
        #expect(rows?[0]?["description"] == nil)
        #expect(list["interactive"]?["action"]?["button"] == .string("Options"))

        // eleven: plain text with numbered lines
        message.options = (1...11).map { ReplyOption(id: "o\($0)", title: "Choice \($0)") }
        let plain = adapter.body(message)
        #expect(plain["type"] == .string("text"))
        #expect(plain["text"]?["body"] == .string("Habari! Nikusaidie vipi?\n\n" + (1...11).map { "\($0). Choice \($0)" }.joined(separator: "\n")))
        // no choices: the text as it was
        message.options = []
        #expect(adapter.body(message)["text"]?["body"] == .string("Habari! Nikusaidie vipi?"))
    }

    @Test func instagramTelegramAndSmsEachGetTheirOwnForm() {
        let quick = ReplyOptions.instagramQuickReplies(self.three)
        #expect(quick?[0]?["content_type"] == .string("text") && quick?[0]?["payload"] == .string("faq:1"))
        #expect(ReplyOptions.instagramQuickReplies([]) == nil)
        let keyboard = ReplyOptions.telegramKeyboard(self.three)
        #expect(keyboard?["keyboard"]?[1]?[0]?["text"] == .string("Prices"))
        #expect(keyboard?["one_time_keyboard"] == .bool(true))
        #expect(ReplyOptions.numbered("Hi", self.three) == "Hi\n\n1. Opening hours\n2. Prices\n3. Ongea na mtu")
        #expect(ReplyOptions.numbered("Hi", []) == "Hi")
        #expect(ReplyOptions.chosen(" 2. ", from: self.three)?.id == "faq:2")
        #expect(ReplyOptions.chosen("4", from: self.three) == nil)
        #expect(ReplyOptions.chosen("0", from: self.three) == nil)
        #expect(ReplyOptions.chosen("2", from: []) == nil)
        #expect(ReplyOptions.chosen("I have 2 cars", from: self.three) == nil)
        // what an agent may store: ten at most, no empty or oversized ids and titles
        let many = (1...12).map { ReplyOption(id: "o\($0)", title: "T\($0)") } + [.init(id: "", title: "x"), .init(id: "y", title: "")]
        #expect(ReplyOptions.valid(many).count == 10)
        #expect(ReplyOptions.valid([.init(id: "", title: "x"), .init(id: String(repeating: "i", count: 201), title: "x")]).isEmpty)
    }

    @Test func aNumberAnsweringNumberedChoicesIsReadAsThatChoice() {
        func message(_ direction: MessageDirection, _ body: String, payload: JSONValue? = nil, seq: Int) -> MessageDTO {
            MessageDTO(
                id: MessageID(), conversationId: ConversationID(), channelId: ChannelID(), sequenceNo: seq, direction: direction,
                sender: direction == .inbound ? .user : .agent, kind: "text", body: body, payload: payload, providerMessageId: nil,
                status: direction == .inbound ? .received : .sent, statusReason: nil, errorCode: nil, holdUntil: nil, language: "sw", languageConfidence: nil,
                tokens: nil, cost: nil, costCurrency: nil, createdAt: Date(), updatedAt: Date(), history: nil)
        }
        let offered = JSONValue.object(["options": .array(self.three.map { .object(["id": .string($0.id), "title": .string($0.title)]) })])
        let turns = AgentReplies.turns([
            message(.inbound, "Habari", seq: 1),
            message(.outbound, "Nikusaidie vipi?\n\n1. Opening hours\n2. Prices\n3. Ongea na mtu", payload: offered, seq: 2),
            message(.inbound, "2", seq: 3),
            message(.inbound, "3", seq: 4),
            message(.inbound, "Yego", payload: .object(["payload": .string("SIZE_42")]), seq: 5),
        ])
        #expect(turns[2].text == "Prices" && turns[2].payload == "faq:2")
        // only right after the choices: a later "3" is just a 3
        #expect(turns[3].text == "3" && turns[3].payload == nil)
        // a tapped button brings its own payload
        #expect(turns[4].payload == "SIZE_42" && turns[4].text == "Yego")
        #expect(turns[0].payload == nil && turns[1].sender == "agent")
    }
}
