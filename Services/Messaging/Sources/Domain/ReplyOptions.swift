// Domain: the choices an agent offers with its text, as each provider's wire format has them, no I/O.
//
// WhatsApp Cloud API interactive messages: up to 3 reply buttons (titles ≤ 20 characters) or a list of up to 10
// rows (titles ≤ 24, descriptions ≤ 72, the list's button ≤ 20), body text ≤ 1,024. Instagram quick replies: up to
// 13, titles ≤ 20. Telegram: a one-time reply keyboard (a tap sends the button's text as a message). Channels
// without choices (SMS, email) get them as numbered lines of the text.
import Contracts
import Foundation
import Models

typealias ReplyOption = AgentAPI.Reply.Option

enum ReplyOptions {
    static func shortened(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// `interactive` of a WhatsApp message: buttons when they fit, else a list; nil when there are none, more than
    /// ten, or the text is too long for an interactive body (then the text goes plain, numbered).
    static func whatsAppInteractive(text: String, options: [ReplyOption], listButton: String = "Options") -> JSONValue? {
        guard !options.isEmpty, options.count <= 10, !text.isEmpty, text.count <= 1024 else { return nil }
        if options.count <= 3, options.allSatisfy({ $0.title.count <= 20 }) {
            return .object([
                "type": .string("button"), "body": .object(["text": .string(text)]),
                "action": .object([
                    "buttons": .array(
                        options.map { .object(["type": .string("reply"), "reply": .object(["id": .string($0.id), "title": .string($0.title)])]) })
                ]),
            ])
        }
        let rows: [JSONValue] = options.map { option in
            var row: [String: JSONValue] = ["id": .string(option.id), "title": .string(Self.shortened(option.title, to: 24))]
            // a title cut short is said whole below it
            if option.title.count > 24 { row["description"] = .string(Self.shortened(option.title, to: 72)) }
            return .object(row)
        }
        return .object([
            "type": .string("list"), "body": .object(["text": .string(text)]),
            "action": .object([
                "button": .string(Self.shortened(listButton, to: 20)), "sections": .array([.object(["rows": .array(rows)])]),
            ]),
        ])
    }

    /// Instagram's `quick_replies`, or nil when there are more than 13.
    static func instagramQuickReplies(_ options: [ReplyOption]) -> JSONValue? {
        guard !options.isEmpty, options.count <= 13 else { return nil }
        return .array(
            options.map {
                .object(["content_type": .string("text"), "title": .string(Self.shortened($0.title, to: 20)), "payload": .string($0.id)])
            })
    }

    /// Telegram's `reply_markup`: one button per row, hidden after a tap.
    static func telegramKeyboard(_ options: [ReplyOption]) -> JSONValue? {
        guard !options.isEmpty else { return nil }
        return .object([
            "keyboard": .array(options.map { .array([.object(["text": .string(Self.shortened($0.title, to: 100))])]) }),
            "one_time_keyboard": .bool(true), "resize_keyboard": .bool(true),
        ])
    }

    /// The text with the choices as numbered lines below it.
    static func numbered(_ text: String?, _ options: [ReplyOption]) -> String? {
        guard !options.isEmpty else { return text }
        let lines = options.enumerated().map { "\($0.offset + 1). \($0.element.title)" }
        return ([text].compactMap { $0 } + [lines.joined(separator: "\n")]).joined(separator: "\n\n")
    }

    /// The customer's answer to a numbered list ("2", " 2. "): the option it names, or nil.
    static func chosen(_ text: String, from options: [ReplyOption]) -> ReplyOption? {
        let digits = text.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: ".)"))
        guard digits.count <= 2, let number = Int(digits), number >= 1, number <= options.count else { return nil }
        return options[number - 1]
    }

    /// Checks an agent's options before they are stored: at most 10, ids 1–200 and titles 1–100 characters.
    static func valid(_ options: [ReplyOption]) -> [ReplyOption] {
        Array(options.filter { (1...200).contains($0.id.count) && (1...100).contains($0.title.count) }.prefix(10))
    }
}
