import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `POST /v1/vouchers/{id}/send`: the voucher goes to its number as an image of its card, through messaging (the
/// tenant's default channel, its policy, its outbox); `POST /v1/vouchers/delivery-reports`: messaging says how
/// that message fared, and a voucher still `issued` becomes `sent` once the message is.
struct DeliveryController: Sendable {
    let vouchers: VouchersStore
    let idempotency: Idempotency
    let jobs: JobQueue

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(VouchersAPI.send, use: self.send)
        router.on(VouchersAPI.deliveryReport, use: self.report)
    }

    @Sendable func send(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter(as: VoucherID.self)
        return try await self.idempotency.write(request, context: context, postgres: self.vouchers.postgres) { connection in
            guard let (voucher, _) = try await self.vouchers.voucher(id, tenant: tenant, on: connection, logger: context.logger) else {
                throw APIError.notFound("voucher_not_found", "No such voucher.")
            }
            guard voucher.status == .issued || voucher.status == .sent else {
                throw APIError.conflict("not_sendable", "A \(voucher.status.rawValue) voucher is not sent to anyone.")
            }
            try await self.vouchers.recordSendRequest(
                voucher, tenant: tenant, actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger)
            try await self.jobs.enqueue(
                VoucherJobs.send, payload: VoucherJobs.Send(voucherId: id, tenantId: tenant), on: connection, maxAttempts: 30,
                requestID: context.requestID, logger: context.logger)
            return JSONResponse(.accepted, MessagingAPI.Receipt(id: voucher.id, status: "queued"))
        }
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<MessagingAPI.Receipt> {
        let (caller, tenant) = try context.requireTenantCaller()
        let report = try await request.decodeJSON(MessagingAPI.DeliveryReport.self, context: context)
        guard let id = VoucherID(report.reference) else { throw APIError.unprocessable("invalid_reference", "reference is a voucher id.") }
        guard ["sent", "delivered", "read"].contains(report.status) else {
            // a failed or blocked send leaves the voucher issued: the console shows the message's reason
            return JSONResponse(.ok, MessagingAPI.Receipt(id: report.reference, status: "unchanged"))
        }
        let marked = try await self.vouchers.markSent(
            id, tenant: tenant, actor: caller.subject, messageID: report.messageId, requestID: context.requestID, logger: context.logger)
        return JSONResponse(.ok, MessagingAPI.Receipt(id: report.reference, status: marked ? "sent" : "unchanged"))
    }
}
