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

    public static let all: [Endpoint] = [
        listLeads, createLead, getLead, updateLead, mergeLeads, assignLead, moveLead, leadActivity, addNote, recordExtraction, listExtractions, pipeline,
        getStages, putStages,
    ]
}
