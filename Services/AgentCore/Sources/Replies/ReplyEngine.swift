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
    /// The configured language model; nil: the offline responder answers everything.
    let model: ModelReplies?

    struct Answer: Sendable {
        var reply: AgentAPI.Reply
        var agent: AgentID?
        var faq: UUID?
        /// `offline`, or the provider that answered.
        var answeredBy = "offline"
    }

    func answer(_ request: AgentAPI.ReplyRequest, tenant: TenantID, requestID: String?, logger: Logger) async throws -> Answer {
        let last = request.messages.last { $0.sender == "user" }
        // a tenant that set up no agent has not asked for automatic answers: nothing is sent
        guard let agent = try await self.agents.answering(request.agentId, tenant: tenant, logger: logger) else {
            return Answer(reply: AgentAPI.Reply(text: nil), agent: nil)
        }
        let language = OfflineResponder.language(last?.language ?? request.contact.language, agentLanguages: agent.languages)
        guard let text = last?.text, !text.isEmpty else {
            return Answer(reply: AgentAPI.Reply(text: nil, language: language), agent: agent.id)
        }
        let faqs = try await self.faqs.list(tenant: tenant, activeOnly: true, logger: logger)
        let passages = await self.tools.knowledgeSearch(text, tenant: tenant, language: language, logger: logger)
        if let model = self.model {
            do {
                let prompt = try await self.agents.activePrompt(agent: agent.id, channelType: request.channelKind == "sms" ? .sms : .chat, logger: logger)
                let (reply, provider) = try await model.answer(
                    request, agent: agent, prompt: prompt, faqs: faqs, passages: passages, language: language, tools: self.tools, tenant: tenant,
                    requestID: requestID, logger: logger)
                return Answer(reply: reply, agent: agent.id, answeredBy: provider)
            } catch {
                // every provider failed: the customer still gets the offline responder's answer
                logger.warning("language model failed, the offline responder answers", metadata: ["error": "\(error)"])
            }
        }
        let plan = OfflineResponder.plan(
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
        if let limit = agent.policy.maxAnswerLength, let words = reply.text, words.count > limit {
            reply.text = String(words.prefix(limit - 1)) + "…"
        }
        reply.tokens = 0
        return Answer(reply: reply, agent: agent.id, faq: usedFaq)
    }
}
