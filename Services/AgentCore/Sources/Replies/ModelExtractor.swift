import Foundation
import Logging
import Models
import ServiceKit

/// Reads a conversation's features with a language model (the tenant's own providers, else the platform's), the
/// answer held to a strict JSON schema. Its numbers are never trusted as they come: each feature is checked to be
/// 1, 2 or 3 (`Scoring.Features.checked`) and an answer that is not is refused, so the rules read the conversation
/// instead. Every call is recorded with its cost (`llm_calls`, `extraction`).
struct ModelExtractor: Sendable {
    let models: ReplyModels

    enum Outcome: Sendable, Equatable {
        /// No model configured, or the tenant is at its spend cap: the rules read it.
        case noModel
        case found(FeatureRules.Found)
        /// The model failed, or answered what the schema or the checks refuse.
        case refused(String)
    }

    static let schema: JSONValue = {
        let feature: JSONValue = .object(["type": .string("integer"), "enum": .array([.number(1), .number(2), .number(3)])])
        let text: JSONValue = .object(["type": .array([.string("string"), .string("null")])])
        let flag: JSONValue = .object(["type": .string("boolean")])
        let properties: [String: JSONValue] = [
            "intent": feature, "urgency": feature, "budget": feature, "fit": feature, "engagement": feature, "name": text, "email": text,
            "company": text, "wantsCall": flag, "wantsVisit": flag, "askedPrice": flag,
        ]
        return .object([
            "type": .string("json_schema"),
            "json_schema": .object([
                "name": .string("lead_features"), "strict": .bool(true),
                "schema": .object([
                    "type": .string("object"), "additionalProperties": .bool(false), "properties": .object(properties),
                    "required": .array(properties.keys.sorted().map(JSONValue.string)),
                ]),
            ]),
        ])
    }()

    static let instructions = """
        You read what a customer wrote to a business and rate it. Answer with the JSON object only.
        intent: 1 just asking, 2 interested, 3 ready to buy or book. urgency: 1 no time given, 2 within weeks, 3 within days or now.
        budget: 1 not mentioned, 2 mentioned, 3 an amount that fits. fit: 1 wants something else, 2 might fit, 3 what the business offers.
        engagement: 1 a word or two, 2 a conversation, 3 long and detailed. name, email, company: only as the customer wrote them, else null.
        wantsCall, wantsVisit, askedPrice: whether they asked to be called, to visit or see, or for a price.
        """

    struct Answer: Decodable {
        var intent: Int
        var urgency: Int
        var budget: Int
        var fit: Int
        var engagement: Int
        var name: String?
        var email: String?
        var company: String?
        var wantsCall: Bool
        var wantsVisit: Bool
        var askedPrice: Bool
    }

    func extract(_ said: [String], tenant: TenantID, conversation: ConversationID, key: String, logger: Logger) async throws -> Outcome {
        let own = try await self.models.providers.specs(tenant: tenant, logger: logger)
        let specs = own.isEmpty ? self.models.platform : own
        guard !specs.isEmpty else { return .noModel }
        let prices = try await self.models.costs.pricesInForce(logger: logger)
        let ledger = CallLedger()
        ledger.begin("extraction")
        let chain = self.models.chains.chain(owner: own.isEmpty ? "platform" : "tenant:\(tenant)", providers: specs, ledger: ledger)
        // the customer's words, newest kept when they are long
        var text = said.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
        if text.count > 6_000 { text = String(text.suffix(6_000)) }
        let outcome: Outcome
        do {
            let response = try await chain.complete(
                ChatRequest(
                    model: specs[0].model, messages: [.system(Self.instructions), .user(text)], maxTokens: 300, temperature: 0,
                    responseFormat: Self.schema), logger: logger)
            outcome = Self.read(response.content)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            outcome = .refused("the model failed: \(error)")
        }
        try await self.models.costs.settle(
            ledger.calls, context: .init(tenant: tenant, agent: nil, conversation: conversation, key: key, attempt: UUID(), mode: .normal), prices: prices,
            logger: logger)
        return outcome
    }

    /// The model's answer, checked: the schema's shape, and every feature 1 to 3.
    static func read(_ content: String?) -> Outcome {
        guard let content, let answer = try? JSONDecoder().decode(Answer.self, from: Data(content.utf8)) else {
            return .refused("the answer is not the schema's JSON")
        }
        let features = Scoring.Features(
            intent: answer.intent, urgency: answer.urgency, budget: answer.budget, fit: answer.fit, engagement: answer.engagement)
        do { _ = try features.checked() } catch { return .refused("\(error)") }
        func clean(_ text: String?, _ limit: Int) -> String? {
            text.map { String($0.trimmingCharacters(in: .whitespacesAndNewlines).prefix(limit)) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let email = clean(answer.email, 254).flatMap { FeatureRules.email(in: $0.lowercased()) }
        return .found(
            .init(
                features: features, name: clean(answer.name, 200), email: email,
                flags: ["wantsCall": answer.wantsCall, "wantsVisit": answer.wantsVisit, "askedPrice": answer.askedPrice], company: clean(answer.company, 200)))
    }
}
