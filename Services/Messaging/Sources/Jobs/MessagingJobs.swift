import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// Turns stored webhook deliveries into contacts, conversations, messages and statuses, one event at a time,
/// each in its own transaction; a duplicate (the provider delivered again) stores nothing.
struct InboundProcessor: Sendable {
    let webhooks: WebhookStore
    let channels: ChannelsStore
    let conversations: ConversationsStore
    let policy: PolicyStore
    let outbox: OutboxStore
    let templates: TemplatesStore
    let jobs: JobQueue

    static let replyJob = "agent.reply"

    struct ReplyJob: Codable, Sendable {
        var messageId: MessageID
        var conversationId: ConversationID
        var tenantId: TenantID
    }

    func process(_ deliveryID: Int64, requestID: String?, logger: Logger) async throws {
        guard let delivery = try await self.webhooks.delivery(deliveryID, logger: logger) else { return }
        guard let channel = try await self.channels.find(delivery.channel, logger: logger) else { throw CorruptRow("delivery \(deliveryID) of no channel") }
        // read once per delivery: a batch may hold hundreds of messages
        let settings = try await self.policy.settings(tenant: channel.tenant, logger: logger)
        if delivery.provider == "whatsapp",
            let review = try? JSONDecoder().decode(TemplateStatusWebhook.self, from: Data(buffer: delivery.body))
        {
            // Meta's review of a template arrives on the same webhook as messages
            for update in review.updates {
                try await self.templates.reviewed(
                    channel: channel.id, providerID: update.providerID, name: update.name, language: update.language, status: update.status,
                    reason: update.reason, requestID: requestID, logger: logger)
            }
        }
        for event in try Self.events(delivery, channel: channel) {
            switch event.kind {
            case .message(let message): try await self.ingest(message, channel: channel, settings: settings, requestID: requestID, logger: logger)
            case .status(let status): try await self.status(status, channel: channel, requestID: requestID, logger: logger)
            case .optOut(let optOut): try await self.optOut(optOut, channel: channel, requestID: requestID, logger: logger)
            }
        }
        try await self.webhooks.processed(deliveryID, logger: logger)
    }

    /// The provider's payload, normalised. A body that does not parse was still signed by the provider: it is kept
    /// (the delivery row) and skipped, not retried forever.
    static func events(_ delivery: WebhookStore.Delivery, channel: StoredChannel) throws -> [InboundEvent] {
        let bytes = Data(buffer: delivery.body)
        switch delivery.provider {
        case "whatsapp":
            guard let hook = try? JSONDecoder().decode(WhatsAppWebhook.self, from: bytes) else { return [] }
            return hook.events(channelPhoneNumberId: channel.dto.config.phoneNumberId)
        case "instagram":
            guard let hook = try? JSONDecoder().decode(InstagramWebhook.self, from: bytes) else { return [] }
            return hook.events()
        case "sms":
            return TwilioForm.events(form: TwilioForm.decode(formURLEncoded: String(decoding: bytes, as: UTF8.self)))
        case "telegram":
            guard let update = try? JSONDecoder().decode(TelegramUpdate.self, from: bytes) else { return [] }
            return update.events()
        case "sendgrid":
            return SendGridEvent.events(body: bytes)
        case "mailgun":
            return MailgunWebhook.events(body: bytes)
        case "sandbox":
            return [try JSONDecoder.sokoni.decode(InboundEventBox.self, from: bytes).event]
        default:
            return []
        }
    }

    func ingest(_ message: InboundMessage, channel: StoredChannel, settings: MessagingSettings, requestID: String?, logger: Logger) async throws {
        let tenant = channel.tenant
        let keyword = message.text.flatMap {
            OptOutKeywords.intent(of: $0, extra: settings.optOutKeywords.optOut, extraOptIn: settings.optOutKeywords.optIn)
        }
        let language = message.text.flatMap(LanguageDetector.detect) ?? keyword.map { DetectedLanguage(language: $0.language, confidence: 1) }
        do {
            try await self.conversations.postgres.withTransaction(logger: logger) { connection in
                let contact = try await self.conversations.contact(
                    tenant: tenant, address: message.from, profileName: message.profileName, on: connection, logger: logger)
                let conversation = try await self.conversations.openConversation(
                    tenant: tenant, channel: channel.id, contact: contact, on: connection, logger: logger)
                var payload: [String: JSONValue] = [:]
                if let value = message.payload { payload["payload"] = .string(value) }
                if let media = message.media {
                    payload["media"] = .object(
                        ["id": media.id, "url": media.url, "mimeType": media.mimeType, "sha256": media.sha256, "filename": media.filename]
                            .compactMapValues { $0.map(JSONValue.string) })
                }
                if let location = message.location {
                    var value: [String: JSONValue] = ["latitude": .number(location.latitude), "longitude": .number(location.longitude)]
                    if let name = location.name { value["name"] = .string(name) }
                    if let address = location.address { value["address"] = .string(address) }
                    payload["location"] = .object(value)
                }
                if let replyTo = message.replyTo { payload["replyTo"] = .string(replyTo) }
                let (id, _) = try await self.conversations.append(
                    .init(
                        tenant: tenant, channel: channel.id, conversation: conversation.id, direction: .inbound, sender: .user, kind: message.kind,
                        body: message.text, payload: .object(payload), providerMessageID: message.providerMessageId, status: .received,
                        language: language, requestedBy: nil, callback: nil, occurredAt: message.timestamp),
                    on: connection, logger: logger)
                // the CRM's lead for this number: last contact, replies, the timeline
                try await self.policy.crm.enqueue(
                    CRMAPI.Event(
                        id: "message-\(id)", source: .messaging, kind: .messageReceived, phone: message.from, at: message.timestamp,
                        name: message.profileName, channelKind: channel.kind.rawValue, conversationId: conversation.id), tenant: tenant,
                    requestID: requestID, on: connection, logger: logger)
                if let keyword {
                    // the customer's own words: recorded, confirmed in their language, and never answered by the agent
                    let changed =
                        keyword.intent == .optOut
                        ? try await self.policy.optOut(
                            tenant: tenant, address: message.from, source: "keyword", language: keyword.language.rawValue, actor: "contact",
                            requestID: requestID, on: connection, logger: logger)
                        : try await self.policy.optIn(
                            tenant: tenant, address: message.from, actor: "contact", requestID: requestID, on: connection, logger: logger)
                    if changed {
                        _ = try await self.outbox.queue(
                            .init(
                                tenant: tenant, channel: channel, to: message.from, sender: .system,
                                text: OptOutReplies.confirmation(keyword.intent, language: keyword.language), requestedBy: "opt-out",
                                bypassOptOut: true),
                            on: connection, requestID: requestID, logger: logger)
                    }
                } else {
                    // a lead who answers leaves its sequences: a person or the agent takes the conversation from here
                    try await SequencesStore.exit(tenant: tenant, phone: message.from, reason: "replied", on: connection, logger: logger)
                }
                if keyword == nil, conversation.status == .aiActive {
                    try await self.jobs.enqueue(
                        Self.replyJob, payload: ReplyJob(messageId: id, conversationId: conversation.id, tenantId: tenant), on: connection, maxAttempts: 30,
                        requestID: requestID, logger: logger)
                }
            }
        } catch let error as PostgresTransactionError where error.closureError is ConversationsStore.Duplicate {
            logger.debug("duplicate inbound message", metadata: ["provider.message.id": "\(message.providerMessageId)"])
        }
    }

    func status(_ update: StatusUpdate, channel: StoredChannel, requestID: String?, logger: Logger) async throws {
        try await self.conversations.postgres.withTransaction(logger: logger) { connection in
            try await self.conversations.applyStatus(channel: channel.id, update, on: connection, logger: logger)
        }
    }

    /// The provider will not deliver to the address again (a hard bounce, a spam report, an unsubscribe): on the
    /// list, as the provider's, so the policy blocks the next send.
    func optOut(_ optOut: ProviderOptOut, channel: StoredChannel, requestID: String?, logger: Logger) async throws {
        try await self.policy.postgres.withTransaction(logger: logger) { connection in
            _ = try await self.policy.optOut(
                tenant: channel.tenant, address: optOut.address, source: "provider", language: nil, actor: "provider:\(optOut.event)",
                requestID: requestID, on: connection, logger: logger)
        }
    }
}

/// The sandbox's inbound webhook body: one event, as the provider adapters would have produced it.
struct InboundEventBox: Codable, Sendable {
    var from: String
    var text: String
    var profileName: String?
    var providerMessageId: String
    var timestamp: Date

    var event: InboundEvent {
        InboundEvent(
            .message(
                InboundMessage(
                    providerMessageId: self.providerMessageId, from: self.from, profileName: self.profileName, timestamp: self.timestamp, kind: "text",
                    text: self.text)))
    }
}

/// Sends queued messages: the policy first (opt-out, the 24-hour window, quiet hours, the shared throttle), then
/// the channel's adapter. A transient failure throws, so the job retries with backoff; a permanent one is recorded
/// with the provider's code and reason at once.
struct Sender: Sendable {
    let outbox: OutboxStore
    let channels: ChannelsStore
    let policy: PolicyStore
    let campaigns: CampaignsStore
    let adapters: [ChannelKind: any ProviderAdapter]
    let now: @Sendable () -> Date

    func send(_ job: OutboxStore.SendJob, requestID: String?, logger: Logger) async throws {
        guard let message = try await self.outbox.pending(job.messageId, logger: logger),
            message.status == .queued || message.status == .queuedThrottled
        else { return }
        guard let (channel, credentials) = try await self.channels.withCredentials(message.channel, logger: logger) else {
            throw CorruptRow("message \(message.id) of no channel")
        }
        if channel.dto.status == .disabled {
            return try await self.outbox.block(message, code: "channel_disabled", reason: "The channel is disabled.", logger: logger)
        }
        var settings = message.settings
        let campaign = message.payload["campaign"].flatMap { try? $0.decode(CampaignRef.self) }
        if let campaign {
            if let until = campaign.validUntil, self.now() >= until {
                return try await self.outbox.block(
                    message, code: "expired", reason: "The campaign's validity window ended before this message could be sent.", logger: logger)
            }
            switch message.campaignStatus {
            case .cancelled:
                return try await self.outbox.block(message, code: "campaign_cancelled", reason: "The campaign was cancelled.", logger: logger)
            case .paused:
                // what the outbox already holds of a paused campaign waits too (looked at again each second), so a
                // pause stops the sends at once however far behind the sender is
                return try await self.outbox.hold(
                    message, until: self.now().addingTimeInterval(1), reason: "The campaign is paused.", requestID: requestID, logger: logger)
            default:
                break
            }
            settings.quietHours = campaign.quietHours(over: settings.quietHours)
        }
        let template = message.payload["template"].flatMap { try? $0.decode(TemplateRef.self) }
        let media = message.payload["media"].flatMap { try? $0.decode(MediaAttachment.self) }
        let subject = message.payload["subject"].flatMap { try? $0.decode(String.self) }
        let options = message.payload["options"].flatMap { try? $0.decode([ReplyOption].self) } ?? []
        let now = self.now()
        let optedOut = job.bypassOptOut == true ? false : try await self.policy.isOptedOut(tenant: message.tenant, address: message.to, logger: logger)
        let decision = SendPolicy.decide(
            .init(
                kind: channel.kind, optedOut: optedOut, isTemplate: template != nil, lastInboundAt: message.lastInboundAt,
                country: channel.kind.usesPhoneNumbers ? (try? PhoneNumber(parsing: message.to))?.country : nil, settings: settings, now: now))
        switch decision {
        case .block(let code, let reason):
            return try await self.outbox.block(message, code: code, reason: reason, logger: logger)
        case .hold(let until, let reason):
            return try await self.outbox.hold(message, until: until, reason: reason, requestID: requestID, logger: logger)
        case .send:
            break
        }
        let perMinute = settings.sendThrottle.perMinute[channel.kind.rawValue] ?? MessagingSettings.defaults.sendThrottle.perMinute[channel.kind.rawValue] ?? 60
        if let until = try await self.policy.takeSend(
            [
                ("channel:\(channel.id)", perMinute, 60),
                ("recipient:\(channel.id):\(self.policy.hash(message.to).readableBytesView.hex)", settings.sendThrottle.perRecipientPerHour, 3600),
            ], now: now, logger: logger)
        {
            return try await self.outbox.hold(
                message, until: until, reason: "Throttled: the channel's or the recipient's send limit is reached until \(until).", requestID: requestID,
                logger: logger)
        }
        if channel.kind == .sandbox {
            _ = try await self.outbox.sandboxSend(message, logger: logger)
            return
        }
        guard let adapter = self.adapters[channel.kind] else {
            return try await self.outbox.failed(
                message, code: "unsupported_channel", reason: "Sending on \(channel.kind.rawValue) is not available yet.", logger: logger)
        }
        let secrets = credentials ?? ChannelSecrets()
        // a campaign's send is never repeated blindly: one that an earlier attempt handed to the provider without an
        // answer (the service died meanwhile) may have reached the customer, so it is flagged for a person instead
        if campaign != nil, !(try await self.outbox.startSend(message, logger: logger)) {
            try await self.outbox.failed(
                message, code: "in_flight_at_crash",
                reason: "The service stopped while the provider had this message; it may have been sent, so it was not sent again.", logger: logger)
            return try await self.campaigns.flagInFlight(message: message.id, logger: logger)
        }
        let outcome: SendOutcome
        do {
            outcome = try await adapter.send(
                OutboundMessage(id: message.id, to: message.to, text: message.body, template: template, media: media, subject: subject, options: options),
                channel: channel.dto,
                secrets: secrets, logger: logger)
        } catch let error as ProviderUnreachable {
            if campaign != nil { try await self.outbox.sendAbandoned(message, logger: logger) }
            throw error
        }
        if case .failed(.transient) = outcome, campaign != nil { try await self.outbox.sendAbandoned(message, logger: logger) }
        switch outcome {
        case .accepted(let providerID, let status):
            try await self.outbox.accepted(message, providerMessageID: providerID, status: status, logger: logger)
        case .failed(let failure):
            switch failure {
            case .transient(let code, let reason):
                throw JobError(message: "provider refused for now (\(code)): \(reason)")
            case .permanent(let code, let reason):
                try await self.outbox.failed(message, code: code, reason: reason, logger: logger)
                if failure.impliesOptOut {
                    _ = try await self.policy.postgres.withTransaction(logger: logger) { connection in
                        try await self.policy.optOut(
                            tenant: message.tenant, address: message.to, source: "provider", language: nil, actor: "provider:\(code)", requestID: requestID,
                            on: connection, logger: logger)
                    }
                }
            }
        }
    }
}

extension JSONValue {
    func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try JSONDecoder.sokoni.decode(Value.self, from: try JSONEncoder.sokoni.encode(self))
    }
}
