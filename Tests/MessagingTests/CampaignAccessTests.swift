import Contracts
import Foundation
import Models
import NIOHTTP1
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// The role matrix of templates, campaigns and sequences, through the gateway and at the service: every role, every
/// endpoint. Reads are made of real rows (a success when allowed); writes name rows that do not exist, so an allowed
/// role reaches the handler (404 or 422, never 401 or 403) and changes nothing, and a refused one gets 403.
@Suite(.serialized) struct CampaignAccessTests {
    @Test func everyRoleGetsWhatTheDeclarationsSay() async throws {
        try await MessagingFlowTests.with { p in
            let setup = try await CampaignTests.setup(p)
            let campaign = try await CampaignTests.campaign(p, setup)
            #expect(try await CampaignTests.importCSV(p, campaign.id, "msisdn,a,b\n+250788300001,x,y\n").status == 200)
            let sequence = try await p.post(
                "/v1/sequences",
                NewSequence(
                    name: "Matrix", channelId: setup.channel, trigger: .manual,
                    steps: [SequenceStep(delayMinutes: 0, action: .sendMessage, templateId: setup.template.id, variables: ["a", "b"])])
            ).json(SequenceDTO.self)
            let missing = UUID().uuidString.lowercased()
            // (endpoint, path, body, the answers of an allowed role)
            let calls: [(Endpoint, String, String?, Set<Int>)] = [
                (MessagingAPI.listTemplates, "/v1/templates", nil, [200]),
                (MessagingAPI.getTemplate, "/v1/templates/\(setup.template.id)", nil, [200]),
                (MessagingAPI.previewTemplate, "/v1/templates/\(setup.template.id)/preview", #"{"variables":["a","b"]}"#, [200]),
                (
                    MessagingAPI.createTemplate, "/v1/templates", #"{"channelId":"\#(missing)","name":"x","language":"en","category":"utility","body":"x"}"#,
                    [404]
                ),
                (MessagingAPI.updateTemplate, "/v1/templates/\(missing)", #"{"body":"x"}"#, [404]),
                (MessagingAPI.syncTemplates, "/v1/templates/sync", #"{"channelId":"\#(missing)"}"#, [404]),
                (MessagingAPI.listCampaigns, "/v1/campaigns", nil, [200]),
                (MessagingAPI.getCampaign, "/v1/campaigns/\(campaign.id)", nil, [200]),
                (MessagingAPI.campaignProgress, "/v1/campaigns/\(campaign.id)/progress", nil, [200]),
                (MessagingAPI.listTargets, "/v1/campaigns/\(campaign.id)/targets", nil, [200]),
                (MessagingAPI.exportCampaign, "/v1/campaigns/\(campaign.id)/export", nil, [200]),
                (
                    MessagingAPI.createCampaign, "/v1/campaigns",
                    #"{"name":"x","type":"promo","channelId":"\#(missing)","templateId":"\#(missing)"}"#, [404]
                ),
                (MessagingAPI.updateCampaign, "/v1/campaigns/\(missing)", #"{"name":"x"}"#, [404]),
                (MessagingAPI.importTargets, "/v1/campaigns/\(missing)/targets", #"{"targets":[]}"#, [404]),
                (MessagingAPI.scheduleCampaign, "/v1/campaigns/\(missing)/schedule", #"{"startAt":"2099-01-01T00:00:00Z"}"#, [404]),
                (MessagingAPI.startCampaign, "/v1/campaigns/\(missing)/start", "{}", [404]),
                (MessagingAPI.pauseCampaign, "/v1/campaigns/\(missing)/pause", "{}", [404]),
                (MessagingAPI.resumeCampaign, "/v1/campaigns/\(missing)/resume", "{}", [404]),
                (MessagingAPI.cancelCampaign, "/v1/campaigns/\(missing)/cancel", "{}", [404]),
                (MessagingAPI.listSequences, "/v1/sequences", nil, [200]),
                (MessagingAPI.getSequence, "/v1/sequences/\(sequence.id)", nil, [200]),
                (MessagingAPI.listEnrollments, "/v1/sequences/\(sequence.id)/enrollments", nil, [200]),
                (
                    MessagingAPI.createSequence, "/v1/sequences",
                    #"{"name":"x","channelId":"\#(missing)","trigger":"manual","steps":[{"delayMinutes":0,"action":"make_call"}]}"#, [404]
                ),
                (MessagingAPI.updateSequence, "/v1/sequences/\(missing)", #"{"name":"x"}"#, [404]),
                (MessagingAPI.enroll, "/v1/sequences/\(missing)/enrollments", #"{"leadId":"\#(missing)"}"#, [404]),
            ]
            #expect(Set(calls.map(\.0)) == Set(MessagingAPI.campaignEndpoints), "every campaign endpoint has a call")
            for role in Role.allCases {
                let (token, headers) = try await MessagingAccessTests.token(role, tenant: p.tenant)
                for base in [p.gateway, p.messaging] {
                    for (endpoint, path, body, allowed) in calls {
                        let response = try await TestHTTP.request(
                            HTTPMethod(rawValue: endpoint.method), "\(base)\(path)", token: token, headers: headers, body: body.map { Data($0.utf8) })
                        if endpoint.allows([role]) {
                            #expect(allowed.contains(response.status), "\(endpoint) as \(role): \(response.status) \(response.text.prefix(200))")
                        } else {
                            #expect(response.status == 403, "\(endpoint) as \(role): \(response.status)")
                        }
                    }
                }
            }
            // nothing the refused or missing-row calls did changed the tenant's rows
            #expect(try await p.get("/v1/campaigns").json(Page<CampaignDTO>.self).items.count == 1)
            #expect(try await p.get("/v1/templates").json(Page<TemplateDTO>.self).items.count == 1)
            #expect(try await p.get("/v1/sequences").json(Page<SequenceDTO>.self).items.count == 1)
        }
    }
}
