import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `/v1/credits`: a tenant's usage credits (seed 001), read by its people, topped up by platform admins or billing,
/// and reserved, settled and released by agent-core around every AI reply.
struct CreditsController: Sendable {
    let credits: CreditsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletAPI.credits, use: self.get)
        router.on(WalletAPI.topUpCredits, use: self.topUp)
        router.on(WalletAPI.reserveCredits, use: self.reserve)
        router.on(WalletAPI.settleCredits, use: self.settle)
        router.on(WalletAPI.releaseCredits, use: self.release)
    }

    static let notFound = APIError.notFound("reservation_not_found", "No reservation with this reference.")

    struct TopUpBody: Decodable, Sendable {
        var credits: Int64?
        var reason: String?
    }

    /// A reference names a reply: printable ASCII without `/`, 1 to 255 characters.
    static func reference(_ text: String?) throws -> String {
        guard let text, (1...255).contains(text.count), text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "/" })
        else { throw APIError.unprocessable("invalid_reference", "reference is 1 to 255 printable ASCII characters without '/'.") }
        return text
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CreditsDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let days = try request.queryValues.int("days", range: 1...366) ?? 30
        return JSONResponse(.ok, try await self.credits.credits(tenant, days: days, logger: context.logger))
    }

    @Sendable func topUp(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CreditsDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(TopUpBody.self, context: context)
        guard let amount = body.credits, (1...1_000_000_000).contains(amount) else {
            throw APIError.unprocessable("invalid_credits", "credits is 1 to 1,000,000,000.")
        }
        let reason = try LedgerRules.reason(body.reason, required: true)
        let reference = try LedgerRules.reference(request.headers[.idempotencyKey])
        let (credits, replayed) = try await self.credits.topUp(
            tenant, credits: amount, reference: reference, reason: reason, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return TransfersController.answer(credits, replayed: replayed)
    }

    @Sendable func reserve(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<WalletAPI.CreditReservation> {
        let (_, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(WalletAPI.ReserveCredits.self, context: context)
        guard (1...1000).contains(body.credits) else { throw APIError.unprocessable("invalid_credits", "credits is 1 to 1000.") }
        switch try await self.credits.reserve(tenant, reference: try Self.reference(body.reference), credits: body.credits, logger: context.logger) {
        case .reserved(let reservation, let replayed): return TransfersController.answer(reservation, replayed: replayed)
        case .exhausted(let available):
            throw APIError.conflict("credits_exhausted", "The tenant has \(available) usage credit(s) available; top up to use the AI again.")
        }
    }

    @Sendable func settle(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<WalletAPI.CreditReservation> {
        try await self.resolve(request, context: context, used: true)
    }

    @Sendable func release(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<WalletAPI.CreditReservation> {
        try await self.resolve(request, context: context, used: false)
    }

    func resolve(_ request: Request, context: AppRequestContext, used: Bool) async throws -> JSONResponse<WalletAPI.CreditReservation> {
        let (_, tenant) = try context.requireTenantCaller()
        let reference = try Self.reference(context.parameters.get("reference"))
        guard let reservation = try await self.credits.resolve(tenant, reference: reference, used: used, logger: context.logger) else {
            throw Self.notFound
        }
        return JSONResponse(.ok, reservation)
    }
}
