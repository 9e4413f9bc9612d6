import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import Messaging

/// Campaigns on WhatsApp against a fake Graph API on loopback: templates submitted to Meta and moved by its review
/// webhook, synced with the number's messaging tier, the tier spreading a campaign over days, and a send caught in
/// flight by a crash flagged instead of repeated.
@Suite(.serialized) struct CampaignWhatsAppTests {
    final class Graph: Sendable {
        let sends = Mutex<[String]>([])
        let submissions = Mutex<[String]>([])
        let tier: String

        init(tier: String) { self.tier = tier }

        var router: Router<BasicRequestContext> {
            let router = Router()
            @Sendable func answer(_ json: String) -> Response {
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            router.post(":id/messages") { request, _ -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
                let count = self.sends.withLock { list in
                    list.append(body)
                    return list.count
                }
                if body.contains(#""to":"250788300099""#) {
                    // Meta's permanent refusal: the number cannot receive WhatsApp messages
                    return Response(
                        status: .badRequest, headers: [.contentType: "application/json"],
                        body: .init(
                            byteBuffer: ByteBuffer(
                                string:
                                    #"{"error":{"message":"(#131026) Message Undeliverable.","type":"OAuthException","code":131026,"fbtrace_id":"Ab"}}"#)))
                }
                return answer(#"{"messaging_product":"whatsapp","contacts":[{"input":"x","wa_id":"x"}],"messages":[{"id":"wamid.C\#(count)"}]}"#)
            }
            router.post(":id/message_templates") { request, _ -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
                self.submissions.withLock { $0.append(body) }
                return answer(#"{"id":"594425479261596","status":"PENDING","category":"MARKETING"}"#)
            }
            router.get(":id/message_templates") { _, _ -> Response in
                answer(
                    #"""
                    {"data":[
                      {"name":"week_promo","language":"en","status":"APPROVED","category":"MARKETING","id":"594425479261596",
                       "components":[{"type":"BODY","text":"Hello {{1}}, {{2}} off this week."},{"type":"FOOTER","text":"Reply STOP"}]},
                      {"name":"fuel_card","language":"sw","status":"REJECTED","category":"MARKETING","id":"777","rejected_reason":"INVALID_FORMAT",
                       "components":[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Vocha yako {{1}} ya {{2}}."},
                                     {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Asante"}]}]}
                    ],"paging":{"cursors":{"before":"QVFI","after":"QVFJ"}}}
                    """#)
            }
            router.get(":id") { _, _ -> Response in
                answer(#"{"messaging_limit_tier":"\#(self.tier)","id":"106540352242922"}"#)
            }
            return router
        }
    }

    struct NewChannel: Encodable {
        var kind = "whatsapp"
        var name = "Main number"
        var config = ["phoneNumberId": "106540352242922", "businessAccountId": "102290129340398"]
        var secrets = ["accessToken": "EAAG-test-access-token-123456", "appSecret": "meta-app-secret-value", "verifyToken": "verify-me-please"]
    }

    static func with(tier: String = "TIER_1K", _ body: (MessagingFlowTests.Platform, Graph, ChannelDTO) async throws -> Void) async throws {
        let graph = Graph(tier: tier)
        try await TestUpstream.with(graph.router) { url in
            try await MessagingFlowTests.with(agent: url) { p in
                var settings = MessagingSettings.defaults
                settings.quietHours = [:]
                settings.sendThrottle.perMinute["whatsapp"] = 100_000
                settings.sendThrottle.perRecipientPerHour = 10_000
                #expect(
                    try await TestHTTP.request(.PUT, "\(p.gateway)/v1/messaging/settings", token: p.admin, body: try JSONEncoder.sokoni.encode(settings))
                        .status == 200)
                let channel = try await p.post("/v1/channels", NewChannel())
                #expect(channel.status == 201, "\(channel.text)")
                try await body(p, graph, try channel.json(ChannelDTO.self))
            }
        }
    }

    @Test func templatesAreSubmittedToMetaMovedByItsReviewAndSyncedWithTheTier() async throws {
        try await Self.with(tier: "TIER_250") { p, graph, channel in
            let created = try await p.post(
                "/v1/templates",
                NewTemplate(
                    channelId: channel.id, name: "week_promo", language: "en", category: .marketing, body: "Hello {{1}}, {{2}} off this week.",
                    footer: "Reply STOP", buttons: [TemplateButton(type: "quick_reply", text: "Stop promos")]))
            #expect(created.status == 201, "\(created.text)")
            let template = try created.json(TemplateDTO.self)
            #expect(template.status == .pending && template.variableCount == 2 && template.providerTemplateId == "594425479261596")
            // Meta got the components in its own shape, with sample values for the variables
            let submitted = try #require(graph.submissions.withLock { $0.first })
            #expect(submitted.contains(#""category":"MARKETING""#) && submitted.contains(#""body_text":[["sample 1","sample 2"]]"#))
            #expect(submitted.contains(#""type":"QUICK_REPLY""#))
            // a campaign cannot start on a template Meta has not approved
            let campaign = try await p.post("/v1/campaigns", NewCampaign(name: "Promo", type: .promo, channelId: channel.id, templateId: template.id))
                .json(CampaignDTO.self)
            #expect(
                try await CampaignTests.importCSV(p, campaign.id, "msisdn,a,b\n+250788300001,Aline,10%\n").json(ImportReport.self).accepted == 1)
            #expect(try await CampaignTests.move(p, campaign.id, "start").errorCode == "template_not_approved")
            // Meta's review arrives on the signed webhook
            let review = Data(
                #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1733600000,"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":594425479261596,"message_template_name":"week_promo","message_template_language":"en","reason":"NONE"}}]}]}"#
                    .utf8)
            let path = "/webhooks/whatsapp/\(channel.publicId)"
            #expect(try await TestHTTP.request(.POST, "\(p.gateway)\(path)", body: review).status == 401)
            let signature = WebhookSignatures.metaSignature(body: Array(review), appSecret: "meta-app-secret-value")
            #expect(try await TestHTTP.request(.POST, "\(p.gateway)\(path)", headers: ["X-Hub-Signature-256": signature], body: review).status == 200)
            try await p.eventually("approved") {
                try await p.get("/v1/templates/\(template.id)").json(TemplateDTO.self).status == .approved
            }
            // sync: Meta's second template arrives (rejected, with the reason), ours is unchanged, the tier is read
            let sync = try await p.post("/v1/templates/sync", TemplateSync(channelId: channel.id))
            #expect(sync.status == 200, "\(sync.text)")
            let result = try sync.json(TemplateSyncResult.self)
            #expect(result.created == 1 && result.messagingTier == "TIER_250", "\(result)")
            let listed = try await p.get("/v1/templates?channelId=\(channel.id)").json(Page<TemplateDTO>.self).items
            let card = try #require(listed.first { $0.name == "fuel_card" })
            #expect(card.status == .rejected && card.rejectionReason == "INVALID_FORMAT" && card.header?.type == "image" && card.buttons.count == 1)
            #expect(try await p.get("/v1/templates?status=approved").json(Page<TemplateDTO>.self).items.map(\.name) == ["week_promo"])
            // a preview names the variable that is missing
            let preview = try await p.post("/v1/templates/\(template.id)/preview", TemplatePreview(variables: ["Aline"]))
            #expect(preview.status == 422 && preview.errorCode == "missing_variable" && preview.text.contains("{{2}}"))
            #expect(
                try await p.post("/v1/templates/\(template.id)/preview", TemplatePreview(variables: ["Aline", "10%"])).json(TemplatePreviewResult.self)
                    .text == "Hello Aline, 10% off this week.")
            // bad templates are refused with the reason
            let gap = try await p.post(
                "/v1/templates", NewTemplate(channelId: channel.id, name: "gap", language: "en", category: .utility, body: "Hi {{1}} and {{3}}"))
            #expect(gap.status == 422 && gap.errorCode == "invalid_template_body")
            let badName = try await p.post("/v1/templates", NewTemplate(channelId: channel.id, name: "Big Name", language: "en", category: .utility, body: "x"))
            #expect(badName.errorCode == "invalid_name")
            let duplicate = try await p.post(
                "/v1/templates", NewTemplate(channelId: channel.id, name: "week_promo", language: "en", category: .marketing, body: "Again {{1}}"))
            #expect(duplicate.status == 409 && duplicate.errorCode == "template_exists")
            // approved now: the campaign starts and sends the template with its variables
            #expect(try await CampaignTests.move(p, campaign.id, "start").status == 200)
            try await p.eventually("sent") { graph.sends.withLock { $0.count } == 1 }
            let sent = try #require(graph.sends.withLock { $0.first })
            #expect(sent.contains(#""name":"week_promo""#) && sent.contains(#""text":"Aline""#) && sent.contains(#""text":"10%""#))
        }
    }

    @Test func theMessagingTierSpreadsACampaignOverDays() async throws {
        try await Self.with(tier: "TIER_250") { p, graph, channel in
            try await TestWait.clearOfUTCMidnight()
            let template = try await p.post(
                "/v1/templates", NewTemplate(channelId: channel.id, name: "week_promo", language: "en", category: .marketing, body: "Hello {{1}}")
            )
            .json(TemplateDTO.self)
            #expect(try await p.post("/v1/templates/sync", TemplateSync(channelId: channel.id)).status == 200)
            #expect(try await p.get("/v1/templates/\(template.id)").json(TemplateDTO.self).status == .approved)
            let campaign = try await p.post("/v1/campaigns", NewCampaign(name: "Big", type: .promo, channelId: channel.id, templateId: template.id))
                .json(CampaignDTO.self)
            let csv = "msisdn,name,discount\n" + CampaignTests.numbers(260, prefix: "+25078831").map { "\($0),A,5%" }.joined(separator: "\n")
            #expect(try await CampaignTests.importCSV(p, campaign.id, csv).json(ImportReport.self).accepted == 260)
            #expect(try await CampaignTests.move(p, campaign.id, "start").status == 200)
            try await p.eventually("the tier reached and said") {
                try await p.get("/v1/campaigns/\(campaign.id)").json(CampaignDTO.self).waitingReason?.contains("TIER_250") == true
            }
            try await p.eventually("the day's 250 sent") { graph.sends.withLock { $0.count } == 250 }
            try await Task.sleep(for: .seconds(1))
            // the rest wait for tomorrow: not failed, still queued, the campaign still running
            let now = try await p.get("/v1/campaigns/\(campaign.id)").json(CampaignDTO.self)
            #expect(graph.sends.withLock { $0.count } == 250)
            #expect(now.status == .running && now.counts.queued == 10 && now.counts.failed == 0, "\(now.counts)")
            // tomorrow (the day's count starts again): the rest go
            try await p.postgres.query("UPDATE messaging.tier_recipients SET day = day - 1", logger: TestLog.quiet)
            try await p.eventually("the rest sent the next day") {
                try await p.get("/v1/campaigns/\(campaign.id)").json(CampaignDTO.self).status == .done
            }
            #expect(graph.sends.withLock { $0.count } == 260)
        }
    }

    @Test func aSendInFlightWhenTheServiceDiedIsFlaggedNotRepeated() async throws {
        try await Self.with { p, graph, channel in
            let template = try await p.post(
                "/v1/templates", NewTemplate(channelId: channel.id, name: "week_promo", language: "en", category: .marketing, body: "Hello {{1}}")
            )
            .json(TemplateDTO.self)
            #expect(try await p.post("/v1/templates/sync", TemplateSync(channelId: channel.id)).status == 200)
            let campaign = try await p.post("/v1/campaigns", NewCampaign(name: "Crash", type: .promo, channelId: channel.id, templateId: template.id))
                .json(CampaignDTO.self)
            let csv = "msisdn,name,discount\n+250788300001,Aline,5%\n+250788300002,Eric,5%\n"
            #expect(try await CampaignTests.importCSV(p, campaign.id, csv).json(ImportReport.self).accepted == 2)
            #expect(try await CampaignTests.move(p, campaign.id, "start").status == 200)
            try await p.eventually("done") { try await p.get("/v1/campaigns/\(campaign.id)").json(CampaignDTO.self).status == .done }
            #expect(graph.sends.withLock { $0.count } == 2)
            // what kill -9 leaves behind: a message whose send began (the provider had it) and never recorded an answer,
            // and its job, which a worker claims again once the dead worker's lock times out
            let message = try await p.postgres.query(
                "SELECT message_id FROM messaging.campaign_targets WHERE msisdn = '+250788300001'", logger: TestLog.quiet
            ).first(as: UUID.self)!
            try await p.postgres.withTransaction(logger: TestLog.quiet) { connection in
                try await connection.query(
                    "UPDATE messaging.campaigns SET status = 'running', finished_at = NULL WHERE id = \(campaign.id.rawValue)", logger: TestLog.quiet)
                try await connection.query(
                    "UPDATE messaging.messages SET status = 'queued', provider_message_id = NULL WHERE id = \(message)", logger: TestLog.quiet)
                try await connection.query(
                    "UPDATE messaging.campaign_targets SET status = 'queued' WHERE message_id = \(message)", logger: TestLog.quiet)
                try await connection.query(
                    """
                    INSERT INTO messaging.jobs (kind, payload, max_attempts) VALUES ('message.send', jsonb_build_object('messageId', \(message)), 10)
                    """, logger: TestLog.quiet)
            }
            try await p.eventually("the in-flight send settled") {
                try await p.count("SELECT count(*)::int FROM messaging.campaign_targets WHERE needs_review") == 1
            }
            // not sent again: the provider still has two sends; the target says why and waits for a person
            #expect(graph.sends.withLock { $0.count } == 2)
            let target = try await p.get("/v1/campaigns/\(campaign.id)/targets?status=failed").json(Page<TargetDTO>.self).items
            #expect(target.count == 1 && target[0].needsReview && target[0].errorCode == "in_flight_at_crash")
            let progress = try await p.get("/v1/campaigns/\(campaign.id)/progress").json(CampaignProgress.self)
            #expect(progress.needsReview == 1)
            try await p.eventually("done again") { try await p.get("/v1/campaigns/\(campaign.id)").json(CampaignDTO.self).status == .done }
        }
    }
}
