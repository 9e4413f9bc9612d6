import Contracts
import Foundation
import Models
import ServiceKit
import TestSupport
import Testing
import Vouchers

@testable import Messaging

/// Vouchers, messaging and the gateway together: a redemption's notice reaches the customer through messaging's
/// outbox (the sandbox, since the tenant connected no provider).
struct VoucherNoticeTests {
    struct Station: Encodable {
        var name = "Kigali Central"
        var engencode = "KGL-\(UUID().uuidString.prefix(6))"
    }

    struct Voucher: Encodable {
        var amount = "5000"
        var currency = "RWF"
        var msisdn = "+250788123456"
    }

    struct Created: Decodable {
        var id: String
        var code: String?
    }

    @Test func aRedemptionNoticeArrivesInTheSandboxOutbox() async throws {
        try await TestServices.with([.gateway, .vouchers, .messaging], settings: [.messaging: ["JOBS_POLL_INTERVAL_MS": "20"]]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant(currency: "RWF")
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            // quiet hours would hold the notice at night in Kigali
            try await TestMessaging.quietHoursOff(gateway: gateway, token: admin)
            let station = try await TestHTTP.post("\(gateway)/v1/stations", token: admin, json: Station())
            #expect(station.status == 201, "\(station.text)")
            let stationID = try #require(StationID(try station.json(Created.self).id))
            let voucher = try await TestHTTP.post("\(gateway)/v1/vouchers", token: admin, headers: ["Idempotency-Key": "v-1"], json: Voucher())
            #expect(voucher.status == 201, "\(voucher.text)")
            let code = try #require(try voucher.json(Created.self).code)
            let operatorToken = try await TestKeys.token(tenant: tenant, roles: [.stationOperator], station: stationID)
            let redeemed = try await TestHTTP.post(
                "\(gateway)/v1/redemptions", token: operatorToken, headers: ["Idempotency-Key": "r-1"], json: RedeemRequest(code: code))
            #expect(redeemed.status == 200, "\(redeemed.text)")

            var outbox: [OutboxEntry] = []
            _ = try await TestWait.until(timeout: .seconds(20)) {
                outbox = try await TestHTTP.get("\(gateway)/v1/sandbox/outbox", token: admin).json(Page<OutboxEntry>.self).items
                return !outbox.isEmpty
            }
            let notice = try #require(outbox.first)
            #expect(notice.to == "+250788123456")
            #expect(notice.body?.contains(code) == true)
            #expect(notice.body?.contains("5000 RWF") == true)
            // once, though the job and the call are retried on failure (the idempotency key is the voucher's)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await TestHTTP.get("\(gateway)/v1/sandbox/outbox", token: admin).json(Page<OutboxEntry>.self).items.count == 1)
        }
    }

    struct VoucherState: Decodable {
        var id: String
        var code: String
        var status: String
    }

    @Test func aVoucherSentAsItsCardBecomesSentWhenMessagingSendsIt() async throws {
        try await TestServices.with(
            [.gateway, .vouchers, .messaging], settings: [.messaging: ["JOBS_POLL_INTERVAL_MS": "20"], .vouchers: ["JOBS_POLL_INTERVAL_MS": "20"]]
        ) {
            platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant(currency: "RWF")
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            try await TestMessaging.quietHoursOff(gateway: gateway, token: admin)
            let voucher = try await TestHTTP.post("\(gateway)/v1/vouchers", token: admin, headers: ["Idempotency-Key": "v-1"], json: Voucher())
                .json(VoucherState.self)
            #expect(voucher.status == "issued")

            // who may send: managers of the tenant; not an operator, not another tenant, and never a voided voucher
            let operatorToken = try await TestKeys.token(tenant: tenant, roles: [.readonly])
            #expect(try await TestHTTP.post("\(gateway)/v1/vouchers/\(voucher.id)/send", token: operatorToken, json: [String: String]()).status == 403)
            let other = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(gateway)/v1/vouchers/\(voucher.id)/send", token: other, json: [String: String]()).status == 404)
            // the report endpoint is messaging's alone
            let forged = MessagingAPI.DeliveryReport(reference: voucher.id, messageId: UUID().uuidString, status: "sent")
            #expect(try await TestHTTP.post("\(gateway)/v1/vouchers/delivery-reports", token: admin, json: forged).status == 403)

            let sent = try await TestHTTP.post(
                "\(gateway)/v1/vouchers/\(voucher.id)/send", token: admin, headers: ["Idempotency-Key": "s-1"], json: [String: String]())
            #expect(sent.status == 202, "\(sent.text)")
            var state = voucher
            _ = try await TestWait.until(timeout: .seconds(20)) {
                state = try await TestHTTP.get("\(gateway)/v1/vouchers/\(voucher.id)", token: admin).json(VoucherState.self)
                return state.status == "sent"
            }
            #expect(state.status == "sent")
            // what went out: the card as an image, its caption naming the code and the amount, on the sandbox
            let outbox = try await TestHTTP.get("\(gateway)/v1/sandbox/outbox", token: admin).json(Page<OutboxEntry>.self).items
            let card = try #require(outbox.first)
            #expect(card.to == "+250788123456" && card.body?.contains(voucher.code) == true && card.body?.contains("5000 RWF") == true)
            let message = try await TestHTTP.get("\(gateway)/v1/messages/\(card.messageId)", token: admin).json(MessageDTO.self)
            guard case .object(let payload)? = message.payload, case .object(let media)? = payload["media"], case .string(let url)? = media["url"] else {
                Issue.record("no media in \(String(describing: message.payload))")
                return
            }
            #expect(url.contains("/v1/voucher-images/\(voucher.id)/card.png?"))
            #expect(try await TestHTTP.get(url).status == 200)
            // one `sent` event, by messaging, naming the message; a later report changes nothing
            let report = MessagingAPI.DeliveryReport(reference: voucher.id, messageId: card.messageId.description, status: "delivered")
            let service = try await TestKeys.token(subject: "service:messaging", tenant: nil, roles: [.service])
            let again = try await TestHTTP.post(
                "\(platform.url(.vouchers))/v1/vouchers/delivery-reports", token: service, headers: ["X-Tenant-ID": tenant.description], json: report)
            #expect(again.status == 200 && again.text.contains("unchanged"), "\(again.text)")
            let events = try await TestHTTP.get("\(gateway)/v1/vouchers/\(voucher.id)/events", token: admin).json(Page<VoucherEventDTO>.self).items
            let sentEvents = events.filter { $0.eventType == "sent" }
            #expect(sentEvents.count == 1, "\(events)")
            #expect(sentEvents.first?.actor?.contains("messaging") == true, "\(String(describing: sentEvents.first?.actor))")

            // a voided voucher is sent to no one
            let voided = try await TestHTTP.post("\(gateway)/v1/vouchers", token: admin, headers: ["Idempotency-Key": "v-2"], json: Voucher())
                .json(VoucherState.self)
            let void = try await TestHTTP.post(
                "\(gateway)/v1/vouchers/\(voided.id)/transitions", token: admin, json: ["to": "void", "reason": "printed twice"])
            #expect(void.status == 200, "\(void.text)")
            let refused = try await TestHTTP.post(
                "\(gateway)/v1/vouchers/\(voided.id)/send", token: admin, headers: ["Idempotency-Key": "s-2"], json: [String: String]())
            #expect(refused.status == 409 && refused.text.contains("not_sendable"))
        }
    }
}
