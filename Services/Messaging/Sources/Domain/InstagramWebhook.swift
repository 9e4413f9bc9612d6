// Domain: Instagram Messaging webhooks (Meta's Messenger Platform for Instagram), no I/O.
//
// Meta signs them as it signs WhatsApp's (`X-Hub-Signature-256` over the raw body), but the body is another shape:
// `{"object":"instagram","entry":[{"id":<the business's IG id>,"time":…,"messaging":[…]}]}`, each item a
// `message` (with `mid`, `text`, `attachments`, `reply_to`, `is_echo` for what the business itself sent), a
// `read` receipt (`mid` of the last message seen), a `reaction` or a `postback` (an icebreaker or button).
// Instagram API with Instagram Login delivers the same items under `changes[].value` with field `messages`.
import Foundation

struct InstagramWebhook: Decodable, Sendable {
    var object: String?
    var entry: [Entry]?

    struct Entry: Decodable, Sendable {
        var id: String?
        var time: Double?
        var messaging: [Item]?
        var changes: [Change]?
    }

    struct Change: Decodable, Sendable {
        var field: String?
        var value: Item?
    }

    struct Party: Decodable, Sendable {
        var id: String?
    }

    struct Item: Decodable, Sendable {
        var sender: Party?
        var recipient: Party?
        /// Milliseconds since 1970 (Meta sends a number; a string is read too).
        var timestamp: FlexibleNumber?
        var message: Message?
        var read: Read?
        var reaction: Reaction?
        var postback: Postback?
    }

    struct Message: Decodable, Sendable {
        var mid: String?
        var text: String?
        var attachments: [Attachment]?
        var replyTo: ReplyTo?
        var isEcho: Bool?
        var isDeleted: Bool?
        var quickReply: QuickReply?

        enum CodingKeys: String, CodingKey {
            case mid, text, attachments
            case replyTo = "reply_to"
            case isEcho = "is_echo"
            case isDeleted = "is_deleted"
            case quickReply = "quick_reply"
        }
    }

    struct Attachment: Decodable, Sendable {
        /// `image`, `video`, `audio`, `file`, `share`, `story_mention`, `ig_reel`, …
        var type: String?
        var payload: AttachmentPayload?
    }

    struct AttachmentPayload: Decodable, Sendable {
        var url: String?
    }

    struct ReplyTo: Decodable, Sendable {
        var mid: String?
    }

    struct QuickReply: Decodable, Sendable {
        var payload: String?
    }

    struct Read: Decodable, Sendable {
        var mid: String?
    }

    struct Reaction: Decodable, Sendable {
        var mid: String?
        /// `react` or `unreact`
        var action: String?
        var reaction: String?
        var emoji: String?
    }

    struct Postback: Decodable, Sendable {
        var mid: String?
        var title: String?
        var payload: String?
    }

    /// Every customer message, read receipt, reaction and postback in the body; the business's own echoes are
    /// skipped (they are our sends coming back).
    func events() -> [InboundEvent] {
        var events: [InboundEvent] = []
        for entry in self.entry ?? [] {
            let items = (entry.messaging ?? []) + (entry.changes ?? []).filter { $0.field == "messages" }.compactMap(\.value)
            for item in items {
                guard let from = item.sender?.id, !from.isEmpty else { continue }
                let timestamp =
                    item.timestamp.map { Date(timeIntervalSince1970: $0.value / 1000) } ?? entry.time.map { Date(timeIntervalSince1970: $0 / 1000) }
                    ?? Date()
                if let message = item.message, let mid = message.mid {
                    if message.isEcho == true || message.isDeleted == true { continue }
                    let attachment = message.attachments?.first
                    let kind: String =
                        switch attachment?.type {
                        case nil: message.quickReply == nil ? "text" : "button"
                        case "image", "video", "audio": attachment!.type!
                        case "file": "document"
                        default: "unsupported"
                        }
                    events.append(
                        InboundEvent(
                            .message(
                                InboundMessage(
                                    providerMessageId: mid, from: from, timestamp: timestamp, kind: kind, text: message.text,
                                    payload: message.quickReply?.payload, media: attachment?.payload?.url.map { MediaRef(url: $0) },
                                    replyTo: message.replyTo?.mid)), channelAddress: item.recipient?.id ?? entry.id))
                } else if let read = item.read, let mid = read.mid {
                    events.append(
                        InboundEvent(
                            .status(StatusUpdate(providerMessageId: mid, status: .read, timestamp: timestamp, recipient: from)), channelAddress: entry.id))
                } else if let reaction = item.reaction, let mid = reaction.mid {
                    // one reaction per message and moment: a new one (or its removal) is a new event
                    let id = "reaction:\(mid):\(Int(timestamp.timeIntervalSince1970 * 1000)):\(reaction.action ?? "react")"
                    let text = reaction.action == "unreact" ? nil : (reaction.emoji ?? reaction.reaction)
                    events.append(
                        InboundEvent(
                            .message(InboundMessage(providerMessageId: id, from: from, timestamp: timestamp, kind: "reaction", text: text, payload: mid)),
                            channelAddress: entry.id))
                } else if let postback = item.postback {
                    let id = postback.mid ?? "postback:\(from):\(Int(timestamp.timeIntervalSince1970 * 1000))"
                    events.append(
                        InboundEvent(
                            .message(
                                InboundMessage(
                                    providerMessageId: id, from: from, timestamp: timestamp, kind: "button", text: postback.title, payload: postback.payload)),
                            channelAddress: entry.id))
                }
            }
        }
        return events
    }
}

/// A number Meta may send as a JSON number or as a string.
struct FlexibleNumber: Decodable, Sendable {
    var value: Double

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self.value = number
        } else if let text = try? container.decode(String.self), let number = Double(text) {
            self.value = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number")
        }
    }
}
