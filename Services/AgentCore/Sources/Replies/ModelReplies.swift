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

    /// The tools offered: those the agent allows; `knowledge_search` (allowed with `faq_lookup`) only when the
    /// tenant has a knowledge base to search.
    static func tools(_ allowed: Set<ToolName>, knowledge: Bool = false) -> [ToolSpec] {
        var specs: [ToolSpec] = []
        if allowed.contains(.faqLookup), knowledge {
            specs.append(
                ToolSpec(
                    name: "knowledge_search", description: "Search the business's knowledge base (policies, products, properties, subsidies) for passages.",
                    parameters: .object([
                        "type": .string("object"), "properties": .object(["query": .object(["type": .string("string")])]),
                        "required": .array([.string("query")]),
                    ])))
        }
        if allowed.contains(.voucherStatus) {
            specs.append(
                ToolSpec(
                    name: ToolName.voucherStatus.rawValue, description: "The status of the customer's own fuel voucher, by its five-character code.",
                    parameters: .object([
                        "type": .string("object"), "properties": .object(["code": .object(["type": .string("string")])]),
                        "required": .array([.string("code")]),
                    ])))
        }
        func object(_ properties: [String: String], required: [String]) -> JSONValue {
            .object([
                "type": .string("object"),
                "properties": .object(properties.mapValues { .object(["type": .string("string"), "description": .string($0)]) }),
                "required": .array(required.map(JSONValue.string)),
            ])
        }
        if allowed.contains(.productSearch) {
            specs.append(
                ToolSpec(
                    name: ToolName.productSearch.rawValue, description: "Search the marketplace's available products by words; answers their ids and prices.",
                    parameters: object(["query": "What the customer wants, in a few words."], required: ["query"])))
        }
        if allowed.contains(.createIntent) {
            specs.append(
                ToolSpec(
                    name: ToolName.createIntent.rawValue,
                    description: "Ask the marketplace's vendors for quotes on what the customer wants to buy (the customer is the buyer).",
                    parameters: object(
                        [
                            "description": "What the customer wants.", "category": "The product category, e.g. fuel.", "region": "Where, e.g. Kigali.",
                            "productId": "A product id from product_search, if one fits.",
                        ], required: ["description"])))
        }
        if allowed.contains(.listQuotes) {
            specs.append(
                ToolSpec(
                    name: ToolName.listQuotes.rawValue, description: "The open quotes on the customer's request, best first, with the reasons for the ranking.",
                    parameters: object(["intentId": "The id create_intent answered."], required: ["intentId"])))
        }
        if allowed.contains(.acceptQuote) {
            specs.append(
                ToolSpec(
                    name: ToolName.acceptQuote.rawValue,
                    description: "Accept one quote once the customer has clearly chosen it: a purchase at its price, paid from the customer's wallet.",
                    parameters: object(["quoteId": "The id list_quotes answered."], required: ["quoteId"])))
        }
        if allowed.contains(.handoff) {
            specs.append(
                ToolSpec(
                    name: ToolName.handoff.rawValue, description: "Hand the conversation to a person when the customer asks for one or you cannot help.",
                    parameters: .object(["type": .string("object"), "properties": .object(["reason": .object(["type": .string("string")])])])))
        }
        return specs
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
        let specs = Self.tools(Set(agent.tools), knowledge: !passages.isEmpty)
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
                let sources = cited.filter { seen.insert($0.source.documentId).inserted }.map {
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
                let result: String
                switch ToolName(rawValue: call.name) {
                case .voucherStatus where agent.tools.contains(.voucherStatus):
                    let code = (arguments["code"] ?? "").uppercased()
                    switch await tools.voucherStatus(code: code, customer: request.contact.address, tenant: tenant, requestID: requestID, logger: logger) {
                    case .found(let voucher):
                        result =
                            #"{"status":"\#(voucher.status)","amount":"\#(voucher.amount) \#(voucher.currency)"\#(voucher.expiresAt.map { #","expires":"\#(OfflineResponder.day($0))""# } ?? "")}"#
                    case .none: result = #"{"status":"not_found"}"#
                    case .unavailable: result = #"{"status":"unavailable"}"#
                    }
                case nil where call.name == "knowledge_search" && specs.contains(where: { $0.name == "knowledge_search" }):
                    let found = await tools.knowledgeSearch(arguments["query"] ?? "", tenant: tenant, language: language, logger: logger)
                    cited += found
                    result = found.isEmpty ? #"{"passages":[]}"# : "Passages:\n" + found.map(Self.passage).joined(separator: "\n")
                case .productSearch where agent.tools.contains(.productSearch):
                    result = await tools.productSearch(arguments["query"] ?? "", tenant: tenant, requestID: requestID, logger: logger)
                case .createIntent where agent.tools.contains(.createIntent):
                    result = await tools.createIntent(arguments, request: request, tenant: tenant, requestID: requestID, logger: logger)
                case .listQuotes where agent.tools.contains(.listQuotes):
                    result = await tools.listQuotes(arguments, request: request, tenant: tenant, requestID: requestID, logger: logger)
                case .acceptQuote where agent.tools.contains(.acceptQuote):
                    result = await tools.acceptQuote(arguments, request: request, tenant: tenant, requestID: requestID, logger: logger)
                case .handoff where agent.tools.contains(.handoff):
                    handoff = arguments["reason"].map { String($0.prefix(80)) } ?? "model"
                    result = #"{"status":"escalated"}"#
                default:
                    result = #"{"error":"unknown tool"}"#
                }
                calls.append(.init(name: call.name, arguments: call.arguments, result: result))
                messages.append(.tool(callId: call.id, result))
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
