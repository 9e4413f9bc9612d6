import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// A voucher campaign end to end, with the vouchers service and a fake WhatsApp: one voucher issued per target
/// (asked again, the same one), the template sent with the card in its header and the code and amount as its
/// variables, the voucher `sent` when Meta's status webhook says the message was, and a target WhatsApp refuses for
/// good leaving its voucher `issued`, in the report.
@Suite(.serialized) struct VoucherCampaignTests {
    struct Voucher: Codable {
        var id: String
        var code: String
        var status: String
        var msisdn: String
        var campaignId: String?
    }

    @Test func eachTargetGetsOneVoucherSentWhenItsMessageIs() async throws {
        let graph = CampaignWhatsAppTests.Graph(tier: "TIER_UNLIMITED")
        try await TestUpstream.with(graph.router) { fake in
            try await TestServices.with(
                [.gateway, .vouchers, .messaging],
                settings: [
                    .gateway: ["RATE_LIMIT_ENABLED": "false"],
                    .messaging: ["JOBS_POLL_INTERVAL_MS": "20", "MESSAGING_GRAPH_BASE_URL": fake, "MESSAGING_CAMPAIGN_TICK_MS": "50"],
                    .vouchers: ["JOBS_POLL_INTERVAL_MS": "20"],
                ]
            ) { platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant(currency: "RWF")
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let postgres = platform.environment(.messaging).postgres
                var settings = MessagingSettings.defaults
                settings.quietHours = [:]
                settings.sendThrottle.perMinute["whatsapp"] = 100_000
                #expect(
                    try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings))
                        .status == 200)
                let channel = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: CampaignWhatsAppTests.NewChannel())
                    .json(ChannelDTO.self)
                let template = try await TestHTTP.post(
                    "\(gateway)/v1/templates", token: admin,
                    json: NewTemplate(
                        channelId: channel.id, name: "fuel_voucher", language: "en", category: .marketing, header: TemplateHeader(type: "image"),
                        body: "Your fuel voucher {{1}} for {{2}}, {{3}}. Show it at the station.")
                ).json(TemplateDTO.self)
                // Meta approves it (the review webhook's effect; the webhook itself is tested with the templates)
                try await postgres.query("UPDATE messaging.templates SET status = 'approved' WHERE id = \(template.id.rawValue)", logger: TestLog.quiet)
                let created = try await TestHTTP.post(
                    "\(gateway)/v1/campaigns", token: admin,
                    json: NewCampaign(
                        name: "December drivers", type: .voucher, channelId: channel.id, templateId: template.id,
                        voucher: CampaignVoucher(amount: "5000", currency: "RWF")))
                #expect(created.status == 201, "\(created.text)")
                let campaign = try created.json(CampaignDTO.self)
                // the file gives {{3}}: the platform fills the code and the amount
                let csv = "msisdn,name\n+250788300001,Aline\n+250788300002,Eric\n+250788300003,Jean\n+250788300099,Unreachable\n"
                let imported = try await TestHTTP.request(
                    .POST, "\(gateway)/v1/campaigns/\(campaign.id)/targets", token: admin, headers: ["Content-Type": "text/csv"], body: Data(csv.utf8))
                #expect(try imported.json(ImportReport.self).accepted == 4, "\(imported.text)")
                #expect(try await TestHTTP.post("\(gateway)/v1/campaigns/\(campaign.id)/start", token: admin, json: [String: String]()).status == 200)
                try await TestWait.until(timeout: .seconds(60)) { graph.sends.withLock { $0.count } == 4 }.expectTrue("four sends")
                // one voucher per target, in the campaign
                let vouchers = try await TestHTTP.get("\(gateway)/v1/vouchers?campaignId=\(campaign.id)", token: admin).json(Page<Voucher>.self).items
                #expect(vouchers.count == 4)
                let sends = graph.sends.withLock { $0 }
                let aline = try #require(vouchers.first { $0.msisdn == "+250788300001" })
                let toAline = try #require(sends.first { $0.contains(#""to":"250788300001""#) })
                #expect(toAline.contains(#""name":"fuel_voucher""#) && toAline.contains(#""text":"\#(aline.code)""#) && toAline.contains(#""text":"5000 RWF""#))
                #expect(toAline.contains(#""text":"Aline""#) && toAline.contains(#""type":"image""#) && toAline.contains("voucher-images"), "\(toAline)")
                // Meta's status webhook: sent, then delivered
                let wamid = try await postgres.query(
                    """
                    SELECT m.provider_message_id FROM messaging.campaign_targets t JOIN messaging.messages m ON m.id = t.message_id
                    WHERE t.msisdn = '+250788300001'
                    """, logger: TestLog.quiet
                ).first(as: String.self)!
                #expect(aline.status == "issued")
                let status = Data(
                    #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"250788000000","phone_number_id":"106540352242922"},"statuses":[{"id":"\#(wamid)","status":"delivered","timestamp":"1765100000","recipient_id":"250788300001"}]}}]}]}"#
                        .utf8)
                let signature = WebhookSignatures.metaSignature(body: Array(status), appSecret: "meta-app-secret-value")
                #expect(
                    try await TestHTTP.request(
                        .POST, "\(gateway)/webhooks/whatsapp/\(channel.publicId)", headers: ["X-Hub-Signature-256": signature], body: status
                    ).status == 200)
                try await TestWait.until(timeout: .seconds(30)) {
                    try await TestHTTP.get("\(gateway)/v1/vouchers/\(aline.id)", token: admin).json(Voucher.self).status == "sent"
                }.expectTrue("Aline's voucher sent")
                // the unreachable number: the target failed with Meta's code, its voucher stays issued, both in the report
                try await TestWait.until(timeout: .seconds(30)) {
                    try await TestHTTP.get("\(gateway)/v1/campaigns/\(campaign.id)/targets?status=failed", token: admin).json(Page<TargetDTO>.self)
                        .items.count == 1
                }.expectTrue("the refused target failed")
                let failed = try await TestHTTP.get("\(gateway)/v1/campaigns/\(campaign.id)/targets?status=failed", token: admin)
                    .json(Page<TargetDTO>.self).items[0]
                #expect(failed.msisdn == "+250788300099" && failed.errorCode == "131026" && failed.voucherId != nil)
                let unreachable = try await TestHTTP.get("\(gateway)/v1/vouchers/\(failed.voucherId!)", token: admin).json(Voucher.self)
                #expect(unreachable.status == "issued")
                // vouchers asked again for the same targets (a dispatcher's retry after a crash) answer the same vouchers
                let again = try await VouchersClient(platform.environment(.messaging).client(.vouchers)).bulkIssue(
                    VouchersAPI.BulkIssue(
                        campaignId: campaign.id.description, amount: "5000", currency: "RWF",
                        recipients: [VouchersAPI.BulkRecipient(recipientKey: "target-\(failed.id)", msisdn: failed.msisdn)]),
                    idempotencyKey: "retry-1", context: try await platform.environment(.messaging).serviceCallContext(tenant: tenant, requestID: nil))
                #expect(again.created == 0 && again.vouchers.map(\.id) == [failed.voucherId!.description])
                #expect(try await TestHTTP.get("\(gateway)/v1/vouchers?campaignId=\(campaign.id)", token: admin).json(Page<Voucher>.self).items.count == 4)
            }
        }
    }
}

extension Bool {
    func expectTrue(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(self, "timed out waiting for \(what)", sourceLocation: sourceLocation)
    }
}
