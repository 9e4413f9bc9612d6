import Contracts
import Foundation
import Logging
import Models
import ServiceClient
import ServiceKit

/// Reads what a conversation revealed about its customer (`crm.extract`, queued by the CRM when the customer's
/// messages since the last extraction reach `agent.extractAfterMessages`, or when a person closes the conversation):
/// the customer's messages from messaging, their features by rules (`FeatureRules`), recorded as an extraction whose
/// scores are computed in code and after which the pipeline's rules apply. Once per conversation and trigger.
struct Extractions: Sendable {
    static let job = "crm.extract"

    struct Payload: Codable, Sendable {
        var tenantId: TenantID
        var leadId: LeadID
        var conversationId: ConversationID
        var trigger: String
    }

    let leads: LeadsStore
    /// The language model's reading, when one is configured; the rules' otherwise (or when it is refused).
    let model: ModelExtractor
    let conversations: @Sendable () -> ConversationsClient
    let callContext: @Sendable (TenantID, String?) async throws -> CallContext

    func run(_ payload: Payload, requestID: String?, logger: Logger) async throws {
        guard !(try await self.leads.extracted(lead: payload.leadId, conversation: payload.conversationId, trigger: payload.trigger, logger: logger))
        else { return }
        let context = try await self.callContext(payload.tenantId, requestID)
        guard let messages = try await self.conversations().messages(payload.conversationId, context: context) else {
            logger.warning("extraction of a conversation messaging does not know", metadata: ["conversation": "\(payload.conversationId)"])
            return
        }
        let said = messages.filter { $0.direction == "inbound" }.compactMap { $0.body }.filter { !$0.isEmpty }
        guard !said.isEmpty else { return }
        var found = FeatureRules.extract(said)
        var source = "rules"
        switch try await self.model.extract(
            said, tenant: payload.tenantId, conversation: payload.conversationId, key: "extraction:\(payload.conversationId):\(payload.trigger)",
            logger: logger)
        {
        case .found(let read):
            found = read
            source = "llm"
        case .refused(let why):
            logger.warning("the model's extraction was refused: the rules read the conversation", metadata: ["reason": "\(why)"])
        case .noModel:
            break
        }
        do {
            _ = try await self.leads.recordExtraction(
                .init(
                    features: found.features, name: found.name, email: found.email, company: found.company, flags: found.flags,
                    conversation: payload.conversationId, source: source, trigger: payload.trigger),
                lead: payload.leadId, tenant: payload.tenantId, visibility: .all, actor: "extraction", requestID: requestID ?? "extraction",
                logger: logger)
        } catch let error as APIError where error.status.code == 404 {
            return  // the lead is gone (merged leads answer their survivor, so this is rare)
        }
    }
}
