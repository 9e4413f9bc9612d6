import Foundation
import Hummingbird
import Models
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport

/// `sokoni-bench retrieval`: `POST /v1/knowledge/search` through the gateway under wrk (its CPU outside this
/// process), over 10,000 chunks in one tenant (CSV catalogues, one chunk per row, indexed by agent-core's
/// `knowledge.index` job) beside noise tenants with 2,000 chunks each, at increasing concurrency: p50/p99 and
/// requests/s. Anchor in the same run: a bare Hummingbird endpoint that reads the body and answers 200, posted the
/// same bodies by the same wrk. Also, straight on the database, what the vector half would cost in SQL (a dot
/// product per chunk over `real[]`) and what the full-text half costs, for the comparison with the in-memory index.
/// Goal: p99 ≤ 20 ms.
///
/// Options besides the common ones: `--chunks <in the measured tenant>` (10,000), `--noise <tenants>` (3),
/// `--levels 1,8,32` (the concurrency levels; the common `--concurrency` is ignored).
enum RetrievalBenchmark {
    static func run() async throws {
        let options = try BenchOptions.parse(extraKeys: ["chunks", "noise", "levels"])
        let chunks = try options.integer("chunks", default: 10_000, range: 500...200_000)
        let noise = try options.integer("noise", default: 3, range: 0...50)
        let levels = (options.extras["levels"] ?? "1,8,32").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ (1...4096).contains($0) }) else { throw BenchError("--levels is a comma list of 1…4096") }
        guard let binary = try? Binaries.find("wrk") else { throw BenchError("wrk not found (Debian: apt-get install wrk): this scenario needs it") }
        progress("retrieval: \(chunks) chunks in one tenant, \(noise) noise tenants of 2,000, levels \(levels)")
        let common = ["LOG_LEVEL": "error", "DATABASE_MAX_CONNECTIONS": "16", "JOBS_POLL_INTERVAL_MS": "50"]
        try await TestServices.with(
            [.agentCore, .gateway], overrides: common, settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .agentCore: ["JOBS_WORKERS": "2"]]
        ) { platform in
            try await Self.measure(platform, binary: binary, chunks: chunks, noise: noise, levels: levels, options: options)
        }
    }

    static let rowsPerDocument = 500

    static func measure(_ platform: TestPlatform, binary: String, chunks: Int, noise: Int, levels: [Int], options: BenchOptions) async throws {
        let gateway = platform.url(.gateway)
        let postgres = platform.environment(.agentCore).postgres
        let tenant = try await platform.createTenant()
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin], lifetime: .seconds(7200))
        let loadStarted = ContinuousClock.now
        var generator = Generator(seed: 42)
        try await Self.load(gateway: gateway, token: admin, rows: chunks, generator: &generator)
        for _ in 0..<noise {
            let other = try await platform.createTenant()
            try await Self.load(
                gateway: gateway, token: try await TestKeys.token(tenant: other, roles: [.tenantAdmin], lifetime: .seconds(7200)), rows: 2_000,
                generator: &generator)
        }
        progress("waiting for the index jobs …")
        func count(_ sql: String) async throws -> Int {
            try await postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }
        let expected = chunks + noise * 2_000
        var indexed = 0
        while ContinuousClock.now - loadStarted < .seconds(1800) {
            indexed = try await count("SELECT count(*)::int FROM agent.knowledge_chunks")
            let pending = try await count("SELECT count(*)::int FROM agent.knowledge_documents WHERE indexed_version < content_version")
            if pending == 0 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        guard indexed == expected else { throw BenchError("indexed \(indexed) chunks, expected \(expected)") }
        let loaded = ContinuousClock.now - loadStarted
        progress("indexed \(indexed) chunks in \(String(format: "%.1f", loaded.seconds)) s")

        // the questions, each a request body; the first search loads the tenant's in-memory index
        let queries = (0..<400).map { _ in generator.question() }
        let bodies = try queries.map { String(decoding: try JSONEncoder().encode(Search(query: $0)), as: UTF8.self) }
        let first = ContinuousClock.now
        let warm = try await TestHTTP.post("\(gateway)/v1/knowledge/search", token: admin, json: Search(query: queries[0]))
        guard warm.status == 200 else { throw BenchError("the first search answered \(warm.status): \(warm.text.prefix(300))") }
        let coldMs = (ContinuousClock.now - first).seconds * 1000
        struct Found: Decodable { var results: [Result] }
        struct Result: Decodable { var content: String }
        var answered = 0
        for query in queries.prefix(20) {
            let found = try await TestHTTP.post("\(gateway)/v1/knowledge/search", token: admin, json: Search(query: query)).json(Found.self)
            if !found.results.isEmpty { answered += 1 }
        }
        guard answered == 20 else { throw BenchError("only \(answered) of 20 searches found anything") }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-retrieval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("search.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let list = directory.appendingPathComponent("bodies.txt")
        try (bodies.joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)

        let seconds = max(3, Int(options.duration.seconds.rounded()))
        let url = "\(gateway)/v1/knowledge/search"
        progress("warming up …")
        _ = try await WrkRedeemer.run(
            binary: binary, name: "warm-up", script: script, url: url, threads: 2, connections: levels[0], seconds: max(2, Int(options.warmup.seconds)),
            arguments: [list.path, admin])
        var results: [(connections: Int, result: LoadResult)] = []
        for connections in levels {
            progress("searching at \(connections) connections …")
            let (result, _) = try await WrkRedeemer.run(
                binary: binary, name: "search c=\(connections)", script: script, url: url, threads: min(2, connections), connections: connections,
                seconds: seconds, arguments: [list.path, admin])
            results.append((connections, result))
        }

        // the anchor: a bare endpoint that reads the body and answers 200, the same bodies, the busiest level
        let hello = Router()
        hello.post("hello") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .ok)
        }
        let anchor = try await TestUpstream.with(hello) { helloURL in
            progress("anchor: bare Hummingbird at \(levels.last!) connections …")
            return try await WrkRedeemer.run(
                binary: binary, name: "bare Hummingbird (anchor)", script: script, url: "\(helloURL)/hello", threads: 2, connections: levels.last!,
                seconds: seconds, arguments: [list.path, admin]
            ).0
        }

        // the two halves straight on the database: the vector scan in SQL (what the in-memory index replaces) and
        // the full-text ranking the search runs
        let (sqlVector, fullText) = try await Self.sqlTimings(postgres: postgres, tenant: tenant, queries: Array(queries.prefix(20)))

        let rows = results.map(\.result) + [anchor]
        print(ResultTable.render(rows))
        for row in rows where row.errors > 0 { print("\(row.name): \(row.errors) errors, first: \(row.firstError ?? "?")") }
        for (connections, result) in results {
            print(String(format: "c=%d: %.0f searches/s, p50 %.2f ms, p99 %.2f ms", connections, Self.rps(result), result.p50Ms, result.p99Ms))
        }
        print(
            String(
                format:
                    "over %d chunks: the vector scan in SQL takes %.1f ms (median of 20), the full-text ranking %.2f ms; the first search (index load) %.0f ms",
                chunks, sqlVector, fullText, coldMs))
        let busiest = results.last!
        let helloRps = Self.rps(anchor)
        let ratio = helloRps > 0 ? Self.rps(busiest.result) / helloRps : 0
        let worstP99 = results.map(\.result.p99Ms).max() ?? 0
        print(String(format: "searches/s vs bare Hummingbird at c=%d: %.3f; worst p99 %.2f ms (goal ≤ 20 ms)", busiest.connections, ratio, worstP99))
        let levelsJSON = results.map {
            #"{"connections":\#($0.connections),"rps":\#(jsonNumber(Self.rps($0.result), 1)),"p50Ms":\#(jsonNumber($0.result.p50Ms, 3)),"p99Ms":\#(jsonNumber($0.result.p99Ms, 3)),"errors":\#($0.result.errors)}"#
        }.joined(separator: ",")
        print(
            #"{"scenario":"retrieval","chunks":\#(chunks),"noiseChunks":\#(noise * 2_000),"levels":[\#(levelsJSON)],"worstP99Ms":\#(jsonNumber(worstP99, 3)),"#
                + #""helloRps":\#(jsonNumber(helloRps, 1)),"ratioVsHello":\#(jsonNumber(ratio, 3)),"sqlVectorScanMs":\#(jsonNumber(sqlVector, 2)),"#
                + #""fullTextMs":\#(jsonNumber(fullText, 3)),"coldSearchMs":\#(jsonNumber(coldMs, 1)),"indexSeconds":\#(jsonNumber(loaded.seconds, 1))}"#)
    }

    struct Search: Encodable {
        var query: String
        var limit = 5
        var language = "en"
    }

    static func rps(_ result: LoadResult) -> Double { result.seconds > 0 ? Double(result.statuses[200] ?? 0) / result.seconds : 0 }

    /// `rows` catalogue rows as CSV documents of `rowsPerDocument` rows, posted as `text/csv`.
    static func load(gateway: String, token: String, rows: Int, generator: inout Generator) async throws {
        var left = rows
        var number = 0
        while left > 0 {
            let count = min(Self.rowsPerDocument, left)
            var csv = "item,details,place,price\n"
            for _ in 0..<count { csv += generator.row() + "\n" }
            number += 1
            let answer = try await TestHTTP.request(
                .POST, "\(gateway)/v1/knowledge?title=Catalogue%20\(number)&sourceType=product&language=en", token: token,
                headers: ["Content-Type": "text/csv"], body: Data(csv.utf8))
            guard answer.status == 201 else { throw BenchError("adding a catalogue answered \(answer.status): \(answer.text.prefix(300))") }
            left -= count
        }
    }

    /// Medians, in ms, of the vector scan done in SQL and of the full-text ranking, each over the tenant's chunks.
    static func sqlTimings(postgres: PostgresClient, tenant: TenantID, queries: [String]) async throws -> (vector: Double, fullText: Double) {
        // any unit vector of the tenant serves as a query vector for timing: one of its chunks' own
        let vectors = try await postgres.query(
            "SELECT embedding FROM agent.knowledge_chunks WHERE tenant_id = \(tenant.rawValue) ORDER BY id LIMIT 20", logger: TestLog.quiet
        ).all(as: [Float].self)
        var vectorTimes: [Double] = []
        for vector in vectors {
            let started = ContinuousClock.now
            _ = try await postgres.query(
                """
                SELECT c.id, (SELECT sum(a * b) FROM unnest(c.embedding, \(vector)::real[]) AS t(a, b)) AS score
                FROM agent.knowledge_chunks c WHERE c.tenant_id = \(tenant.rawValue) ORDER BY score DESC LIMIT 50
                """, logger: TestLog.quiet
            ).all(as: (UUID, Float).self)
            vectorTimes.append((ContinuousClock.now - started).seconds * 1000)
        }
        var textTimes: [Double] = []
        for query in queries {
            let started = ContinuousClock.now
            _ = try await postgres.query(
                """
                WITH q AS MATERIALIZED (SELECT replace(plainto_tsquery('english', \(query))::text, ' & ', ' | ')::tsquery AS query)
                SELECT c.id, ts_rank(c.tsv, q.query)::float8 FROM q, agent.knowledge_chunks c
                WHERE c.tenant_id = \(tenant.rawValue) AND c.tsv @@ q.query ORDER BY 2 DESC, c.id LIMIT 50
                """, logger: TestLog.quiet
            ).all(as: (UUID, Double).self)
            textTimes.append((ContinuousClock.now - started).seconds * 1000)
        }
        func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }
        return (median(vectorTimes), median(textTimes))
    }

    /// Catalogue rows and customers' questions from one seeded generator: real words for items, places and
    /// qualities, and a long tail of made-up brand and model names, so a word matches a few percent of the rows
    /// at most, as in a real catalogue.
    struct Generator {
        var state: UInt64

        init(seed: UInt64) { self.state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

        mutating func next(_ bound: Int) -> Int {
            self.state ^= self.state >> 12
            self.state ^= self.state << 25
            self.state ^= self.state >> 27
            return Int((self.state &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
        }

        mutating func pick(_ words: [String]) -> String { words[self.next(words.count)] }

        static let items = [
            "engine oil", "brake fluid", "coolant", "tyre", "car battery", "spark plug", "air filter", "oil filter", "wiper blade", "headlight bulb",
            "gear oil", "grease", "AdBlue", "LPG cylinder", "cooking gas refill", "charcoal stove", "solar lamp", "jerrycan", "car shampoo",
            "tyre inflator", "jump cable", "fire extinguisher", "first aid kit", "reflective triangle", "motorcycle helmet", "chain lubricant",
            "diesel additive", "windscreen washer", "seat cover", "floor mat", "phone charger", "engine flush", "radiator cap", "fan belt",
            "brake pads", "shock absorber", "clutch plate", "fuel pump", "inner tube", "valve cap",
        ]
        static let places = [
            "Remera", "Kicukiro", "Nyamirambo", "Kimironko", "Gikondo", "Nyarutarama", "Kacyiru", "Kanombe", "Musanze", "Rubavu", "Huye", "Muhanga",
            "Rwamagana", "Nyagatare", "Rusizi", "Karongi", "Nyanza", "Kayonza", "Bugesera", "Gicumbi",
        ]
        static let qualities = [
            "synthetic", "semi synthetic", "heavy duty", "long life", "original", "imported", "budget", "premium", "refurbished", "new",
            "waterproof", "rechargeable", "universal", "compact", "reinforced", "low noise", "all season", "quick fit",
        ]
        static let syllables = ["ka", "zu", "mi", "ro", "te", "la", "vo", "ni", "sha", "be", "go", "ru", "pi", "da", "ki", "mo", "ya", "fe", "lu", "xa"]

        mutating func tail() -> String { (0..<(2 + self.next(2))).map { _ in self.pick(Self.syllables) }.joined() + String(self.next(90) + 10) }

        mutating func row() -> String {
            let item = self.pick(Self.items)
            let details =
                "\(self.pick(Self.qualities)) \(item) by \(self.tail().capitalized), model \(self.tail().uppercased()), "
                + "\(self.pick(Self.qualities)) and \(self.pick(Self.qualities)), fits \(self.tail()) and \(self.tail()) vehicles"
            return "\(item),\"\(details)\",\(self.pick(Self.places)) station,\(1000 * (self.next(80) + 1)) RWF"
        }

        mutating func question() -> String {
            switch self.next(4) {
            case 0: "how much is \(self.pick(Self.items)) at \(self.pick(Self.places))"
            case 1: "do you have \(self.pick(Self.qualities)) \(self.pick(Self.items))"
            case 2: "\(self.pick(Self.items)) for my \(self.tail()) price"
            default: "is there a \(self.pick(Self.items)) near \(self.pick(Self.places)) station today"
            }
        }
    }

    /// Thread i (of 2) posts bodies i+1, i+3, … round and round, each with the tenant admin's token.
    static let script =
        WrkScript.common + #"""
            local lines, next_line, headers = {}, 1, {}
            function init(args)
              for line in io.lines(args[1]) do lines[#lines + 1] = line end
              next_line = thread_index + 1
              headers["Authorization"] = "Bearer " .. args[2]
              headers["Content-Type"] = "application/json"
              headers["Accept"] = "application/json"
              started = now_us()
            end

            function request()
              if next_line > #lines then next_line = thread_index + 1 end
              local body = lines[next_line]
              next_line = next_line + 2
              return wrk.format("POST", nil, headers, body)
            end

            """#
}
