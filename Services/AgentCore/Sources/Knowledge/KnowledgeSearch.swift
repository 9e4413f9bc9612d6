import Foundation
import Logging
import Models
import ServiceKit
import Synchronization

/// A tenant's embeddings in memory, as one flat array of floats, with what a result shows of each chunk. Built from
/// the database when a search finds the tenant's version (`agent.knowledge_versions`) moved since; never changed
/// after, so searches read it without a lock.
final class KnowledgeSnapshot: Sendable {
    struct Chunk: Sendable {
        var id: UUID
        var document: UUID
        var ordinal: Int
        var content: String
        var title: String
        var sourceType: KnowledgeSourceType
    }

    let version: Int64
    let dimensions: Int
    let chunks: [Chunk]
    let vectors: [Float]
    let positions: [UUID: Int]
    /// Words in more than a fifth of a large tenant's chunks (catalogue headers, "station", "price"): see
    /// `informative(_:)`.
    let frequentWords: Set<String>

    /// From this many chunks on, words in more than `frequentShare` of them leave the full-text query.
    static let frequentFrom = 500
    static let frequentShare = 0.2

    init(version: Int64, chunks indexed: [KnowledgeStore.IndexedChunk]) {
        self.version = version
        // vectors of another length than the first (a provider changed its model's size) are left out
        let dimensions = indexed.first?.embedding.count ?? 0
        let kept = indexed.filter { $0.embedding.count == dimensions }
        self.dimensions = dimensions
        self.chunks = kept.map { Chunk(id: $0.id, document: $0.document, ordinal: $0.ordinal, content: $0.content, title: $0.title, sourceType: $0.sourceType) }
        var vectors: [Float] = []
        vectors.reserveCapacity(kept.count * dimensions)
        for chunk in kept { vectors.append(contentsOf: chunk.embedding) }
        self.vectors = vectors
        self.positions = Dictionary(kept.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var frequent = Set<String>()
        if kept.count >= Self.frequentFrom {
            var counts: [String: Int] = [:]
            for chunk in kept {
                for word in Set(HashingEmbedder.words(chunk.title + " " + chunk.content)) { counts[word, default: 0] += 1 }
            }
            let limit = Int(Double(kept.count) * Self.frequentShare)
            frequent = Set(counts.filter { $0.value > limit }.keys)
        }
        self.frequentWords = frequent
    }

    /// The query without the tenant's most frequent words, for the full-text half; nil when nothing is left.
    ///
    /// PostgreSQL's `ts_rank` has no inverse document frequency, and the query's words are ORed: a word that is in
    /// most chunks ("station" in every row of a catalogue, a CSV's header names) makes PostgreSQL rank most of the
    /// tenant for no information. Measured (EXPLAIN ANALYZE, 10,000 catalogue chunks of one tenant among 16,000, this
    /// 2-core machine, busy): "is there a tyre near Kicukiro station today" matched all 10,000 and took 17–28 ms;
    /// without "station" it matched ~1,000 and took 5–7 ms (ranking costs ~2 µs a matching chunk). A word in over a
    /// fifth of the chunks has an IDF below log 5; it leaves the full-text
    /// query (tenants under 500 chunks keep every word: ranking them all is cheap), and the vector half still
    /// weighs it. A query of nothing but such words is answered by the vector half alone.
    func informative(_ query: String) -> String? {
        guard !self.frequentWords.isEmpty else { return query }
        let words = query.split { !($0.isLetter || $0.isNumber) }.filter { word in
            let folded = HashingEmbedder.words(String(word))
            return !folded.allSatisfy { self.frequentWords.contains($0) || ($0.hasSuffix("s") && self.frequentWords.contains(String($0.dropLast()))) }
        }
        return words.isEmpty ? nil : words.joined(separator: " ")
    }

    /// Cosine similarity (the vectors are unit length) of the query with chunk `position`.
    func score(_ query: [Float], at position: Int) -> Float {
        guard query.count == self.dimensions else { return 0 }
        return self.vectors.withUnsafeBufferPointer { all in
            query.withUnsafeBufferPointer { q in Self.dot(all, from: position * self.dimensions, q, dimensions: self.dimensions) }
        }
    }

    /// The dot product of the query with the vector at `base`, eight lanes at a time (a float sum is not
    /// reassociated by the optimiser on its own, so a plain loop runs one multiply-add after another).
    @inline(__always)
    static func dot(_ all: UnsafeBufferPointer<Float>, from base: Int, _ q: UnsafeBufferPointer<Float>, dimensions: Int) -> Float {
        var lanes = SIMD8<Float>()
        var index = 0
        let rawAll = UnsafeRawPointer(all.baseAddress!)
        let rawQuery = UnsafeRawPointer(q.baseAddress!)
        while index + 8 <= dimensions {
            let a = rawAll.loadUnaligned(fromByteOffset: (base + index) * 4, as: SIMD8<Float>.self)
            let b = rawQuery.loadUnaligned(fromByteOffset: index * 4, as: SIMD8<Float>.self)
            lanes.addProduct(a, b)
            index += 8
        }
        var sum = lanes.sum()
        while index < dimensions {
            sum += all[base + index] * q[index]
            index += 1
        }
        return sum
    }

    /// The `k` most similar chunks, best first, of the source types allowed (nil: all).
    func nearest(_ query: [Float], k: Int, sourceTypes: Set<KnowledgeSourceType>?) -> [(position: Int, score: Float)] {
        guard query.count == self.dimensions, self.dimensions > 0, k > 0 else { return [] }
        var best: [(position: Int, score: Float)] = []
        best.reserveCapacity(k + 1)
        let dimensions = self.dimensions
        self.vectors.withUnsafeBufferPointer { all in
            query.withUnsafeBufferPointer { q in
                for position in 0..<self.chunks.count {
                    if let sourceTypes, !sourceTypes.contains(self.chunks[position].sourceType) { continue }
                    let sum = Self.dot(all, from: position * dimensions, q, dimensions: dimensions)
                    if best.count == k, sum <= best[k - 1].score { continue }
                    // insertion into the short sorted list
                    var at = best.count
                    while at > 0, best[at - 1].score < sum { at -= 1 }
                    best.insert((position, sum), at: at)
                    if best.count > k { best.removeLast() }
                }
            }
        }
        return best
    }
}

/// The in-memory indexes of the tenants searched lately, least recently used dropped beyond `capacity`.
final class KnowledgeIndex: Sendable {
    struct Entry {
        var snapshot: KnowledgeSnapshot
        var used: UInt64
    }
    struct State {
        var entries: [TenantID: Entry] = [:]
        var clock: UInt64 = 0
    }
    let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    func snapshot(_ tenant: TenantID, version: Int64) -> KnowledgeSnapshot? {
        self.state.withLock { state in
            guard var entry = state.entries[tenant], entry.snapshot.version == version else { return nil }
            state.clock += 1
            entry.used = state.clock
            state.entries[tenant] = entry
            return entry.snapshot
        }
    }

    func store(_ tenant: TenantID, _ snapshot: KnowledgeSnapshot) {
        self.state.withLock { state in
            // a slower load of an older version never replaces a newer one
            if let current = state.entries[tenant]?.snapshot, current.version > snapshot.version { return }
            state.clock += 1
            state.entries[tenant] = Entry(snapshot: snapshot, used: state.clock)
            if state.entries.count > self.capacity, let oldest = state.entries.min(by: { $0.value.used < $1.value.used })?.key {
                state.entries[oldest] = nil
            }
        }
    }
}

/// Hybrid retrieval: PostgreSQL's full-text ranking (GIN over (tenant_id, tsvector), the query read with its
/// language's configuration) and the embeddings' cosine similarity, fused by reciprocal rank fusion (k = 60). Every
/// query names the tenant; the in-memory index holds one tenant per snapshot.
///
/// Where the vector half runs, measured on this 2-core machine (shared with other builds), 10,000 chunks of 256
/// dimensions in one tenant beside 6,000 of others:
/// - in SQL, a dot product per chunk over `real[]` (`unnest` of both arrays, no pgvector on PostgreSQL 15):
///   300–330 ms a query (`sokoni-bench retrieval`, median of 20), 250–450 ms in KnowledgeTests;
/// - in memory, a scan of the tenant's snapshot: 15–40 ms in a debug build (KnowledgeTests); in release it was not
///   timed alone, but the whole search through the gateway (two token checks, the version read, the full-text
///   ranking — 1–8 ms of it by EXPLAIN ANALYZE —, the scan, the fusion) took 11 ms at the median at one connection;
/// - the snapshot's load when the tenant's version moved: 0.6–0.9 s in release for 10,000 chunks (their vectors read
///   straight from the binary `real[]`; decoding them as `[Float]` took 9 s in debug), once per change and replica.
/// So the vectors are scanned in memory, and the database keeps the full-text half, where its GIN index wins.
struct KnowledgeSearch: Sendable {
    let store: KnowledgeStore
    let embedder: any Embedder
    let index: KnowledgeIndex
    /// How many of each ranking enter the fusion.
    static let candidates = 50

    func snapshot(_ tenant: TenantID, logger: Logger) async throws -> KnowledgeSnapshot {
        let version = try await self.store.version(tenant: tenant, logger: logger)
        if let snapshot = self.index.snapshot(tenant, version: version) { return snapshot }
        // read after the version: a change committing meanwhile moves the version again, so a copy newer than its
        // label is reloaded on the next search, never an older one kept
        let chunks = try await self.store.indexedChunks(tenant: tenant, model: self.embedder.model, logger: logger)
        let snapshot = KnowledgeSnapshot(version: version, chunks: chunks)
        self.index.store(tenant, snapshot)
        return snapshot
    }

    func search(
        tenant: TenantID, query: String, limit: Int, sourceTypes: [KnowledgeSourceType]?, language: String?, logger: Logger
    ) async throws -> KnowledgeSearchResponse {
        let regconfig = TextSearchLanguage.regconfig(language)
        let types = sourceTypes.map { Set($0) }
        let snapshot = try await self.snapshot(tenant, logger: logger)
        // nothing indexed (most tenants' replies): no query to the database, no call to an embeddings provider
        guard !snapshot.chunks.isEmpty else { return KnowledgeSearchResponse(regconfig: regconfig, results: []) }
        let words = snapshot.informative(query)
        async let textHits =
            words == nil
            ? []
            : self.store.textSearch(
                tenant: tenant, query: words!, regconfig: regconfig, sourceTypes: sourceTypes?.map(\.rawValue), limit: Self.candidates, logger: logger)
        let vector: [Float]
        do {
            vector = try await self.embedder.embed([query], logger: logger).first ?? []
        } catch {
            logger.warning("embedding the query failed", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, code: "embeddings_unavailable", message: "The embeddings provider is unavailable; try again shortly.")
        }
        let text = try await textHits
        let nearest = snapshot.nearest(vector, k: Self.candidates, sourceTypes: types)
        let ranks = Dictionary(text.map { ($0.chunk, $0.rank) }, uniquingKeysWith: { first, _ in first })
        let fused = RankFusion.fuse([text.map(\.chunk), nearest.map { snapshot.chunks[$0.position].id }])
        var results: [KnowledgeSearchResult] = []
        for (id, score) in fused {
            // a chunk the text search saw but this snapshot lacks was indexed a moment ago: the next search has it
            guard let position = snapshot.positions[id] else { continue }
            let chunk = snapshot.chunks[position]
            results.append(
                KnowledgeSearchResult(
                    rank: results.count + 1, score: score, ftsRank: ranks[id], vectorScore: Double(snapshot.score(vector, at: position)),
                    content: chunk.content,
                    source: .init(documentId: chunk.document, title: chunk.title, sourceType: chunk.sourceType, chunkId: chunk.id, ordinal: chunk.ordinal)))
            if results.count == limit { break }
        }
        return KnowledgeSearchResponse(regconfig: regconfig, results: results)
    }
}
