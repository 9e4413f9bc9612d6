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

    /// Sends a voucher's card through messaging (`POST /v1/vouchers/{id}/send`).
    static let send = "voucher.send"

    struct Send: Codable, Sendable {
        var voucherId: VoucherID
        var tenantId: TenantID
    }

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

    static func register(
        _ registry: inout JobRegistry, images: VoucherImageStore, vouchers: VouchersStore, links: ImageLinks, environment: ServiceEnvironment
    ) {
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
        // the card is drawn first (the link must open), then messaging takes the message with a callback; the
        // job's id keys the call, so a retry does not send twice
        registry.register(Self.send, as: Send.self) { send, job, logger in
            guard let (voucher, _) = try await vouchers.voucher(send.voucherId, tenant: send.tenantId, logger: logger) else { return }
            guard voucher.status == .issued || voucher.status == .sent else { return }
            _ = try await images.image(send.voucherId, card: true, logger: logger)
            let context = try await environment.serviceCallContext(tenant: send.tenantId, requestID: job.requestID)
            try await environment.messaging.notify(
                MessagingAPI.Notification(
                    kind: "voucher_issued", msisdn: voucher.msisdn, voucherId: voucher.id, code: voucher.code, amount: voucher.amount,
                    currency: voucher.currency, mediaUrl: links.adding(to: voucher).cardURL,
                    callback: MessagingAPI.Callback(service: .vouchers, reference: voucher.id)),
                idempotencyKey: "voucher-send-\(job.id)", context: context)
        }
    }
}
