import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// All SQL of insurance quotes and their documents. Every change locks its quote, writes its audit row, and (a
/// decision) the job that tells the customer, in one transaction; the status moves only as the database's trigger
/// allows (`0005_insurance.sql`).
struct InsuranceStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let jobs: JobQueue

    static let errors = ConstraintErrors(
        [
            "insurance_quotes_buyer_fkey": .unprocessable("unknown_buyer", "No such buyer in this tenant."),
            "insurance_quotes_customer_check": .unprocessable(
                "customer_required", "Name the customer: a buyerId, or a customerPhone (a buyer without a phone needs one)."),
            "insurance_quotes_comment_check": .unprocessable("comment_required", "Asking for changes needs a comment."),
            "insurance_quotes_approved_check": .unprocessable("premium_required", "Approving needs a premium."),
            "insurance_documents_quote_fkey": .notFound("insurance_quote_not_found", "No such insurance quote."),
        ])
    /// A status change the trigger refuses (a transition the state machine does not have).
    static let transitionErrors = ConstraintErrors(
        Self.errors.byConstraint, byState: ["23514": .conflict("illegal_transition", "This quote cannot move to that status now.")])

    static let quoteColumns = """
        id, buyer_id, customer_phone, customer_name, insurer, cover_type, premium_minor, currency, status, reviewer_comment, reviewed_by, \
        reviewed_at, approved_at, resubmitted_at, metadata::text, created_by, created_at, updated_at
        """
    typealias QuoteRow = (
        UUID, UUID?, String?, String?, String, String, Int64?, String, String, String?, String?, Date?, Date?, Date?, String, String, Date, Date
    )

    static func quote(_ row: QuoteRow) throws -> InsuranceQuoteDTO {
        guard let currency = Currency(code: row.7) else { throw CorruptRow("insurance quote \(row.0) has currency \(row.7)") }
        return InsuranceQuoteDTO(
            id: InsuranceQuoteID(row.0), buyerId: row.1.map(BuyerID.init(rawValue:)), customerPhone: row.2, customerName: row.3, insurer: row.4,
            coverType: row.5, premium: row.6.map { Money(minorUnits: $0, currency: currency) }, currency: currency, status: try CorruptRow.known(row.8),
            reviewerComment: row.9, reviewedBy: row.10, reviewedAt: row.11, approvedAt: row.12, resubmittedAt: row.13,
            metadata: try JSONDecoder.sokoni.decode([String: JSONValue].self, from: Data(row.14.utf8)), createdBy: row.15, createdAt: row.16,
            updatedAt: row.17, documents: nil)
    }

    static let documentColumns = "id, quote_id, file_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at, blob_key"
    typealias DocumentRow = (UUID, UUID, String, String, Int64, String, String, Date, String)

    /// A document and where its bytes are.
    struct StoredDocument: Sendable {
        var dto: InsuranceDocumentDTO
        var blobKey: String
    }

    static func document(_ row: DocumentRow) -> StoredDocument {
        StoredDocument(
            dto: InsuranceDocumentDTO(
                id: InsuranceDocumentID(row.0), quoteId: InsuranceQuoteID(row.1), fileName: row.2, contentType: row.3, sizeBytes: row.4,
                sha256: row.5, uploadedBy: row.6, uploadedAt: row.7, downloadUrl: nil),
            blobKey: row.8)
    }

    /// Where a document's bytes are kept: the `docs` bucket, per tenant, by content (a retried upload stores nothing new).
    static func blobKey(tenant: TenantID, sha256: String) -> String { "docs/\(tenant)/\(sha256)" }

    struct NewQuote: Sendable {
        var buyer: BuyerID?
        var customerPhone: PhoneNumber?
        var customerName: String?
        var insurer: String
        var coverType: String
        var premium: Money?
        var currency: Currency
        var metadata: [String: JSONValue]
    }

    /// A new pending quote; a buyer's phone and name stand in for those not given.
    func create(_ new: NewQuote, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String, logger: Logger) async throws
        -> InsuranceQuoteDTO
    {
        try await Self.errors.map {
            var phone = new.customerPhone?.e164
            var name = new.customerName
            if let buyer = new.buyer {
                guard
                    let (buyerPhone, buyerName) = try await connection.query(
                        "SELECT phone, name FROM wallet.buyers WHERE id = \(buyer.rawValue) AND tenant_id = \(tenant.rawValue)", logger: logger
                    ).first(as: (String?, String).self)
                else { throw APIError.unprocessable("unknown_buyer", "No such buyer in this tenant.") }
                phone = phone ?? buyerPhone
                name = name ?? buyerName
            }
            let metadata = String(decoding: try JSONEncoder.hashing.encode(new.metadata), as: UTF8.self)
            let id = InsuranceQuoteID()
            let row = try await connection.query(
                """
                INSERT INTO wallet.insurance_quotes (id, tenant_id, buyer_id, customer_phone, customer_name, insurer, cover_type, premium_minor,
                                                     currency, metadata, created_by)
                VALUES (\(id.rawValue), \(tenant.rawValue), \(new.buyer?.rawValue), \(phone), \(name), \(new.insurer), \(new.coverType),
                        \(new.premium?.minorUnits), \(new.currency.code), \(metadata)::jsonb, \(actor))
                RETURNING \(unescaped: Self.quoteColumns)
                """, logger: logger
            ).first(as: QuoteRow.self)!
            let quote = try Self.quote(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "insurance_quote.create", table: "insurance_quotes", targetID: id.description,
                before: nil as InsuranceQuoteDTO?, after: quote, requestID: requestID, logger: logger)
            return quote
        }
    }

    func quote(_ id: InsuranceQuoteID, tenant: TenantID, logger: Logger) async throws -> InsuranceQuoteDTO? {
        try await self.postgres.query(
            "SELECT \(unescaped: Self.quoteColumns) FROM wallet.insurance_quotes WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue)",
            logger: logger
        ).first(as: QuoteRow.self).map(Self.quote)
    }

    /// The review queue: a tenant's quotes (of one status), oldest first.
    func quotes(
        tenant: TenantID, status: InsuranceQuoteStatus?, buyer: BuyerID?, after: (Int64, UUID)?, limit: Int, logger: Logger
    ) async throws -> [InsuranceQuoteDTO] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.quoteColumns) FROM wallet.insurance_quotes
            WHERE tenant_id = \(tenant.rawValue) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(buyer?.rawValue)::uuid IS NULL OR buyer_id = \(buyer?.rawValue))
              AND (\(after == nil) OR (created_at, id) > ('epoch'::timestamptz + \(after?.0 ?? 0) * interval '1 microsecond', \(after?.1 ?? UUID())))
            ORDER BY created_at, id LIMIT \(limit)
            """, logger: logger
        ).all(as: QuoteRow.self).map(Self.quote)
    }

    func documents(of quote: InsuranceQuoteID, tenant: TenantID, logger: Logger) async throws -> [StoredDocument] {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.documentColumns) FROM wallet.insurance_documents
            WHERE quote_id = \(quote.rawValue) AND tenant_id = \(tenant.rawValue) ORDER BY uploaded_at, id
            """, logger: logger
        ).all(as: DocumentRow.self).map(Self.document)
    }

    /// One document of the tenant (of `quote`, when given).
    func document(_ id: InsuranceDocumentID, quote: InsuranceQuoteID?, tenant: TenantID, logger: Logger) async throws -> StoredDocument? {
        try await self.postgres.query(
            """
            SELECT \(unescaped: Self.documentColumns) FROM wallet.insurance_documents
            WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) AND (\(quote?.rawValue)::uuid IS NULL OR quote_id = \(quote?.rawValue))
            """, logger: logger
        ).first(as: DocumentRow.self).map(Self.document)
    }

    /// The quote's status, locked until the transaction ends; nil when the tenant has no such quote.
    func lockedQuote(_ id: InsuranceQuoteID, tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws -> InsuranceQuoteDTO? {
        try await connection.query(
            """
            SELECT \(unescaped: Self.quoteColumns) FROM wallet.insurance_quotes
            WHERE id = \(id.rawValue) AND tenant_id = \(tenant.rawValue) FOR UPDATE
            """, logger: logger
        ).first(as: QuoteRow.self).map(Self.quote)
    }

    struct NewDocument: Sendable {
        var fileName: String
        var type: InsuranceDocumentType
        var size: Int
        var sha256: String
    }

    /// Records a document whose bytes are already in the blob store. Refused for an approved quote (what it was
    /// approved on stays what it was).
    func addDocument(
        _ new: NewDocument, to quote: InsuranceQuoteID, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String,
        logger: Logger
    ) async throws -> StoredDocument? {
        try await Self.errors.map {
            guard let locked = try await self.lockedQuote(quote, tenant: tenant, on: connection, logger: logger) else { return nil }
            guard locked.status != .approved else {
                throw APIError.conflict("quote_approved", "This quote is approved: its documents are the ones it was approved on.")
            }
            let row = try await connection.query(
                """
                INSERT INTO wallet.insurance_documents (id, tenant_id, quote_id, blob_key, file_name, content_type, size_bytes, sha256, uploaded_by)
                VALUES (\(UUID()), \(tenant.rawValue), \(quote.rawValue), \(Self.blobKey(tenant: tenant, sha256: new.sha256)), \(new.fileName),
                        \(new.type.rawValue), \(Int64(new.size)), \(new.sha256), \(actor))
                RETURNING \(unescaped: Self.documentColumns)
                """, logger: logger
            ).first(as: DocumentRow.self)!
            let document = Self.document(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "insurance_document.upload", table: "insurance_documents",
                targetID: document.dto.id.description, before: nil as InsuranceDocumentDTO?, after: document.dto, requestID: requestID, logger: logger)
            return document
        }
    }

    /// A reviewer's decision on a pending quote, its audit row, and (when the customer has a phone) the job that tells
    /// them, in one transaction. Approving needs a premium (given now or already on the quote) and a document.
    func review(
        _ id: InsuranceQuoteID, decision: InsuranceDecision, comment: String?, premium: String?, tenant: TenantID, actor: String,
        on connection: PostgresConnection, requestID: String, logger: Logger
    ) async throws -> InsuranceQuoteDTO? {
        try await Self.transitionErrors.map {
            guard let before = try await self.lockedQuote(id, tenant: tenant, on: connection, logger: logger) else { return nil }
            try InsuranceRules.checkReview(of: before.status)
            var premiumMinor = before.premium?.minorUnits
            if let premium { premiumMinor = try MarketplaceRules.price(premium, currency: before.currency, field: "premium") }
            if decision == .approve {
                guard premiumMinor != nil else {
                    throw APIError.unprocessable("premium_required", "This quote has no premium yet: approve it with the insurer's premium.")
                }
                let documents =
                    try await connection.query(
                        "SELECT count(*)::int FROM wallet.insurance_documents WHERE quote_id = \(id.rawValue)", logger: logger
                    ).first(as: Int.self) ?? 0
                guard documents > 0 else {
                    throw APIError.conflict("documents_required", "This quote has no documents: a quote is approved on its customer's documents.")
                }
            }
            let row = try await connection.query(
                """
                UPDATE wallet.insurance_quotes SET status = \(decision.status.rawValue), reviewer_comment = \(comment), reviewed_by = \(actor),
                    premium_minor = \(premiumMinor)
                WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.quoteColumns)
                """, logger: logger
            ).first(as: QuoteRow.self)!
            let after = try Self.quote(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "insurance_quote.\(decision.rawValue)", table: "insurance_quotes",
                targetID: id.description, before: before, after: after, requestID: requestID, logger: logger)
            if let phone = after.customerPhone {
                try await self.jobs.enqueue(
                    InsuranceJobs.notifyDecision,
                    payload: InsuranceJobs.DecisionNotice(
                        quoteId: id, tenantId: tenant, msisdn: phone, status: after.status, insurer: after.insurer, coverType: after.coverType,
                        premium: after.premium, comment: after.reviewerComment),
                    on: connection, requestID: requestID, logger: logger)
            }
            return after
        }
    }

    /// `needs_changes → pending`: the customer sent it back, with at least one document uploaded since the review.
    func resubmit(_ id: InsuranceQuoteID, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String, logger: Logger)
        async throws -> InsuranceQuoteDTO?
    {
        try await Self.transitionErrors.map {
            guard let before = try await self.lockedQuote(id, tenant: tenant, on: connection, logger: logger) else { return nil }
            try InsuranceRules.checkResubmit(of: before.status)
            let fresh =
                try await connection.query(
                    """
                    SELECT count(*)::int FROM wallet.insurance_documents
                    WHERE quote_id = \(id.rawValue) AND uploaded_at > \(before.reviewedAt ?? .distantPast)
                    """, logger: logger
                ).first(as: Int.self) ?? 0
            guard fresh > 0 else {
                throw APIError.conflict(
                    "new_documents_required", "Upload the corrected documents first: a quote is resubmitted with documents newer than its review.")
            }
            let row = try await connection.query(
                "UPDATE wallet.insurance_quotes SET status = 'pending' WHERE id = \(id.rawValue) RETURNING \(unescaped: Self.quoteColumns)",
                logger: logger
            ).first(as: QuoteRow.self)!
            let after = try Self.quote(row)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "insurance_quote.resubmit", table: "insurance_quotes", targetID: id.description,
                before: before, after: after, requestID: requestID, logger: logger)
            return after
        }
    }
}
