import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of the marketplace's parties and catalogue: vendors and buyers (each opened with its wallet account in the
/// same database transaction), products, and commission schedules.
struct VendorsStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog

    static let errors = ConstraintErrors(
        [
            "buyers_phone_key": .conflict("buyer_exists", "A buyer with this phone already exists."),
            "accounts_owner_key": .conflict("account_exists", "This owner already has an account in this currency."),
            "products_vendor_fkey": .unprocessable("unknown_vendor", "No such vendor in this tenant."),
            "commission_schedules_product_fkey": .unprocessable("unknown_product", "No such product in this tenant."),
            "commission_schedules_moment_key": .conflict("schedule_exists", "A schedule for this product already starts at that moment."),
        ])

    /// Opens the owner's ledger account on an open transaction.
    static func openAccount(
        tenant: TenantID, ownerType: OwnerType, ownerID: String, currency: Currency, name: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> WalletAccountID {
        let id = WalletAccountID()
        try await connection.query(
            """
            INSERT INTO wallet.accounts (id, tenant_id, owner_type, owner_id, currency, name)
            VALUES (\(id.rawValue), \(tenant.rawValue), \(ownerType.rawValue), \(ownerID), \(currency.code), \(name))
            """, logger: logger)
        return id
    }

    // MARK: vendors

    static let vendorColumns =
        "id, name, phone, region, categories, rating::float8, fulfilment_rate::float8, avg_response_ms, total_trips, status, account_id, currency, created_at, updated_at"
    typealias VendorRow = (UUID, String, String?, String?, [String], Double?, Double?, Int64?, Int32, String, UUID, String, Date, Date)

    static func vendor(_ row: VendorRow) throws -> VendorDTO {
        guard let currency = Currency(code: row.11) else { throw CorruptRow("vendor \(row.0) has currency \(row.11)") }
        return VendorDTO(
            id: VendorID(row.0), name: row.1, phone: row.2, region: row.3, categories: row.4, rating: row.5, fulfilmentRate: row.6, avgResponseMs: row.7,
            totalTrips: Int(row.8), status: try CorruptRow.known(row.9), accountId: WalletAccountID(row.10), currency: currency, createdAt: row.12,
            updatedAt: row.13)
    }

    struct VendorFields: Sendable, Encodable {
        var name: String
        var phone: String?
        var region: String?
        var categories: [String]
        var rating: Double?
        var fulfilmentRate: Double?
        var avgResponseMs: Int64?
        var totalTrips: Int
        var status: VendorStatus
    }

    func createVendor(
        _ fields: VendorFields, currency: Currency, tenant: TenantID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> VendorDTO
    {
        try await Self.errors.map {
            let id = VendorID()
            let account = try await Self.openAccount(
                tenant: tenant, ownerType: .vendor, ownerID: id.description, currency: currency, name: fields.name, on: connection, logger: logger)
            let row = try await connection.query(
                """
                INSERT INTO wallet.vendors (id, tenant_id, name, phone, region, categories, rating, fulfilment_rate, avg_response_ms, total_trips,
                                            status, account_id, currency)
                VALUES (\(id.rawValue), \(tenant.rawValue), \(fields.name), \(fields.phone), \(fields.region), \(fields.categories),
                        \(fields.rating)::float8, \(fields.fulfilmentRate)::float8, \(fields.avgResponseMs), \(fields.totalTrips),
                        \(fields.status.rawValue), \(account.rawValue), \(currency.code))
                RETURNING \(unescaped: Self.vendorColumns)
                """, logger: logger
            ).first(as: VendorRow.self)!
            let vendor = try Self.vendor(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "vendor.create", table: "vendors", targetID: id.description,
                before: nil as VendorDTO?, after: vendor, requestID: requestID, logger: logger)
            return vendor
        }
    }

    func updateVendor(
        _ id: VendorID, tenant: TenantID, actor: String, requestID: String, logger: Logger, change: (inout VendorFields) throws -> Void
    ) async throws -> VendorDTO? {
        try await Self.errors.map {
            try await self.postgres.withTransaction(logger: logger) { connection in
                guard
                    let before = try await connection.query(
                        "SELECT \(unescaped: Self.vendorColumns) FROM wallet.vendors WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                        logger: logger
                    ).first(as: VendorRow.self).map(Self.vendor)
                else { return nil }
                var fields = VendorFields(
                    name: before.name, phone: before.phone, region: before.region, categories: before.categories, rating: before.rating,
                    fulfilmentRate: before.fulfilmentRate, avgResponseMs: before.avgResponseMs, totalTrips: before.totalTrips, status: before.status)
                try change(&fields)
                let row = try await connection.query(
                    """
                    UPDATE wallet.vendors SET name = \(fields.name), phone = \(fields.phone), region = \(fields.region), categories = \(fields.categories),
                        rating = \(fields.rating)::float8, fulfilment_rate = \(fields.fulfilmentRate)::float8, avg_response_ms = \(fields.avgResponseMs),
                        total_trips = \(fields.totalTrips), status = \(fields.status.rawValue), updated_at = now()
                    WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.vendorColumns)
                    """, logger: logger
                ).first(as: VendorRow.self)!
                let after = try Self.vendor(row)
                try await self.audit.record(
                    on: connection, tenantID: tenant, actor: actor, action: "vendor.update", table: "vendors", targetID: id.description, before: before,
                    after: after, requestID: requestID, logger: logger)
                return after
            }
        }
    }

    func vendor(_ id: VendorID, tenant: TenantID, logger: Logger) async throws -> VendorDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.vendorColumns) FROM wallet.vendors WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: VendorRow.self).map(Self.vendor)
    }

    /// A page of vendors by name; `category`, `region` and `q` (in the name) narrow it.
    func vendors(
        tenant: TenantID, category: String?, region: String?, status: VendorStatus?, search: String?, after: (String, UUID)?, limit: Int, logger: Logger
    ) async throws -> [VendorDTO] {
        let pattern = LikePattern.containing(search)
        return try await self.postgres.query(
            """
            SELECT \(unescaped: Self.vendorColumns) FROM wallet.vendors
            WHERE tenant_id = \(tenant.rawValue) AND (\(category)::text IS NULL OR categories @> ARRAY[lower(\(category))])
              AND (\(region)::text IS NULL OR lower(region) = lower(\(region))) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(pattern)::text IS NULL OR name ILIKE \(pattern))
              AND (\(after == nil) OR (name, id) > (\(after?.0 ?? ""), \(after?.1 ?? UUID())))
            ORDER BY name, id LIMIT \(limit)
            """, logger: logger
        ).all(as: VendorRow.self).map(Self.vendor)
    }

    // MARK: buyers

    static let buyerColumns = "id, name, phone, segment, account_id, currency, created_at, updated_at"
    typealias BuyerRow = (UUID, String, String?, String?, UUID, String, Date, Date)

    static func buyer(_ row: BuyerRow) throws -> BuyerDTO {
        guard let currency = Currency(code: row.5) else { throw CorruptRow("buyer \(row.0) has currency \(row.5)") }
        return BuyerDTO(
            id: BuyerID(row.0), name: row.1, phone: row.2, segment: row.3, accountId: WalletAccountID(row.4), currency: currency, createdAt: row.6,
            updatedAt: row.7)
    }

    func createBuyer(
        name: String, phone: PhoneNumber?, segment: String?, currency: Currency, tenant: TenantID, actor: String, requestID: String,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> BuyerDTO {
        try await Self.errors.map {
            let id = BuyerID()
            let account = try await Self.openAccount(
                tenant: tenant, ownerType: .buyer, ownerID: id.description, currency: currency, name: name, on: connection, logger: logger)
            let row = try await connection.query(
                """
                INSERT INTO wallet.buyers (id, tenant_id, name, phone, segment, account_id, currency)
                VALUES (\(id.rawValue), \(tenant.rawValue), \(name), \(phone?.e164), \(segment), \(account.rawValue), \(currency.code))
                RETURNING \(unescaped: Self.buyerColumns)
                """, logger: logger
            ).first(as: BuyerRow.self)!
            let buyer = try Self.buyer(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "buyer.create", table: "buyers", targetID: id.description,
                before: nil as BuyerDTO?, after: buyer, requestID: requestID, logger: logger)
            return buyer
        }
    }

    func updateBuyer(_ id: BuyerID, tenant: TenantID, name: String?, segment: String??, actor: String, requestID: String, logger: Logger) async throws
        -> BuyerDTO?
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.buyerColumns) FROM wallet.buyers WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                    logger: logger
                ).first(as: BuyerRow.self).map(Self.buyer)
            else { return nil }
            let row = try await connection.query(
                """
                UPDATE wallet.buyers SET name = \(name ?? before.name), segment = \(segment ?? before.segment), updated_at = now()
                WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.buyerColumns)
                """, logger: logger
            ).first(as: BuyerRow.self)!
            let after = try Self.buyer(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "buyer.update", table: "buyers", targetID: id.description, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    func buyer(_ id: BuyerID, tenant: TenantID, logger: Logger) async throws -> BuyerDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.buyerColumns) FROM wallet.buyers WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: BuyerRow.self).map(Self.buyer)
    }

    func buyers(tenant: TenantID, phone: PhoneNumber?, segment: String?, after: (String, UUID)?, limit: Int, logger: Logger) async throws -> [BuyerDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.buyerColumns) FROM wallet.buyers
            WHERE tenant_id = \(tenant.rawValue) AND (\(phone?.e164)::text IS NULL OR phone = \(phone?.e164))
              AND (\(segment)::text IS NULL OR segment = \(segment))
              AND (\(after == nil) OR (name, id) > (\(after?.0 ?? ""), \(after?.1 ?? UUID())))
            ORDER BY name, id LIMIT \(limit)
            """, logger: logger
        ).all(as: BuyerRow.self).map(Self.buyer)
    }

    // MARK: products

    static let productColumns = "id, vendor_id, name, description, category, price, currency, available, metadata::text, created_at, updated_at"
    typealias ProductRow = (UUID, UUID, String, String?, String?, Int64, String, Bool, String, Date, Date)

    static func product(_ row: ProductRow) throws -> ProductDTO {
        guard let currency = Currency(code: row.6) else { throw CorruptRow("product \(row.0) has currency \(row.6)") }
        return ProductDTO(
            id: ProductID(row.0), vendorId: VendorID(row.1), name: row.2, description: row.3, category: row.4,
            price: Money(minorUnits: row.5, currency: currency), available: row.7,
            metadata: try JSONDecoder.sokoni.decode([String: JSONValue].self, from: Data(row.8.utf8)), createdAt: row.9, updatedAt: row.10)
    }

    struct ProductFields: Sendable {
        var name: String
        var description: String?
        var category: String?
        var price: Int64
        var currency: Currency
        var available: Bool
        var metadata: [String: JSONValue]
    }

    func createProduct(
        _ fields: ProductFields, vendor: VendorID, tenant: TenantID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger
    ) async throws
        -> ProductDTO
    {
        try await Self.errors.map {
            let metadata = String(decoding: try JSONEncoder.hashing.encode(fields.metadata), as: UTF8.self)
            let row = try await connection.query(
                """
                INSERT INTO wallet.products (id, tenant_id, vendor_id, name, description, category, price, currency, available, metadata)
                VALUES (\(UUID()), \(tenant.rawValue), \(vendor.rawValue), \(fields.name), \(fields.description), \(fields.category?.lowercased()),
                        \(fields.price), \(fields.currency.code), \(fields.available), \(metadata)::jsonb)
                RETURNING \(unescaped: Self.productColumns)
                """, logger: logger
            ).first(as: ProductRow.self)!
            let product = try Self.product(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "product.create", table: "products", targetID: product.id.description,
                before: nil as ProductDTO?, after: product, requestID: requestID, logger: logger)
            return product
        }
    }

    func updateProduct(
        _ id: ProductID, tenant: TenantID, actor: String, requestID: String, logger: Logger, change: (inout ProductFields) throws -> Void
    ) async throws -> ProductDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.productColumns) FROM wallet.products WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                    logger: logger
                ).first(as: ProductRow.self).map(Self.product)
            else { return nil }
            var fields = ProductFields(
                name: before.name, description: before.description, category: before.category, price: before.price.minorUnits,
                currency: before.price.currency, available: before.available, metadata: before.metadata)
            try change(&fields)
            let metadata = String(decoding: try JSONEncoder.hashing.encode(fields.metadata), as: UTF8.self)
            let row = try await connection.query(
                """
                UPDATE wallet.products SET name = \(fields.name), description = \(fields.description), category = \(fields.category?.lowercased()),
                    price = \(fields.price), available = \(fields.available), metadata = \(metadata)::jsonb, updated_at = now()
                WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.productColumns)
                """, logger: logger
            ).first(as: ProductRow.self)!
            let after = try Self.product(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "product.update", table: "products", targetID: id.description, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    func product(_ id: ProductID, tenant: TenantID, logger: Logger) async throws -> ProductDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.productColumns) FROM wallet.products WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: ProductRow.self).map(Self.product)
    }

    /// Products matching every given filter: words (`q`, all of them, in name, description or category), metadata
    /// containment (`metadata`: a JSON object the product's metadata must contain; the GIN index answers it), vendor,
    /// category, availability. Ordered by name.
    func products(
        tenant: TenantID, search: String?, metadata: [String: JSONValue]?, vendor: VendorID?, category: String?, available: Bool?,
        after: (String, UUID)?, limit: Int, logger: Logger
    ) async throws -> [ProductDTO] {
        let containment = try metadata.map { String(decoding: try JSONEncoder.hashing.encode($0), as: UTF8.self) }
        return try await self.postgres.query(
            """
            SELECT \(unescaped: Self.productColumns) FROM wallet.products
            WHERE tenant_id = \(tenant.rawValue)
              AND (\(search)::text IS NULL OR search @@ plainto_tsquery('simple', \(search)))
              AND (\(containment)::jsonb IS NULL OR metadata @> \(containment)::jsonb)
              AND (\(vendor?.rawValue)::uuid IS NULL OR vendor_id = \(vendor?.rawValue))
              AND (\(category)::text IS NULL OR category = lower(\(category)))
              AND (\(available)::bool IS NULL OR available = \(available))
              AND (\(after == nil) OR (name, id) > (\(after?.0 ?? ""), \(after?.1 ?? UUID())))
            ORDER BY name, id LIMIT \(limit)
            """, logger: logger
        ).all(as: ProductRow.self).map(Self.product)
    }

    // MARK: commission schedules

    static let scheduleColumns = "id, product_id, rate_bps, flat_fee, currency, effective_from, created_by, created_at"
    typealias ScheduleRow = (UUID, UUID?, Int32, Int64, String?, Date, String, Date)

    static func schedule(_ row: ScheduleRow) throws -> CommissionScheduleDTO {
        var fee: Money? = nil
        if let code = row.4 {
            guard let currency = Currency(code: code) else { throw CorruptRow("schedule \(row.0) has currency \(code)") }
            fee = Money(minorUnits: row.3, currency: currency)
        } else if row.3 != 0 {
            throw CorruptRow("schedule \(row.0) has a fee without a currency")
        }
        return CommissionScheduleDTO(
            id: CommissionScheduleID(row.0), productId: row.1.map { ProductID($0) }, rateBps: Int(row.2), flatFee: fee, effectiveFrom: row.5,
            createdBy: row.6, createdAt: row.7)
    }

    func createSchedule(
        product: ProductID?, rateBps: Int, flatFee: Money?, effectiveFrom: Date, tenant: TenantID, actor: String, requestID: String,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> CommissionScheduleDTO {
        try await Self.errors.map {
            let row = try await connection.query(
                """
                INSERT INTO wallet.commission_schedules (id, tenant_id, product_id, rate_bps, flat_fee, currency, effective_from, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(product?.rawValue), \(rateBps), \(flatFee?.minorUnits ?? 0), \(flatFee?.currency.code),
                        \(effectiveFrom), \(actor))
                RETURNING \(unescaped: Self.scheduleColumns)
                """, logger: logger
            ).first(as: ScheduleRow.self)!
            let schedule = try Self.schedule(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "commission_schedule.create", table: "commission_schedules",
                targetID: schedule.id.description, before: nil as CommissionScheduleDTO?, after: schedule, requestID: requestID, logger: logger)
            return schedule
        }
    }

    func schedules(tenant: TenantID, product: ProductID?, logger: Logger) async throws -> [CommissionScheduleDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.scheduleColumns) FROM wallet.commission_schedules
            WHERE tenant_id = \(tenant.rawValue) AND (\(product?.rawValue)::uuid IS NULL OR product_id = \(product?.rawValue))
            ORDER BY product_id NULLS FIRST, effective_from DESC LIMIT 500
            """, logger: logger
        ).all(as: ScheduleRow.self).map(Self.schedule)
    }
}
