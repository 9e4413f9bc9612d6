import Contracts
import Crypto
import Foundation
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle

/// The agent-core service: agents and their prompt versions, FAQs, and the replies messaging asks for, answered by
/// an OpenAI-compatible model when one is configured (with a fallback and a circuit breaker per provider), and by
/// the built-in offline responder otherwise or when every provider fails (a rule-based stand-in for a model:
/// intents, FAQs, the voucher tool, hand-off to a person). This type only assembles.
///
/// Its own settings, besides ServiceKit's:
/// - `agent.llmBaseUrl` [`AGENT_LLM_BASE_URL`] (with `/v1`), `agent.llmModel` [`AGENT_LLM_MODEL`], `agent.llmApiKey`
///   [`AGENT_LLM_API_KEY`], `agent.llmCheapModel` [`AGENT_LLM_CHEAP_MODEL`] (what replies near a spend cap ask);
///   `agent.llmFallbackBaseUrl`, `…FallbackModel`, `…FallbackApiKey`, `…FallbackCheapModel` the same for a second
///   provider; `agent.llmTimeoutSeconds` [`AGENT_LLM_TIMEOUT_SECONDS`] 30. A tenant's own providers
///   (`PUT /v1/agent/providers`) answer its replies instead.
/// - `agent.secretKeys` [`AGENT_SECRET_KEYS`], secret: `id:base64` AES-256 keys sealing tenants' provider API keys
///   (the first seals, all open); absent, one key derived from the service key (`JWT_SERVICE_KEY`) with HKDF.
/// - `agent.providersAllowPrivateHosts` [`AGENT_PROVIDERS_ALLOW_PRIVATE_HOSTS`] false: whether a tenant's provider
///   may be plain http or on a private network (a lab, the tests); otherwise https to public hosts only.
/// - `agent.embeddingsBaseUrl` [`AGENT_EMBEDDINGS_BASE_URL`] (with `/v1`), `agent.embeddingsModel`
///   [`AGENT_EMBEDDINGS_MODEL`] (`text-embedding-3-small`), `agent.embeddingsApiKey` [`AGENT_EMBEDDINGS_API_KEY`]:
///   an OpenAI-compatible embeddings API for the knowledge base; none: the built-in hashing embedder (not a model).
/// - `agent.creditCheckTimeoutMs` [`AGENT_CREDIT_CHECK_TIMEOUT_MS`] 5000: how long a reply waits for the wallet's
///   usage-credit reservation before it goes ahead unmetered.
/// - `agent.extractAfterMessages` [`AGENT_EXTRACT_AFTER_MESSAGES`] 5: a customer's messages since the last extraction
///   that make the next one (a person closing the conversation makes one too).
/// - `agent.analyticsRefreshMs` [`AGENT_ANALYTICS_REFRESH_MS`] 600000: how often today's and yesterday's daily
///   analytics are recomputed (for tenants that read them lately).
/// - `agent.twilioBaseUrl` [`AGENT_TWILIO_BASE_URL`] (https://api.twilio.com): Twilio's REST API for outbound calls;
///   `agent.publicUrl` [`AGENT_PUBLIC_URL`] (the gateway's URL): where Twilio posts call progress, and what its
///   signatures are computed over.
/// - `agent.stageRulesSweepMs` [`AGENT_STAGE_RULES_SWEEP_MS`] 60000: how often the pipeline's inactivity rules run.
/// - `agent.toolTimeoutPercent` [`AGENT_TOOL_TIMEOUT_PERCENT`] 100: the tools' deadlines (1–8 s each) and their
///   calls to other services, in percent; a slow deployment (or a test suite on two busy cores) raises it.
public struct AgentCoreService: ServiceModule {
    public static let name = ServiceName.agentCore
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    /// Tests run fake providers on loopback.
    public static let testSettings = ["AGENT_PROVIDERS_ALLOW_PRIVATE_HOSTS": "true"]
    /// A voice provider's report may carry a long transcript.
    public static func bodyAllowance(_ request: Request) -> Int? {
        Endpoint.bodyAllowance(in: CRMAPI.all, method: request.method.rawValue, path: request.uri.path)
    }
    let environment: ServiceEnvironment
    let agents: AgentsStore
    let faqs: FaqsStore
    let leads: LeadsStore
    let calls: CallsStore
    let sessions: SessionsStore
    let costs: CostsStore
    let providers: ProvidersStore
    let engine: ReplyEngine
    let allowPrivateHosts: Bool
    let knowledge: KnowledgeStore
    let knowledgeSearch: KnowledgeSearch
    let stageRulesSweep: Duration
    let events: EventsStore
    let twilioBaseURL: String
    let publicURL: String
    let analytics: AnalyticsStore
    let analyticsRefresh: Duration

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        let settings = environment.settings.settings
        let creditCheckTimeout = Duration.milliseconds(try settings.int("agent.creditCheckTimeoutMs", default: 5_000, range: 100...120_000))
        self.stageRulesSweep = .milliseconds(try settings.int("agent.stageRulesSweepMs", default: 60_000, range: 10...86_400_000))
        let toolTimeoutPercent = try settings.int("agent.toolTimeoutPercent", default: 100, range: 10...2_000)
        let toolCallTimeout = Duration.seconds(3) * toolTimeoutPercent / 100
        // the platform's language models, in order of preference; none (and no tenant's own): the offline responder
        var platform: [ProviderSpec] = []
        let primaryModel = settings.string("agent.llmModel") ?? "gpt-4o-mini"
        for (index, prefix) in ["agent.llm", "agent.llmFallback"].enumerated() {
            guard let base = try settings.url("\(prefix)BaseUrl", default: nil) else { continue }
            platform.append(
                ProviderSpec(
                    name: index == 0 ? "primary" : "fallback", baseURL: base.absoluteString, apiKey: settings.string("\(prefix)ApiKey", secret: true),
                    model: settings.string("\(prefix)Model") ?? primaryModel, cheapModel: settings.string("\(prefix)CheapModel")))
        }
        let secretKeys = settings.string("agent.secretKeys", secret: true) ?? Self.derivedSecretKeys(serviceKey: environment.settings.serviceKey)
        let box = try SecretBox(configuration: secretKeys, key: "AGENT_SECRET_KEYS")
        self.allowPrivateHosts = try settings.bool("agent.providersAllowPrivateHosts", default: false)
        let embedder: any Embedder =
            if let base = try settings.url("agent.embeddingsBaseUrl", default: nil) {
                OpenAICompatibleEmbedder(
                    baseURL: base.absoluteString, apiKey: settings.string("agent.embeddingsApiKey"),
                    model: settings.string("agent.embeddingsModel") ?? "text-embedding-3-small", http: environment.httpClient)
            } else {
                HashingEmbedder()
            }
        self.knowledge = KnowledgeStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs)
        self.knowledgeSearch = KnowledgeSearch(store: self.knowledge, embedder: embedder, index: KnowledgeIndex())
        self.agents = AgentsStore(postgres: environment.postgres, audit: environment.audit)
        self.faqs = FaqsStore(postgres: environment.postgres, audit: environment.audit)
        self.leads = LeadsStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs)
        self.events = EventsStore(
            postgres: environment.postgres, audit: environment.audit, leads: self.leads, jobs: environment.jobs,
            extractAfterMessages: try settings.int("agent.extractAfterMessages", default: 5, range: 1...1000))
        self.analytics = AnalyticsStore(
            postgres: environment.postgres,
            sources: {
                [
                    (.messaging, MessagingAPI.daily), (.calendarBooking, CalendarAPI.daily), (.vouchers, VouchersAPI.daily),
                ].map { service, endpoint in
                    (service, DailyCountsClient(environment.client(service, timeout: .seconds(10), retries: 1), endpoint: endpoint))
                }

            },
            callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) })
        self.twilioBaseURL = (try settings.url("agent.twilioBaseUrl", default: "https://api.twilio.com")!).absoluteString
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        var publicURL = settings.string("agent.publicUrl") ?? environment.settings.serviceURLs[.gateway]!.absoluteString
        if publicURL.hasSuffix("/") { publicURL.removeLast() }
        self.publicURL = publicURL
        self.analyticsRefresh = .milliseconds(try settings.int("agent.analyticsRefreshMs", default: 600_000, range: 10...86_400_000))
        self.calls = CallsStore(postgres: environment.postgres, audit: environment.audit, secrets: box, leads: self.leads)
        self.sessions = SessionsStore(postgres: environment.postgres, audit: environment.audit)
        self.costs = CostsStore(postgres: environment.postgres, audit: environment.audit)
        self.providers = ProvidersStore(postgres: environment.postgres, audit: environment.audit, secrets: box)
        self.engine = ReplyEngine(
            agents: self.agents, faqs: self.faqs,
            tools: Tools(
                // a customer is waiting: a tool answers within a few seconds or is "unavailable"
                vouchers: { VouchersClient(environment.client(.vouchers, timeout: toolCallTimeout, retries: 1)) },
                callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
                knowledge: self.knowledgeSearch,
                wallet: { WalletClient(environment.client(.marketplaceWallet, timeout: toolCallTimeout, retries: 1)) },
                tenantCurrency: { tenant, logger in try await environment.tenants.tenant(tenant, logger: logger)?.currency },
                calendar: { CalendarClient(environment.client(.calendarBooking, timeout: toolCallTimeout, retries: 1)) }, leads: self.leads,
                timeoutPercent: toolTimeoutPercent),
            models: ReplyModels(
                platform: platform,
                chains: ProviderChains(
                    http: environment.httpClient, timeout: .seconds(try settings.int("agent.llmTimeoutSeconds", default: 30, range: 1...600))),
                providers: self.providers, costs: self.costs,
                credits: UsageCredits(
                    // checked before every model call: an answer within a few seconds, or the reply goes ahead
                    wallet: { WalletClient(environment.client(.marketplaceWallet, timeout: creditCheckTimeout, retries: 0)) },
                    callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
                    metrics: environment.metrics)))
    }

    /// The sealing key when `AGENT_SECRET_KEYS` is not set, as `AGENT_SECRET_KEYS` would name it.
    static func derivedSecretKeys(serviceKey: String) -> String {
        SecretBox.derivedConfiguration(serviceKey: serviceKey, purpose: "sokoni agent-core provider keys")
    }

    /// `agent-core seed-demo`: migrates, then creates the demo tenant's draft agent and FAQs (run by `./Deploy/local`;
    /// running it again changes nothing).
    public static func runCommand(_ name: String, arguments: [String], settings: ServiceSettings, logger: Logger) async throws -> Bool {
        guard name == "seed-demo" else { return false }
        try await ServiceMain.withMigratedClient(settings: settings, logger: logger) { postgres in
            try await DemoSeed.run(postgres: postgres, logger: logger)
        }
        return true
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        AgentsController(agents: self.agents).addRoutes(to: router)
        FaqsController(faqs: self.faqs).addRoutes(to: router)
        LeadsController(leads: self.leads).addRoutes(to: router)
        CallsController(
            calls: self.calls, leads: self.leads, twilio: TwilioVoice(http: self.environment.httpClient, baseURL: self.twilioBaseURL),
            publicURL: self.publicURL
        ).addRoutes(to: router)
        RulesController(leads: self.leads).addRoutes(to: router)
        LeadsCSVController(leads: self.leads).addRoutes(to: router)
        AnalyticsController(analytics: self.analytics).addRoutes(to: router)
        CustomersController(events: self.events).addRoutes(to: router)
        RepliesController(engine: self.engine, faqs: self.faqs).addRoutes(to: router)
        SessionsController(sessions: self.sessions, agents: self.agents, engine: self.engine).addRoutes(to: router)
        CostsController(costs: self.costs).addRoutes(to: router)
        ProvidersController(providers: self.providers, allowPrivateHosts: self.allowPrivateHosts).addRoutes(to: router)
        KnowledgeController(knowledge: self.knowledge, search: self.knowledgeSearch, idempotency: self.environment.idempotency).addRoutes(to: router)
    }

    public var backgroundServices: [any Service] {
        [
            StageRulesSweeper(leads: self.leads, interval: self.stageRulesSweep, logger: self.environment.logger),
            AnalyticsRefresher(analytics: self.analytics, interval: self.analyticsRefresh, logger: self.environment.logger),
        ]
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        KnowledgeIndexer(store: self.knowledge, embedder: self.knowledgeSearch.embedder).register(&registry)
        let environment = self.environment
        let extractions = Extractions(
            leads: self.leads, model: ModelExtractor(models: self.engine.models), conversations: { ConversationsClient(environment.client(.messaging)) },
            callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) })
        registry.register(Extractions.job, as: Extractions.Payload.self) { payload, job, logger in
            try await extractions.run(payload, requestID: job.requestID, logger: logger)
        }
        // a person's change of a lead's opt-in reaches messaging's list, phone by phone
        registry.register(LeadsStore.consentJob, as: LeadsStore.Consent.self) { consent, job, _ in
            let context = try await environment.serviceCallContext(tenant: consent.tenantId, requestID: job.requestID)
            let messaging = ConsentClient(environment.jobClient(.messaging))
            for phone in consent.phones {
                _ = try await messaging.consent(.init(address: phone, optedIn: consent.optedIn), context: context)
            }
        }
    }
}
