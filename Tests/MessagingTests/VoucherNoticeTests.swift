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
            var settings = MessagingSettings.defaults
            settings.quietHours = [:]
            #expect(
                try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings)).status == 200)
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
}
