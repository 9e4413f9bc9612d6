import Foundation
import Models

/// agent-core's CRM half (who may call what): leads, one per tenant and phone, with an explainable score, the
/// pipeline and its stages, and the extractions conversations yield. The tenant's admins and platform staff see every
/// lead; an `agent` sees and works only the leads assigned to them.
public enum CRMAPI {
    static func endpoint(_ method: String, _ path: String, _ access: Endpoint.Access) -> Endpoint {
        Endpoint(method, path, access, service: .agentCore)
    }

    static let readers = Roles.readers.union([.agent, .service])
    /// Who works leads: the tenant's admins, support staff, the agents (their own), and services.
    static let workers: Set<Role> = [.superAdmin, .support, .tenantAdmin, .agent, .service]
    /// Who shapes the pipeline and merges records.
    static let managers: Set<Role> = [.superAdmin, .support, .tenantAdmin, .service]

    public static let listLeads = endpoint("GET", "/v1/leads", .roles(readers))
    /// Creates a lead, or answers the lead the phone already has (merged: 200).
    public static let createLead = endpoint("POST", "/v1/leads", .roles(workers))
    public static let getLead = endpoint("GET", "/v1/leads/{id}", .roles(readers))
    public static let updateLead = endpoint("PATCH", "/v1/leads/{id}", .roles(workers))
    public static let mergeLeads = endpoint("POST", "/v1/leads/merge", .roles(managers))
    public static let assignLead = endpoint("PUT", "/v1/leads/{id}/assign", .roles(managers))
    public static let moveLead = endpoint("PUT", "/v1/leads/{id}/stage", .roles(workers))
    public static let leadActivity = endpoint("GET", "/v1/leads/{id}/activity", .roles(readers))
    public static let addNote = endpoint("POST", "/v1/leads/{id}/notes", .roles(workers))
    /// Features a conversation revealed (the extraction job, a person, the agent's tool): the scores follow in code.
    public static let recordExtraction = endpoint("POST", "/v1/leads/{id}/extractions", .roles(workers))
    public static let listExtractions = endpoint("GET", "/v1/extractions", .roles(readers))
    public static let pipeline = endpoint("GET", "/v1/pipeline", .roles(readers))
    public static let getStages = endpoint("GET", "/v1/pipeline/stages", .roles(readers))
    public static let putStages = endpoint("PUT", "/v1/pipeline/stages", .roles(managers))

    /// Who new leads go to: the people on duty in turn, narrowed by language or tags.
    public static let getAssignment = endpoint("GET", "/v1/assignment", .roles(readers))
    public static let putAssignment = endpoint("PUT", "/v1/assignment", .roles(managers))

    /// Voice calls (ingested from the provider's end-of-call report), their transcripts and dispositions.
    public static let listCalls = endpoint("GET", "/v1/calls", .roles(readers))
    public static let getCall = endpoint("GET", "/v1/calls/{id}", .roles(readers))
    public static let callTranscript = endpoint("GET", "/v1/calls/{id}/transcript", .roles(readers))
    public static let addDisposition = endpoint("POST", "/v1/calls/{id}/dispositions", .roles(workers))
    /// The voice provider's webhook URL and secret (the secret shown once, when made).
    public static let getVoiceSettings = endpoint("GET", "/v1/voice/settings", .roles(managers))
    public static let rotateVoiceSecret = endpoint("POST", "/v1/voice/settings", .roles([.superAdmin, .tenantAdmin]))
    /// Vapi's server-URL messages (public: the HMAC signature is checked); a transcript can be long.
    public static let voiceWebhook = endpoint("POST", "/webhooks/voice/vapi/{publicId}", .public).allowingBodies(upTo: 4 << 20)

    public static let all: [Endpoint] = [
        listLeads, createLead, getLead, updateLead, mergeLeads, assignLead, moveLead, leadActivity, addNote, recordExtraction, listExtractions, pipeline,
        getStages, putStages, getAssignment, putAssignment, listCalls, getCall, callTranscript, addDisposition, getVoiceSettings, rotateVoiceSecret,
        voiceWebhook,
    ]
}
