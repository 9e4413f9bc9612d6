import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import AgentCore

/// The knowledge base: chunking, the hashing embedder, rank fusion (pure); documents through the gateway with a real
/// database, indexed by the job, searched within their tenant only, with every role and bad input; the hybrid's
/// quality on a labelled set against either half; where the vector search is fastest; and the replies that use it.
@Suite(.serialized) struct KnowledgeTests {
    // MARK: pure parts

    @Test func textIsChunkedWithOverlapAndCSVRowsAreChunks() throws {
        let sentences = (1...120).map { "Sentence number \($0) tells the driver something about fuel vouchers." }
        let text = sentences.joined(separator: " ")
        let chunks = KnowledgeChunker.text(text)
        #expect(chunks.count > 5)
        #expect(chunks.allSatisfy { $0.count <= KnowledgeChunker.size }, "\(chunks.map(\.count))")
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            // the next chunk begins with the last words of the one before
            let firstWords = next.split(separator: " ").prefix(3).joined(separator: " ")
            #expect(previous.contains(firstWords), "no overlap between «\(previous.suffix(80))» and «\(next.prefix(80))»")
            let overlap = previous.suffix(KnowledgeChunker.overlap + 20)
            #expect(overlap.contains(firstWords))
        }
        // nothing lost: every sentence is whole in some chunk (chunks end at sentence ends where they can)
        for sentence in sentences { #expect(chunks.contains { $0.contains(sentence) }, "\(sentence) is cut everywhere") }
        #expect(KnowledgeChunker.text("Short note.") == ["Short note."])
        #expect(KnowledgeChunker.text("  \n ").isEmpty)
        // one enormous word is cut rather than kept whole
        #expect(KnowledgeChunker.text(String(repeating: "x", count: 2000)).allSatisfy { $0.count <= KnowledgeChunker.size })

        let csv = "name,price,location\r\n\"Villa, Nyarutarama\",\"450,000 RWF\",Kigali\nStudio \"\"Lux\"\"?,,Musanze\n\n"
        #expect(
            try KnowledgeChunker.csv(csv) == [
                "name: Villa, Nyarutarama\nprice: 450,000 RWF\nlocation: Kigali", "name: Studio \"\"Lux\"\"?\nlocation: Musanze",
            ])
        #expect(try CSV.parse("a,\"b\"\"c\"\n1,2") == [["a", "b\"c"], ["1", "2"]])
        #expect(throws: APIError.self) { try CSV.parse("a,\"unterminated\n1,2") }
        #expect(throws: APIError.self) { try CSV.parse("a,\"b\"x\n") }
    }

    @Test func theHashingEmbedderIsDeterministicAndSimilarTextsScoreHigher() {
        let embedder = HashingEmbedder()
        let a = embedder.embed("What are the opening hours of the Remera station?")
        #expect(a == embedder.embed("What are the opening hours of the Remera station?"))
        #expect(a.count == 256)
        #expect(abs(VectorMath.dot(a, a) - 1) < 1e-4)
        // FNV-1a with a fixed finaliser: the same on every machine and in every process, unlike Swift's Hasher
        #expect(HashingEmbedder.fnv1a("w|fuel") == 0x3757_aff0_b69c_d414)
        let similar = embedder.embed("When does the Remera station open? Opening hour")
        let unrelated = embedder.embed("Diesel subsidy for registered motorcycle taxis")
        #expect(VectorMath.dot(a, similar) > VectorMath.dot(a, unrelated) + 0.2, "\(VectorMath.dot(a, similar)) vs \(VectorMath.dot(a, unrelated))")
        // accents and case fold away
        #expect(VectorMath.dot(embedder.embed("Arrêt de la Station"), embedder.embed("arret de la station")) > 0.99)
        #expect(embedder.embed("the of and").allSatisfy { $0 == 0 }, "stop words alone are nothing")
    }

    @Test func rankFusionAndLanguages() {
        // b is second in both rankings, a first in one and absent from the other: b wins (2/62 > 1/61)
        let fused = RankFusion.fuse([["a", "b", "c"], ["d", "b"]])
        #expect(fused.map(\.key) == ["b", "a", "d", "c"])
        #expect(abs(fused[0].score - 2.0 / 62.0) < 1e-12)
        #expect(TextSearchLanguage.regconfig("en") == "english" && TextSearchLanguage.regconfig("fr") == "french")
        #expect(
            TextSearchLanguage.regconfig("sw") == "simple" && TextSearchLanguage.regconfig("rw") == "simple" && TextSearchLanguage.regconfig(nil) == "simple")
    }

    @Test func wordsInMostOfALargeTenantsChunksLeaveTheFullTextQuery() {
        func snapshot(_ count: Int) -> KnowledgeSnapshot {
            KnowledgeSnapshot(
                version: 1,
                chunks: (0..<count).map { index in
                    KnowledgeStore.IndexedChunk(
                        id: UUID(), document: UUID(), ordinal: 0, content: "item \(index % 40 == 0 ? "tyre" : "oil") at Remera station", title: "Catalogue",
                        sourceType: .product, embedding: [1, 0])
                })
        }
        let large = snapshot(600)
        #expect(large.frequentWords.isSuperset(of: ["station", "remera", "item", "catalogue", "oil"]) && !large.frequentWords.contains("tyre"))
        #expect(large.informative("Any tyre at the Remera stations?") == "Any tyre the")
        #expect(large.informative("Remera station") == nil, "nothing informative left: the vector half answers alone")
        // a small tenant keeps every word: ranking all of it is cheap
        #expect(snapshot(100).frequentWords.isEmpty && snapshot(100).informative("Remera station") == "Remera station")
    }

    // MARK: through the API

    struct NewDocument: Encodable {
        var title: String
        var content: String
        var sourceType = "policy"
        var language: String? = "en"
        var format: String? = nil
        var metadata: [String: JSONValue]? = nil
    }

    struct SearchBody: Encodable {
        var query: String
        var limit: Int? = nil
        var sourceTypes: [String]? = nil
        var language: String? = "en"
    }

    static func create(_ gateway: String, token: String, _ document: NewDocument) async throws -> KnowledgeDocumentDTO {
        let created = try await TestHTTP.post("\(gateway)/v1/knowledge", token: token, json: document)
        #expect(created.status == 201, "\(created.text)")
        return try created.json(KnowledgeDocumentDTO.self)
    }

    /// Waits until the document's current version is searchable.
    @discardableResult
    static func indexed(_ gateway: String, token: String, _ id: UUID, timeout: Duration = .seconds(20)) async throws -> KnowledgeDocumentDetail {
        var detail: KnowledgeDocumentDetail?
        _ = try await TestWait.until(timeout: timeout) {
            detail = try await TestHTTP.get("\(gateway)/v1/knowledge/\(id)", token: token).json(KnowledgeDocumentDetail.self)
            return detail?.document.status == "indexed"
        }
        return try #require(detail)
    }

    static func search(_ gateway: String, token: String, _ body: SearchBody) async throws -> KnowledgeSearchResponse {
        let answer = try await TestHTTP.post("\(gateway)/v1/knowledge/search", token: token, json: body)
        #expect(answer.status == 200, "\(answer.text)")
        return try answer.json(KnowledgeSearchResponse.self)
    }

    @Test func documentsAreIndexedByTheJobSearchedInTheirTenantOnlyChangedAndDeleted() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let policy = try await Self.create(
                gateway, token: admin,
                NewDocument(
                    title: "Refund policy",
                    content: "Fuel vouchers are refundable within 14 days of purchase when unused. Refunds go back to the M-Pesa number that paid.",
                    metadata: ["owner": .string("finance"), "version": .number(3)]))
            #expect(policy.status == "pending" && policy.contentVersion == 1 && policy.metadata["owner"] == .string("finance"))
            let detail = try await Self.indexed(gateway, token: admin, policy.id)
            #expect(detail.chunks.count == 1 && detail.chunks[0].content.hasPrefix("Fuel vouchers are refundable"))
            #expect(detail.content.hasSuffix("paid.") && detail.document.chunkCount == 1)
            // Markdown pasted as text, and a CSV of products: one chunk per row with its headers
            let markdown = try await TestHTTP.request(
                .POST, "\(gateway)/v1/knowledge?title=Station%20hours&sourceType=custom&language=en", token: admin,
                headers: ["Content-Type": "text/markdown"], body: Data("# Hours\n\nRemera station opens at 6am and closes at 10pm.\n".utf8))
            #expect(markdown.status == 201, "\(markdown.text)")
            let csv = try await TestHTTP.request(
                .POST, "\(gateway)/v1/knowledge?title=Lubricants&sourceType=product", token: admin, headers: ["Content-Type": "text/csv"],
                body: Data("product,price,size\nEngine oil 10W-40,12000 RWF,1 litre\nBrake fluid DOT4,4500 RWF,500 ml\n".utf8))
            #expect(csv.status == 201, "\(csv.text)")
            let products = try await Self.indexed(gateway, token: admin, try csv.json(KnowledgeDocumentDTO.self).id)
            #expect(
                products.chunks.map(\.content) == [
                    "product: Engine oil 10W-40\nprice: 12000 RWF\nsize: 1 litre", "product: Brake fluid DOT4\nprice: 4500 RWF\nsize: 500 ml",
                ])
            #expect(products.document.format == .csv)
            try await Self.indexed(gateway, token: admin, try markdown.json(KnowledgeDocumentDTO.self).id)

            // a second tenant with a near-identical document: neither ever sees the other's
            let other = try await platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            let theirs = try await Self.create(
                gateway, token: otherAdmin,
                NewDocument(title: "Refund policy", content: "Fuel vouchers are refundable within 30 days of purchase when unused. Refunds by bank transfer."))
            try await Self.indexed(gateway, token: otherAdmin, theirs.id)

            let found = try await Self.search(gateway, token: admin, SearchBody(query: "Can I get a refund for an unused voucher?"))
            #expect(found.regconfig == "english")
            let top = try #require(found.results.first)
            #expect(top.source.documentId == policy.id && top.source.title == "Refund policy" && top.source.sourceType == .policy)
            #expect(top.rank == 1 && top.ftsRank != nil && top.vectorScore > 0.2 && top.score > 0)
            #expect(top.source.chunkId == detail.chunks[0].id)
            let mine: Set<UUID> = [policy.id, products.document.id, try markdown.json(KnowledgeDocumentDTO.self).id]
            #expect(found.results.allSatisfy { mine.contains($0.source.documentId) }, "another tenant's chunk in \(found.results.map(\.source))")
            let theirSearch = try await Self.search(gateway, token: otherAdmin, SearchBody(query: "Can I get a refund for an unused voucher?"))
            #expect(theirSearch.results.map(\.source.documentId) == [theirs.id])
            #expect(try await TestHTTP.get("\(gateway)/v1/knowledge/\(policy.id)", token: otherAdmin).status == 404)
            #expect(try await TestHTTP.request(.DELETE, "\(gateway)/v1/knowledge/\(policy.id)", token: otherAdmin).status == 404)
            struct Title: Encodable { var title = "stolen" }
            #expect(
                try await TestHTTP.request(.PATCH, "\(gateway)/v1/knowledge/\(policy.id)", token: otherAdmin, body: try JSONEncoder().encode(Title())).status
                    == 404)
            // filters: by source type, and the list's own
            let onlyProducts = try await Self.search(gateway, token: admin, SearchBody(query: "engine oil price", sourceTypes: ["product"]))
            #expect(!onlyProducts.results.isEmpty && onlyProducts.results.allSatisfy { $0.source.sourceType == .product })
            #expect(onlyProducts.results.first?.content.contains("Engine oil") == true)
            let listed = try await TestHTTP.get("\(gateway)/v1/knowledge?sourceType=policy", token: admin).json(Page<KnowledgeDocumentDTO>.self)
            #expect(listed.items.map(\.id) == [policy.id])
            let byWord = try await TestHTTP.get("\(gateway)/v1/knowledge?q=lubri", token: admin).json(Page<KnowledgeDocumentDTO>.self)
            #expect(byWord.items.map(\.title) == ["Lubricants"])
            let paged = try await TestHTTP.get("\(gateway)/v1/knowledge?limit=2", token: admin).json(Page<KnowledgeDocumentDTO>.self)
            #expect(paged.items.count == 2 && paged.nextCursor != nil)
            let rest = try await TestHTTP.get("\(gateway)/v1/knowledge?limit=2&cursor=\(paged.nextCursor!)", token: admin).json(Page<KnowledgeDocumentDTO>.self)
            #expect(Set(paged.items.map(\.id) + rest.items.map(\.id)) == mine)

            // a change is searchable within seconds, through the job; the old words are gone
            struct Change: Encodable { var content: String }
            let changed = try await TestHTTP.request(
                .PATCH, "\(gateway)/v1/knowledge/\(policy.id)", token: admin,
                body: try JSONEncoder().encode(Change(content: "Unused fuel vouchers can be exchanged for lubricant credit at any Kobil station.")))
            #expect(changed.status == 200, "\(changed.text)")
            #expect(try changed.json(KnowledgeDocumentDTO.self).contentVersion == 2)
            // (15 s: the job alone indexes, so that still says "through the job", and a runner busy with the whole
            // suite has room for the job's turn and a few polls through the gateway)
            let started = ContinuousClock.now
            try await Self.indexed(gateway, token: admin, policy.id, timeout: .seconds(15))
            #expect(ContinuousClock.now - started < .seconds(15))
            let exchanged = try await Self.search(gateway, token: admin, SearchBody(query: "exchange for lubricant credit"))
            #expect(exchanged.results.first?.source.documentId == policy.id && exchanged.results.first?.content.contains("Kobil") == true)
            let refunds = try await Self.search(gateway, token: admin, SearchBody(query: "refundable M-Pesa"))
            #expect(!refunds.results.contains { $0.content.contains("M-Pesa") }, "the old version's chunk is still found")

            // a stale job (version 1) and a repeated one (version 2) change nothing
            let environment = platform.environment(.agentCore)
            let store = KnowledgeStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs)
            let indexer = KnowledgeIndexer(store: store, embedder: HashingEmbedder())
            #expect(try await indexer.index(.init(tenantId: tenant.rawValue, documentId: policy.id, version: 1), logger: TestLog.quiet) == false)
            #expect(try await indexer.index(.init(tenantId: tenant.rawValue, documentId: policy.id, version: 2), logger: TestLog.quiet) == false)
            #expect(try await indexer.index(.init(tenantId: other.rawValue, documentId: policy.id, version: 2), logger: TestLog.quiet) == false)
            let after = try await TestHTTP.get("\(gateway)/v1/knowledge/\(policy.id)", token: admin).json(KnowledgeDocumentDetail.self)
            #expect(after.chunks.map(\.content) == ["Unused fuel vouchers can be exchanged for lubricant credit at any Kobil station."])

            // deleted: gone from the list, the document and every search
            #expect(try await TestHTTP.request(.DELETE, "\(gateway)/v1/knowledge/\(policy.id)", token: admin).status == 204)
            #expect(try await TestHTTP.get("\(gateway)/v1/knowledge/\(policy.id)", token: admin).status == 404)
            let afterDelete = try await Self.search(gateway, token: admin, SearchBody(query: "exchange for lubricant credit"))
            #expect(!afterDelete.results.contains { $0.source.documentId == policy.id })
            let chunksLeft = try await environment.postgres.query(
                "SELECT count(*)::int FROM agent.knowledge_chunks WHERE document_id = \(policy.id)", logger: TestLog.quiet
            ).first(as: Int.self)
            #expect(chunksLeft == 0)
            let audit = try await TestHTTP.get("\(gateway)/v1/agent-core/audit?targetType=knowledge_documents", token: admin).text
            #expect(audit.contains("knowledge.created") && audit.contains("knowledge.updated") && audit.contains("knowledge.deleted"), "\(audit.prefix(300))")
            // the same Idempotency-Key: one document
            let key = ["Idempotency-Key": UUID().uuidString]
            let once = try await TestHTTP.post("\(gateway)/v1/knowledge", token: admin, headers: key, json: NewDocument(title: "Once", content: "Only once."))
            let twice = try await TestHTTP.post("\(gateway)/v1/knowledge", token: admin, headers: key, json: NewDocument(title: "Once", content: "Only once."))
            #expect(once.status == 201 && twice.status == 201 && once.body == twice.body)
        }
    }

    @Test func everyRoleAndEveryBadInput() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let document = try await Self.create(
                gateway, token: admin, NewDocument(title: "Diesel subsidy", content: "Motorcycle taxis get 50 RWF off per litre."))
            let search = SearchBody(query: "diesel subsidy")
            // (role, reads and searches, writes)
            let cases: [(Role, Bool, Bool)] = [
                (.tenantAdmin, true, true), (.superAdmin, true, true), (.dataOps, true, true), (.support, true, false), (.readonly, true, false),
                (.agent, true, false), (.stationOperator, false, false),
            ]
            for (role, reads, writes) in cases {
                let token = try await TestKeys.token(tenant: tenant, roles: [role])
                let headers = [Role.superAdmin, .dataOps, .support, .readonly].contains(role) ? ["X-Tenant-ID": tenant.description] : [:]
                #expect(try await TestHTTP.get("\(gateway)/v1/knowledge", token: token, headers: headers).status == (reads ? 200 : 403), "\(role) lists")
                #expect(
                    try await TestHTTP.get("\(gateway)/v1/knowledge/\(document.id)", token: token, headers: headers).status == (reads ? 200 : 403),
                    "\(role) reads")
                #expect(
                    try await TestHTTP.post("\(gateway)/v1/knowledge/search", token: token, headers: headers, json: search).status == (reads ? 200 : 403),
                    "\(role) searches")
                let created = try await TestHTTP.post(
                    "\(gateway)/v1/knowledge", token: token, headers: headers, json: NewDocument(title: "By \(role)", content: "Written by \(role)."))
                #expect(created.status == (writes ? 201 : 403), "\(role) creates: \(created.text)")
                #expect(
                    try await TestHTTP.request(
                        .PATCH, "\(gateway)/v1/knowledge/\(document.id)", token: token, headers: headers, body: Data(#"{"metadata":{"by":"x"}}"#.utf8)
                    ).status == (writes ? 200 : 403), "\(role) changes")
                if writes {
                    let id = try created.json(KnowledgeDocumentDTO.self).id
                    #expect(try await TestHTTP.request(.DELETE, "\(gateway)/v1/knowledge/\(id)", token: token, headers: headers).status == 204)
                } else {
                    #expect(
                        try await TestHTTP.request(.DELETE, "\(gateway)/v1/knowledge/\(document.id)", token: token, headers: headers).status == 403,
                        "\(role) deletes")
                }
            }
            // a service token (another Sokoni service) and nobody at all
            let service = try await TestKeys.token(subject: "service:messaging", tenant: nil, roles: [.service])
            #expect(
                try await TestHTTP.get("\(platform.url(.agentCore))/v1/knowledge", token: service, headers: ["X-Tenant-ID": tenant.description]).status == 403)
            #expect(
                try await TestHTTP.post(
                    "\(platform.url(.agentCore))/v1/knowledge/search", token: service, headers: ["X-Tenant-ID": tenant.description], json: search
                ).status == 403)
            #expect(try await TestHTTP.get("\(gateway)/v1/knowledge").status == 401)
            #expect(try await TestHTTP.post("\(gateway)/v1/knowledge/search", json: search).status == 401)
            #expect(try await TestHTTP.get("\(platform.url(.agentCore))/v1/knowledge").status == 401)

            // bad input: a JSON error with the right 4xx, nothing written
            let environment = platform.environment(.agentCore)
            func count() async throws -> Int {
                try await environment.postgres.query("SELECT count(*)::int FROM agent.knowledge_documents", logger: TestLog.quiet).first(as: Int.self) ?? -1
            }
            let before = try await count()
            func post(_ body: String, path: String = "/v1/knowledge", type: String = "application/json") async throws -> TestResponse {
                try await TestHTTP.request(.POST, "\(gateway)\(path)", token: admin, headers: ["Content-Type": type], body: Data(body.utf8))
            }
            let bad: [(String, String, String, Int, String)] = [
                ("/v1/knowledge", "application/json", "{not json", 400, "invalid_json"),
                ("/v1/knowledge", "application/json", "", 400, "invalid_json"),
                ("/v1/knowledge", "application/json", #"{"title":1,"content":"x","sourceType":"policy"}"#, 400, "invalid_json"),
                ("/v1/knowledge", "application/json", #"{"title":"t","content":"x","sourceType":"brochure"}"#, 400, "invalid_json"),
                ("/v1/knowledge", "application/json", #"{"title":"t","content":"x"}"#, 400, "invalid_json"),
                ("/v1/knowledge", "application/json", #"{"title":"t","content":"x","sourceType":"policy","metadata":[1]}"#, 400, "invalid_json"),
                ("/v1/knowledge", "application/json", #"{"title":"","content":"x","sourceType":"policy"}"#, 422, "invalid_title"),
                ("/v1/knowledge", "application/json", #"{"title":"t","content":"   ","sourceType":"policy"}"#, 422, "invalid_content"),
                ("/v1/knowledge", "application/json", #"{"title":"t","content":"a\u0000b","sourceType":"policy"}"#, 422, "invalid_text"),
                ("/v1/knowledge", "application/json", #"{"title":"t","content":"x","sourceType":"policy","language":"English"}"#, 422, "invalid_language"),
                ("/v1/knowledge", "application/json", #"{"title":"t","content":"a,\"b\n","sourceType":"policy","format":"csv"}"#, 422, "invalid_csv"),
                (
                    "/v1/knowledge", "application/json",
                    #"{"title":"t","content":"x","sourceType":"policy","metadata":{"m":"\#(String(repeating: "m", count: 17_000))"}}"#,
                    422, "metadata_too_large"
                ),
                (
                    "/v1/knowledge", "application/json", #"{"title":"t","content":"\#(String(repeating: "word ", count: 40_001))","sourceType":"policy"}"#, 422,
                    "invalid_content"
                ),
                ("/v1/knowledge", "text/plain", "Some text", 400, "title_required"),
                ("/v1/knowledge?title=T", "text/plain", "Some text", 400, "source_type_required"),
                ("/v1/knowledge?title=T&sourceType=leaflet", "text/plain", "Some text", 400, "invalid_sourceType"),
                ("/v1/knowledge?title=T&sourceType=policy", "application/xml", "<a/>", 415, "unsupported_media_type"),
                ("/v1/knowledge/search", "application/json", #"{"query":""}"#, 422, "invalid_query"),
                ("/v1/knowledge/search", "application/json", #"{"query":"x","limit":0}"#, 422, "invalid_limit"),
                ("/v1/knowledge/search", "application/json", #"{"query":"x","limit":"5"}"#, 400, "invalid_json"),
                ("/v1/knowledge/search", "application/json", #"{"query":"x","sourceTypes":["nope"]}"#, 400, "invalid_json"),
                ("/v1/knowledge/search", "application/json", #"{"query":"x","sourceTypes":[]}"#, 422, "invalid_source_types"),
                ("/v1/knowledge/search", "application/json", #"{"query":"\#(String(repeating: "q", count: 1001))"}"#, 422, "invalid_query"),
            ]
            for (path, type, body, status, code) in bad {
                let answer = try await post(body, path: path, type: type)
                #expect(answer.status == status && answer.errorCode == code, "\(path) \(body.prefix(80)): \(answer.status) \(answer.text.prefix(200))")
            }
            // bytes that are not UTF-8, and a body over the service's limit
            let latin1 = try await TestHTTP.request(
                .POST, "\(gateway)/v1/knowledge?title=T&sourceType=policy", token: admin, headers: ["Content-Type": "text/plain"],
                body: Data([0x63, 0x61, 0x66, 0xE9]))
            #expect(latin1.status == 400 && latin1.errorCode == "invalid_encoding", "\(latin1.text)")
            let huge = try await post(#"{"title":"t","content":"\#(String(repeating: "z", count: 1_100_000))","sourceType":"policy"}"#)
            #expect(huge.status == 413 && huge.errorCode != nil, "\(huge.status) \(huge.text.prefix(200))")
            #expect(try await TestHTTP.get("\(gateway)/v1/knowledge/not-a-uuid", token: admin).errorCode == "invalid_id")
            #expect(try await TestHTTP.get("\(gateway)/v1/knowledge?limit=0", token: admin).status == 400)
            #expect(try await TestHTTP.get("\(gateway)/v1/knowledge?sourceType=nope", token: admin).status == 400)
            #expect(try await TestHTTP.get("\(gateway)/v1/knowledge/\(UUID())", token: admin).errorCode == "document_not_found")
            let patch = try await TestHTTP.request(
                .PATCH, "\(gateway)/v1/knowledge/\(document.id)", token: admin, body: Data(#"{"format":"csv","content":"a,\"b"}"#.utf8))
            #expect(patch.status == 422 && patch.errorCode == "invalid_csv")
            #expect(try await count() == before, "a refused request wrote a document")
        }
    }

    @Test func anOpenAICompatibleEmbeddingsProviderEmbedsChunksAndQueries() async throws {
        let seen = ModelRepliesTests.Seen()
        let router = Router()
        router.post("v1/embeddings") { request, _ -> Response in
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            seen.bodies.withLock { $0.append(body) }
            guard request.headers[.authorization] == "Bearer sk-embed", case .array(let inputs)? = body["input"] else {
                return Response(status: .unauthorized)
            }
            // a tiny vector space: fuel, property, anything else (not unit length: the adapter normalises)
            let items = inputs.enumerated().map { index, input -> String in
                guard case .string(let text) = input else { return "" }
                let lower = text.lowercased()
                let vector = lower.contains("diesel") ? "[3,0,0]" : lower.contains("villa") ? "[0,2,0]" : "[0,0,5]"
                return #"{"object":"embedding","index":\#(index),"embedding":\#(vector)}"#
            }
            let json = #"{"object":"list","model":"test-embed","data":[\#(items.reversed().joined(separator: ","))]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        try await TestUpstream.with(router) { fake in
            let embeddings = ["AGENT_EMBEDDINGS_BASE_URL": "\(fake)/v1", "AGENT_EMBEDDINGS_MODEL": "test-embed", "AGENT_EMBEDDINGS_API_KEY": "sk-embed"]
            let database = try await TestPostgres.createDatabase(prefix: "kbe")
            let tenant = try await TestServices.with([.gateway, .agentCore], database: database, settings: [.agentCore: embeddings]) { platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let fuel = try await Self.create(gateway, token: admin, NewDocument(title: "Diesel prices", content: "Diesel costs 1,600 RWF a litre."))
                let villa = try await Self.create(gateway, token: admin, NewDocument(title: "Villa", content: "A villa to rent.", sourceType: "property"))
                try await Self.indexed(gateway, token: admin, fuel.id)
                try await Self.indexed(gateway, token: admin, villa.id)
                let models = try await platform.environment(.agentCore).postgres.query(
                    "SELECT DISTINCT embedding_model, cardinality(embedding) FROM agent.knowledge_chunks", logger: TestLog.quiet
                ).all(as: (String, Int).self)
                #expect(models.map(\.0) == ["test-embed"] && models.map(\.1) == [3])
                // the query goes through the provider too; a word the full text cannot match is found by its vector
                let found = try await Self.search(gateway, token: admin, SearchBody(query: "zzz diesel"))
                #expect(found.results.first?.source.documentId == fuel.id && abs((found.results.first?.vectorScore ?? 0) - 1) < 1e-6)
                #expect(seen.bodies.withLock { $0.allSatisfy { $0["model"] == .string("test-embed") } })
                // a tenant with nothing indexed asks the provider nothing
                let calls = seen.bodies.withLock { $0.count }
                let empty = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
                #expect(try await Self.search(gateway, token: empty, SearchBody(query: "diesel")).results.isEmpty)
                #expect(seen.bodies.withLock { $0.count } == calls)
                return tenant
            }
            // the provider gone: searching says so with a 503, and a new document waits, pending, for the retries
            let down = embeddings.merging(["AGENT_EMBEDDINGS_BASE_URL": "http://127.0.0.1:1/v1"]) { $1 }
            try await TestServices.with([.gateway, .agentCore], database: database, settings: [.agentCore: down]) { platform in
                let gateway = platform.url(.gateway)
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let answer = try await TestHTTP.post("\(gateway)/v1/knowledge/search", token: admin, json: SearchBody(query: "diesel"))
                #expect(answer.status == 503 && answer.errorCode == "embeddings_unavailable", "\(answer.text)")
                let document = try await Self.create(gateway, token: admin, NewDocument(title: "Diesel", content: "Diesel prices."))
                try await Task.sleep(for: .milliseconds(500))
                let detail = try await TestHTTP.get("\(gateway)/v1/knowledge/\(document.id)", token: admin).json(KnowledgeDocumentDetail.self)
                #expect(detail.document.status == "pending" && detail.chunks.isEmpty)
            }
        }
    }

    // MARK: retrieval quality

    /// ≈20 documents of a fuel-and-property business and 15 questions as customers ask them, each with the documents
    /// that answer it. Wording differs from the documents' on purpose (paraphrase, morphology, a typo, rare terms).
    static let corpus: [(key: String, title: String, type: String, content: String)] = [
        ("hours", "Station opening hours", "policy", "Our Remera and Kicukiro stations are open every day from 6am to 10pm, including public holidays."),
        (
            "refund", "Voucher refunds", "policy",
            "Unused fuel vouchers can be refunded within 14 days. The money goes back to the mobile money number that paid."
        ),
        ("expiry", "Voucher expiry", "policy", "A fuel voucher expires 30 days after it is issued. Expired vouchers cannot be redeemed or extended."),
        (
            "moto", "Motorcycle taxi subsidy", "subsidy",
            "Registered motorcycle taxi riders receive a subsidy of 50 RWF per litre of petrol with their rider card."
        ),
        (
            "farm", "Agricultural diesel subsidy", "subsidy",
            "Cooperatives of farmers get discounted diesel for tractors and irrigation pumps after registering with the district."
        ),
        ("oil", "Engine oil", "product", "Engine oil 10W-40 semi synthetic, 1 litre bottle, 12000 RWF. Suitable for cars and minibuses."),
        (
            "lpg", "Cooking gas cylinders", "product",
            "LPG cooking gas: 6 kg cylinder refill 9500 RWF, 12 kg cylinder refill 18000 RWF. Deposit for a new cylinder 25000 RWF."
        ),
        (
            "tyres", "Tyre pressure and repair", "custom",
            "Free tyre pressure check at every station. Puncture repair costs 2000 RWF and takes about twenty minutes."
        ),
        ("wash", "Car wash", "custom", "Car wash service: exterior wash 3000 RWF, full interior and exterior cleaning 7000 RWF, open 7am to 6pm."),
        (
            "card", "Fleet fuel cards", "product",
            "Companies can open a fleet account and give drivers fuel cards with monthly limits and a statement per vehicle."
        ),
        ("pay", "Payment methods", "policy", "We accept cash, MTN Mobile Money, Airtel Money, Visa and Mastercard at the pump."),
        (
            "villa", "Villa in Nyarutarama", "property",
            "Four bedroom villa with garden and garage in Nyarutarama, Kigali. Rent 2,500,000 RWF per month, available from January."
        ),
        (
            "apt", "Apartment in Kimihurura", "property",
            "Two bedroom furnished apartment in Kimihurura with balcony and backup generator. Rent 900,000 RWF monthly."
        ),
        (
            "plot", "Plot for sale in Musanze", "property",
            "Residential plot of 600 square metres for sale near Musanze town, with land title. Price 35,000,000 RWF."
        ),
        (
            "privacy", "Privacy policy", "policy",
            "We keep your phone number and purchase history only to run your account. We never sell personal data to third parties."
        ),
        (
            "complaint", "Complaints", "policy",
            "To complain about service at a station, reply COMPLAINT with the station name. A supervisor calls you back within one working day."
        ),
        ("adblue", "AdBlue for trucks", "product", "AdBlue diesel exhaust fluid for Euro 4 trucks and buses, sold in 10 litre and 20 litre containers."),
        ("jobs", "Working with us", "custom", "We recruit pump attendants and cashiers. Send your CV by email to jobs@example.rw with the station you prefer."),
        ("loyalty", "Loyalty points", "custom", "Every 1000 RWF spent on fuel earns one loyalty point. 100 points give a free car wash or 5 litres of petrol."),
        (
            "quality", "Fuel quality", "policy",
            "Our petrol and diesel are tested daily for water and density. Ask the station manager for the latest test certificate."
        ),
    ]

    /// As customers type on WhatsApp: paraphrases, typos ("vocher", "refnd", "appartment"), French spellings ("gaz",
    /// "balcon"), run-together units ("12kg").
    static let questions: [(query: String, relevant: Set<String>)] = [
        ("what time do you open on sunday", ["hours"]),
        ("can I get my money back for a vocher I did not use", ["refund"]),
        ("refnd for unusd vochers", ["refund"]),
        ("how long before my voucher expires", ["expiry"]),
        ("discount for moto riders on petrol", ["moto"]),
        ("cheaper diesel for my tractor", ["farm"]),
        ("price of 10W-40 oil", ["oil"]),
        ("refil of 12kg gaz cylindres", ["lpg"]),
        ("my tyre is flat, how much to fix a punture", ["tyres"]),
        ("how much to clean the inside of my car", ["wash"]),
        ("fuel cards for our company vehicules", ["card"]),
        ("do you take airtel money or visa", ["pay"]),
        ("house with a garden for rent in Nyarutarama", ["villa"]),
        ("furnished appartment with generator", ["apt"]),
        ("appartment with balcon", ["apt"]),
        ("land for sale near Musanze", ["plot"]),
        ("voucher rules: refunds and expiry", ["refund", "expiry"]),
        ("do you sell my personal data", ["privacy"]),
    ]

    struct Scores: CustomStringConvertible {
        var mrr = 0.0
        var recallAt3 = 0.0
        var description: String { String(format: "MRR %.3f, recall@3 %.3f", self.mrr, self.recallAt3) }
    }

    static func score(_ rankings: [[String]]) -> Scores {
        var scores = Scores()
        for (ranking, question) in zip(rankings, Self.questions) {
            if let first = ranking.firstIndex(where: question.relevant.contains) { scores.mrr += 1 / Double(first + 1) }
            scores.recallAt3 += Double(Set(ranking.prefix(3)).intersection(question.relevant).count) / Double(question.relevant.count)
        }
        scores.mrr /= Double(Self.questions.count)
        scores.recallAt3 /= Double(Self.questions.count)
        return scores
    }

    @Test func hybridRetrievalBeatsEitherHalfOnALabelledSet() async throws {
        try await TestServices.with([.gateway, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            var keys: [UUID: String] = [:]
            for entry in Self.corpus {
                let document = try await Self.create(gateway, token: admin, NewDocument(title: entry.title, content: entry.content, sourceType: entry.type))
                keys[document.id] = entry.key
            }
            for id in keys.keys { try await Self.indexed(gateway, token: admin, id) }
            let environment = platform.environment(.agentCore)
            let store = KnowledgeStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs)
            let search = KnowledgeSearch(store: store, embedder: HashingEmbedder(), index: KnowledgeIndex())
            let snapshot = try await search.snapshot(tenant, logger: TestLog.quiet)
            var text: [[String]] = []
            var vector: [[String]] = []
            var hybrid: [[String]] = []
            for question in Self.questions {
                let fts = try await store.textSearch(
                    tenant: tenant, query: question.query, regconfig: "english", sourceTypes: nil, limit: KnowledgeSearch.candidates, logger: TestLog.quiet)
                text.append(fts.compactMap { snapshot.positions[$0.chunk].map { keys[snapshot.chunks[$0].document]! } })
                let nearest = snapshot.nearest(HashingEmbedder().embed(question.query), k: KnowledgeSearch.candidates, sourceTypes: nil)
                vector.append(nearest.map { keys[snapshot.chunks[$0.position].document]! })
                // the endpoint itself for the hybrid
                let found = try await Self.search(gateway, token: admin, SearchBody(query: question.query, limit: 10))
                hybrid.append(found.results.map { keys[$0.source.documentId]! })
            }
            let (t, v, h) = (Self.score(text), Self.score(vector), Self.score(hybrid))
            for (index, question) in Self.questions.enumerated() {
                print("  \(question.query): full-text \(text[index].prefix(3)), vector \(vector[index].prefix(3)), hybrid \(hybrid[index].prefix(3))")
            }
            print("knowledge retrieval on \(Self.questions.count) questions: full-text \(t); vector \(v); hybrid \(h)")
            #expect(h.mrr >= t.mrr && h.mrr >= v.mrr, "full-text \(t); vector \(v); hybrid \(h)")
            #expect(h.recallAt3 >= t.recallAt3 && h.recallAt3 >= v.recallAt3, "full-text \(t); vector \(v); hybrid \(h)")
            #expect(h.mrr > min(t.mrr, v.mrr) || h.recallAt3 > min(t.recallAt3, v.recallAt3), "full-text \(t); vector \(v); hybrid \(h)")
        }
    }

    // MARK: where the vector search runs

    /// 10,000 chunks in one tenant (plus another tenant's): the vector half in SQL (`unnest` over `real[]`) against
    /// the in-memory snapshot. Both must agree; the figures are printed and quoted in KnowledgeSearch.swift.
    @Test func vectorSearchInMemoryAgreesWithSQLAndIsFaster() async throws {
        // no job workers: the test writes the chunks itself
        try await TestServices.with([.agentCore], settings: [.agentCore: ["JOBS_WORKERS": "0"]]) { platform in
            let environment = platform.environment(.agentCore)
            let store = KnowledgeStore(postgres: environment.postgres, audit: environment.audit, jobs: environment.jobs)
            let embedder = HashingEmbedder()
            let tenant = TenantID()
            let noise = TenantID()
            let started = ContinuousClock.now
            for (owner, documents) in [(tenant, 100), (noise, 20)] {
                for number in 0..<documents {
                    let chunks = (0..<100).map { Self.syntheticChunk(document: number, chunk: $0) }
                    let document = try await environment.postgres.withTransaction(logger: TestLog.quiet) { connection in
                        try await store.create(
                            NewKnowledgeDocument(title: "Synthetic \(number)", content: chunks.joined(separator: "\n"), sourceType: .custom), tenant: owner,
                            actor: "test", on: connection, requestID: "r", logger: TestLog.quiet)
                    }
                    let written = try await store.replaceChunks(
                        document: document.id, tenant: owner, version: 1, title: document.title, chunks: chunks, embeddings: chunks.map { embedder.embed($0) },
                        model: embedder.model, regconfig: "english", logger: TestLog.quiet)
                    #expect(written)
                }
            }
            print("knowledge: wrote 12,000 chunks in \(ContinuousClock.now - started)")
            let search = KnowledgeSearch(store: store, embedder: embedder, index: KnowledgeIndex())
            let loadStarted = ContinuousClock.now
            let snapshot = try await search.snapshot(tenant, logger: TestLog.quiet)
            let load = ContinuousClock.now - loadStarted
            #expect(snapshot.chunks.count == 10_000)
            let queries = ["diesel price in kigali today", "voucher refund for unused litres", "villa with garden and garage", "loyalty points car wash"]
            var sqlTimes: [Duration] = []
            var memoryTimes: [Duration] = []
            var ftsTimes: [Duration] = []
            for _ in 0..<3 {
                for query in queries {
                    let vector = embedder.embed(query)
                    var clock = ContinuousClock.now
                    let inSQL = try await store.vectorSearchInSQL(tenant: tenant, vector: vector, model: embedder.model, limit: 10, logger: TestLog.quiet)
                    sqlTimes.append(ContinuousClock.now - clock)
                    clock = ContinuousClock.now
                    let inMemory = snapshot.nearest(vector, k: 10, sourceTypes: nil)
                    memoryTimes.append(ContinuousClock.now - clock)
                    clock = ContinuousClock.now
                    _ = try await store.textSearch(tenant: tenant, query: query, regconfig: "english", sourceTypes: nil, limit: 50, logger: TestLog.quiet)
                    ftsTimes.append(ContinuousClock.now - clock)
                    // the same chunks (scores equal to float precision; ties may order differently)
                    #expect(
                        Set(inSQL.prefix(5).map(\.chunk)).isSubset(
                            of: Set(snapshot.nearest(vector, k: 15, sourceTypes: nil).map { snapshot.chunks[$0.position].id })))
                    #expect(abs(inSQL[0].score - Double(inMemory[0].score)) < 1e-4)
                }
            }
            func median(_ times: [Duration]) -> Duration { times.sorted()[times.count / 2] }
            print(
                "knowledge vector search over 10,000 chunks × 256: SQL median \(median(sqlTimes)), in memory median \(median(memoryTimes)) "
                    + "(snapshot load \(load)); full-text median \(median(ftsTimes))")
            #expect(median(memoryTimes) < median(sqlTimes))
        }
    }

    static let vocabulary = [
        "diesel", "petrol", "voucher", "refund", "station", "kigali", "musanze", "price", "litre", "villa", "garden", "garage", "loyalty", "points",
        "wash", "tyre", "engine", "oil", "card", "fleet", "subsidy", "taxi", "farmer", "tractor", "rent", "apartment", "plot", "title", "cash",
        "mobile", "money", "complaint", "supervisor", "quality", "test", "truck", "bus", "driver", "monthly", "limit", "today", "unused", "expired",
    ]

    /// A deterministic pseudo-random sentence of the business's words.
    static func syntheticChunk(document: Int, chunk: Int) -> String {
        var state = UInt64(document * 1000 + chunk + 1) &* 0x9E37_79B9_7F4A_7C15
        let words = (0..<40).map { _ -> String in
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return Self.vocabulary[Int((state &* 0x2545_F491_4F6C_DD1D) >> 33) % Self.vocabulary.count]
        }
        return words.joined(separator: " ") + "."
    }

    // MARK: replies

    @Test func theOfflineResponderAnswersFromTheKnowledgeBaseWithItsSource() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: AgentRepliesTests.NewAgentBody(name: "Mama Fuel")).status == 201)
            let document = try await Self.create(
                gateway, token: admin,
                NewDocument(
                    title: "Motorcycle taxi subsidy", content: "Registered motorcycle taxi riders receive a subsidy of 50 RWF per litre of petrol.",
                    sourceType: "subsidy"))
            try await Self.indexed(gateway, token: admin, document.id)
            let (status, reply) = try await AgentRepliesTests.reply(
                platform, tenant: tenant, text: "Is there a petrol subsidy for motorcycle taxi riders?", language: "en")
            #expect(status == 200)
            #expect(reply?.text == "Registered motorcycle taxi riders receive a subsidy of 50 RWF per litre of petrol.", "\(String(describing: reply))")
            #expect(reply?.sources == [.init(kind: "knowledge", id: document.id.uuidString.lowercased(), title: "Motorcycle taxi subsidy")])
            // nothing close: still "sorry", not a random passage
            let (_, lost) = try await AgentRepliesTests.reply(platform, tenant: tenant, text: "The quantum flux capacitor is purple", language: "en")
            #expect(lost?.text?.hasPrefix("Sorry") == true && lost?.sources == nil, "\(String(describing: lost))")
            // another tenant's agent never answers from it
            let other = try await platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: otherAdmin, json: AgentRepliesTests.NewAgentBody(name: "Other")).status == 201)
            let (_, stranger) = try await AgentRepliesTests.reply(
                platform, tenant: other, text: "Is there a petrol subsidy for motorcycle taxi riders?", language: "en")
            #expect(stranger?.sources == nil && stranger?.text?.hasPrefix("Sorry") == true, "\(String(describing: stranger))")
        }
    }

    @Test func theModelGetsPassagesInItsContextAndTheKnowledgeSearchTool() async throws {
        let seen = ModelRepliesTests.Seen()
        let router = Router()
        router.post("v1/chat/completions") { request, _ -> Response in
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            seen.bodies.withLock { $0.append(body) }
            guard case .array(let messages)? = body["messages"] else { return Response(status: .badRequest) }
            let message =
                messages.contains { $0["role"] == .string("tool") }
                ? #"{"role":"assistant","content":"Riders get 50 RWF off per litre."}"#
                : #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_k1","type":"function","function":{"name":"knowledge_search","arguments":"{\"query\":\"motorcycle subsidy\"}"}}]}"#
            let json =
                #"{"id":"c","object":"chat.completion","created":1764700000,"model":"m","choices":[{"index":0,"message":\#(message),"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        try await TestUpstream.with(router) { fake in
            try await TestServices.with([.gateway, .agentCore], settings: [.agentCore: ["AGENT_LLM_BASE_URL": "\(fake)/v1", "AGENT_LLM_MODEL": "m"]]) {
                platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: AgentRepliesTests.NewAgentBody(name: "Mama Fuel")).status == 201)
                let document = try await Self.create(
                    gateway, token: admin,
                    NewDocument(
                        title: "Motorcycle taxi subsidy", content: "Registered motorcycle taxi riders receive a subsidy of 50 RWF per litre of petrol.",
                        sourceType: "subsidy"))
                try await Self.indexed(gateway, token: admin, document.id)
                let (status, reply) = try await AgentRepliesTests.reply(platform, tenant: tenant, text: "Any subsidy for motorcycle taxis?", language: "en")
                #expect(status == 200)
                #expect(reply?.text == "Riders get 50 RWF off per litre.")
                #expect(reply?.sources?.first?.id == document.id.uuidString.lowercased() && reply?.sources?.first?.kind == "knowledge")
                #expect(reply?.toolCalls?.first?.name == "knowledge_search" && reply?.toolCalls?.first?.result.contains("50 RWF per litre") == true)
                let first = try #require(seen.bodies.withLock { $0.first })
                guard case .array(let messages)? = first["messages"], case .string(let system)? = messages.first?["content"],
                    case .array(let tools)? = first["tools"]
                else {
                    Issue.record("no system message or tools in \(first)")
                    return
                }
                #expect(
                    system.contains("Knowledge base passages")
                        && system.contains("Motorcycle taxi subsidy (subsidy, document \(document.id.uuidString.lowercased()))"))
                #expect(tools.contains { $0["function"]?["name"] == .string("knowledge_search") })
            }
        }
    }
}
