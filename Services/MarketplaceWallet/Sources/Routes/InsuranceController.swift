import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// `/v1/insurance-quotes` and `/v1/insurance-documents`: customers' requests for cover with their documents (kept in
/// the blob store, their type read from their bytes), a review queue, and decisions told to the customer.
struct InsuranceController: Sendable {
    let insurance: InsuranceStore
    let blobs: any BlobStore
    let links: DocumentLinks
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(WalletInsuranceAPI.create, use: self.create)
        router.on(WalletInsuranceAPI.list, use: self.list)
        router.on(WalletInsuranceAPI.get, use: self.get)
        router.on(WalletInsuranceAPI.uploadDocument, use: self.upload)
        router.on(WalletInsuranceAPI.downloadDocument, use: self.download)
        router.on(WalletInsuranceAPI.signedDocument, use: self.signedDownload)
        router.on(WalletInsuranceAPI.review, use: self.review)
        router.on(WalletInsuranceAPI.resubmit, use: self.resubmit)
    }

    static let notFound = APIError.notFound("insurance_quote_not_found", "No such insurance quote.")
    static let documentNotFound = APIError.notFound("document_not_found", "No such document.")

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(InsuranceQuoteBody.self, context: context)
        let buyer = try BodyValues.id(body.buyerId, field: "buyerId", as: BuyerID.self)
        let phone = try MarketplaceRules.phone(body.customerPhone)
        guard buyer != nil || phone != nil else {
            throw APIError.unprocessable("customer_required", "Name the customer: a buyerId, or a customerPhone (with a customerName).")
        }
        let currency = try LedgerRules.currency(body.currency)
        let new = InsuranceStore.NewQuote(
            buyer: buyer, customerPhone: phone,
            customerName: try body.customerName.map { try InsuranceRules.text($0, field: "customerName") },
            insurer: try InsuranceRules.text(body.insurer, field: "insurer"),
            coverType: try InsuranceRules.text(body.coverType, field: "coverType", length: 1...100),
            premium: try body.premium.map { Money(minorUnits: try MarketplaceRules.price($0, currency: currency, field: "premium"), currency: currency) },
            currency: currency, metadata: try LedgerRules.metadata(body.metadata))
        return try await self.idempotency.write(request, context: context, postgres: self.insurance.postgres) { connection in
            JSONResponse(
                .created,
                try await self.insurance.create(
                    new, tenant: tenant, actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger))
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<InsuranceQuoteDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let query = request.queryValues
        let items = try await self.insurance.quotes(
            tenant: tenant, status: try query.value("status", as: InsuranceQuoteStatus.self), buyer: try query.id("buyerId", as: BuyerID.self),
            after: try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.description] }))
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<InsuranceQuoteDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: InsuranceQuoteID.self)
        guard var quote = try await self.insurance.quote(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        let now = Date()
        quote.documents = try await self.insurance.documents(of: id, tenant: tenant, logger: context.logger).map { stored in
            var document = stored.dto
            document.downloadUrl = self.links.url(tenant: tenant, document: document.id, now: now)
            return document
        }
        return JSONResponse(.ok, quote)
    }

    /// The body is the file itself, `?filename=` its name. Its type is read from its bytes; a file that is none of
    /// the accepted types, or not what its `Content-Type` says, is refused before anything is stored.
    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: InsuranceQuoteID.self)
        let fileName = try InsuranceRules.fileName(try request.queryValues.string("filename", maxLength: 1024))
        var copy = request
        let buffer = try await copy.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes <= WalletInsuranceAPI.maxDocumentSize else {
            throw APIError(
                .contentTooLarge, code: "payload_too_large", message: "A document is at most \(WalletInsuranceAPI.maxDocumentSize) bytes (10 MiB).")
        }
        let bytes = Array(buffer.readableBytesView)
        let type = try InsuranceRules.documentType(bytes, claimed: request.headers[.contentType])
        // the quote must exist and take documents before the bytes are kept
        guard let quote = try await self.insurance.quote(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        guard quote.status != .approved else {
            throw APIError.conflict("quote_approved", "This quote is approved: its documents are the ones it was approved on.")
        }
        let sha256 = sha256Hex(bytes)
        try await self.blobs.put(InsuranceStore.blobKey(tenant: tenant, sha256: sha256), bytes: bytes, contentType: type.rawValue)
        let new = InsuranceStore.NewDocument(fileName: fileName, type: type, size: bytes.count, sha256: sha256)
        return try await self.idempotency.write(request, context: context, postgres: self.insurance.postgres) { connection in
            guard
                var document = try await self.insurance.addDocument(
                    new, to: id, tenant: tenant, actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger)?.dto
            else { throw Self.notFound }
            document.downloadUrl = self.links.url(tenant: tenant, document: document.id)
            return JSONResponse(.created, document)
        }
    }

    /// A document's bytes for a signed-in reader of the tenant.
    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: InsuranceQuoteID.self)
        let documentID = try context.idParameter("docId", as: InsuranceDocumentID.self)
        guard let document = try await self.insurance.document(documentID, quote: id, tenant: tenant, logger: context.logger) else {
            throw Self.documentNotFound
        }
        return try await self.file(document)
    }

    /// A document's bytes by a signed link: the signature (over the path, tenant and document included) is the
    /// permission; 403 for a forged link, 410 for an expired one.
    @Sendable func signedDownload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.queryValues
        try self.links.signer.verify(
            path: request.uri.path, expires: try query.string("expires", maxLength: 20), signature: try query.string("sig", maxLength: 100))
        guard let tenant = context.parameters.get("tenantId").flatMap(TenantID.init),
            let documentID = context.parameters.get("docId").flatMap(InsuranceDocumentID.init),
            let document = try await self.insurance.document(documentID, quote: nil, tenant: tenant, logger: context.logger)
        else { throw Self.documentNotFound }
        return try await self.file(document)
    }

    /// The stored bytes, checked against the SHA-256 recorded at upload, shown inline as their verified type (no
    /// sniffing; no `sandbox` policy either, under which Chromium refuses to show a PDF).
    func file(_ document: InsuranceStore.StoredDocument) async throws -> Response {
        guard let (bytes, _) = try await self.blobs.get(document.blobKey), sha256Hex(bytes) == document.dto.sha256 else {
            throw CorruptRow("insurance document \(document.dto.id): its bytes are missing or changed")
        }
        let name = document.dto.fileName
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ascii
        return Response(
            status: .ok,
            headers: [
                .contentType: document.dto.contentType, .contentDisposition: "inline; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)",
                .cacheControl: "private, no-store", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: .init(bytes: bytes)))
    }

    @Sendable func review(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: InsuranceQuoteID.self)
        let body = try await request.decodeJSON(InsuranceReviewBody.self, context: context)
        guard let decision = body.decision.flatMap(InsuranceDecision.init(rawValue:)) else {
            throw APIError.unprocessable("invalid_decision", "decision is approve or needs_changes.")
        }
        let comment = try InsuranceRules.comment(body.comment, decision: decision)
        return try await self.idempotency.write(request, context: context, postgres: self.insurance.postgres) { connection in
            guard
                let quote = try await self.insurance.review(
                    id, decision: decision, comment: comment, premium: body.premium, tenant: tenant, actor: caller.subject, on: connection,
                    requestID: context.requestID, logger: context.logger)
            else { throw Self.notFound }
            return JSONResponse(.ok, quote)
        }
    }

    @Sendable func resubmit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: InsuranceQuoteID.self)
        return try await self.idempotency.write(request, context: context, postgres: self.insurance.postgres) { connection in
            guard
                let quote = try await self.insurance.resubmit(
                    id, tenant: tenant, actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger)
            else { throw Self.notFound }
            return JSONResponse(.ok, quote)
        }
    }
}
