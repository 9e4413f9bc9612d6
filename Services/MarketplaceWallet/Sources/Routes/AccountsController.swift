import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/POST /v1/wallet/accounts`, `GET/PATCH /v1/wallet/accounts/{id}`: a tenant's ledger accounts, each with its
/// balance, what holds reserve on it and its newest entries; opened, frozen, unfrozen and closed by its bookkeepers.
struct AccountsController: Sendable {
    let ledger: LedgerStore
    /// Opening an account is done once per `Idempotency-Key`.
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletAPI.listAccounts, use: self.list)
        router.on(WalletAPI.createAccount, use: self.create)
        router.on(WalletAPI.getAccount, use: self.get)
        router.on(WalletAPI.updateAccount, use: self.update)
    }

    static let notFound = APIError.notFound("account_not_found", "No such account.")

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<AccountDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { (try OwnerType.from($0.string(0)).rawValue, try $0.uuid(1)) }
        let query = request.queryValues
        let currency = try query.string("currency", maxLength: 3).map { try LedgerRules.currency($0) }
        let ownerID = try query.string("ownerId", maxLength: 120)
        let items = try await self.ledger.accounts(
            tenant: tenant, ownerType: try query.value("ownerType", as: OwnerType.self), currency: currency,
            status: try query.value("status", as: AccountStatus.self), ownerID: ownerID, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.ownerType.rawValue, $0.id.description] }))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateAccount.self, context: context)
        guard let type = body.ownerType.flatMap(OwnerType.init(rawValue:)) else {
            throw APIError.unprocessable("invalid_owner_type", "ownerType is vendor, buyer, platform or commission.")
        }
        guard let owner = body.ownerId else { throw APIError.unprocessable("invalid_owner_id", "ownerId is required.") }
        try TextRules.check(owner, field: "ownerId", length: 1...120)
        try TextRules.check(body.name, field: "name", length: 1...200)
        let currency = try LedgerRules.currency(body.currency)
        let allowNegative = body.allowNegative ?? false
        guard !allowNegative || type == .platform else {
            throw APIError.unprocessable("negative_not_allowed", "Only a platform account (the funding account) may go below zero.")
        }
        return try await self.idempotency.write(request, context: context, postgres: self.ledger.postgres) { connection in
            JSONResponse(
                .created,
                try await self.ledger.createAccount(
                    tenant: tenant, ownerType: type, ownerID: owner, currency: currency, name: body.name, allowNegative: allowNegative, actor: caller.subject,
                    requestID: context.requestID, on: connection, logger: context.logger))
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AccountDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: WalletAccountID.self)
        let entries = try request.queryValues.int("entries", range: 0...200) ?? 20
        guard var account = try await self.ledger.account(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        account.recentEntries = try await self.ledger.recentEntries(id, limit: entries, logger: context.logger)
        return JSONResponse(.ok, account)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<AccountDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: WalletAccountID.self)
        let body = try await request.decodeJSON(UpdateAccount.self, context: context)
        guard let status = body.status.flatMap(AccountStatus.init(rawValue:)) else {
            throw APIError.unprocessable("invalid_status", "status is active, frozen or closed.")
        }
        let reason = try LedgerRules.reason(body.reason, required: false)
        guard
            let account = try await self.ledger.setStatus(
                id, tenant: tenant, status: status, reason: reason, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, account)
    }
}

extension OwnerType {
    /// A cursor's owner type (a cursor this API gave out names one).
    static func from(_ text: String) throws -> OwnerType {
        guard let type = OwnerType(rawValue: text) else { throw APIError.badRequest("invalid_cursor", "The cursor is not one this API gave out.") }
        return type
    }
}
