import Contracts
import Foundation
import Logging
import Models
import ServiceKit

/// A reply from a language model: the agent's active prompt (or one built from its settings), its tone, the FAQs
/// as facts it may use, the conversation, and the tools it is allowed, in a loop of at most `maxRounds` tool
/// rounds. What the model asks a tool is answered by the same tools as the offline responder's.
struct ModelReplies: Sendable {
    let model: any ChatModel
    /// The model name sent in the request (a provider in the chain may name its own).
    let modelName: String
    /// Where every call of the reply is written (and what kind of call it is); nil: nobody counts.
    var ledger: CallLedger? = nil
    let maxRounds = 3

    static let toneWords: [Tone: String] = [
        .mtaa: "Speak like a friend from the neighbourhood: relaxed street Sheng where the customer uses it.",
        .rafiki: "Be warm and friendly.", .kazi: "Be brief and businesslike.", .sana: "Be very polite and respectful.", .neutral: "Be clear and plain.",
    ]
    static let languageNames = ["en": "English", "sw": "Swahili", "rw": "Kinyarwanda", "fr": "French"]

    static func systemPrompt(agent: AgentDTO, prompt: String?, faqs: [FaqDTO], language: String, passages: [KnowledgeSearchResult] = []) -> String {
        var parts = [
            prompt ?? "You are \(agent.name), a \(agent.kind.rawValue) agent\(agent.product.map { " for \($0)" } ?? "") talking to customers on chat.",
            Self.toneWords[agent.tone] ?? "",
            "Answer in \(Self.languageNames[language] ?? "English"). Never invent prices, codes or dates: use the facts below or a tool.",
        ]
        if let limit = agent.policy.maxAnswerLength { parts.append("Keep answers under \(limit) characters.") }
        let facts = faqs.prefix(30).map { "- Q: \($0.question) A: \($0.answer)" }
        if !facts.isEmpty { parts.append("Facts:\n" + facts.joined(separator: "\n")) }
        if !passages.isEmpty { parts.append("Knowledge base passages (say which document you used):\n" + passages.map(Self.passage).joined(separator: "\n")) }
        return parts.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    /// One knowledge passage as the model reads it: its document, its kind, its text.
    static func passage(_ result: KnowledgeSearchResult) -> String {
        "- [\(result.source.title) (\(result.source.sourceType.rawValue), document \(result.source.documentId.uuidString.lowercased()))] \(result.content)"
    }

    /// Passages worth the model's attention: the text search found them, or their embedding is close.
    static func relevant(_ passages: [KnowledgeSearchResult]) -> [KnowledgeSearchResult] {
        passages.filter { $0.ftsRank != nil || $0.vectorScore >= 0.3 }
    }

    /// The tools offered: those the agent allows, from the registry; `knowledge_search` (allowed with `faq_lookup`)
    /// only when the tenant has a knowledge base to search.
    static func tools(_ allowed: Set<ToolName>, knowledge: Bool = false) -> [ToolSpec] {
        ToolRegistry.offered(to: allowed, hasKnowledge: knowledge).map(\.spec)
    }

    func answer(
        _ request: AgentAPI.ReplyRequest, agent: AgentDTO, prompt: String?, faqs: [FaqDTO], passages: [KnowledgeSearchResult] = [], language: String,
        tools: Tools, tenant: TenantID, requestID: String?, logger: Logger
    ) async throws -> (reply: AgentAPI.Reply, provider: String) {
        let given = Self.relevant(passages)
        var messages: [ChatMessage] = [.system(Self.systemPrompt(agent: agent, prompt: prompt, faqs: faqs, language: language, passages: given))]
        // what the reply cites: the passages the model was given or found with the tool
        var cited = given
        for turn in HistoryBudget.fit(request.messages, tokens: HistoryBudget.defaultTokens) {
            messages.append(turn.sender == "user" ? .user(turn.text) : .assistant(turn.text))
        }
        let offered = ToolRegistry.offered(to: Set(agent.tools), hasKnowledge: !passages.isEmpty)
        let specs = offered.map(\.spec)
        let context = ToolCallContext(request: request, tenant: tenant, language: language, requestID: requestID, logger: logger, tools: tools, faqs: faqs)
        var usedFaqs: [FaqDTO] = []
        var calls: [AgentAPI.Reply.ToolCall] = []
        var tokens = 0
        var handoff: String?
        for round in 0..<self.maxRounds {
            self.ledger?.begin(round == 0 ? "chat" : "tool_round")
            let response = try await self.model.complete(
                ChatRequest(model: self.modelName, messages: messages, tools: specs, maxTokens: SpendRules.maxOutputTokens), logger: logger)
            tokens += response.usage.input + response.usage.output
            guard !response.toolCalls.isEmpty else {
                var reply = AgentAPI.Reply(text: response.content, tokens: tokens, language: language, toolCalls: calls.isEmpty ? nil : calls)
                var seen = Set<UUID>()
                let sources =
                    usedFaqs.filter { seen.insert($0.id).inserted }.map {
                        AgentAPI.Reply.Source(kind: "faq", id: $0.id.uuidString.lowercased(), title: $0.question)
                    }
                    + cited.filter { seen.insert($0.source.documentId).inserted }.map {
                        AgentAPI.Reply.Source(kind: "knowledge", id: $0.source.documentId.uuidString.lowercased(), title: $0.source.title)
                    }
                if !sources.isEmpty { reply.sources = sources }
                if let handoff {
                    reply.handoff = true
                    reply.handoffReason = handoff
                }
                return (reply, response.provider)
            }
            messages.append(.assistant(response.content, toolCalls: response.toolCalls))
            for call in response.toolCalls {
                let arguments = (try? JSONDecoder().decode([String: String].self, from: Data(call.arguments.utf8))) ?? [:]
                let outcome = await ToolRegistry.run(call.name, arguments: arguments, offered: offered, context: context)
                cited += outcome.citations
                if let faq = outcome.faq { usedFaqs.append(faq) }
                if let reason = outcome.handoff { handoff = reason }
                calls.append(.init(name: call.name, arguments: call.arguments, result: outcome.result))
                messages.append(.tool(callId: call.id, outcome.result))
            }
        }
        // the model kept asking for tools: hand over rather than loop
        return (
            AgentAPI.Reply(
                text: OfflineResponder.handoffText(language), handoff: true, tokens: tokens, handoffReason: "tool_rounds_exhausted", language: language,
                toolCalls: calls), "model"
        )
    }
}
