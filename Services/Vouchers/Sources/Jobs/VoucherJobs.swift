import Contracts
import Foundation
import Logging
import Models
import ServiceKit

/// The jobs of the vouchers service and their payloads, each defined once.
enum VoucherJobs {
    /// Draws and keeps a new voucher's two images.
    static let render = "voucher.render"
    /// Tells the customer their voucher was redeemed. Enqueued by `vouchers.redeem()` in SQL, which builds this
    /// payload with `jsonb_build_object`: the keys here are the keys there.
    static let notifyRedeemed = "voucher.notify_redeemed"

    struct Render: Codable, Sendable {
        var voucherId: VoucherID
    }

    struct RedeemedNotice: Codable, Sendable {
        var voucherId: String
        var tenantId: TenantID
        var msisdn: String
        var code: String
        var amountMinor: Int64
        var currency: String
        var stationId: String
    }

    static func register(_ registry: inout JobRegistry, images: VoucherImageStore, environment: ServiceEnvironment) {
        registry.register(Self.render, as: Render.self) { payload, _, logger in
            _ = try await images.image(payload.voucherId, card: false, logger: logger)
            _ = try await images.image(payload.voucherId, card: true, logger: logger)
        }
        // messaging's endpoint may not exist yet, so this retries (up to ~2 days) until it does
        registry.register(Self.notifyRedeemed, as: RedeemedNotice.self) { notice, job, _ in
            guard let currency = Currency(code: notice.currency) else { throw CorruptRow("notice in \(notice.currency)") }
            let context = try await environment.serviceCallContext(tenant: notice.tenantId, requestID: job.requestID)
            try await environment.messaging.notify(
                MessagingAPI.Notification(
                    kind: "voucher_redeemed", msisdn: notice.msisdn, voucherId: notice.voucherId, code: notice.code,
                    amount: Money(minorUnits: notice.amountMinor, currency: currency).decimalString, currency: notice.currency,
                    stationId: notice.stationId),
                idempotencyKey: "voucher-redeemed-\(notice.voucherId)", context: context)
        }
    }
}
