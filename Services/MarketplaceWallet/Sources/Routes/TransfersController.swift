import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `POST/GET /v1/wallet/transfers`, `GET /v1/wallet/transfers/{id}`, `POST /v1/wallet/transfers/{id}/reverse`, and
/// the two-phase `…/holds`: postings of balanced legs, each at most once per `Idempotency-Key` (its reference; a
/// retry answers the first result with `Idempotent-Replayed: true`), with the balances after it.
struct TransfersController: Sendable {
    let ledger: LedgerStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletAPI.createTransfer, use: self.create)
        router.on(WalletAPI.listTransfers, use: self.list)
        router.on(WalletAPI.getTransfer, use: self.get)
        router.on(WalletAPI.reverseTransfer, use: self.reverse)
        router.on(WalletAPI.createHold, use: self.createHold)
        router.on(WalletAPI.listHolds, use: self.listHolds)
        router.on(WalletAPI.getHold, use: self.getHold)
        router.on(WalletAPI.postHold, use: self.postHold)
        router.on(WalletAPI.voidHold, use: self.voidHold)
    }

    static let notFound = APIError.notFound("transfer_not_found", "No such transfer.")
    static let holdNotFound = APIError.notFound("hold_not_found", "No such hold.")

    /// Types a caller may post directly: purchases are settled by the marketplace and reversals by `…/reverse`.
    static let postable: [TransactionType] = [.topup, .payout, .adjustment, .commission]

    /// The body, checked, as a posting under the request's reference.
    static func posting(_ body: CreateTransfer, request: Request, caller: Identity, tenant: TenantID) throws -> Posting {
        guard let type = body.type.flatMap(TransactionType.init(rawValue:)), Self.postable.contains(type) else {
            throw APIError.unprocessable("invalid_type", "type is topup, payout, adjustment or commission.")
        }
        let currency = try LedgerRules.currency(body.currency)
        guard let bodies = body.legs else { throw APIError.unprocessable("invalid_legs", "legs is required: [{from, to, amount}].") }
        let legs = try bodies.enumerated().map { index, leg in
            guard let from = try BodyValues.id(leg.from, field: "legs[\(index)].from", as: WalletAccountID.self),
                let to = try BodyValues.id(leg.to, field: "legs[\(index)].to", as: WalletAccountID.self)
            else { throw APIError.unprocessable("invalid_legs", "legs[\(index)] names the from and to accounts.") }
            return Leg(from: from, to: to, amount: try LedgerRules.amount(leg.amount, currency: currency, field: "legs[\(index)].amount"))
        }
        return Posting(
            tenant: tenant, type: type, reference: try LedgerRules.reference(request.headers[.idempotencyKey]), currency: currency,
            legs: try LedgerRules.legs(legs), reason: try LedgerRules.reason(body.reason, required: type == .adjustment),
            metadata: try LedgerRules.metadata(body.metadata), actor: caller.subject)
    }

    /// 201 for a new posting, 200 with `Idempotent-Replayed: true` for the first one's result again.
    static func answer<Value: Encodable & Sendable>(_ value: Value, replayed: Bool) -> JSONResponse<Value> {
        replayed ? JSONResponse(.ok, value, headers: [.idempotentReplayed: "true"]) : JSONResponse(.created, value)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TransferDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateTransfer.self, context: context)
        guard body.timeoutSeconds == nil else {
            throw APIError.unprocessable("invalid_timeout", "A transfer posts now; a timeout belongs to a hold (/v1/wallet/holds).")
        }
        let posting = try Self.posting(body, request: request, caller: caller, tenant: tenant)
        let (transfer, replayed) = try await self.ledger.post(posting, requestID: context.requestID, logger: context.logger)
        return Self.answer(transfer, replayed: replayed)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<TransferDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let before = try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
        let query = request.queryValues
        let items = try await self.ledger.transfers(
            tenant: tenant, account: try query.id("accountId", as: WalletAccountID.self), type: try query.value("type", as: TransactionType.self),
            before: before, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TransferDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: WalletTransactionID.self)
        guard let transfer = try await self.ledger.transfer(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        return JSONResponse(.ok, transfer)
    }

    /// The reversal's reference is the `Idempotency-Key`, or one of its own: a transfer is reversed at most once.
    @Sendable func reverse(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<TransferDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: WalletTransactionID.self)
        let body = try await request.decodeJSON(ReasonBody.self, context: context)
        let reason = try LedgerRules.reason(body.reason, required: true)
        let reference = try request.headers[.idempotencyKey].map { try LedgerRules.reference($0) } ?? "reversal/\(id)"
        guard
            let (transfer, replayed) = try await self.ledger.reverse(
                id, tenant: tenant, reference: reference, reason: reason, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return Self.answer(transfer, replayed: replayed)
    }

    /// Holds live 1 minute to 30 days; 15 minutes unless told.
    static let timeouts = 60...(30 * 86_400)

    @Sendable func createHold(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<HoldDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateTransfer.self, context: context)
        let timeout = body.timeoutSeconds ?? 900
        guard Self.timeouts.contains(timeout) else {
            throw APIError.unprocessable("invalid_timeout", "timeoutSeconds is \(Self.timeouts.lowerBound) to \(Self.timeouts.upperBound).")
        }
        let posting = try Self.posting(body, request: request, caller: caller, tenant: tenant)
        let (hold, replayed) = try await self.ledger.createHold(posting, timeoutSeconds: timeout, requestID: context.requestID, logger: context.logger)
        return Self.answer(hold, replayed: replayed)
    }

    @Sendable func listHolds(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<HoldDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let before = try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
        let items = try await self.ledger.holds(
            tenant: tenant, status: try request.queryValues.value("status", as: HoldStatus.self), before: before, limit: page.limit,
            logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func getHold(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<HoldDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: WalletHoldID.self)
        guard let hold = try await self.ledger.hold(id, tenant: tenant, logger: context.logger) else { throw Self.holdNotFound }
        return JSONResponse(.ok, hold)
    }

    struct PostedHold: Codable, Sendable {
        var hold: HoldDTO
        var transfer: TransferDTO
    }

    @Sendable func postHold(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PostedHold> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: WalletHoldID.self)
        guard let outcome = try await self.ledger.postHold(id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.holdNotFound }
        switch outcome {
        case .posted(let hold, let transfer): return JSONResponse(.ok, PostedHold(hold: hold, transfer: transfer))
        case .expired: throw APIError.conflict("hold_expired", "This hold expired before it was posted; what it held is released.")
        }
    }

    @Sendable func voidHold(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<HoldDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: WalletHoldID.self)
        guard let hold = try await self.ledger.voidHold(id, tenant: tenant, logger: context.logger) else { throw Self.holdNotFound }
        return JSONResponse(.ok, hold)
    }
}
