import Foundation
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit

/// Knowledge documents and their chunks (migration 0003): each write, its audit row and the index job it queues in
/// one transaction; the chunks the index job replaces; and the two halves of a search's SQL (the full-text ranking,
/// and the tenant's embeddings for the in-memory vector index).
struct KnowledgeStore: Sendable {
    let postgres: PostgresClient
    let audit: AuditLog
    let jobs: JobQueue

    static let columns = """
        id, title, source_type, format, language, metadata::text, length(content), content_version, indexed_version, chunk_count, created_at, updated_at
        """
    typealias Row = (UUID, String, String, String, String, String, Int, Int, Int, Int, Date, Date)

    static func document(_ row: Row) throws -> KnowledgeDocumentDTO {
        guard let type = KnowledgeSourceType(rawValue: row.2), let format = KnowledgeFormat(rawValue: row.3) else {
            throw CorruptRow("knowledge document \(row.0) has source type \(row.2), format \(row.3)")
        }
        let metadata = try JSONDecoder.sokoni.decode([String: JSONValue].self, from: Data(row.5.utf8))
        return KnowledgeDocumentDTO(
            id: row.0, title: row.1, sourceType: type, format: format, language: row.4, metadata: metadata, contentLength: row.6, contentVersion: row.7,
            indexedVersion: row.8, status: row.8 == row.7 ? "indexed" : "pending", chunkCount: row.9, createdAt: row.10, updatedAt: row.11)
    }

    static func json(_ metadata: [String: JSONValue]?) throws -> String? {
        try metadata.map { String(decoding: try JSONEncoder.sokoni.encode($0), as: UTF8.self) }
    }

    /// A new document, its audit row and its index job, on the caller's transaction (the idempotency helper's).
    func create(
        _ new: NewKnowledgeDocument, tenant: TenantID, actor: String, on connection: PostgresConnection, requestID: String, logger: Logger
    ) async throws -> KnowledgeDocumentDTO {
        let document = try await connection.query(
            """
            INSERT INTO agent.knowledge_documents (id, tenant_id, title, content, format, source_type, language, metadata, created_by)
            VALUES (\(UUID()), \(tenant.rawValue), \(new.title), \(new.content), \((new.format ?? .text).rawValue), \(new.sourceType.rawValue),
                    \(new.language ?? "en"), \(try Self.json(new.metadata) ?? "{}")::jsonb, \(actor))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger
        ).first(as: Row.self).map(Self.document)!
        try await self.enqueueIndex(document, tenant: tenant, on: connection, requestID: requestID, logger: logger)
        try await self.audit.record(
            on: connection, tenantID: tenant, actor: actor, action: "knowledge.created", table: "knowledge_documents",
            targetID: document.id.uuidString.lowercased(), before: nil, after: document, requestID: requestID, logger: logger)
        return document
    }

    func enqueueIndex(_ document: KnowledgeDocumentDTO, tenant: TenantID, on connection: PostgresConnection, requestID: String?, logger: Logger)
        async throws
    {
        try await self.jobs.enqueue(
            KnowledgeIndexer.kind, payload: KnowledgeIndexer.Payload(tenantId: tenant.rawValue, documentId: document.id, version: document.contentVersion),
            on: connection, requestID: requestID, logger: logger)
    }

    func list(tenant: TenantID, sourceType: KnowledgeSourceType?, query: String?, after cursor: (Int64, UUID)?, limit: Int, logger: Logger) async throws
        -> [KnowledgeDocumentDTO]
    {
        // the title contains the words asked for, as typed (LIKE's wildcards escaped)
        let pattern = query.map {
            "%" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        }
        return try await self.postgres.query(
            """
            SELECT \(unescaped: Self.columns) FROM agent.knowledge_documents WHERE tenant_id = \(tenant.rawValue)
              AND (\(sourceType?.rawValue)::text IS NULL OR source_type = \(sourceType?.rawValue))
              AND (\(pattern)::text IS NULL OR title ILIKE \(pattern) OR content ILIKE \(pattern))
              AND (\(cursor?.0)::bigint IS NULL OR (created_at, id) < (timestamptz 'epoch' + \(cursor?.0) * interval '1 microsecond', \(cursor?.1)))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, logger: logger
        ).all(as: Row.self).map(Self.document)
    }

    func find(_ id: UUID, tenant: TenantID, on connection: PostgresConnection? = nil, lock: Bool = false, logger: Logger) async throws
        -> KnowledgeDocumentDTO?
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM agent.knowledge_documents WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await self.postgres.query(query, logger: logger) }
        return try await rows.first(as: Row.self).map(Self.document)
    }

    /// A document with its content and the chunks of its indexed version.
    func detail(_ id: UUID, tenant: TenantID, logger: Logger) async throws -> KnowledgeDocumentDetail? {
        try await self.postgres.withConnection { connection in
            guard let document = try await self.find(id, tenant: tenant, on: connection, logger: logger),
                let content = try await connection.query(
                    "SELECT content FROM agent.knowledge_documents WHERE id = \(id) AND tenant_id = \(tenant.rawValue)", logger: logger
                ).first(as: String.self)
            else { return nil }
            let chunks = try await connection.query(
                """
                SELECT id, ordinal, content FROM agent.knowledge_chunks WHERE document_id = \(id) AND tenant_id = \(tenant.rawValue)
                ORDER BY ordinal
                """, logger: logger
            ).all(as: (UUID, Int, String).self).map { KnowledgeChunkDTO(id: $0.0, ordinal: $0.1, content: $0.2) }
            return KnowledgeDocumentDetail(document: document, content: content, chunks: chunks)
        }
    }

    /// Applies the changes as a new content version and queues its index job; the chunks of the old version stay
    /// searchable until the job replaces them.
    func update(_ id: UUID, tenant: TenantID, _ changes: UpdateKnowledgeDocument, actor: String, requestID: String, logger: Logger) async throws
        -> KnowledgeDocumentDTO?
    {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let before = try await self.find(id, tenant: tenant, on: connection, lock: true, logger: logger) else { return nil }
            let after = try await connection.query(
                """
                UPDATE agent.knowledge_documents SET title = coalesce(\(changes.title), title), content = coalesce(\(changes.content), content),
                    format = coalesce(\(changes.format?.rawValue), format), source_type = coalesce(\(changes.sourceType?.rawValue), source_type),
                    language = coalesce(\(changes.language), language), metadata = coalesce(\(try Self.json(changes.metadata))::jsonb, metadata),
                    content_version = content_version + 1, updated_at = now()
                WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
                RETURNING \(unescaped: Self.columns)
                """, logger: logger
            ).first(as: Row.self).map(Self.document)!
            try await self.enqueueIndex(after, tenant: tenant, on: connection, requestID: requestID, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "knowledge.updated", table: "knowledge_documents",
                targetID: id.uuidString.lowercased(), before: before, after: after, requestID: requestID, logger: logger)
            return after
        }
    }

    /// What the index job needs of a document, read at once (one snapshot).
    struct IndexSource: Sendable {
        var version: Int
        var indexedVersion: Int
        var title: String
        var content: String
        var format: KnowledgeFormat
        var language: String
    }

    func indexSource(_ id: UUID, tenant: TenantID, logger: Logger) async throws -> IndexSource? {
        guard
            let row = try await self.postgres.query(
                """
                SELECT content_version, indexed_version, title, content, format, language FROM agent.knowledge_documents
                WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
                """, logger: logger
            ).first(as: (Int, Int, String, String, String, String).self)
        else { return nil }
        guard let format = KnowledgeFormat(rawValue: row.4) else { throw CorruptRow("knowledge document \(id) has format \(row.4)") }
        return IndexSource(version: row.0, indexedVersion: row.1, title: row.2, content: row.3, format: format, language: row.5)
    }

    /// Deletes a document and its chunks; the tenant's version moves, so every replica's index drops them.
    func delete(_ id: UUID, tenant: TenantID, actor: String, requestID: String, logger: Logger) async throws -> Bool {
        try await self.postgres.withTransaction(logger: logger) { connection in
            guard let before = try await self.find(id, tenant: tenant, on: connection, lock: true, logger: logger) else { return false }
            try await connection.query("DELETE FROM agent.knowledge_documents WHERE id = \(id) AND tenant_id = \(tenant.rawValue)", logger: logger)
            try await self.bumpVersion(tenant, on: connection, logger: logger)
            try await self.audit.record(
                on: connection, tenantID: tenant, actor: actor, action: "knowledge.deleted", table: "knowledge_documents",
                targetID: id.uuidString.lowercased(), before: before, after: nil, requestID: requestID, logger: logger)
            return true
        }
    }

    @discardableResult
    func bumpVersion(_ tenant: TenantID, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        let version = try await connection.query(
            """
            INSERT INTO agent.knowledge_versions (tenant_id, version) VALUES (\(tenant.rawValue), 1)
            ON CONFLICT (tenant_id) DO UPDATE SET version = agent.knowledge_versions.version + 1
            RETURNING version
            """, logger: logger
        ).first(as: Int64.self)
        return version ?? 0
    }

    // MARK: the index job

    /// Replaces a document's chunks with those of `version`, if that is still its content version (and not yet
    /// indexed); returns whether it did. The document's row is locked, so an update committing meanwhile waits, and
    /// a stale job (an older version) writes nothing.
    func replaceChunks(
        document id: UUID, tenant: TenantID, version: Int, title: String, chunks: [String], embeddings: [[Float]], model: String, regconfig: String,
        logger: Logger
    ) async throws -> Bool {
        precondition(chunks.count == embeddings.count)
        return try await self.postgres.withTransaction(logger: logger) { connection in
            guard let current = try await self.find(id, tenant: tenant, on: connection, lock: true, logger: logger),
                current.contentVersion == version, current.indexedVersion < version
            else { return false }
            try await connection.query("DELETE FROM agent.knowledge_chunks WHERE document_id = \(id) AND tenant_id = \(tenant.rawValue)", logger: logger)
            if !chunks.isEmpty {
                let ids = chunks.map { _ in UUID() }
                let vectors = embeddings.map { "{" + $0.map { "\($0)" }.joined(separator: ",") + "}" }
                // the title is part of every chunk's text vector: a chunk is found by what its document is called
                try await connection.query(
                    """
                    INSERT INTO agent.knowledge_chunks
                        (id, tenant_id, document_id, ordinal, source_type, content, content_version, tsv, embedding, embedding_model)
                    SELECT c.id, \(tenant.rawValue), \(id), c.ordinal - 1, \(current.sourceType.rawValue), c.content, \(version),
                           to_tsvector(\(regconfig)::regconfig, \(title) || E'\n' || c.content) || to_tsvector('simple', \(title) || E'\n' || c.content),
                           c.embedding::real[], \(model)
                    FROM unnest(\(ids)::uuid[], \(chunks)::text[], \(vectors)::text[]) WITH ORDINALITY AS c(id, content, embedding, ordinal)
                    """, logger: logger)
            }
            try await connection.query(
                """
                UPDATE agent.knowledge_documents SET indexed_version = \(version), chunk_count = \(chunks.count)
                WHERE id = \(id) AND tenant_id = \(tenant.rawValue)
                """, logger: logger)
            try await self.bumpVersion(tenant, on: connection, logger: logger)
            return true
        }
    }

    // MARK: search

    /// How often the tenant's chunks changed (0: never): what an in-memory index compares its copy with.
    func version(tenant: TenantID, logger: Logger) async throws -> Int64 {
        let version = try await self.postgres.query("SELECT version FROM agent.knowledge_versions WHERE tenant_id = \(tenant.rawValue)", logger: logger)
            .first(as: Int64.self)
        return version ?? 0
    }

    /// The full-text half: chunks matching any word of the query (read with `regconfig`), best `ts_rank` first.
    /// `plainto_tsquery` ANDs the words; a customer's question rarely repeats a document's every word, so the ANDs
    /// become ORs and the ranking sorts out how many matched.
    func textSearch(tenant: TenantID, query: String, regconfig: String, sourceTypes: [String]?, limit: Int, logger: Logger) async throws
        -> [(chunk: UUID, rank: Double)]
    {
        try await self.postgres.query(
            """
            WITH q AS MATERIALIZED (SELECT replace(plainto_tsquery(\(regconfig)::regconfig, \(query))::text, ' & ', ' | ')::tsquery AS query)
            SELECT c.id, ts_rank(c.tsv, q.query)::float8 FROM q, agent.knowledge_chunks c
            WHERE c.tenant_id = \(tenant.rawValue) AND c.tsv @@ q.query
              AND (\(sourceTypes)::text[] IS NULL OR c.source_type = ANY(\(sourceTypes)::text[]))
            ORDER BY 2 DESC, c.id LIMIT \(limit)
            """, logger: logger
        ).all(as: (UUID, Double).self).map { ($0.0, $0.1) }
    }

    struct IndexedChunk: Sendable {
        var id: UUID
        var document: UUID
        var ordinal: Int
        var content: String
        var title: String
        var sourceType: KnowledgeSourceType
        var embedding: [Float]
    }

    /// Every chunk of the tenant embedded by `model`, with what a search result shows of it.
    func indexedChunks(tenant: TenantID, model: String, logger: Logger) async throws -> [IndexedChunk] {
        try await self.postgres.query(
            """
            SELECT c.id, c.document_id, c.ordinal, c.content, d.title, c.source_type, c.embedding
            FROM agent.knowledge_chunks c JOIN agent.knowledge_documents d ON d.id = c.document_id AND d.tenant_id = \(tenant.rawValue)
            WHERE c.tenant_id = \(tenant.rawValue) AND c.embedding_model = \(model)
            ORDER BY c.document_id, c.ordinal
            """, logger: logger
        ).all(as: (UUID, UUID, Int, String, String, String, ByteBuffer).self).map { row in
            guard let type = KnowledgeSourceType(rawValue: row.5) else { throw CorruptRow("knowledge chunk \(row.0) has source type \(row.5)") }
            guard let embedding = Self.floats(binaryArray: row.6) else { throw CorruptRow("knowledge chunk \(row.0) has an unreadable embedding") }
            return IndexedChunk(id: row.0, document: row.1, ordinal: row.2, content: row.3, title: row.4, sourceType: type, embedding: embedding)
        }
    }

    /// A one-dimensional `real[]` without NULLs in PostgreSQL's binary format, read straight from its bytes: a
    /// header (dimensions, null flag, element type, then length and lower bound per dimension), then per element
    /// its length (4) and a big-endian IEEE float. Decoding element by element through `[Float]` took most of a
    /// snapshot's load time.
    static func floats(binaryArray buffer: ByteBuffer) -> [Float]? {
        var buffer = buffer
        guard let dimensions = buffer.readInteger(as: Int32.self), let hasNulls = buffer.readInteger(as: Int32.self),
            buffer.readInteger(as: UInt32.self) == 700
        else { return nil }
        if dimensions == 0 { return [] }
        guard dimensions == 1, hasNulls == 0, let count = buffer.readInteger(as: Int32.self), count >= 0, buffer.readInteger(as: Int32.self) != nil,
            buffer.readableBytes == Int(count) * 8
        else { return nil }
        return buffer.withUnsafeReadableBytes { raw -> [Float]? in
            var floats = [Float](repeating: 0, count: Int(count))
            for index in 0..<Int(count) {
                guard raw.loadUnaligned(fromByteOffset: index * 8, as: UInt32.self).bigEndian == 4 else { return nil }
                floats[index] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: index * 8 + 4, as: UInt32.self).bigEndian)
            }
            return floats
        }
    }

    /// The vector half done in SQL instead: a dot product per chunk over `real[]` (no pgvector here). Not the
    /// search path — kept to measure it against the in-memory index (KnowledgeSearch) and to check both agree.
    func vectorSearchInSQL(tenant: TenantID, vector: [Float], model: String, limit: Int, logger: Logger) async throws -> [(chunk: UUID, score: Double)] {
        try await self.postgres.query(
            """
            SELECT c.id, (SELECT sum(a * b) FROM unnest(c.embedding, \(vector)::real[]) AS t(a, b))::float8 AS score
            FROM agent.knowledge_chunks c WHERE c.tenant_id = \(tenant.rawValue) AND c.embedding_model = \(model)
            ORDER BY score DESC, c.id LIMIT \(limit)
            """, logger: logger
        ).all(as: (UUID, Double).self).map { ($0.0, $0.1) }
    }
}
