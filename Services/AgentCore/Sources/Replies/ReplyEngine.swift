import Contracts
import Foundation
import Logging
import Models
import ServiceClient
import ServiceKit

/// The tools a reply may call, each a call to the service that owns the answer with a service token acting in
/// the tenant. A tool whose service is down answers "unavailable", never a failed reply.
struct Tools: Sendable {
    let vouchers: @Sendable () -> VouchersClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext
    /// The tenant's knowledge base; nil: replies use none.
    var knowledge: KnowledgeSearch? = nil
    /// The marketplace, for the product, intent and quote tools; nil: they answer "unavailable".
    var wallet: (@Sendable () -> WalletClient)? = nil
    /// The tenant's currency (a new buyer's wallet is opened in it).
    var tenantCurrency: (@Sendable (TenantID, Logger) async throws -> String?)? = nil
    /// calendar-booking, for the booking tools; nil: they answer "unavailable".
    var calendar: (@Sendable () -> CalendarClient)? = nil
    /// The CRM's leads (this service's own store), for the lead tools.
    var leads: LeadsStore? = nil
    /// Each tool's deadline, in percent of its own (`agent.toolTimeoutPercent`).
    var timeoutPercent = 100

    /// Passages of the tenant's knowledge base for a question, best first; none when it has none or the search
    /// fails (a reply never fails for want of them).
    func knowledgeSearch(_ query: String, tenant: TenantID, language: String, limit: Int = 3, logger: Logger) async -> [KnowledgeSearchResult] {
        guard let knowledge = self.knowledge, !query.allSatisfy(\.isWhitespace) else { return [] }
        do {
            return try await knowledge.search(
                tenant: tenant, query: String(query.prefix(KnowledgeRules.maxQuery)), limit: limit, sourceTypes: nil, language: language, logger: logger
            ).results
        } catch {
            logger.warning("knowledge search failed", metadata: ["error": "\(error)"])
            return []
        }
    }

    enum VoucherAnswer: Equatable {
        case found(VouchersAPI.VoucherView)
        case none
        case unavailable
    }

    /// The customer's own voucher with this code: looked up with the customer's number, so nobody learns about
    /// a voucher issued to someone else.
    func voucherStatus(code: String, customer: String, tenant: TenantID, requestID: String?, logger: Logger) async -> VoucherAnswer {
        guard let phone = try? PhoneNumber(parsing: customer) else { return .none }
        do {
            let context = try await self.callContext(tenant, requestID)
            return try await self.vouchers().voucher(code: code, msisdn: phone.e164, context: context).map(VoucherAnswer.found) ?? .none
        } catch {
            logger.warning("voucher lookup failed", metadata: ["error": "\(error)"])
            return .unavailable
        }
    }
}

/// One reply: the agent that answers, the customer's language, the plan (hand-off, a tool, an FAQ, a greeting), the
/// tool calls it makes, and the words. Today the built-in offline responder plans and phrases; the model providers
/// take over the planning in the LLM part of this issue, with the same tools and the same record.
struct ReplyEngine: Sendable {
    let agents: AgentsStore
    let faqs: FaqsStore
    let tools: Tools
    /// The language models a reply may ask, what they cost and the caps; no provider: the offline responder answers.
    let models: ReplyModels

    struct Answer: Sendable {
        var reply: AgentAPI.Reply
        var agent: AgentID?
        var faq: UUID?
        /// `offline`, or the provider that answered.
        var answeredBy = "offline"
    }

    /// - Parameter key: the inbound message's id (the reply's `Idempotency-Key`): its calls are recorded under it, and
    ///   a second delivery of a message being answered waits for that answer instead of paying for another.
    func answer(_ request: AgentAPI.ReplyRequest, tenant: TenantID, key: String? = nil, requestID: String?, logger: Logger) async throws -> Answer {
        // a tenant that set up no agent has not asked for automatic answers: nothing is sent
        guard let agent = try await self.agents.answering(request.agentId, tenant: tenant, logger: logger) else {
            return Answer(reply: AgentAPI.Reply(text: nil), agent: nil)
        }
        return try await self.answer(request, as: agent, tenant: tenant, key: key, requestID: requestID, logger: logger)
    }

    /// The reply of this agent, live or not (preview sessions talk to drafts).
    func answer(
        _ request: AgentAPI.ReplyRequest, as agent: AgentDTO, tenant: TenantID, key: String? = nil, requestID: String?, logger: Logger
    ) async throws -> Answer {
        let last = request.messages.last { $0.sender == "user" }
        // a tapped choice is the agent's own words: the customer's language is the one they last wrote in
        let written = last?.payload == nil ? last : request.messages.last { $0.sender == "user" && $0.payload == nil && $0.language != nil }
        let language = OfflineResponder.language(written?.language ?? last?.language ?? request.contact.language, agentLanguages: agent.languages)
        guard let text = last?.text, !text.isEmpty else {
            return Answer(reply: AgentAPI.Reply(text: nil, language: language), agent: agent.id)
        }
        let faqs = try await self.faqs.list(tenant: tenant, activeOnly: true, logger: logger)
        // a tapped choice names its answer: no model is asked (nor paid) to guess it, and nothing is looked up
        let chosen = ReplyOffers.chosen(last?.payload, faqs: faqs, tools: Set(agent.tools))
        let passages = chosen == nil ? await self.tools.knowledgeSearch(text, tenant: tenant, language: language, logger: logger) : []
        var billed: Int64 = 0
        if chosen == nil {
            let modelOutcome = try await self.models.answer(
                request, agent: agent, faqs: faqs, passages: passages, language: language, engine: self, tenant: tenant, key: key, requestID: requestID,
                logger: logger)
            if let answered = modelOutcome.answer { return answered }
            billed = modelOutcome.billed
        }
        let plan =
            chosen
            ?? OfflineResponder.plan(
                text, faqs: faqs.map { .init(question: $0.question, keywords: $0.keywords, language: $0.language) }, language: language,
                extraHandoffWords: agent.policy.handoffKeywords ?? [], tools: Set(agent.tools),
                knowledge: passages.map { .init(ftsRank: $0.ftsRank, vectorScore: $0.vectorScore) })
        var reply: AgentAPI.Reply
        var usedFaq: UUID?
        switch plan {
        case .handoff(let reason):
            reply = AgentAPI.Reply(text: OfflineResponder.handoffText(language), handoff: true, handoffReason: reason, language: language)
            reply.toolCalls = [.init(name: ToolName.handoff.rawValue, arguments: #"{"reason":"\#(reason)"}"#, result: "escalated")]
        case .voucherStatus(let code):
            let found = await self.tools.voucherStatus(code: code, customer: request.contact.address, tenant: tenant, requestID: requestID, logger: logger)
            let words: String
            let result: String
            switch found {
            case .found(let voucher):
                words = OfflineResponder.voucherText(
                    voucher.status, code: code, amount: "\(voucher.amount) \(voucher.currency)", expires: voucher.expiresAt, language: language)
                result = voucher.status
            case .none:
                words = OfflineResponder.voucherText(nil, code: code, amount: nil, expires: nil, language: language)
                result = "not_found"
            case .unavailable:
                words = OfflineResponder.voucherUnavailableText(language)
                result = "unavailable"
            }
            reply = AgentAPI.Reply(
                text: words, language: language, toolCalls: [.init(name: ToolName.voucherStatus.rawValue, arguments: #"{"code":"\#(code)"}"#, result: result)])
        case .faq(let index):
            let faq = faqs[index]
            usedFaq = faq.id
            reply = AgentAPI.Reply(
                text: faq.answer, language: language, sources: [.init(kind: "faq", id: faq.id.uuidString.lowercased(), title: faq.question)])
        case .knowledge(let index):
            let passage = passages[index]
            reply = AgentAPI.Reply(
                text: OfflineResponder.passageText(passage.content), language: language,
                sources: [.init(kind: "knowledge", id: passage.source.documentId.uuidString.lowercased(), title: passage.source.title)])
        case .greeting:
            reply = AgentAPI.Reply(text: OfflineResponder.greetingText(language, agent: agent.name), language: language)
        case .noAnswer:
            reply = AgentAPI.Reply(text: OfflineResponder.noAnswerText(language), language: language)
        }
        if plan == .greeting || plan == .noAnswer {
            // what it can help with, as buttons where the channel has them
            let offered = ReplyOffers.offer(faqs: faqs, language: language, tools: Set(agent.tools))
            if !offered.isEmpty { reply.options = offered }
        }
        if let limit = agent.policy.maxAnswerLength, let words = reply.text, words.count > limit {
            reply.text = String(words.prefix(limit - 1)) + "…"
        }
        reply.tokens = 0
        // what failed calls cost before the offline responder took over is the reply's too
        if billed > 0 { reply.costMicros = billed }
        return Answer(reply: reply, agent: agent.id, faq: usedFaq)
    }
}

/// What a reply needs to ask a language model: the platform's providers (from settings) and each tenant's own (its
/// providers settings, which override the platform's), their breakers, the price table, and the spend caps decided
/// before any call, with every call recorded after.
struct ReplyModels: Sendable {
    /// The platform's providers in fallback order; empty: without a tenant's own, the offline responder answers.
    let platform: [ProviderSpec]
    let chains: ProviderChains
    let providers: ProvidersStore
    let costs: CostsStore
    /// The usage credit each model-answered reply spends; nil: replies are not metered.
    var credits: UsageCredits? = nil
    /// How long a second delivery of a message being answered waits for the first one's reply.
    var duplicateWait: Duration = .seconds(20)

    struct Outcome: Sendable {
        /// The model's answer (or the first delivery's), nil: the offline responder answers.
        var answer: ReplyEngine.Answer?
        /// What the calls made cost (failed ones included), micro-USD.
        var billed: Int64 = 0
    }

    func answer(
        _ request: AgentAPI.ReplyRequest, agent: AgentDTO, faqs: [FaqDTO], passages: [KnowledgeSearchResult] = [], language: String, engine: ReplyEngine,
        tenant: TenantID, key: String?, requestID: String?, logger: Logger
    ) async throws -> Outcome {
        let own = try await self.providers.specs(tenant: tenant, logger: logger)
        let specs = own.isEmpty ? self.platform : own
        guard !specs.isEmpty else { return Outcome() }
        let owner = own.isEmpty ? "platform" : "tenant:\(tenant)"
        let prices = try await self.costs.pricesInForce(logger: logger)
        let prompt = try await engine.agents.activePrompt(agent: agent.id, channelType: request.channelKind == "sms" ? .sms : .chat, logger: logger)
        let characters =
            ModelReplies.systemPrompt(agent: agent, prompt: prompt, faqs: faqs, language: language, passages: ModelReplies.relevant(passages)).count
            + request.messages.reduce(0) { $0 + ($1.text?.count ?? 0) }
        let rounds = 3
        let estimate: @Sendable (SpendMode) -> Int64 = { mode in
            SpendRules.providers(specs, mode: mode).map {
                SpendRules.estimate(promptCharacters: characters, rounds: rounds, price: prices.price(provider: $0.name, model: $0.model))
            }.max() ?? 0
        }
        let key = key ?? "attempt:\(UUID())"
        let attempt = UUID()
        let mode: SpendMode
        switch try await self.costs.reserve(
            tenant: tenant, key: key, attempt: attempt, agent: agent.id, agentCap: agent.policy.monthlySpendCapMicros, estimate: estimate, logger: logger)
        {
        case .inFlight:
            // another delivery of this message is being answered: its reply, not a second bill
            let deadline = ContinuousClock.now + self.duplicateWait
            while ContinuousClock.now < deadline {
                if let stored = try await engine.faqs.reply(tenant: tenant, key: key, logger: logger) {
                    return Outcome(answer: .init(reply: stored, agent: agent.id, answeredBy: "duplicate"))
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            logger.warning("the first delivery of this message never stored its reply: the offline responder answers", metadata: ["reply.key": "\(key)"])
            return Outcome()
        case .decided(let decided, let alerts):
            for alert in alerts {
                logger.warning("llm spend alert", metadata: ["tenant": "\(tenant)", "spend.alert": "\(alert)"])
            }
            mode = decided
        }
        // at a cap: no call at all
        guard mode != .offline else { return Outcome() }
        // out of usage credits: no call either (the wallet alerts the tenant's admins)
        let credit = await self.credits?.reserve(tenant: tenant, key: key, requestID: requestID, logger: logger) ?? .unavailable
        guard credit != .exhausted else { return Outcome() }
        let chosen = SpendRules.providers(specs, mode: mode)
        let ledger = CallLedger()
        let model = ModelReplies(model: self.chains.chain(owner: owner, providers: chosen, ledger: ledger), modelName: chosen[0].model, ledger: ledger)
        var answered: (reply: AgentAPI.Reply, provider: String)?
        do {
            answered = try await model.answer(
                request, agent: agent, prompt: prompt, faqs: faqs, passages: passages, language: language, tools: engine.tools, tenant: tenant,
                requestID: requestID, logger: logger)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // every provider failed: the customer still gets the offline responder's answer
            logger.warning("language model failed, the offline responder answers", metadata: ["error": "\(error)"])
        }
        await self.credits?.finish(credit, used: answered != nil, tenant: tenant, requestID: requestID, logger: logger)
        let billed = try await self.costs.settle(
            ledger.calls,
            context: .init(tenant: tenant, agent: agent.id, conversation: request.conversationId, key: key, attempt: attempt, mode: mode), prices: prices,
            logger: logger)
        guard let answered else { return Outcome(billed: billed) }
        var reply = answered.reply
        reply.costMicros = billed
        reply.costMinor = (billed + 9_999) / 10_000
        reply.costCurrency = "USD"
        // an FAQ the model looked up counts as used, as one the offline responder answers with does
        let faq = reply.sources?.first { $0.kind == "faq" }.flatMap { UUID(uuidString: $0.id) }
        return Outcome(answer: .init(reply: reply, agent: agent.id, faq: faq, answeredBy: answered.provider), billed: billed)
    }
}
