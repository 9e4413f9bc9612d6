import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import ServiceKit

/// `GET/POST /v1/knowledge`, `GET/PATCH/DELETE /v1/knowledge/{id}`, `POST /v1/knowledge/search`: a tenant's
/// documents (JSON, or the text itself as `text/plain`, `text/markdown` or `text/csv` with the title and source type
/// in the query), their chunks, and hybrid search over them.
struct KnowledgeController: Sendable {
    let knowledge: KnowledgeStore
    let search: KnowledgeSearch
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(AgentAPI.listKnowledge, use: self.list)
        router.on(AgentAPI.createKnowledge, use: self.create)
        router.on(AgentAPI.searchKnowledge, use: self.find)
        router.on(AgentAPI.getKnowledge, use: self.get)
        router.on(AgentAPI.updateKnowledge, use: self.update)
        router.on(AgentAPI.deleteKnowledge, use: self.delete)
    }

    static let notFound = APIError.notFound("document_not_found", "No such knowledge document.")

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<KnowledgeDocumentDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { (try $0.int64(0), try $0.uuid(1)) }
        let query = request.queryValues
        let type = try query.value("sourceType", as: KnowledgeSourceType.self)
        let words = try query.string("q", maxLength: 200).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        let items = try await self.knowledge.list(tenant: tenant, sourceType: type, query: words, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.createdAt.micros), $0.id.uuidString] }))
    }

    /// The body as a new document: JSON, or the text itself with `?title=&sourceType=` (and `language`).
    func newDocument(_ request: Request, context: AppRequestContext) async throws -> NewKnowledgeDocument {
        let type = (request.headers[.contentType] ?? "application/json").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        let format: KnowledgeFormat
        switch type {
        case "application/json", "":
            return try await request.decodeJSON(NewKnowledgeDocument.self, context: context)
        case "text/plain": format = .text
        case "text/markdown", "text/x-markdown": format = .markdown
        case "text/csv": format = .csv
        default:
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                message: "Send JSON, or the document itself as text/plain, text/markdown or text/csv.")
        }
        var copy = request
        let buffer = try await copy.collectBody(upTo: context.maxUploadSize)
        guard let content = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw APIError.badRequest("invalid_encoding", "The document must be UTF-8 text.")
        }
        let query = request.queryValues
        guard let title = try query.string("title", maxLength: KnowledgeRules.maxTitle) else {
            throw APIError.badRequest("title_required", "Name the document with ?title= when sending its text as the body.")
        }
        guard let sourceType = try query.value("sourceType", as: KnowledgeSourceType.self) else {
            throw APIError.badRequest("source_type_required", "Say what the document is with ?sourceType= (property, faq, policy, subsidy, product, custom).")
        }
        return NewKnowledgeDocument(
            title: title, content: content, sourceType: sourceType, format: format, language: try query.string("language", maxLength: 5), metadata: nil)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        var body = try await self.newDocument(request, context: context)
        body.format = body.format ?? .text
        try KnowledgeRules.check(title: body.title, content: body.content, format: body.format!, language: body.language, metadata: body.metadata)
        body.title = body.title.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await self.idempotency.write(request, context: context, postgres: self.knowledge.postgres) { connection in
            JSONResponse(
                .created,
                try await self.knowledge.create(
                    body, tenant: tenant, actor: caller.subject, on: connection, requestID: context.requestID, logger: context.logger))
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<KnowledgeDocumentDetail> {
        let (_, tenant) = try context.requireTenantCaller()
        guard let detail = try await self.knowledge.detail(try context.uuidParameter(), tenant: tenant, logger: context.logger) else { throw Self.notFound }
        return JSONResponse(.ok, detail)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<KnowledgeDocumentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter()
        var body = try await request.decodeJSON(UpdateKnowledgeDocument.self, context: context)
        guard let current = try await self.knowledge.find(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        // a CSV is checked as CSV: the new format, or the one the document has
        let format = body.format ?? current.format
        var content = body.content
        if content == nil, format != current.format { content = try await self.knowledge.indexSource(id, tenant: tenant, logger: context.logger)?.content }
        try KnowledgeRules.check(title: body.title, content: content, format: format, language: body.language, metadata: body.metadata)
        body.title = body.title?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard
            let updated = try await self.knowledge.update(id, tenant: tenant, body, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, updated)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        guard
            try await self.knowledge.delete(
                try context.uuidParameter(), tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw Self.notFound }
        return Response(status: .noContent)
    }

    @Sendable func find(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<KnowledgeSearchResponse> {
        let (_, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(KnowledgeSearchRequest.self, context: context)
        try TextRules.check(body.query, field: "query", length: 1...KnowledgeRules.maxQuery)
        if body.query.allSatisfy(\.isWhitespace) { throw APIError.unprocessable("invalid_query", "query must not be blank.") }
        if let limit = body.limit, !(1...KnowledgeRules.maxSearchLimit).contains(limit) {
            throw APIError.unprocessable("invalid_limit", "limit is 1 to \(KnowledgeRules.maxSearchLimit).")
        }
        if let types = body.sourceTypes, types.isEmpty || types.count > KnowledgeSourceType.allCases.count {
            throw APIError.unprocessable("invalid_source_types", "sourceTypes names 1 to \(KnowledgeSourceType.allCases.count) source types.")
        }
        try KnowledgeRules.checkLanguage(body.language)
        return JSONResponse(
            .ok,
            try await self.search.search(
                tenant: tenant, query: body.query, limit: body.limit ?? 5, sourceTypes: body.sourceTypes, language: body.language, logger: context.logger))
    }
}
