-- The knowledge base: a tenant's documents, their chunks with a full-text vector and an embedding each, and a
-- version per tenant that says when its chunks last changed.
--
-- Why it looks like this:
-- * Seed 003 kept one row per document with one pgvector embedding and an IVFFlat index. A long document then had one
--   blurred vector, the index needed pgvector (not on this PostgreSQL 15) and `lists=100` tuned for nobody's data;
--   and nothing kept the embedding in step with the text: edits left the old vector in place. Here a document is
--   split into overlapping chunks, each with its own embedding as `real[]` (plain PostgreSQL) and its own
--   `tsvector`, so retrieval can cite the passage, not just the document.
-- * Chunks are written only by the index job, for one content version: `content_version` moves with every change in
--   the same transaction that queues the job, and the job replaces the chunks only if the document still has the
--   version it was queued for. A late or retried job for an older version changes nothing, so the chunks never
--   mix two versions of a text.
-- * Vector similarity is computed in agent-core, from an in-memory copy of a tenant's embeddings: a dot product per
--   chunk in SQL over `real[]` took ~300 ms for 10,000 chunks, the whole search with the scan in memory ~11 ms
--   (figures in Knowledge/KnowledgeSearch.swift). `knowledge_versions.version` moves whenever a tenant's chunks
--   change (index job, delete), in the same transaction, so every replica notices on its next search that its copy
--   is stale, without LISTEN/NOTIFY connections to keep alive.
-- * The `tsvector` holds the lexemes of the document's language configuration (english stems "hours" to "hour")
--   and those of `simple` (the words as written), so a query read with another configuration than the document's
--   (a Swahili question about an English document) still finds the words both share.
-- * Every row carries `tenant_id` and every query filters on it; chunks repeat it (and the document's source type)
--   so the search never joins to find out whose a chunk is. The full-text index is one GIN over (tenant_id, tsv)
--   (btree_gin, a trusted extension: the database owner may create it), so a search reads only its own tenant's
--   matching chunks. With a GIN over tsv alone and a join to the documents, the planner, before the table had
--   statistics, walked all 10,000 chunks of a tenant and tested each (15–28 ms a search instead of a few).
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA agent;

CREATE TABLE agent.knowledge_documents (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    content text NOT NULL CHECK (length(content) BETWEEN 1 AND 200000),
    format text NOT NULL DEFAULT 'text' CHECK (format IN ('text', 'markdown', 'csv')),
    source_type text NOT NULL CHECK (source_type IN ('property', 'faq', 'policy', 'subsidy', 'product', 'custom')),
    language text NOT NULL DEFAULT 'en' CHECK (language ~ '^([a-z]{2,3}|sheng)$'),
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    content_version int NOT NULL DEFAULT 1 CHECK (content_version >= 1),
    -- the version whose chunks are searchable; 0: none yet
    indexed_version int NOT NULL DEFAULT 0 CHECK (indexed_version BETWEEN 0 AND content_version),
    chunk_count int NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX knowledge_documents_tenant ON agent.knowledge_documents (tenant_id, created_at DESC, id DESC);

CREATE TABLE agent.knowledge_chunks (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    document_id uuid NOT NULL REFERENCES agent.knowledge_documents (id) ON DELETE CASCADE,
    ordinal int NOT NULL CHECK (ordinal >= 0),
    source_type text NOT NULL CHECK (source_type IN ('property', 'faq', 'policy', 'subsidy', 'product', 'custom')),
    content text NOT NULL CHECK (length(content) >= 1),
    content_version int NOT NULL,
    tsv tsvector NOT NULL,
    embedding real[] NOT NULL CHECK (cardinality(embedding) BETWEEN 1 AND 8192),
    -- which embedder made it (`sokoni-hashing-v1-256`, or the provider's model): vectors of two models never meet
    embedding_model text NOT NULL,
    UNIQUE (document_id, ordinal)
);
CREATE INDEX knowledge_chunks_search ON agent.knowledge_chunks USING gin (tenant_id, tsv);
CREATE INDEX knowledge_chunks_tenant ON agent.knowledge_chunks (tenant_id, embedding_model);

CREATE TABLE agent.knowledge_versions (
    tenant_id uuid PRIMARY KEY,
    version bigint NOT NULL CHECK (version >= 1)
);
