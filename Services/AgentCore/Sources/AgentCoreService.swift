import Contracts
import Foundation
import Hummingbird
import Logging
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
public struct AgentCoreService: ServiceModule {
    public static let name = ServiceName.agentCore
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    let agents: AgentsStore
    let faqs: FaqsStore
    let sessions: SessionsStore
    let engine: ReplyEngine

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
        self.agents = AgentsStore(postgres: environment.postgres, audit: environment.audit)
        self.faqs = FaqsStore(postgres: environment.postgres, audit: environment.audit)
        self.sessions = SessionsStore(postgres: environment.postgres, audit: environment.audit)
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
                callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) }),
            model: model)
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
        RepliesController(engine: self.engine, faqs: self.faqs).addRoutes(to: router)
        SessionsController(sessions: self.sessions, agents: self.agents, engine: self.engine).addRoutes(to: router)
    }
}
