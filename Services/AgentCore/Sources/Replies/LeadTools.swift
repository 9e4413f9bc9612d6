import Foundation
import Logging
import Models
import ServiceKit

/// The CRM tools: the conversation's own lead (by the contact's phone), the fields the conversation revealed (and, when
/// the model judged them, the features an extraction scores in code), and a hand-off to the person the lead is
/// assigned to. A tool only ever touches the lead of the customer it is talking to.
extension Tools {
    static let noLead = #"{"error":"this conversation's contact has no phone number"}"#

    /// The customer's lead (made when the phone is new), with what the agent may tell or use.
    func lookupLead(call: ToolCallContext) async -> String {
        guard let leads = self.leads, let phone = try? PhoneNumber(parsing: call.request.contact.address) else { return Self.noLead }
        do {
            let lead = try await leads.lead(
                phone: phone.e164,
                orCreate: .init(phone: phone.e164, name: call.request.contact.name, source: LeadSource(rawValue: call.request.channelKind) ?? .manual),
                tenant: call.tenant, actor: "agent-tool", requestID: call.requestID ?? "agent-tool", logger: call.logger)
            struct Found: Encodable {
                var leadId: String
                var name: String?
                var email: String?
                var company: String?
                var stage: String
                var status: String
                var assigned: Bool
                var nextActionAt: Date?
            }
            return Tools.json(
                Found(
                    leadId: lead.id.description, name: lead.name, email: lead.email, company: lead.company, stage: lead.stage, status: lead.status.rawValue,
                    assigned: lead.assigneeId != nil, nextActionAt: lead.nextActionAt))
        } catch {
            call.logger.warning("lead lookup failed", metadata: ["error": "\(error)"])
            return ToolRegistry.unavailable
        }
    }

    /// Fills in what the conversation revealed; with all five features (1–3 each) an extraction is recorded and the
    /// score computed from them. Bad values are refused in words the model reads, nothing half-written.
    func updateLead(_ arguments: [String: String], call: ToolCallContext) async -> String {
        guard let leads = self.leads, let phone = try? PhoneNumber(parsing: call.request.contact.address) else { return Self.noLead }
        do {
            let lead = try await leads.lead(
                phone: phone.e164, orCreate: .init(phone: phone.e164, source: LeadSource(rawValue: call.request.channelKind) ?? .manual),
                tenant: call.tenant, actor: "agent-tool", requestID: call.requestID ?? "agent-tool", logger: call.logger)
            var change = LeadsStore.Change()
            if let name = arguments["name"], (1...200).contains(name.count) { change.name = .some(name) }
            if let company = arguments["company"], (1...200).contains(company.count) { change.company = .some(company) }
            if let email = arguments["email"] {
                guard let valid = try? LeadsController.email(email) else { return #"{"error":"email is not an address"}"# }
                change.email = .some(valid)
            }
            var updated = lead
            if change.name != nil || change.company != nil || change.email != nil {
                updated = try await leads.update(
                    lead.id, change, tenant: call.tenant, visibility: .all, actor: "agent-tool", requestID: call.requestID ?? "agent-tool", logger: call.logger)
            }
            let names = Scoring.Features.names
            let values = names.map { arguments[$0].flatMap { Int($0) } }
            if values.contains(where: { $0 != nil }) {
                guard values.allSatisfy({ $0 != nil }) else { return #"{"error":"give all of intent, urgency, budget, fit and engagement, each 1 to 3"}"# }
                let features = Scoring.Features(intent: values[0]!, urgency: values[1]!, budget: values[2]!, fit: values[3]!, engagement: values[4]!)
                do {
                    updated = try await leads.recordExtraction(
                        .init(features: features, conversation: call.request.conversationId, source: "agent"), lead: lead.id, tenant: call.tenant,
                        visibility: .all, actor: "agent-tool", requestID: call.requestID ?? "agent-tool", logger: call.logger
                    ).1
                } catch let error as APIError {
                    return Tools.json(["error": error.message])
                }
            }
            return Tools.json(["status": updated.status.rawValue, "stage": updated.stage, "score": String(updated.score)])
        } catch {
            call.logger.warning("lead update failed", metadata: ["error": "\(error)"])
            return ToolRegistry.unavailable
        }
    }

    /// The person the lead is assigned to, for a hand-off to them (nil: none).
    func assignee(call: ToolCallContext) async -> UserID? {
        guard let leads = self.leads, let phone = try? PhoneNumber(parsing: call.request.contact.address) else { return nil }
        return try? await leads.lead(
            phone: phone.e164, orCreate: .init(phone: phone.e164, source: LeadSource(rawValue: call.request.channelKind) ?? .manual),
            tenant: call.tenant, actor: "agent-tool", requestID: call.requestID ?? "agent-tool", logger: call.logger
        ).assigneeId
    }
}
