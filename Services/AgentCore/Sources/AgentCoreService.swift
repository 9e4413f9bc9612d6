import Contracts
import Foundation
import Hummingbird
import ServiceKit

/// The agent-core service: agents and their prompt versions, FAQs, and the replies messaging asks for, answered by
/// an OpenAI-compatible model when one is configured (with a fallback and a circuit breaker per provider), and by
/// the built-in offline responder otherwise or when every provider fails (a rule-based stand-in for a model:
/// intents, FAQs, the voucher tool, hand-off to a person). This type only assembles.
///
/// Its own settings, besides ServiceKit's:
/// - `agent.llmBaseUrl` [`AGENT_LLM_BASE_URL`] (with `/v1`), `agent.llmModel` [`AGENT_LLM_MODEL`], `agent.llmApiKey`
///   [`AGENT_LLM_API_KEY`]; `agent.llmFallbackBaseUrl`, `…FallbackModel`, `…FallbackApiKey` the same for a second
///   provider; `agent.llmTimeoutSeconds` [`AGENT_LLM_TIMEOUT_SECONDS`] 30.
/// - `agent.embeddingsBaseUrl` [`AGENT_EMBEDDINGS_BASE_URL`] (with `/v1`), `agent.embeddingsModel`
///   [`AGENT_EMBEDDINGS_MODEL`] (`text-embedding-3-small`), `agent.embeddingsApiKey` [`AGENT_EMBEDDINGS_API_KEY`]:
///   an OpenAI-compatible embeddings API for the knowledge base; none: the built-in hashing embedder (not a model).
public struct AgentCoreService: ServiceModule {
    public static let name = ServiceName.agentCore
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    let agents: AgentsStore
    let faqs: FaqsStore
    let engine: ReplyEngine
    let knowledge: KnowledgeStore
    let knowledgeSearch: KnowledgeSearch

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        let settings = environment.settings.settings
        // the platform's language models, in order of preference; none: the offline responder answers
        var links: [FallbackChain.Link] = []
        for (index, prefix) in ["agent.llm", "agent.llmFallback"].enumerated() {
            guard let base = try settings.url("\(prefix)BaseUrl", default: nil) else { continue }
            links.append(
                .init(
                    OpenAICompatibleModel(
                        name: index == 0 ? "primary" : "fallback", baseURL: base.absoluteString, apiKey: settings.string("\(prefix)ApiKey"),
                        model: settings.string("\(prefix)Model"), http: environment.httpClient,
                        timeout: .seconds(try settings.int("agent.llmTimeoutSeconds", default: 30, range: 1...600)))))
        }
        let model = links.isEmpty ? nil : ModelReplies(model: FallbackChain(links), modelName: settings.string("agent.llmModel") ?? "gpt-4o-mini")
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
        self.engine = ReplyEngine(
            agents: self.agents, faqs: self.faqs,
            tools: Tools(
                // a customer is waiting: a tool answers within a few seconds or is "unavailable"
                vouchers: {
                    var client = environment.client(.vouchers)
                    client.timeout = .seconds(3)
                    client.maxRetries = 1
                    return VouchersClient(client)
                },
                callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) },
                knowledge: self.knowledgeSearch),
            model: model)
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        AgentsController(agents: self.agents).addRoutes(to: router)
        FaqsController(faqs: self.faqs).addRoutes(to: router)
        RepliesController(engine: self.engine, faqs: self.faqs).addRoutes(to: router)
        KnowledgeController(knowledge: self.knowledge, search: self.knowledgeSearch, idempotency: self.environment.idempotency).addRoutes(to: router)
    }

    public func registerJobs(_ registry: inout JobRegistry) {
        KnowledgeIndexer(store: self.knowledge, embedder: self.knowledgeSearch.embedder).register(&registry)
    }
}
