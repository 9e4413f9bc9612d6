import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `POST /v1/messages` (people, agents, other services), `GET /v1/messages/{id}`, the sandbox's outbox and
/// simulated inbound, and the notifications other services send (`POST /v1/messaging/notifications`).
struct MessagesController: Sendable {
    let channels: ChannelsStore
    let conversations: ConversationsStore
    let outbox: OutboxStore
    let webhooks: WebhookStore
    /// The notice templates of the tenant's settings.
    let policy: PolicyStore
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.sendMessage, use: self.send)
        router.on(MessagingAPI.getMessage, use: self.get)
        router.on(MessagingAPI.sandboxOutbox, use: self.sandboxOutbox)
        router.on(MessagingAPI.sandboxInbound, use: self.sandboxInbound)
        router.on(MessagingAPI.notify, use: self.notify)
    }

    /// Where a message goes: a conversation's channel and contact, or a channel (the tenant's default when none
    /// is named) and an address.
    func destination(_ body: SendMessage, tenant: TenantID, context: AppRequestContext) async throws -> (StoredChannel, String) {
        if let id = body.conversationId {
            guard let conversation = try await self.conversations.conversation(id, tenant: tenant, logger: context.logger),
                let channel = try await self.channels.find(conversation.channelId, tenant: tenant, logger: context.logger)
            else { throw ConversationsController.notFound }
            return (channel, conversation.contact.address)
        }
        guard let to = body.to else { throw APIError.unprocessable("recipient_required", "Name a conversationId, or a recipient in to.") }
        let channel: StoredChannel
        if let id = body.channelId {
            guard let found = try await self.channels.find(id, tenant: tenant, logger: context.logger) else { throw ChannelsController.notFound }
            channel = found
        } else {
            channel = try await self.channels.defaultChannel(tenant: tenant, logger: context.logger)
        }
        return (channel, try Self.address(to, kind: channel.kind))
    }

    static func address(_ text: String, kind: ChannelKind) throws -> String {
        if kind.usesPhoneNumbers {
            do { return try PhoneNumber(parsing: text).e164 } catch {
                throw APIError.unprocessable("invalid_recipient", "to must be a phone number in E.164, such as +250788123456: \(error)")
            }
        }
        if kind == .email {
            guard let address = EmailAddress.canonical(text) else {
                throw APIError.unprocessable("invalid_recipient", "to must be an email address such as aline@shop.example.")
            }
            return address
        }
        if kind == .instagram {
            // an Instagram-scoped id, as the webhooks name the customer: digits, not a username or a number
            guard (1...64).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw APIError.unprocessable("invalid_recipient", "to must be the customer's Instagram-scoped id (IGSID), digits only.")
            }
            return text
        }
        try TextRules.check(text, field: "to", length: 1...200)
        return text
    }

    static func check(_ body: SendMessage) throws {
        try TextRules.check(body.text, field: "text", length: 1...4096)
        try TextRules.check(body.subject, field: "subject", length: 1...200)
        if body.subject?.contains(where: \.isNewline) == true { throw APIError.unprocessable("invalid_subject", "subject is one line.") }
        guard body.text != nil || body.template != nil || body.media != nil else {
            throw APIError.unprocessable("empty_message", "Give text, a template or media.")
        }
        if let template = body.template {
            try TextRules.check(template.name, field: "template.name", length: 1...512)
            try TextRules.check(template.language, field: "template.language", length: 2...15)
            for value in template.variables ?? [] { try TextRules.check(value, field: "template.variables", length: 1...1024) }
        }
        if let media = body.media {
            guard ["image", "document", "audio", "video", "sticker"].contains(media.type) else {
                throw APIError.unprocessable("invalid_media", "media.type is image, document, audio, video or sticker.")
            }
            guard let url = media.url.flatMap(URL.init(string:)), url.scheme == "https" else {
                throw APIError.unprocessable("invalid_media", "media.url must be an https link the provider can fetch.")
            }
        }
    }

    @Sendable func send(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(SendMessage.self, context: context)
        try Self.check(body)
        let (channel, to) = try await self.destination(body, tenant: tenant, context: context)
        // people (the `agent` role included: a person answering customers) are `human`; the AI agent sends from its job
        let sender: MessageSender = caller.roles.contains(.service) ? .system : .human
        return try await self.idempotency.write(request, context: context, postgres: self.outbox.postgres) { connection in
            let id = try await self.outbox.queue(
                .init(
                    tenant: tenant, channel: channel, to: to, sender: sender, text: body.text, template: body.template, media: body.media,
                    requestedBy: caller.subject, subject: body.subject),
                on: connection, requestID: context.requestID, logger: context.logger)
            return JSONResponse(.accepted, MessagingAPI.Receipt(id: id.description, status: MessageStatus.queued.rawValue))
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<MessageDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let message = try await self.conversations.message(try context.idParameter(as: MessageID.self), tenant: tenant, logger: context.logger) else {
            throw APIError.notFound("message_not_found", "No such message.")
        }
        return JSONResponse(.ok, message)
    }

    @Sendable func sandboxOutbox(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<OutboxEntry>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(cursorValues: 1)
        let items = try await self.outbox.outbox(
            tenant: tenant, channel: try request.queryValues.id("channelId", as: ChannelID.self), after: try page.cursor?.int64(0), limit: page.limit,
            logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.id)] }))
    }

    /// A customer message, as if a provider had delivered it: the same stored delivery and job as a webhook.
    @Sendable func sandboxInbound(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(SimulatedInbound.self, context: context)
        try TextRules.check(body.text, field: "text", length: 1...4096)
        try TextRules.check(body.profileName, field: "profileName", length: 1...200)
        try TextRules.check(body.providerMessageId, field: "providerMessageId", length: 1...200)
        let channel: StoredChannel
        if let id = body.channelId {
            guard let found = try await self.channels.find(id, tenant: tenant, logger: context.logger) else { throw ChannelsController.notFound }
            guard found.kind == .sandbox else { throw APIError.unprocessable("not_sandbox", "Simulated messages arrive on sandbox channels only.") }
            channel = found
        } else {
            channel = try await self.channels.defaultChannel(tenant: tenant, logger: context.logger)
            guard channel.kind == .sandbox else { throw APIError.unprocessable("not_sandbox", "Name a sandbox channel in channelId.") }
        }
        let event = InboundEventBox(
            from: try Self.address(body.from, kind: .sandbox), text: body.text, profileName: body.profileName,
            providerMessageId: body.providerMessageId ?? "sbx_in_" + UUID().uuidString.lowercased(), timestamp: Date())
        try await self.webhooks.receive(
            channel: channel.id, provider: "sandbox", body: ByteBuffer(bytes: try JSONEncoder.sokoni.encode(event)), requestID: context.requestID,
            logger: context.logger)
        return try JSONResponse(.accepted, ["providerMessageId": event.providerMessageId, "channelId": channel.id.description])
            .response(from: request, context: context)
    }

    /// Another service tells a customer something (vouchers: a redemption). Sent on the tenant's default channel,
    /// through the same outbox and policy as everything else.
    @Sendable func notify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(MessagingAPI.Notification.self, context: context)
        try TextRules.check(body.title, field: "title", length: 1...200)
        try TextRules.check(body.when, field: "when", length: 1...100)
        try TextRules.check(body.location, field: "location", length: 1...500)
        guard let text = Notices.text(body) else { throw APIError.unprocessable("unknown_kind", "No notice of kind \(body.kind).") }
        var media: MediaAttachment?
        if let link = body.mediaUrl {
            guard let url = URL(string: link), ["https", "http"].contains(url.scheme ?? ""), url.host != nil, link.count <= 2048 else {
                throw APIError.unprocessable("invalid_media", "mediaUrl must be a link the provider can fetch.")
            }
            media = MediaAttachment(type: "image", url: link, caption: text)
        }
        if let link = body.attachmentUrl {
            guard media == nil, let url = URL(string: link), ["https", "http"].contains(url.scheme ?? ""), url.host != nil, link.count <= 2048 else {
                throw APIError.unprocessable("invalid_attachment", "attachmentUrl must be a link the provider can fetch, and not beside mediaUrl.")
            }
            let filename = body.attachmentFilename ?? "attachment"
            try TextRules.check(filename, field: "attachmentFilename", length: 1...100)
            media = MediaAttachment(
                type: "document", url: link, mimeType: filename.hasSuffix(".ics") ? "text/calendar" : nil, caption: text, filename: filename)
        }
        try TextRules.check(body.link, field: "link", length: 1...2048)
        var callback: JSONValue?
        if let asked = body.callback {
            guard MessagingAPI.deliveryReportEndpoint(asked.service) != nil else {
                throw APIError.unprocessable("invalid_callback", "\(asked.service.rawValue) takes no delivery reports.")
            }
            try TextRules.check(asked.reference, field: "callback.reference", length: 1...200)
            callback = try JSONDecoder.sokoni.decode(JSONValue.self, from: try JSONEncoder.sokoni.encode(asked))
        }
        let channel = try await self.channels.defaultChannel(tenant: tenant, logger: context.logger)
        let to = try Self.address(body.msisdn, kind: .sandbox)
        // WhatsApp: as the tenant's approved template when it named one for this kind (the customer may not have
        // written in 24 hours); the text stays on the message for the console
        var template: TemplateRef?
        if channel.kind == .whatsapp, let named = try await self.policy.settings(tenant: tenant, logger: context.logger).noticeTemplates?[body.kind] {
            template = TemplateRef(
                name: named.name, language: named.language, variables: Notices.variables(body), headerImageUrl: media?.url)
            media = nil
        }
        return try await self.idempotency.write(request, context: context, postgres: self.outbox.postgres) { connection in
            let id = try await self.outbox.queue(
                .init(
                    tenant: tenant, channel: channel, to: to, sender: .system, text: text, template: template, media: media, requestedBy: caller.subject,
                    callback: callback),
                on: connection, requestID: context.requestID, logger: context.logger)
            return JSONResponse(.accepted, MessagingAPI.Receipt(id: id.description, status: MessageStatus.queued.rawValue))
        }
    }
}

/// The words of the notices other services ask for.
enum Notices {
    static let kinds: Set<String> = [
        "voucher_issued", "voucher_redeemed", "insurance_quote_approved", "insurance_quote_needs_changes", "appointment_confirmation",
        "appointment_reminder", "appointment_rescheduled", "calendar_connection_broken",
    ]

    /// A template's body variables: the code, then the amount with its currency (insurance: the insurer, then the
    /// premium or the reviewer's comment).
    static func variables(_ notice: MessagingAPI.Notification) -> [String] {
        let amount = [notice.amount, notice.currency].compactMap { $0 }.joined(separator: " ")
        switch notice.kind {
        case "insurance_quote_approved": return [notice.insurer ?? "", amount]
        case "insurance_quote_needs_changes": return [notice.insurer ?? "", notice.comment ?? ""]
        case "appointment_confirmation", "appointment_reminder", "appointment_rescheduled":
            return [notice.title ?? "", notice.when ?? ""] + (notice.link.map { [$0] } ?? [])
        case "calendar_connection_broken": return [notice.title ?? "", notice.comment ?? ""]
        default: return [notice.code ?? "", amount]
        }
    }

    static func text(_ notice: MessagingAPI.Notification) -> String? {
        switch notice.kind {
        case "voucher_redeemed":
            let amount = [notice.amount, notice.currency].compactMap { $0 }.joined(separator: " ")
            return "Your voucher \(notice.code ?? "") for \(amount) was redeemed. Thank you!"
        case "voucher_issued":
            let amount = [notice.amount, notice.currency].compactMap { $0 }.joined(separator: " ")
            return "Your fuel voucher: \(amount), code \(notice.code ?? ""). Show this card at the station."
        case "insurance_quote_approved":
            let amount = [notice.amount, notice.currency].compactMap { $0 }.joined(separator: " ")
            let cover = notice.coverType.map { "\($0) " } ?? ""
            return "Good news: your \(cover)insurance quote from \(notice.insurer ?? "the insurer") is approved. Premium: \(amount)."
        case "insurance_quote_needs_changes":
            let cover = notice.coverType.map { "\($0) " } ?? ""
            return "Your \(cover)insurance quote from \(notice.insurer ?? "the insurer") needs changes: \(notice.comment ?? ""). "
                + "Please send the corrected documents."
        case "appointment_confirmation", "appointment_reminder", "appointment_rescheduled":
            guard let title = notice.title, let when = notice.when else { return nil }
            let place = notice.location.map { " at \($0)" } ?? ""
            // with a link, the customer confirms, cancels or moves it there; without one, by replying
            let change = notice.link.map { " Confirm, cancel or change it: \($0)" }
            switch notice.kind {
            case "appointment_confirmation": return "Booked: \(title) on \(when)\(place)." + (change ?? " Reply to this message to change it.")
            case "appointment_rescheduled": return "Moved: \(title) is now on \(when)\(place)." + (change ?? "")
            default: return "Reminder: \(title) on \(when)\(place)." + (change ?? "")
            }
        case "calendar_connection_broken":
            return "Sokoni: the Google Calendar of \(notice.title ?? "a calendar") stopped syncing (\(notice.comment ?? "access refused")). "
                + "Reconnect it under Calendar → Connections."
        default:
            return nil
        }
    }
}
