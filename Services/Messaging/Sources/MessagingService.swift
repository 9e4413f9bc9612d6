import Contracts
import Crypto
import Foundation
import Hummingbird
import Logging
import Models
import ServiceKit
import ServiceLifecycle

/// The messaging service: channels with sealed secrets, signed provider webhooks acked at once and handled as
/// jobs, contacts and conversations with gap-free sequence numbers, one outbox and one send policy for every
/// message, delivery status that only moves forward, opt-outs, settings, and the sandbox that lets the platform
/// run with no provider at all. This type only assembles.
///
/// Its own settings, besides ServiceKit's:
/// - `messaging.secretKeys` [`MESSAGING_SECRET_KEYS`], required: `id:base64` AES-256 keys, comma-separated, the
///   first sealing provider secrets, all opening them (rotation).
/// - `messaging.optOutKey` [`MESSAGING_OPT_OUT_KEY`], required: the HMAC key of the opt-out list's hashes.
/// - `messaging.publicUrl` [`MESSAGING_PUBLIC_URL`], default the gateway URL: the base of webhook URLs.
/// - `messaging.webhookRetentionDays` [`MESSAGING_WEBHOOK_RETENTION_DAYS`] 30: how long handled webhook bodies are kept;
///   `messaging.sweepIntervalMs` [`MESSAGING_SWEEP_INTERVAL_MS`] 600000: how often the retention sweeper runs.
/// - `messaging.graphBaseUrl`, `messaging.twilioBaseUrl`, `messaging.telegramBaseUrl` [`MESSAGING_GRAPH_BASE_URL`,
///   …]: the providers' APIs (a fake's, in tests).
/// - `messaging.campaignTickMs` [`MESSAGING_CAMPAIGN_TICK_MS`] 200: how often the campaign dispatcher hands targets
///   to the outbox (a pause takes effect within this plus the outbox's two seconds of sends).
/// - `messaging.sequenceTickMs` [`MESSAGING_SEQUENCE_TICK_MS`] 1000: how often due sequence steps run;
///   `messaging.sequenceTriggerMs` [`MESSAGING_SEQUENCE_TRIGGER_MS`] 10000: how often triggers read agent-core.
/// - `messaging.sendgridBaseUrl` [`MESSAGING_SENDGRID_BASE_URL`], default `https://api.sendgrid.com`, and
///   `messaging.mailgunBaseUrl` [`MESSAGING_MAILGUN_BASE_URL`], default `https://api.mailgun.net` (the EU region is
///   `https://api.eu.mailgun.net`): the email channels' APIs.
public struct MessagingService: ServiceModule {
    public static let name = ServiceName.messaging
    /// Fixed keys for test instances.
    public static let testSettings = [
        "MESSAGING_SECRET_KEYS": "test-1:" + Data(repeating: 7, count: 32).base64EncodedString(),
        "MESSAGING_OPT_OUT_KEY": "test-opt-out-key",
    ]
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }

    let environment: ServiceEnvironment
    let channels: ChannelsStore
    let conversations: ConversationsStore
    let policy: PolicyStore
    let outbox: OutboxStore
    let webhooks: WebhookStore
    let processor: InboundProcessor
    let sender: Sender
    let replies: AgentReplies
    let reports: DeliveryReports
    let publicURL: String
    let hub = LiveHub()
    let webhookRetention: Duration
    let sweepInterval: Duration
    let webChat: WebChatSocket
    let inboxSocket: InboxSocket
    let templates: TemplatesStore
    let campaigns: CampaignsStore
    let metaTemplates: WhatsAppTemplates
    let campaignTick: Duration
    let sequences: SequencesStore
    let sequenceRunner: SequenceRunner

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        let settings = environment.settings.settings
        let box = try SecretBox(configuration: try settings.required("messaging.secretKeys", secret: true), key: "MESSAGING_SECRET_KEYS")
        let optOutKey = SymmetricKey(data: Data(try settings.required("messaging.optOutKey", secret: true).utf8))
        var publicURL = settings.string("messaging.publicUrl") ?? environment.settings.serviceURLs[.gateway]!.absoluteString
        if publicURL.hasSuffix("/") { publicURL.removeLast() }
        self.publicURL = publicURL
        let endpoints = ProviderEndpoints(
            graph: try settings.url("messaging.graphBaseUrl", default: ProviderEndpoints().graph)!.absoluteString,
            twilio: try settings.url("messaging.twilioBaseUrl", default: ProviderEndpoints().twilio)!.absoluteString,
            telegram: try settings.url("messaging.telegramBaseUrl", default: ProviderEndpoints().telegram)!.absoluteString,
            sendgrid: try settings.url("messaging.sendgridBaseUrl", default: ProviderEndpoints().sendgrid)!.absoluteString,
            mailgun: try settings.url("messaging.mailgunBaseUrl", default: ProviderEndpoints().mailgun)!.absoluteString)

        self.webhookRetention = .seconds(86_400 * (try settings.int("messaging.webhookRetentionDays", default: 30, range: 1...3650)))
        self.sweepInterval = .milliseconds(try settings.int("messaging.sweepIntervalMs", default: 600_000, range: 10...86_400_000))
        self.channels = ChannelsStore(postgres: environment.postgres, audit: environment.audit, secrets: box, publicURL: publicURL)
        self.conversations = ConversationsStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs)
        self.policy = PolicyStore(postgres: environment.postgres, audit: environment.audit, optOutKey: optOutKey, crm: environment.crmEvents)
        self.outbox = OutboxStore(postgres: environment.postgres, conversations: self.conversations, jobs: environment.jobs)
        self.webhooks = WebhookStore(postgres: environment.postgres, jobs: environment.jobs)
        self.templates = TemplatesStore(postgres: environment.postgres, audit: environment.audit)
        self.campaigns = CampaignsStore(postgres: environment.postgres, audit: environment.audit)
        self.campaignTick = .milliseconds(try settings.int("messaging.campaignTickMs", default: 200, range: 10...60_000))
        self.sequences = SequencesStore(postgres: environment.postgres, audit: environment.audit)
        self.processor = InboundProcessor(
            webhooks: self.webhooks, channels: self.channels, conversations: self.conversations, policy: self.policy, outbox: self.outbox,
            templates: self.templates, jobs: environment.jobs)
        let http = environment.httpClient
        self.metaTemplates = WhatsAppTemplates(http: http, baseURL: endpoints.graph)
        self.sender = Sender(
            outbox: self.outbox, channels: self.channels, policy: self.policy, campaigns: self.campaigns,
            adapters: [
                .whatsapp: WhatsAppAdapter(http: http, baseURL: endpoints.graph),
                .sms: TwilioAdapter(http: http, baseURL: endpoints.twilio) { channel in channel.webhookUrl },
                .telegram: TelegramAdapter(http: http, baseURL: endpoints.telegram),
                .instagram: InstagramAdapter(http: http, baseURL: endpoints.graph),
                .email: EmailAdapter(http: http, sendgridURL: endpoints.sendgrid, mailgunURL: endpoints.mailgun),
                .webchat: WebChatAdapter(),
            ], now: { Date() })
        self.replies = AgentReplies(
            conversations: self.conversations, channels: self.channels, outbox: self.outbox, agent: environment.agentCore,
            callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) })
        self.reports = DeliveryReports(
            conversations: self.conversations, client: { service in environment.client(service) },
            callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) })
        self.webChat = WebChatSocket(
            channels: self.channels, visitors: WebChatStore(postgres: environment.postgres), conversations: self.conversations, policy: self.policy,
            processor: self.processor, outbox: self.outbox, hub: self.hub, now: { Date() })
        self.inboxSocket = InboxSocket(verifier: environment.verifier, tenants: environment.tenants, hub: self.hub)
        self.sequenceRunner = SequenceRunner(
            sequences: self.sequences, templates: self.templates, channels: self.channels, policy: self.policy, outbox: self.outbox,
            leads: { [environment] in LeadsClient(environment.client(.agentCore)) },
            calendar: { [environment] in CalendarClient(environment.client(.calendarBooking)) },
            callContext: { [environment] tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
            interval: .milliseconds(try settings.int("messaging.sequenceTickMs", default: 1000, range: 10...600_000)),
            triggerInterval: .milliseconds(try settings.int("messaging.sequenceTriggerMs", default: 10_000, range: 10...3_600_000)),
            logger: environment.logger)
    }

    public static var servesWebSockets: Bool { true }

    /// A campaign's targets stream in (a CSV of 100,000 rows is parsed as it arrives, never held whole).
    public static func streamsRequestBody(_ request: Request) -> Bool {
        request.method == .post && MessagingAPI.importTargets.matches(path: request.uri.path)
    }

    public static func bodyAllowance(_ request: Request) -> Int? {
        Endpoint.bodyAllowance(in: [MessagingAPI.importTargets], method: request.method.rawValue, path: request.uri.path)
    }

    public func webSocket(_ request: WebSocketRequest, logger: Logger) async throws -> WebSocketUpgrade? {
        switch request.path {
        case MessagingAPI.webChatSocket.path: self.webChat.upgrade(request)
        case MessagingAPI.liveSocket.path: self.inboxSocket.upgrade(request)
        default: nil
        }
    }

    public var backgroundServices: [any Service] {
        let environment = self.environment
        return [
            LiveListener(postgres: self.environment.postgres, hub: self.hub, logger: self.environment.logger),
            RetentionSweeper(
                webhooks: self.webhooks, policy: self.policy, retention: self.webhookRetention, interval: self.sweepInterval,
                logger: self.environment.logger),
            CampaignDispatcher(
                campaigns: self.campaigns, templates: self.templates, channels: self.channels, policy: self.policy, outbox: self.outbox,
                vouchers: { [environment] in VouchersClient(environment.client(.vouchers)) },
                callContext: { [environment] tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
                interval: self.campaignTick, logger: self.environment.logger, now: { Date() }),
            self.sequenceRunner,
        ]
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        ChannelsController(channels: self.channels, idempotency: self.environment.idempotency).addRoutes(to: router)
        ConversationsController(conversations: self.conversations).addRoutes(to: router)
        MessagesController(
            channels: self.channels, conversations: self.conversations, outbox: self.outbox, webhooks: self.webhooks, policy: self.policy,
            idempotency: self.environment.idempotency
        ).addRoutes(to: router)
        SettingsController(policy: self.policy).addRoutes(to: router)
        TemplatesController(templates: self.templates, channels: self.channels, meta: self.metaTemplates).addRoutes(to: router)
        CampaignsController(campaigns: self.campaigns, templates: self.templates, channels: self.channels, policy: self.policy).addRoutes(to: router)
        let environment = self.environment
        SequencesController(
            sequences: self.sequences, templates: self.templates, channels: self.channels,
            leads: { LeadsClient(environment.client(.agentCore)) },
            callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
            runner: self.sequenceRunner
        ).addRoutes(to: router)
        AnalyticsController(analytics: AnalyticsStore(postgres: self.environment.postgres)).addRoutes(to: router)
        WebhooksController(
            channels: self.channels, webhooks: self.webhooks, publicURL: self.publicURL, maxBodySize: self.environment.settings.maxBodySize
        ).addRoutes(to: router)
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        let processor = self.processor
        let sender = self.sender
        let replies = self.replies
        let reports = self.reports
        registry.register(WebhookStore.processJob, as: WebhookStore.ProcessJob.self) { payload, job, logger in
            try await processor.process(payload.deliveryId, requestID: job.requestID, logger: logger)
        }
        registry.register(OutboxStore.sendJob, as: OutboxStore.SendJob.self) { payload, job, logger in
            try await sender.send(payload, requestID: job.requestID, logger: logger)
        }
        registry.register(InboundProcessor.replyJob, as: InboundProcessor.ReplyJob.self) { payload, job, logger in
            try await replies.reply(payload, requestID: job.requestID, logger: logger)
        }
        registry.register(DeliveryReports.job, as: DeliveryReports.Job.self) { payload, job, logger in
            try await reports.report(payload, requestID: job.requestID, logger: logger)
        }
        CRMEvents.register(&registry, environment: self.environment)
    }
}
