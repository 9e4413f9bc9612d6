import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `/v1/intents`, `/v1/quotes` and `/v1/purchases`: a buyer's demand, vendors' quotes ranked with their reasons, and
/// the purchase made by accepting one, settled on the ledger at the quote's price (never a price from the caller).
struct PurchasesController: Sendable {
    let purchases: PurchasesStore
    /// Creating requests are made once per `Idempotency-Key` (a retried agent reply asks for quotes once).
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletAPI.listIntents, use: self.listIntents)
        router.on(WalletAPI.createIntent, use: self.createIntent)
        router.on(WalletAPI.getIntent, use: self.getIntent)
        router.on(WalletAPI.cancelIntent, use: self.cancelIntent)
        router.on(WalletAPI.listQuotes, use: self.listQuotes)
        router.on(WalletAPI.createQuote, use: self.createQuote)
        router.on(WalletAPI.getQuote, use: self.getQuote)
        router.on(WalletAPI.acceptQuote, use: self.acceptQuote)
        router.on(WalletAPI.rejectQuote, use: self.rejectQuote)
        router.on(WalletAPI.listPurchases, use: self.listPurchases)
        router.on(WalletAPI.getPurchase, use: self.getPurchase)
        router.on(WalletAPI.completePurchase, use: self.completePurchase)
        router.on(WalletAPI.cancelPurchase, use: self.cancelPurchase)
    }

    static let intentNotFound = APIError.notFound("intent_not_found", "No such intent.")
    static let quoteNotFound = APIError.notFound("quote_not_found", "No such quote.")
    static let purchaseNotFound = APIError.notFound("purchase_not_found", "No such purchase.")

    /// A newest-first cursor: microseconds and the id.
    static func before(_ page: PageRequest) throws -> (Int64, UUID)? {
        try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
    }

    // MARK: intents

    @Sendable func createIntent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(IntentBody.self, context: context)
        guard let buyer = try BodyValues.id(body.buyerId, field: "buyerId", as: BuyerID.self) else {
            throw APIError.unprocessable("invalid_buyerId", "buyerId is required.")
        }
        guard let channel = body.channel.flatMap(IntentChannel.init(rawValue:)) else {
            throw APIError.unprocessable(
                "invalid_channel", "channel is one of \(IntentChannel.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        let lifetime = body.expiresInSeconds ?? 86_400
        guard MarketplaceRules.intentLifetimes.contains(lifetime) else {
            throw APIError.unprocessable(
                "invalid_expiresInSeconds",
                "expiresInSeconds is \(MarketplaceRules.intentLifetimes.lowerBound) to \(MarketplaceRules.intentLifetimes.upperBound).")
        }
        try TextRules.check(body.category, field: "category", length: 1...100)
        try TextRules.check(body.region, field: "region", length: 1...100)
        try TextRules.check(body.description, field: "description", length: 1...2000)
        try TextRules.check(body.conversationId, field: "conversationId", length: 1...120)
        let fields = PurchasesStore.IntentFields(
            buyer: buyer, channel: channel, category: body.category, region: body.region,
            product: try BodyValues.id(body.productId, field: "productId", as: ProductID.self), description: body.description,
            payload: try LedgerRules.metadata(body.payload), expiresInSeconds: lifetime, conversationID: body.conversationId)
        return try await self.idempotency.write(request, context: context, postgres: self.purchases.postgres) { connection in
            JSONResponse(
                .created,
                try await self.purchases.createIntent(
                    fields, tenant: tenant, actor: caller.subject, requestID: context.requestID, on: connection, logger: context.logger))
        }
    }

    @Sendable func getIntent(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<IntentDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: IntentID.self)
        guard let intent = try await self.purchases.intent(id, tenant: tenant, logger: context.logger) else { throw Self.intentNotFound }
        return JSONResponse(.ok, intent)
    }

    @Sendable func listIntents(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<IntentDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let query = request.queryValues
        let items = try await self.purchases.intents(
            tenant: tenant, status: try query.value("status", as: IntentStatus.self), buyer: try query.id("buyerId", as: BuyerID.self),
            before: try Self.before(page), limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func cancelIntent(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<IntentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: IntentID.self)
        guard
            let intent = try await self.purchases.cancelIntent(
                id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.intentNotFound }
        return JSONResponse(.ok, intent)
    }

    // MARK: quotes

    @Sendable func createQuote(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(QuoteBody.self, context: context)
        guard let intent = try BodyValues.id(body.intentId, field: "intentId", as: IntentID.self) else {
            throw APIError.unprocessable("invalid_intentId", "intentId is required.")
        }
        guard let vendor = try BodyValues.id(body.vendorId, field: "vendorId", as: VendorID.self) else {
            throw APIError.unprocessable("invalid_vendorId", "vendorId is required.")
        }
        guard let eta = body.etaMinutes, (0...525_600).contains(eta) else {
            throw APIError.unprocessable("invalid_etaMinutes", "etaMinutes is 0 to 525600 (a year).")
        }
        try TextRules.check(body.note, field: "note", length: 1...1000)
        let currency = try LedgerRules.currency(body.currency)
        let fields = PurchasesStore.QuoteFields(
            intent: intent, vendor: vendor, product: try BodyValues.id(body.productId, field: "productId", as: ProductID.self),
            price: Money(minorUnits: try MarketplaceRules.price(body.price, currency: currency), currency: currency), etaMinutes: eta, note: body.note)
        return try await self.idempotency.write(request, context: context, postgres: self.purchases.postgres) { connection in
            JSONResponse(
                .created,
                try await self.purchases.createQuote(
                    fields, tenant: tenant, actor: caller.subject, requestID: context.requestID, on: connection, logger: context.logger))
        }
    }

    @Sendable func getQuote(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<QuoteDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: QuoteID.self)
        guard let quote = try await self.purchases.quote(id, tenant: tenant, logger: context.logger) else { throw Self.quoteNotFound }
        return JSONResponse(.ok, quote)
    }

    @Sendable func listQuotes(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<QuoteDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let query = request.queryValues
        let items = try await self.purchases.quotes(
            tenant: tenant, intent: try query.id("intentId", as: IntentID.self), vendor: try query.id("vendorId", as: VendorID.self),
            status: try query.value("status", as: QuoteStatus.self), before: try Self.before(page), limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    /// 201 with the purchase; accepting the same quote again answers it with 200 and `Idempotent-Replayed: true`.
    @Sendable func acceptQuote(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PurchaseDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: QuoteID.self)
        guard
            let (purchase, replayed) = try await self.purchases.acceptQuote(
                id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.quoteNotFound }
        return TransfersController.answer(purchase, replayed: replayed)
    }

    @Sendable func rejectQuote(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<QuoteDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: QuoteID.self)
        guard
            let quote = try await self.purchases.rejectQuote(id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.quoteNotFound }
        return JSONResponse(.ok, quote)
    }

    // MARK: purchases

    @Sendable func getPurchase(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PurchaseDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: PurchaseID.self)
        guard let purchase = try await self.purchases.purchase(id, tenant: tenant, logger: context.logger) else { throw Self.purchaseNotFound }
        return JSONResponse(.ok, purchase)
    }

    @Sendable func listPurchases(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<PurchaseDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let query = request.queryValues
        let items = try await self.purchases.purchases(
            tenant: tenant, status: try query.value("status", as: PurchaseStatus.self), buyer: try query.id("buyerId", as: BuyerID.self),
            vendor: try query.id("vendorId", as: VendorID.self), before: try Self.before(page), limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    /// 200 with the completed purchase; a completion the ledger refuses is a 409 and the purchase is then failed, its
    /// hold voided (read it again to see why).
    @Sendable func completePurchase(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PurchaseDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: PurchaseID.self)
        switch try await self.purchases.completePurchase(id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger) {
        case .completed(let purchase): return JSONResponse(.ok, purchase)
        case .failed(_, let refusal): throw refusal
        case nil: throw Self.purchaseNotFound
        }
    }

    @Sendable func cancelPurchase(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<PurchaseDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: PurchaseID.self)
        let body = try await request.decodeJSON(ReasonBody.self, context: context, orIfEmpty: ReasonBody(reason: nil))
        let reason = try LedgerRules.reason(body?.reason, required: false)
        guard
            let purchase = try await self.purchases.cancelPurchase(
                id, tenant: tenant, reason: reason, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.purchaseNotFound }
        return JSONResponse(.ok, purchase)
    }
}
