import Contracts
import Foundation
import Hummingbird
import ServiceKit

/// The agent-core service: agents and their prompt versions, FAQs, and the replies messaging asks for, answered
/// today by the built-in offline responder (a rule-based stand-in for a model: intents, FAQs, the voucher tool, hand
/// off to a person). This type only assembles.
public struct AgentCoreService: ServiceModule {
    public static let name = ServiceName.agentCore
    public static var openAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    let agents: AgentsStore
    let faqs: FaqsStore
    let engine: ReplyEngine

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
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
                callContext: { tenant, requestID in try await environment.serviceCallContext(tenant: tenant, requestID: requestID) }))
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        AgentsController(agents: self.agents).addRoutes(to: router)
        FaqsController(faqs: self.faqs).addRoutes(to: router)
        RepliesController(engine: self.engine, faqs: self.faqs).addRoutes(to: router)
    }
}
