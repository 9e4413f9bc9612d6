import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `/v1/vendors`, `/v1/buyers`, `/v1/products` and `/v1/commission-schedules`: the marketplace's parties (each with
/// its wallet account), its catalogue, and the commission it takes.
struct CatalogueController: Sendable {
    let vendors: VendorsStore
    /// Creating requests are made once per `Idempotency-Key`.
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletAPI.listVendors, use: self.listVendors)
        router.on(WalletAPI.createVendor, use: self.createVendor)
        router.on(WalletAPI.getVendor, use: self.getVendor)
        router.on(WalletAPI.updateVendor, use: self.updateVendor)
        router.on(WalletAPI.listBuyers, use: self.listBuyers)
        router.on(WalletAPI.createBuyer, use: self.createBuyer)
        router.on(WalletAPI.getBuyer, use: self.getBuyer)
        router.on(WalletAPI.updateBuyer, use: self.updateBuyer)
        router.on(WalletAPI.listProducts, use: self.listProducts)
        router.on(WalletAPI.createProduct, use: self.createProduct)
        router.on(WalletAPI.getProduct, use: self.getProduct)
        router.on(WalletAPI.updateProduct, use: self.updateProduct)
        router.on(WalletAPI.listCommissionSchedules, use: self.listSchedules)
        router.on(WalletAPI.createCommissionSchedule, use: self.createSchedule)
    }

    static let vendorNotFound = APIError.notFound("vendor_not_found", "No such vendor.")
    static let buyerNotFound = APIError.notFound("buyer_not_found", "No such buyer.")
    static let productNotFound = APIError.notFound("product_not_found", "No such product.")

    /// A by-name cursor: the name and the id.
    static func byName(_ page: PageRequest) throws -> (String, UUID)? {
        try page.cursor.map { ($0.string(0), try $0.uuid(1)) }
    }

    static func optionalText(_ text: String?, field: String, length: ClosedRange<Int>) throws -> String? {
        try TextRules.check(text, field: field, length: length)
        return text
    }

    // MARK: vendors

    /// Applies the body's fields (those present) to a vendor's.
    static func apply(_ body: VendorBody, to fields: inout VendorsStore.VendorFields) throws {
        if let name = body.name { fields.name = try MarketplaceRules.name(name) }
        if let phone = body.phone { fields.phone = try MarketplaceRules.phone(phone)?.e164 }
        if let region = body.region { fields.region = try Self.optionalText(region, field: "region", length: 1...100) }
        if let categories = body.categories { fields.categories = try MarketplaceRules.categories(categories) }
        if let rating = body.rating { fields.rating = try MarketplaceRules.fraction(rating, field: "rating", upTo: 5) }
        if let rate = body.fulfilmentRate { fields.fulfilmentRate = try MarketplaceRules.fraction(rate, field: "fulfilmentRate", upTo: 1) }
        if let ms = body.avgResponseMs {
            guard (0...(30 * 86_400_000)).contains(ms) else { throw APIError.unprocessable("invalid_avgResponseMs", "avgResponseMs is 0 to 30 days.") }
            fields.avgResponseMs = ms
        }
        if let trips = body.totalTrips {
            guard trips >= 0 && trips <= Int(Int32.max) else { throw APIError.unprocessable("invalid_totalTrips", "totalTrips is 0 or more.") }
            fields.totalTrips = trips
        }
        if let status = body.status {
            guard let value = VendorStatus(rawValue: status) else { throw APIError.unprocessable("invalid_status", "status is active or suspended.") }
            fields.status = value
        }
    }

    @Sendable func createVendor(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(VendorBody.self, context: context)
        let currency = try LedgerRules.currency(body.currency)
        var fields = VendorsStore.VendorFields(
            name: try MarketplaceRules.name(body.name), phone: nil, region: nil, categories: [], rating: nil, fulfilmentRate: nil, avgResponseMs: nil,
            totalTrips: 0, status: .active)
        try Self.apply(body, to: &fields)
        return try await self.idempotency.write(request, context: context, postgres: self.vendors.postgres) { connection in
            JSONResponse(
                .created,
                try await self.vendors.createVendor(
                    fields, currency: currency, tenant: tenant, actor: caller.subject, requestID: context.requestID, on: connection, logger: context.logger))
        }
    }

    @Sendable func updateVendor(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VendorDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: VendorID.self)
        let body = try await request.decodeJSON(VendorBody.self, context: context)
        guard body.currency == nil else {
            throw APIError.unprocessable("currency_fixed", "A vendor's currency is its wallet's; open another vendor for another currency.")
        }
        guard
            let vendor = try await self.vendors.updateVendor(
                id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger, change: { try Self.apply(body, to: &$0) })
        else { throw Self.vendorNotFound }
        return JSONResponse(.ok, vendor)
    }

    @Sendable func getVendor(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<VendorDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: VendorID.self)
        guard let vendor = try await self.vendors.vendor(id, tenant: tenant, logger: context.logger) else { throw Self.vendorNotFound }
        return JSONResponse(.ok, vendor)
    }

    @Sendable func listVendors(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<VendorDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let query = request.queryValues
        let items = try await self.vendors.vendors(
            tenant: tenant, category: try query.string("category", maxLength: 100), region: try query.string("region", maxLength: 100),
            status: try query.value("status", as: VendorStatus.self), search: try query.string("q", maxLength: 100), after: try Self.byName(page),
            limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.name, $0.id.description] }))
    }

    // MARK: buyers

    @Sendable func createBuyer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(BuyerBody.self, context: context)
        let name = try MarketplaceRules.name(body.name)
        let phone = try MarketplaceRules.phone(body.phone)
        let segment = try Self.optionalText(body.segment, field: "segment", length: 1...60)
        let currency = try LedgerRules.currency(body.currency)
        return try await self.idempotency.write(request, context: context, postgres: self.vendors.postgres) { connection in
            JSONResponse(
                .created,
                try await self.vendors.createBuyer(
                    name: name, phone: phone, segment: segment, currency: currency, tenant: tenant, actor: caller.subject, requestID: context.requestID,
                    on: connection, logger: context.logger))
        }
    }

    @Sendable func updateBuyer(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<BuyerDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: BuyerID.self)
        let body = try await request.decodeJSON(BuyerBody.self, context: context)
        guard body.currency == nil, body.phone == nil else {
            throw APIError.unprocessable("field_fixed", "A buyer's phone and currency stay as opened; change name or segment.")
        }
        let name = try body.name.map { try MarketplaceRules.name($0) }
        try TextRules.check(body.segment, field: "segment", length: 1...60)
        let segment: String?? = body.segment.map { .some($0) }
        guard
            let buyer = try await self.vendors.updateBuyer(
                id, tenant: tenant, name: name, segment: segment, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.buyerNotFound }
        return JSONResponse(.ok, buyer)
    }

    @Sendable func getBuyer(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<BuyerDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: BuyerID.self)
        guard let buyer = try await self.vendors.buyer(id, tenant: tenant, logger: context.logger) else { throw Self.buyerNotFound }
        return JSONResponse(.ok, buyer)
    }

    @Sendable func listBuyers(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<BuyerDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let query = request.queryValues
        let items = try await self.vendors.buyers(
            tenant: tenant, phone: try MarketplaceRules.phone(try query.string("phone", maxLength: 20)),
            segment: try query.string("segment", maxLength: 60), after: try Self.byName(page), limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.name, $0.id.description] }))
    }

    // MARK: products

    static func apply(_ body: ProductBody, to fields: inout VendorsStore.ProductFields) throws {
        if let name = body.name { fields.name = try MarketplaceRules.name(name) }
        if let description = body.description { fields.description = try Self.optionalText(description, field: "description", length: 1...4000) }
        if let category = body.category { fields.category = try Self.optionalText(category, field: "category", length: 1...100) }
        if let price = body.price { fields.price = try MarketplaceRules.price(price, currency: fields.currency) }
        if let available = body.available { fields.available = available }
        if let metadata = body.metadata { fields.metadata = try LedgerRules.metadata(metadata) }
    }

    @Sendable func createProduct(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(ProductBody.self, context: context)
        guard let vendorID = try BodyValues.id(body.vendorId, field: "vendorId", as: VendorID.self) else {
            throw APIError.unprocessable("invalid_vendorId", "vendorId is required.")
        }
        guard let vendor = try await self.vendors.vendor(vendorID, tenant: tenant, logger: context.logger) else {
            throw APIError.unprocessable("unknown_vendor", "No such vendor in this tenant.")
        }
        let currency = try LedgerRules.currency(body.currency ?? vendor.currency.code)
        guard currency == vendor.currency else {
            throw APIError.unprocessable("currency_mismatch", "This vendor is paid in \(vendor.currency.code): price its products in it.")
        }
        var fields = VendorsStore.ProductFields(
            name: try MarketplaceRules.name(body.name), description: nil, category: nil,
            price: try MarketplaceRules.price(body.price, currency: currency), currency: currency, available: true, metadata: [:])
        try Self.apply(body, to: &fields)
        return try await self.idempotency.write(request, context: context, postgres: self.vendors.postgres) { connection in
            JSONResponse(
                .created,
                try await self.vendors.createProduct(
                    fields, vendor: vendorID, tenant: tenant, actor: caller.subject, requestID: context.requestID, on: connection, logger: context.logger))
        }
    }

    @Sendable func updateProduct(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ProductDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: ProductID.self)
        let body = try await request.decodeJSON(ProductBody.self, context: context)
        guard body.vendorId == nil, body.currency == nil else {
            throw APIError.unprocessable("field_fixed", "A product's vendor and currency stay as created.")
        }
        guard
            let product = try await self.vendors.updateProduct(
                id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger, change: { try Self.apply(body, to: &$0) })
        else { throw Self.productNotFound }
        return JSONResponse(.ok, product)
    }

    @Sendable func getProduct(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ProductDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: ProductID.self)
        guard let product = try await self.vendors.product(id, tenant: tenant, logger: context.logger) else { throw Self.productNotFound }
        return JSONResponse(.ok, product)
    }

    @Sendable func listProducts(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<ProductDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let query = request.queryValues
        var metadata: [String: JSONValue]? = nil
        if let text = try query.string("metadata", maxLength: 2000) {
            guard let object = try? JSONDecoder.sokoni.decode([String: JSONValue].self, from: Data(text.utf8)) else {
                throw APIError.badRequest("invalid_metadata", "metadata is a JSON object the products' metadata must contain, e.g. {\"fuel\":\"diesel\"}.")
            }
            metadata = try LedgerRules.metadata(object)
        }
        let items = try await self.vendors.products(
            tenant: tenant, search: try query.string("q", maxLength: 200), metadata: metadata, vendor: try query.id("vendorId", as: VendorID.self),
            category: try query.string("category", maxLength: 100), available: try query.bool("available"), after: try Self.byName(page),
            limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.name, $0.id.description] }))
    }

    // MARK: commission schedules

    @Sendable func createSchedule(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CommissionScheduleBody.self, context: context)
        guard let rate = body.rateBps, (0...10_000).contains(rate) else {
            throw APIError.unprocessable("invalid_rateBps", "rateBps is the rate in basis points, 0 to 10000 (250 = 2.5%).")
        }
        var fee: Money? = nil
        if let text = body.flatFee {
            let currency = try LedgerRules.currency(body.currency)
            let money: Money
            do { money = try Money(decimal: text, currency: currency) } catch {
                throw APIError.unprocessable("invalid_flatFee", "flatFee: \(error.description).")
            }
            guard money.minorUnits >= 0, money.minorUnits <= LedgerRules.maxAmount else {
                throw APIError.unprocessable("invalid_flatFee", "flatFee is 0 or more.")
            }
            fee = money.minorUnits > 0 ? money : nil
        }
        let product = try BodyValues.id(body.productId, field: "productId", as: ProductID.self)
        return try await self.idempotency.write(request, context: context, postgres: self.vendors.postgres) { connection in
            JSONResponse(
                .created,
                try await self.vendors.createSchedule(
                    product: product, rateBps: rate, flatFee: fee, effectiveFrom: body.effectiveFrom ?? Date(), tenant: tenant, actor: caller.subject,
                    requestID: context.requestID, on: connection, logger: context.logger))
        }
    }

    @Sendable func listSchedules(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<CommissionScheduleDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let items = try await self.vendors.schedules(
            tenant: tenant, product: try request.queryValues.id("productId", as: ProductID.self), logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: nil))
    }
}
