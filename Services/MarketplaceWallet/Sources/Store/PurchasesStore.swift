import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of the purchase flow: intents, quotes, and purchases settled on the ledger. Accepting a quote is one
/// database transaction that locks the intent (so acceptances of one intent queue), accepts the quote, rejects the
/// others, and reserves the quote's price on the buyer's wallet with a ledger hold; completing posts that hold,
/// cancelling voids it. A step that fails leaves nothing half-done: the transaction rolls back, or (a completion the
/// ledger refuses) the hold is voided and the purchase marked failed with the reason.
struct PurchasesStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let ledger: LedgerStore
    /// The buyer's lead hears of each completed purchase (the customer's amount spent).
    let crm: CRMEvents

    static let errors = ConstraintErrors(
        [
            "intents_buyer_fkey": .unprocessable("unknown_buyer", "No such buyer in this tenant."),
            "intents_product_fkey": .unprocessable("unknown_product", "No such product in this tenant."),
            "quotes_vendor_fkey": .unprocessable("unknown_vendor", "No such vendor in this tenant."),
            "quotes_product_fkey": .unprocessable("unknown_product", "No such product in this tenant."),
            "quotes_one_accepted": .conflict("intent_already_accepted", "Another quote of this intent was accepted."),
            "purchases_intent_key": .conflict("intent_already_purchased", "This intent already has a purchase."),
            "purchases_commission_within_amount": .unprocessable("commission_exceeds_amount", "The commission is more than the purchase."),
        ])

    // MARK: intents

    static let intentColumns =
        "id, buyer_id, channel, category, region, product_id, description, payload::text, status, expires_at, conversation_id, created_by, created_at, updated_at"
    typealias IntentRow = (UUID, UUID, String, String?, String?, UUID?, String?, String, String, Date, String?, String, Date, Date)

    static func intent(_ row: IntentRow) throws -> IntentDTO {
        IntentDTO(
            id: IntentID(row.0), buyerId: BuyerID(row.1), channel: try CorruptRow.known(row.2), category: row.3, region: row.4,
            productId: row.5.map { ProductID($0) }, description: row.6,
            payload: try JSONDecoder.sokoni.decode([String: JSONValue].self, from: Data(row.7.utf8)), status: try CorruptRow.known(row.8),
            expiresAt: row.9, conversationId: row.10, createdBy: row.11, createdAt: row.12, updatedAt: row.13, quotes: nil, ranking: nil,
            purchaseId: nil)
    }

    struct IntentFields: Sendable {
        var buyer: BuyerID
        var channel: IntentChannel
        var category: String?
        var region: String?
        var product: ProductID?
        var description: String?
        var payload: [String: JSONValue]
        var expiresInSeconds: Int
        var conversationID: String?
    }

    func createIntent(_ fields: IntentFields, tenant: TenantID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger)
        async throws -> IntentDTO
    {
        try await Self.errors.map {
            let payload = String(decoding: try JSONEncoder.hashing.encode(fields.payload), as: UTF8.self)
            let row = try await connection.query(
                """
                INSERT INTO wallet.intents (id, tenant_id, buyer_id, channel, category, region, product_id, description, payload, expires_at,
                                            conversation_id, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(fields.buyer.rawValue), \(fields.channel.rawValue), \(fields.category?.lowercased()),
                        \(fields.region), \(fields.product?.rawValue), \(fields.description), \(payload)::jsonb,
                        now() + make_interval(secs => \(Double(fields.expiresInSeconds))), \(fields.conversationID), \(actor))
                RETURNING \(unescaped: Self.intentColumns)
                """, logger: logger
            ).first(as: IntentRow.self)!
            let intent = try Self.intent(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "intent.create", table: "intents", targetID: intent.id.description,
                before: nil as IntentDTO?, after: intent, requestID: requestID, logger: logger)
            return intent
        }
    }

    /// An intent with its quotes, its purchase, and the tenant's vendors ranked for it: the active vendors of its
    /// category (all active vendors when it names none) and every vendor that quoted, at most 50.
    func intent(_ id: IntentID, tenant: TenantID, logger: Logger) async throws -> IntentDTO? {
        try await self.postgres.withConnection { connection in
            guard
                var intent = try await connection.query(
                    "SELECT \(unescaped: Self.intentColumns) FROM wallet.intents WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)",
                    logger: logger
                ).first(as: IntentRow.self).map(Self.intent)
            else { return nil }
            let quotes = try await connection.query(
                "SELECT \(unescaped: Self.quoteColumns) FROM wallet.quotes WHERE intent_id = \(id.rawValue) ORDER BY created_at, id", logger: logger
            ).all(as: QuoteRow.self).map(Self.quote)
            let vendors = try await connection.query(
                """
                SELECT id, name, region, categories, rating::float8, fulfilment_rate::float8, avg_response_ms FROM wallet.vendors v
                WHERE tenant_id = \(tenant.rawValue)
                  AND ((status = 'active' AND (\(intent.category)::text IS NULL OR categories @> ARRAY[\(intent.category)::text]))
                       OR EXISTS (SELECT 1 FROM wallet.quotes q WHERE q.intent_id = \(id.rawValue) AND q.vendor_id = v.id))
                ORDER BY name, id LIMIT 50
                """, logger: logger
            ).all(as: (UUID, String, String?, [String], Double?, Double?, Int64?).self).map {
                VendorProfile(
                    id: VendorID($0.0), name: $0.1, region: $0.2, categories: $0.3, rating: $0.4, fulfilmentRate: $0.5, avgResponseMs: $0.6)
            }
            var offers: [VendorID: Offer] = [:]
            for quote in quotes where quote.status == .pending || quote.status == .accepted {
                offers[quote.vendorId] = Offer(quoteID: quote.id, price: quote.price.minorUnits, etaMinutes: quote.etaMinutes)
            }
            intent.quotes = quotes
            intent.ranking = VendorRanking.rank(
                category: intent.category, region: intent.region, vendors: vendors, offers: offers, currency: quotes.first?.price.currency)
            intent.purchaseId = try await connection.query(
                "SELECT id FROM wallet.purchases WHERE intent_id = \(id.rawValue)", logger: logger
            ).first(as: UUID.self).map { PurchaseID($0) }
            return intent
        }
    }

    func intents(tenant: TenantID, status: IntentStatus?, buyer: BuyerID?, before: (Int64, UUID)?, limit: Int, logger: Logger) async throws
        -> [IntentDTO]
    {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.intentColumns) FROM wallet.intents
            WHERE tenant_id = \(tenant.rawValue) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(buyer?.rawValue)::uuid IS NULL OR buyer_id = \(buyer?.rawValue))
              AND (\(before == nil) OR (created_at, id) < ('epoch'::timestamptz + \(before?.0 ?? 0) * interval '1 microsecond', \(before?.1 ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: IntentRow.self).map(Self.intent)
    }

    /// Cancels a pending intent and expires its open quotes (nil: no such intent).
    func cancelIntent(_ id: IntentID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> IntentDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.intentColumns) FROM wallet.intents WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                    logger: logger
                ).first(as: IntentRow.self).map(Self.intent)
            else { return nil }
            guard before.status == .pending else {
                throw APIError.conflict("intent_not_pending", "This intent is \(before.status.rawValue); only a pending intent is cancelled.")
            }
            try await connection.query(
                "UPDATE wallet.quotes SET status = 'expired', decided_at = now() WHERE intent_id = \(id.rawValue) AND status = 'pending'", logger: logger)
            let row = try await connection.query(
                "UPDATE wallet.intents SET status = 'cancelled', updated_at = now() WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.intentColumns)",
                logger: logger
            ).first(as: IntentRow.self)!
            let after = try Self.intent(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "intent.cancel", table: "intents", targetID: id.description, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    /// Expires up to `limit` pending intents whose time ran out, with their open quotes; answers how many.
    func expireDueIntents(limit: Int, logger: Logger) async throws -> Int {
        try await self.postgres.withTransaction(logger: logger) { connection in
            let ids = try await connection.query(
                """
                UPDATE wallet.intents SET status = 'expired', updated_at = now()
                WHERE id IN (SELECT id FROM wallet.intents WHERE status = 'pending' AND expires_at <= now()
                             ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id
                """, logger: logger
            ).all(as: UUID.self)
            guard !ids.isEmpty else { return 0 }
            try await connection.query(
                "UPDATE wallet.quotes SET status = 'expired', decided_at = now() WHERE intent_id = ANY(\(ids)) AND status = 'pending'", logger: logger)
            return ids.count
        }
    }

    // MARK: quotes

    static let quoteColumns = "id, intent_id, vendor_id, product_id, price, currency, eta_minutes, note, status, created_by, created_at, decided_at"
    typealias QuoteRow = (UUID, UUID, UUID, UUID?, Int64, String, Int32, String?, String, String, Date, Date?)

    static func quote(_ row: QuoteRow) throws -> QuoteDTO {
        guard let currency = Currency(code: row.5) else { throw CorruptRow("quote \(row.0) has currency \(row.5)") }
        return QuoteDTO(
            id: QuoteID(row.0), intentId: IntentID(row.1), vendorId: VendorID(row.2), productId: row.3.map { ProductID($0) },
            price: Money(minorUnits: row.4, currency: currency), etaMinutes: Int(row.6), note: row.7, status: try CorruptRow.known(row.8),
            createdBy: row.9, createdAt: row.10, decidedAt: row.11)
    }

    struct QuoteFields: Sendable {
        var intent: IntentID
        var vendor: VendorID
        var product: ProductID?
        var price: Money
        var etaMinutes: Int
        var note: String?
    }

    /// A vendor's quote on a pending intent, in the buyer's currency; it replaces the vendor's earlier open quote.
    func createQuote(_ fields: QuoteFields, tenant: TenantID, actor: String, requestID: String, on connection: PostgresConnection, logger: Logger) async throws
        -> QuoteDTO
    {
        try await Self.errors.map {
            guard
                let (status, due, buyerCurrency) = try await connection.query(
                    """
                    SELECT i.status, i.expires_at <= now(), b.currency FROM wallet.intents i JOIN wallet.buyers b ON b.id = i.buyer_id
                    WHERE i.id = \(fields.intent.rawValue) AND i.tenant_id = \(tenant.rawValue) FOR SHARE OF i
                    """, logger: logger
                ).first(as: (String, Bool, String).self)
            else { throw APIError.unprocessable("unknown_intent", "No such intent in this tenant.") }
            guard status == IntentStatus.pending.rawValue, !due else {
                throw APIError.conflict("intent_not_pending", "This intent takes no more quotes (it is \(due ? "expired" : status)).")
            }
            guard
                let (vendorStatus, vendorCurrency) = try await connection.query(
                    "SELECT status, currency FROM wallet.vendors WHERE id = \(fields.vendor.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
                ).first(as: (String, String).self)
            else { throw APIError.unprocessable("unknown_vendor", "No such vendor in this tenant.") }
            guard vendorStatus == VendorStatus.active.rawValue else { throw APIError.conflict("vendor_suspended", "This vendor is suspended.") }
            // a quote names the vendor's own product (its commission schedule applies), never another's
            if let product = fields.product {
                let owner = try await connection.query(
                    "SELECT vendor_id FROM wallet.products WHERE id = \(product.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
                ).first(as: UUID.self)
                guard let owner else { throw APIError.unprocessable("unknown_product", "No such product in this tenant.") }
                guard owner == fields.vendor.rawValue else {
                    throw APIError.unprocessable("product_not_vendors", "A quote names a product of the vendor who quotes.")
                }
            }
            guard fields.price.currency.code == buyerCurrency, vendorCurrency == buyerCurrency else {
                throw APIError.unprocessable(
                    "currency_mismatch", "The buyer pays in \(buyerCurrency) and the vendor is paid in \(vendorCurrency): quote in \(buyerCurrency).")
            }
            try await connection.query(
                """
                UPDATE wallet.quotes SET status = 'rejected', decided_at = now()
                WHERE intent_id = \(fields.intent.rawValue) AND vendor_id = \(fields.vendor.rawValue) AND status = 'pending'
                """, logger: logger)
            let row = try await connection.query(
                """
                INSERT INTO wallet.quotes (id, tenant_id, intent_id, vendor_id, product_id, price, currency, eta_minutes, note, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(fields.intent.rawValue), \(fields.vendor.rawValue), \(fields.product?.rawValue),
                        \(fields.price.minorUnits), \(fields.price.currency.code), \(fields.etaMinutes), \(fields.note), \(actor))
                RETURNING \(unescaped: Self.quoteColumns)
                """, logger: logger
            ).first(as: QuoteRow.self)!
            let quote = try Self.quote(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "quote.create", table: "quotes", targetID: quote.id.description,
                before: nil as QuoteDTO?, after: quote, requestID: requestID, logger: logger)
            return quote
        }
    }

    func quotes(tenant: TenantID, intent: IntentID?, vendor: VendorID?, status: QuoteStatus?, before: (Int64, UUID)?, limit: Int, logger: Logger)
        async throws -> [QuoteDTO]
    {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.quoteColumns) FROM wallet.quotes
            WHERE tenant_id = \(tenant.rawValue) AND (\(intent?.rawValue)::uuid IS NULL OR intent_id = \(intent?.rawValue))
              AND (\(vendor?.rawValue)::uuid IS NULL OR vendor_id = \(vendor?.rawValue)) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(before == nil) OR (created_at, id) < ('epoch'::timestamptz + \(before?.0 ?? 0) * interval '1 microsecond', \(before?.1 ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: QuoteRow.self).map(Self.quote)
    }

    func quote(_ id: QuoteID, tenant: TenantID, logger: Logger) async throws -> QuoteDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.quoteColumns) FROM wallet.quotes WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
        ).first(as: QuoteRow.self).map(Self.quote)
    }

    func rejectQuote(_ id: QuoteID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> QuoteDTO? {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard
                let before = try await connection.query(
                    "SELECT \(unescaped: Self.quoteColumns) FROM wallet.quotes WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE",
                    logger: logger
                ).first(as: QuoteRow.self).map(Self.quote)
            else { return nil }
            guard before.status == .pending else {
                if before.status == .rejected { return before }
                throw APIError.conflict("quote_not_pending", "This quote is \(before.status.rawValue).")
            }
            let row = try await connection.query(
                "UPDATE wallet.quotes SET status = 'rejected', decided_at = now() WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.quoteColumns)",
                logger: logger
            ).first(as: QuoteRow.self)!
            let after = try Self.quote(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "quote.reject", table: "quotes", targetID: id.description, before: before,
                after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    // MARK: purchases

    static let purchaseColumns = """
        id, quote_id, intent_id, buyer_id, vendor_id, amount, commission, currency, commission_schedule_id, status, hold_id, transaction_id,
        failure_reason, created_by, created_at, resolved_at
        """
    typealias PurchaseRow = (UUID, UUID, UUID, UUID, UUID, Int64, Int64, String, UUID?, String, UUID, UUID?, String?, String, Date, Date?)

    static func purchase(_ row: PurchaseRow) throws -> PurchaseDTO {
        guard let currency = Currency(code: row.7) else { throw CorruptRow("purchase \(row.0) has currency \(row.7)") }
        return PurchaseDTO(
            id: PurchaseID(row.0), quoteId: QuoteID(row.1), intentId: IntentID(row.2), buyerId: BuyerID(row.3), vendorId: VendorID(row.4),
            amount: Money(minorUnits: row.5, currency: currency), commission: Money(minorUnits: row.6, currency: currency),
            vendorNet: Money(minorUnits: row.5 - row.6, currency: currency), commissionScheduleId: row.8.map { CommissionScheduleID($0) },
            status: try CorruptRow.known(row.9), holdId: WalletHoldID(row.10), transactionId: row.11.map { WalletTransactionID($0) },
            failureReason: row.12, createdBy: row.13, createdAt: row.14, resolvedAt: row.15)
    }

    func purchase(_ id: PurchaseID, tenant: TenantID, on connection: PostgresConnection? = nil, lock: Bool = false, logger: Logger) async throws
        -> PurchaseDTO?
    {
        try await self.ledger.on(connection) { connection in
            try await connection.query(
                """
                SELECT \(unescaped: Self.purchaseColumns) FROM wallet.purchases WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)
                \(unescaped: lock ? "FOR UPDATE" : "")
                """, logger: logger
            ).first(as: PurchaseRow.self).map(Self.purchase)
        }
    }

    func purchases(tenant: TenantID, status: PurchaseStatus?, buyer: BuyerID?, vendor: VendorID?, before: (Int64, UUID)?, limit: Int, logger: Logger)
        async throws -> [PurchaseDTO]
    {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.purchaseColumns) FROM wallet.purchases
            WHERE tenant_id = \(tenant.rawValue) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(buyer?.rawValue)::uuid IS NULL OR buyer_id = \(buyer?.rawValue)) AND (\(vendor?.rawValue)::uuid IS NULL OR vendor_id = \(vendor?.rawValue))
              AND (\(before == nil) OR (created_at, id) < ('epoch'::timestamptz + \(before?.0 ?? 0) * interval '1 microsecond', \(before?.1 ?? UUID())))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: PurchaseRow.self).map(Self.purchase)
    }

    /// The tenant's commission account in `currency`, opened the first time (in its own short transaction, so that
    /// purchases do not queue behind its creation).
    func commissionAccount(tenant: TenantID, currency: Currency, logger: Logger) async throws -> WalletAccountID {
        let select: PostgresQuery = """
            SELECT id FROM wallet.accounts WHERE tenant_id = \(tenant.rawValue) AND owner_type = 'commission' AND owner_id = 'platform'
              AND currency = \(currency.code)
            """
        if let id = try await self.postgres.query(select, logger: logger).first(as: UUID.self) { return WalletAccountID(id) }
        try await self.postgres.query(
            """
            INSERT INTO wallet.accounts (id, tenant_id, owner_type, owner_id, currency, name)
            VALUES (\(UUID()), \(tenant.rawValue), 'commission', 'platform', \(currency.code), 'Commissions')
            ON CONFLICT ON CONSTRAINT accounts_owner_key DO NOTHING
            """, logger: logger)
        guard let id = try await self.postgres.query(select, logger: logger).first(as: UUID.self) else {
            throw CorruptRow("the commission account in \(currency.code) vanished")
        }
        return WalletAccountID(id)
    }

    /// The schedule in force at this moment for `product`: its own newest effective one, else the tenant's default.
    static func scheduleInForce(product: ProductID?, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws
        -> (CommissionScheduleID, CommissionTerms, String?)?
    {
        try await connection.query(
            """
            SELECT id, rate_bps, flat_fee, currency FROM wallet.commission_schedules
            WHERE tenant_id = \(tenant.rawValue) AND effective_from <= now() AND (product_id IS NULL OR product_id = \(product?.rawValue))
            ORDER BY product_id NULLS LAST, effective_from DESC LIMIT 1
            """, logger: logger
        ).first(as: (UUID, Int32, Int64, String?).self).map {
            (CommissionScheduleID($0.0), CommissionTerms(rateBps: Int($0.1), flatFee: $0.2), $0.3)
        }
    }

    /// Accepts a quote: the purchase at the quote's price, its funds held on the buyer's wallet. Accepting the same
    /// quote again answers the same purchase (`replayed`); another quote of a decided intent is a 409.
    func acceptQuote(_ id: QuoteID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> (PurchaseDTO, replayed: Bool)? {
        guard let known = try await self.quote(id, tenant: tenant, logger: logger) else { return nil }
        let commissionAccount = try await self.commissionAccount(tenant: tenant, currency: known.price.currency, logger: logger)
        return try await self.ledger.transaction(logger: logger) { connection in
            // the intent first: every acceptance of its quotes queues here
            guard
                let intent = try await connection.query(
                    """
                    SELECT \(unescaped: Self.intentColumns) FROM wallet.intents WHERE id = \(known.intentId.rawValue) AND tenant_id = \(tenant.rawValue)
                    FOR UPDATE
                    """, logger: logger
                ).first(as: IntentRow.self).map(Self.intent)
            else { throw CorruptRow("quote \(id) without its intent") }
            if let existing = try await connection.query(
                "SELECT \(unescaped: Self.purchaseColumns) FROM wallet.purchases WHERE intent_id = \(intent.id.rawValue)", logger: logger
            ).first(as: PurchaseRow.self).map(Self.purchase) {
                guard existing.quoteId == id else {
                    throw APIError.conflict("intent_already_purchased", "Another quote of this intent was accepted (purchase \(existing.id)).")
                }
                return (existing, true)
            }
            guard
                let quote = try await connection.query(
                    "SELECT \(unescaped: Self.quoteColumns) FROM wallet.quotes WHERE id = \(id.rawValue) FOR UPDATE", logger: logger
                ).first(as: QuoteRow.self).map(Self.quote)
            else { throw CorruptRow("quote \(id) vanished") }
            guard quote.status == .pending else { throw APIError.conflict("quote_not_pending", "This quote is \(quote.status.rawValue).") }
            let due = try await connection.query("SELECT \(intent.expiresAt) <= now()", logger: logger).first(as: Bool.self) ?? true
            guard intent.status == .pending, !due else {
                throw APIError.conflict("intent_not_pending", "This intent is \(due ? "expired" : intent.status.rawValue).")
            }
            let parties = try await connection.query(
                """
                SELECT b.account_id, v.account_id, v.status FROM wallet.buyers b, wallet.vendors v
                WHERE b.id = \(intent.buyerId.rawValue) AND v.id = \(quote.vendorId.rawValue)
                """, logger: logger
            ).first(as: (UUID, UUID, String).self)
            guard let (buyerAccount, vendorAccount, vendorStatus) = parties else { throw CorruptRow("intent \(intent.id) without its parties") }
            guard vendorStatus == VendorStatus.active.rawValue else { throw APIError.conflict("vendor_suspended", "This vendor is suspended.") }

            let amount = quote.price.minorUnits
            let schedule = try await Self.scheduleInForce(product: quote.productId ?? intent.productId, tenant: tenant, on: connection, logger: logger)
            var commission: Int64 = 0
            if let (_, terms, feeCurrency) = schedule {
                if terms.flatFee > 0 && feeCurrency != quote.price.currency.code {
                    throw APIError.unprocessable(
                        "commission_currency_mismatch",
                        "The commission schedule in force charges its fee in \(feeCurrency ?? "?"), not \(quote.price.currency.code).")
                }
                commission = try terms.commission(on: amount)
            }
            var legs: [Leg] = []
            if amount > commission { legs.append(Leg(from: WalletAccountID(buyerAccount), to: WalletAccountID(vendorAccount), amount: amount - commission)) }
            if commission > 0 { legs.append(Leg(from: WalletAccountID(buyerAccount), to: commissionAccount, amount: commission)) }
            let posting = Posting(
                tenant: tenant, type: .purchase, reference: "purchase/\(id)", currency: quote.price.currency, legs: legs,
                reason: "Purchase of quote \(id)", metadata: ["quoteId": .string(id.description), "intentId": .string(intent.id.description)],
                actor: actor)
            let (hold, _) = try await self.ledger.createHold(posting, timeoutSeconds: MarketplaceRules.purchaseHoldSeconds, on: connection, logger: logger)

            try await connection.query(
                """
                UPDATE wallet.quotes SET status = CASE WHEN id = \(id.rawValue) THEN 'accepted' ELSE 'rejected' END, decided_at = now()
                WHERE intent_id = \(intent.id.rawValue) AND (status = 'pending' OR id = \(id.rawValue))
                """, logger: logger)
            try await connection.query(
                "UPDATE wallet.intents SET status = 'matched', updated_at = now() WHERE id = \(intent.id.rawValue)", logger: logger)
            let row = try await connection.query(
                """
                INSERT INTO wallet.purchases (id, tenant_id, quote_id, intent_id, buyer_id, vendor_id, amount, commission, currency,
                                              commission_schedule_id, hold_id, created_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(id.rawValue), \(intent.id.rawValue), \(intent.buyerId.rawValue), \(quote.vendorId.rawValue),
                        \(amount), \(commission), \(quote.price.currency.code), \(schedule?.0.rawValue), \(hold.id.rawValue), \(actor))
                RETURNING \(unescaped: Self.purchaseColumns)
                """, logger: logger
            ).first(as: PurchaseRow.self)!
            let purchase = try Self.purchase(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "purchase.create", table: "purchases", targetID: purchase.id.description,
                before: nil as PurchaseDTO?, after: purchase, requestID: requestID, logger: logger)
            return (purchase, false)
        }
    }

    enum Completion: Sendable {
        case completed(PurchaseDTO)
        /// The ledger refused the posting, or the hold had expired: the hold is voided and the purchase failed.
        case failed(PurchaseDTO, APIError)
    }

    /// Completes a pending purchase by posting its hold (buyer → vendor net, buyer → commission, one transaction).
    /// Completing a completed purchase answers it again.
    func completePurchase(_ id: PurchaseID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Completion? {
        do {
            return try await self.ledger.transaction(logger: logger) { connection -> Completion? in
                guard let purchase = try await self.purchase(id, tenant: tenant, on: connection, lock: true, logger: logger) else { return nil }
                switch purchase.status {
                case .completed: return .completed(purchase)
                case .cancelled, .failed:
                    throw APIError.conflict("purchase_not_pending", "This purchase is \(purchase.status.rawValue).")
                case .pending: break
                }
                switch try await self.ledger.postHold(purchase.holdId, tenant: tenant, actor: actor, on: connection, requestID: requestID, logger: logger) {
                case .posted(_, let transfer):
                    try await connection.query(
                        """
                        UPDATE wallet.vendors SET total_trips = total_trips + 1, updated_at = now() WHERE id = \(purchase.vendorId.rawValue)
                        """, logger: logger)
                    let completed = try await self.resolve(
                        purchase, as: .completed, transaction: transfer.id, reason: nil, tenant: tenant, actor: actor, on: connection, requestID: requestID,
                        logger: logger)
                    if let (phone, name) = try await connection.query(
                        "SELECT phone, name FROM wallet.buyers WHERE id = \(purchase.buyerId.rawValue) AND phone IS NOT NULL", logger: logger
                    ).first(as: (String, String).self) {
                        try await self.crm.enqueue(
                            CRMAPI.Event(
                                id: "purchase-\(purchase.id)", source: .marketplaceWallet, kind: .purchase, phone: phone, at: Date(), name: name,
                                amount: purchase.amount.decimalString, currency: purchase.amount.currency.code),
                            tenant: tenant, requestID: requestID, on: connection, logger: logger)
                    }
                    return .completed(completed)
                case .expired:
                    let reason = "The payment hold expired before the purchase was completed."
                    let failed = try await self.resolve(
                        purchase, as: .failed, transaction: nil, reason: reason, tenant: tenant, actor: actor, on: connection, requestID: requestID,
                        logger: logger)
                    return .failed(failed, APIError.conflict("hold_expired", reason))
                case nil:
                    throw CorruptRow("purchase \(id) without its hold")
                }
            }
        } catch let refusal as APIError where refusal.status.code == 409 && refusal.code != "purchase_not_pending" {
            // the ledger refused the posting (a frozen account, say): compensate, so nothing stays reserved
            let failed = try await self.ledger.transaction(logger: logger) { connection -> PurchaseDTO? in
                guard let purchase = try await self.purchase(id, tenant: tenant, on: connection, lock: true, logger: logger), purchase.status == .pending
                else { return nil }
                _ = try await self.ledger.voidHold(purchase.holdId, tenant: tenant, on: connection, logger: logger)
                return try await self.resolve(
                    purchase, as: .failed, transaction: nil, reason: refusal.message, tenant: tenant, actor: actor, on: connection, requestID: requestID,
                    logger: logger)
            }
            guard let failed else { throw refusal }
            return .failed(failed, refusal)
        }
    }

    /// Cancels a pending purchase: its hold is voided, the buyer's funds released, its intent cancelled.
    func cancelPurchase(_ id: PurchaseID, tenant: TenantID, reason: String?, actor: String, requestID: String, logger: Logger) async throws -> PurchaseDTO? {
        try await self.ledger.transaction(logger: logger) { connection in
            guard let purchase = try await self.purchase(id, tenant: tenant, on: connection, lock: true, logger: logger) else { return nil }
            switch purchase.status {
            case .cancelled: return purchase
            case .completed:
                throw APIError.conflict("purchase_completed", "This purchase was completed; reverse its transfer to refund it.")
            case .failed: throw APIError.conflict("purchase_not_pending", "This purchase failed.")
            case .pending: break
            }
            _ = try await self.ledger.voidHold(purchase.holdId, tenant: tenant, on: connection, logger: logger)
            try await connection.query(
                "UPDATE wallet.intents SET status = 'cancelled', updated_at = now() WHERE id = \(purchase.intentId.rawValue)", logger: logger)
            return try await self.resolve(
                purchase, as: .cancelled, transaction: nil, reason: reason, tenant: tenant, actor: actor, on: connection, requestID: requestID,
                logger: logger)
        }
    }

    func resolve(
        _ purchase: PurchaseDTO, as status: PurchaseStatus, transaction: WalletTransactionID?, reason: String?, tenant: TenantID, actor: String,
        on connection: PostgresConnection, requestID: String, logger: Logger
    ) async throws -> PurchaseDTO {
        let row = try await connection.query(
            """
            UPDATE wallet.purchases SET status = \(status.rawValue), transaction_id = \(transaction?.rawValue), failure_reason = \(reason),
                resolved_at = now()
            WHERE id = \(purchase.id.rawValue) RETURNING \(unescaped: Self.purchaseColumns)
            """, logger: logger
        ).first(as: PurchaseRow.self)!
        let after = try Self.purchase(row)
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: "purchase.\(status.rawValue)", table: "purchases", targetID: purchase.id.description,
            before: purchase, after: after, requestID: requestID, logger: logger)
        return after
    }
}
