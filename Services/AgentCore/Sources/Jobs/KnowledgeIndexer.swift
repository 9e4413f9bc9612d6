import Foundation
import Logging
import Models
import ServiceKit

/// `knowledge.index`: chunks and embeds one content version of a document and replaces its chunks with them.
/// Queued in the transaction that created or changed the document. Idempotent, since delivery is at least once:
/// a job for a version that is no longer the document's (a newer change queued its own job), for one already
/// indexed, or for a deleted document does nothing. An unreachable embeddings provider fails the job, which the
/// worker retries with backoff; the previous version's chunks stay searchable meanwhile.
struct KnowledgeIndexer: Sendable {
    static let kind = "knowledge.index"

    struct Payload: Codable, Sendable {
        var tenantId: UUID
        var documentId: UUID
        var version: Int
    }

    let store: KnowledgeStore
    let embedder: any Embedder

    func register(_ registry: inout JobRegistry) {
        let indexer = self
        registry.register(Self.kind, as: Payload.self) { payload, _, logger in
            try await indexer.index(payload, logger: logger)
        }
    }

    /// Whether it wrote chunks.
    @discardableResult
    func index(_ payload: Payload, logger: Logger) async throws -> Bool {
        let tenant = TenantID(rawValue: payload.tenantId)
        guard let source = try await self.store.indexSource(payload.documentId, tenant: tenant, logger: logger),
            source.version == payload.version, source.indexedVersion < payload.version
        else {
            logger.debug("knowledge index job is stale or done", metadata: ["document": "\(payload.documentId)", "version": "\(payload.version)"])
            return false
        }
        // the API refuses content its format cannot read; should some slip through, the document has no chunks
        let chunks = (try? KnowledgeChunker.chunks(source.content, format: source.format)) ?? []
        // the title leads every chunk's embedding, as it leads its text vector
        let vectors = try await self.embedder.embed(chunks.map { source.title + "\n" + $0 }, logger: logger)
        return try await self.store.replaceChunks(
            document: payload.documentId, tenant: tenant, version: payload.version, title: source.title, chunks: chunks, embeddings: vectors,
            model: self.embedder.model, regconfig: TextSearchLanguage.regconfig(source.language), logger: logger)
    }
}
