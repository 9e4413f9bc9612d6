import Contracts
import Foundation
import Logging
import Models
import ServiceKit

/// What a tool's handler has at hand for one call.
struct ToolCallContext: Sendable {
    let request: AgentAPI.ReplyRequest
    let tenant: TenantID
    let language: String
    let requestID: String?
    let logger: Logger
    let tools: Tools
    /// The tenant's active FAQs, as the reply read them.
    let faqs: [FaqDTO]
}

/// What a tool answers the model, and what the call changes in the reply.
struct ToolOutcome: Sendable {
    var result: String
    /// Knowledge passages the reply may cite.
    var citations: [KnowledgeSearchResult] = []
    /// An FAQ the reply used (its usage count goes up when the reply is stored).
    var faq: FaqDTO? = nil
    /// Set when the tool hands the conversation to a person.
    var handoff: String? = nil
}

/// One tool: what the model is told (name, description, parameters as a JSON schema), the agent setting that allows
/// it, the role its calls to other services carry (a service token scoped to the reply's tenant), how long it may
/// take, and its handler.
struct AgentTool: Sendable {
    let name: String
    let permission: ToolName
    let description: String
    /// Parameter names and what each means; all are strings.
    let parameters: [(name: String, meaning: String)]
    let required: [String]
    let role: Role = .service
    let timeout: Duration
    /// Offered only when this holds for the reply (knowledge search: the tenant has a knowledge base).
    let offered: @Sendable (_ hasKnowledge: Bool) -> Bool
    let handler: @Sendable (ToolCallContext, [String: String]) async -> ToolOutcome

    var spec: ToolSpec {
        ToolSpec(
            name: self.name, description: self.description,
            parameters: .object([
                "type": .string("object"),
                "properties": .object(
                    Dictionary(
                        uniqueKeysWithValues: self.parameters.map { ($0.name, .object(["type": .string("string"), "description": .string($0.meaning)])) })
                ),
                "required": .array(self.required.map(JSONValue.string)),
            ]))
    }
}

/// Every tool an agent may be allowed, in one place: later issues add theirs here (leads). A tool whose
/// service is down, or that takes longer than its timeout, answers `{"status":"unavailable"}`: the model says so,
/// the reply never fails for it.
enum ToolRegistry {
    static let unavailable = #"{"status":"unavailable"}"#

    static let all: [AgentTool] = [
        AgentTool(
            name: "knowledge_search", permission: .faqLookup,
            description: "Search the business's knowledge base (policies, products, properties, subsidies) for passages.",
            parameters: [("query", "What to look for.")], required: ["query"], timeout: .seconds(3), offered: { $0 },
            handler: { call, arguments in
                let found = await call.tools.knowledgeSearch(
                    arguments["query"] ?? "", tenant: call.tenant, language: call.language, logger: call.logger)
                let result = found.isEmpty ? #"{"passages":[]}"# : "Passages:\n" + found.map(ModelReplies.passage).joined(separator: "\n")
                return ToolOutcome(result: result, citations: found)
            }),
        AgentTool(
            name: ToolName.faqLookup.rawValue, permission: .faqLookup,
            description: "Find the business's own answer to a frequently asked question.",
            parameters: [("question", "The customer's question, in their words.")], required: ["question"], timeout: .seconds(2), offered: { _ in true },
            handler: { call, arguments in
                let entries = call.faqs.map { OfflineResponder.FaqEntry(question: $0.question, keywords: $0.keywords, language: $0.language) }
                guard let index = OfflineResponder.bestFaq(arguments["question"] ?? "", faqs: entries, language: call.language) else {
                    return ToolOutcome(result: #"{"found":false}"#)
                }
                struct Found: Encodable {
                    var found = true
                    var question: String
                    var answer: String
                }
                let faq = call.faqs[index]
                return ToolOutcome(result: Tools.json(Found(question: faq.question, answer: faq.answer)), faq: faq)
            }),
        AgentTool(
            name: ToolName.voucherStatus.rawValue, permission: .voucherStatus,
            description: "The status of the customer's own fuel voucher, by its five-character code.",
            parameters: [("code", "The voucher's code.")], required: ["code"], timeout: .seconds(4), offered: { _ in true },
            handler: { call, arguments in
                let code = (arguments["code"] ?? "").uppercased()
                switch await call.tools.voucherStatus(
                    code: code, customer: call.request.contact.address, tenant: call.tenant, requestID: call.requestID, logger: call.logger)
                {
                case .found(let voucher):
                    let expires = voucher.expiresAt.map { #","expires":"\#(OfflineResponder.day($0))""# } ?? ""
                    return ToolOutcome(result: #"{"status":"\#(voucher.status)","amount":"\#(voucher.amount) \#(voucher.currency)"\#(expires)}"#)
                case .none: return ToolOutcome(result: #"{"status":"not_found"}"#)
                case .unavailable: return ToolOutcome(result: Self.unavailable)
                }
            }),
        AgentTool(
            name: ToolName.handoff.rawValue, permission: .handoff,
            description: "Hand the conversation to a person when the customer asks for one or you cannot help.",
            parameters: [("reason", "Why, in a few words.")], required: [], timeout: .seconds(1), offered: { _ in true },
            handler: { _, arguments in
                ToolOutcome(result: #"{"status":"escalated"}"#, handoff: arguments["reason"].map { String($0.prefix(80)) } ?? "model")
            }),
        AgentTool(
            name: ToolName.productSearch.rawValue, permission: .productSearch,
            description: "Search the marketplace's available products by words; answers their ids and prices.",
            parameters: [("query", "What the customer wants, in a few words.")], required: ["query"], timeout: .seconds(4), offered: { _ in true },
            handler: { call, arguments in
                ToolOutcome(
                    result: await call.tools.productSearch(arguments["query"] ?? "", tenant: call.tenant, requestID: call.requestID, logger: call.logger))
            }),
        AgentTool(
            name: ToolName.createIntent.rawValue, permission: .createIntent,
            description: "Ask the marketplace's vendors for quotes on what the customer wants to buy (the customer is the buyer).",
            parameters: [
                ("description", "What the customer wants."), ("category", "The product category, e.g. fuel."), ("region", "Where, e.g. Kigali."),
                ("productId", "A product id from product_search, if one fits."),
            ], required: ["description"], timeout: .seconds(6), offered: { _ in true },
            handler: { call, arguments in
                ToolOutcome(
                    result: await call.tools.createIntent(
                        arguments, request: call.request, tenant: call.tenant, requestID: call.requestID, logger: call.logger))
            }),
        AgentTool(
            name: ToolName.listQuotes.rawValue, permission: .listQuotes,
            description: "The open quotes on the customer's request, best first, with the reasons for the ranking.",
            parameters: [("intentId", "The id create_intent answered.")], required: ["intentId"], timeout: .seconds(6), offered: { _ in true },
            handler: { call, arguments in
                ToolOutcome(
                    result: await call.tools.listQuotes(arguments, request: call.request, tenant: call.tenant, requestID: call.requestID, logger: call.logger))
            }),
        AgentTool(
            name: ToolName.acceptQuote.rawValue, permission: .acceptQuote,
            description: "Accept one quote once the customer has clearly chosen it: a purchase at its price, paid from the customer's wallet.",
            parameters: [("quoteId", "The id list_quotes answered.")], required: ["quoteId"], timeout: .seconds(8), offered: { _ in true },
            handler: { call, arguments in
                ToolOutcome(
                    result: await call.tools.acceptQuote(arguments, request: call.request, tenant: call.tenant, requestID: call.requestID, logger: call.logger))
            }),
        AgentTool(
            name: ToolName.findSlots.rawValue, permission: .findSlots,
            description:
                "The next free appointment slots (up to 6) of the business's calendars; each has an agentId and startsAt to pass to book_appointment.",
            parameters: [
                ("serviceType", "The kind of appointment, e.g. pickup or viewing, if the customer said."), ("durationMinutes", "How long, in minutes."),
                ("date", "A day, yyyy-MM-dd, if the customer asked for one."), ("agentName", "Whose calendar, if the customer named someone."),
            ], required: [], timeout: .seconds(6), offered: { _ in true },
            handler: { call, arguments in ToolOutcome(result: await call.tools.findSlots(arguments, call: call)) }),
        AgentTool(
            name: ToolName.bookAppointment.rawValue, permission: .bookAppointment,
            description:
                "Book a slot find_slots answered for the customer, once they have agreed to it; hold \"true\" only holds it for a few minutes. A taken slot answers the next free ones.",
            parameters: [
                ("agentId", "The agentId of the slot."), ("startsAt", "The startsAt of the slot, exactly as find_slots answered."),
                ("durationMinutes", "How long, in minutes, if not the service's usual length."), ("serviceType", "The kind of appointment."),
                ("title", "A short title, e.g. Flat viewing."), ("hold", "\"true\" to hold the slot while the customer decides."),
            ], required: ["agentId", "startsAt"], timeout: .seconds(8), offered: { _ in true },
            handler: { call, arguments in ToolOutcome(result: await call.tools.bookAppointment(arguments, call: call)) }),
        AgentTool(
            name: ToolName.cancelAppointment.rawValue, permission: .cancelAppointment,
            description: "Cancel the customer's own appointment when they ask to.",
            parameters: [("appointmentId", "The appointmentId book_appointment answered."), ("reason", "Why, in a few words.")],
            required: ["appointmentId"], timeout: .seconds(6), offered: { _ in true },
            handler: { call, arguments in ToolOutcome(result: await call.tools.cancelAppointment(arguments, call: call)) }),
        AgentTool(
            name: ToolName.rescheduleAppointment.rawValue, permission: .rescheduleAppointment,
            description: "Move the customer's own appointment to a free slot find_slots answered. A taken slot answers the next free ones.",
            parameters: [("appointmentId", "The appointmentId book_appointment answered."), ("startsAt", "The new startsAt, exactly as find_slots answered.")],
            required: ["appointmentId", "startsAt"], timeout: .seconds(8), offered: { _ in true },
            handler: { call, arguments in ToolOutcome(result: await call.tools.rescheduleAppointment(arguments, call: call)) }),
        AgentTool(
            name: ToolName.lookupLead.rawValue, permission: .lookupLead,
            description: "What the business knows of this customer: name, email, company, pipeline stage, status, whether a person follows them.",
            parameters: [], required: [], timeout: .seconds(3), offered: { _ in true },
            handler: { call, _ in ToolOutcome(result: await call.tools.lookupLead(call: call)) }),
        AgentTool(
            name: ToolName.updateLead.rawValue, permission: .updateLead,
            description:
                "Record what the customer revealed: name, email, company; and, once you can judge them, intent, urgency, budget, fit and engagement, each 1 (low) to 3 (high).",
            parameters: [
                ("name", "The customer's name."), ("email", "Their email address."), ("company", "Their company."), ("intent", "1 to 3."),
                ("urgency", "1 to 3."), ("budget", "1 to 3."), ("fit", "1 to 3."), ("engagement", "1 to 3."),
            ], required: [], timeout: .seconds(4), offered: { _ in true },
            handler: { call, arguments in ToolOutcome(result: await call.tools.updateLead(arguments, call: call)) }),
        AgentTool(
            name: ToolName.handoffToAssignee.rawValue, permission: .handoffToAssignee,
            description: "Hand the conversation to the person who follows this customer (or to the team when nobody does).",
            parameters: [("reason", "Why, in a few words.")], required: [], timeout: .seconds(3), offered: { _ in true },
            handler: { call, arguments in
                let reason = arguments["reason"].map { String($0.prefix(60)) } ?? "model"
                guard let assignee = await call.tools.assignee(call: call) else {
                    return ToolOutcome(result: #"{"status":"escalated","to":"team"}"#, handoff: reason)
                }
                return ToolOutcome(result: #"{"status":"escalated","to":"assignee"}"#, handoff: "assignee:\(assignee.description) \(reason)")
            }),
    ]

    /// The tools offered to an agent: those its settings allow (and that apply to this reply).
    static func offered(to allowed: Set<ToolName>, hasKnowledge: Bool) -> [AgentTool] {
        Self.all.filter { allowed.contains($0.permission) && $0.offered(hasKnowledge) }
    }

    /// Runs the named tool if it was offered, within its timeout; an unknown or unoffered tool is an error the model
    /// reads, never a call.
    static func run(_ name: String, arguments: [String: String], offered: [AgentTool], context: ToolCallContext) async -> ToolOutcome {
        guard let tool = offered.first(where: { $0.name == name }) else { return ToolOutcome(result: #"{"error":"unknown tool"}"#) }
        let timeout = tool.timeout * context.tools.timeoutPercent / 100
        let outcome = await race({ await tool.handler(context, arguments) }, until: { try? await Task.sleep(for: timeout) })
        switch outcome {
        case .success(let outcome)?: return outcome
        case .failure, nil:
            context.logger.warning("tool timed out", metadata: ["tool": "\(name)", "tool.timeout": "\(timeout)"])
            return ToolOutcome(result: Self.unavailable)
        }
    }
}
