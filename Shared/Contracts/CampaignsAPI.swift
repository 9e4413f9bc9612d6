import Foundation
import Models

/// Messaging's campaigns and message templates (`docs` in the messaging OpenAPI document).
extension MessagingAPI {
    /// Who may see the customers' numbers a campaign targets (seed 000: platform Super Admin and Support; the
    /// tenant's own admin, whose customers they are). Not data_ops, readonly or agents.
    static let targetReaders: Set<Role> = [.superAdmin, .support, .tenantAdmin]

    public static let listTemplates = endpoint("GET", "/v1/templates", .roles(Roles.readers))
    public static let createTemplate = endpoint("POST", "/v1/templates", .roles(Roles.managers))
    public static let syncTemplates = endpoint("POST", "/v1/templates/sync", .roles(Roles.managers))
    public static let getTemplate = endpoint("GET", "/v1/templates/{id}", .roles(Roles.readers))
    public static let updateTemplate = endpoint("PATCH", "/v1/templates/{id}", .roles(Roles.managers))
    public static let previewTemplate = endpoint("POST", "/v1/templates/{id}/preview", .roles(Roles.readers))

    public static let listCampaigns = endpoint("GET", "/v1/campaigns", .roles(Roles.readers))
    public static let createCampaign = endpoint("POST", "/v1/campaigns", .roles(Roles.managers))
    public static let getCampaign = endpoint("GET", "/v1/campaigns/{id}", .roles(Roles.readers))
    public static let updateCampaign = endpoint("PATCH", "/v1/campaigns/{id}", .roles(Roles.managers))
    /// A CSV of up to 100,000 rows and more: read as it streams in, never whole.
    public static let importTargets = endpoint("POST", "/v1/campaigns/{id}/targets", .roles(Roles.managers)).allowingBodies(upTo: 64 << 20)
    public static let listTargets = endpoint("GET", "/v1/campaigns/{id}/targets", .roles(targetReaders))
    public static let scheduleCampaign = endpoint("POST", "/v1/campaigns/{id}/schedule", .roles(Roles.managers))
    public static let startCampaign = endpoint("POST", "/v1/campaigns/{id}/start", .roles(Roles.managers))
    public static let pauseCampaign = endpoint("POST", "/v1/campaigns/{id}/pause", .roles(Roles.managers))
    public static let resumeCampaign = endpoint("POST", "/v1/campaigns/{id}/resume", .roles(Roles.managers))
    public static let cancelCampaign = endpoint("POST", "/v1/campaigns/{id}/cancel", .roles(Roles.managers))
    public static let campaignProgress = endpoint("GET", "/v1/campaigns/{id}/progress", .roles(Roles.readers))
    public static let exportCampaign = endpoint("GET", "/v1/campaigns/{id}/export", .roles(targetReaders))

    /// Multi-step sequences: steps with delays and actions, entered by hand or by a trigger, logged per lead.
    public static let listSequences = endpoint("GET", "/v1/sequences", .roles(Roles.readers))
    public static let createSequence = endpoint("POST", "/v1/sequences", .roles(Roles.managers))
    public static let getSequence = endpoint("GET", "/v1/sequences/{id}", .roles(Roles.readers))
    public static let updateSequence = endpoint("PATCH", "/v1/sequences/{id}", .roles(Roles.managers))
    /// Who is in a sequence (their numbers: the campaign-target roles) and each step's log.
    public static let listEnrollments = endpoint("GET", "/v1/sequences/{id}/enrollments", .roles(targetReaders))
    /// A lead entered by hand (or by another service).
    public static let enroll = endpoint("POST", "/v1/sequences/{id}/enrollments", .roles(Roles.managers.union([.service])))

    public static let campaignEndpoints: [Endpoint] = [
        listSequences, createSequence, getSequence, updateSequence, listEnrollments, enroll,
        listTemplates, createTemplate, syncTemplates, getTemplate, updateTemplate, previewTemplate, listCampaigns, createCampaign, getCampaign,
        updateCampaign, importTargets, listTargets, scheduleCampaign, startCampaign, pauseCampaign, resumeCampaign, cancelCampaign, campaignProgress,
        exportCampaign,
    ]
}
