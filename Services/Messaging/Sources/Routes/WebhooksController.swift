import Contracts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// Provider webhooks. Each is found by the public id in its URL, checked by the provider's own scheme over the
/// raw bytes (a bad or missing signature is a 401 and nothing is stored), stored with its processing job, and
/// answered at once.
struct WebhooksController: Sendable {
    let channels: ChannelsStore
    let webhooks: WebhookStore
    /// The public base URL providers call (Twilio signs the URL it called).
    let publicURL: String
    let maxBodySize: Int

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(MessagingAPI.whatsAppVerify) { request, context in try await self.verify(request, context: context, kind: .whatsapp) }
        router.on(MessagingAPI.instagramVerify) { request, context in try await self.verify(request, context: context, kind: .instagram) }
        router.on(MessagingAPI.whatsAppWebhook) { request, context in try await self.meta(request, context: context, kind: .whatsapp) }
        router.on(MessagingAPI.instagramWebhook) { request, context in try await self.meta(request, context: context, kind: .instagram) }
        router.on(MessagingAPI.smsWebhook, use: self.twilio)
        router.on(MessagingAPI.telegramWebhook, use: self.telegram)
        router.on(MessagingAPI.emailWebhook, use: self.email)
    }

    static let unknownChannel = APIError.notFound("channel_not_found", "No such channel.")
    static let badSignature = APIError.unauthorized("invalid_signature", "The request's signature does not match.")

    func channel(_ context: AppRequestContext, kind: ChannelKind) async throws -> (StoredChannel, ChannelSecrets) {
        guard let id = context.parameters.get("channel"), PublicChannelID.isValid(id[...]),
            let target = try await self.channels.webhookTarget(publicID: id, kind: kind, logger: context.logger)
        else { throw Self.unknownChannel }
        return target
    }

    /// Meta's subscription handshake: echo `hub.challenge` when `hub.verify_token` is the channel's.
    func verify(_ request: Request, context: AppRequestContext, kind: ChannelKind) async throws -> Response {
        let (_, secrets) = try await self.channel(context, kind: kind)
        let query = request.uri.queryParameters
        guard query["hub.mode"] == "subscribe", let token = query["hub.verify_token"].map(String.init), let expected = secrets.verifyToken,
            WebhookSignatures.constantTimeEqual(Array(token.utf8), Array(expected.utf8)),
            let challenge = query["hub.challenge"].map(String.init), challenge.count <= 200
        else { throw APIError.forbidden("verification_failed", "The verify token does not match.") }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: challenge)))
    }

    func meta(_ request: Request, context: AppRequestContext, kind: ChannelKind) async throws -> Response {
        let (channel, secrets) = try await self.channel(context, kind: kind)
        let body = try await request.body.collect(upTo: self.maxBodySize)
        guard let secret = secrets.appSecret,
            WebhookSignatures.metaValid(body: Array(buffer: body), header: request.headers[HTTPField.Name("X-Hub-Signature-256")!], appSecret: secret)
        else { throw Self.badSignature }
        try await self.webhooks.receive(channel: channel.id, provider: kind.rawValue, body: body, requestID: context.requestID, logger: context.logger)
        return Self.ok
    }

    func twilio(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (channel, secrets) = try await self.channel(context, kind: .sms)
        let body = try await request.body.collect(upTo: self.maxBodySize)
        let form = TwilioForm.decode(formURLEncoded: String(buffer: body))
        // Twilio signs the URL it called, query included, then each parameter in name order
        let url = self.publicURL + request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
        guard let token = secrets.authToken,
            WebhookSignatures.twilioValid(url: url, params: form, header: request.headers[HTTPField.Name("X-Twilio-Signature")!], authToken: token)
        else { throw Self.badSignature }
        try await self.webhooks.receive(channel: channel.id, provider: "sms", body: body, requestID: context.requestID, logger: context.logger)
        // Twilio reads TwiML; an empty response sends nothing back
        return Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "<Response></Response>")))
    }

    func telegram(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (channel, secrets) = try await self.channel(context, kind: .telegram)
        guard let secret = secrets.secretToken,
            WebhookSignatures.telegramValid(header: request.headers[HTTPField.Name("X-Telegram-Bot-Api-Secret-Token")!], secretToken: secret)
        else { throw Self.badSignature }
        let body = try await request.body.collect(upTo: self.maxBodySize)
        try await self.webhooks.receive(channel: channel.id, provider: "telegram", body: body, requestID: context.requestID, logger: context.logger)
        return Self.ok
    }

    /// Email events: SendGrid's Event Webhook (a JSON array, signed in `X-Twilio-Email-Event-Webhook-Signature` over
    /// the timestamp header and the raw body) or Mailgun's (one event, with its signature in the body), as the
    /// channel's `mailProvider` says; the key is the channel's `webhookKey`.
    func email(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (channel, secrets) = try await self.channel(context, kind: .email)
        let body = try await request.body.collect(upTo: self.maxBodySize)
        guard let key = secrets.webhookKey else { throw Self.badSignature }
        let provider = channel.dto.config.mailProvider ?? "sendgrid"
        let valid =
            provider == "mailgun"
            ? WebhookSignatures.mailgunValid(
                (try? JSONDecoder().decode(MailgunWebhook.self, from: body))?.signature, signingKey: key, now: Date())
            : WebhookSignatures.sendGridValid(
                body: Array(buffer: body), signature: request.headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Signature")!],
                timestamp: request.headers[HTTPField.Name("X-Twilio-Email-Event-Webhook-Timestamp")!], verificationKey: key)
        guard valid else { throw Self.badSignature }
        try await self.webhooks.receive(channel: channel.id, provider: provider, body: body, requestID: context.requestID, logger: context.logger)
        return Self.ok
    }

    static var ok: Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"received":true}"#)))
    }
}
