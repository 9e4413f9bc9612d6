// Domain: the knowledge base's types and rules, no I/O (docs/CONTRIBUTING.md): documents and their limits, the
// chunker (text with overlap, one CSV row per chunk), the built-in hashing embedder, reciprocal rank fusion, and which
// PostgreSQL text-search configuration (`regconfig`) a language uses.
import Foundation
import Models
import ServiceKit

/// What a document is about (seed 003's `source_type`, plus `product` for the marketplace's catalogue).
public enum KnowledgeSourceType: String, Codable, Sendable, CaseIterable {
    case property, faq, policy, subsidy, product, custom
}

/// How a document's content is written: plain text and Markdown are chunked by length with overlap, CSV one row per
/// chunk with its header names.
public enum KnowledgeFormat: String, Codable, Sendable, CaseIterable {
    case text, markdown, csv
}

public struct KnowledgeDocumentDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var title: String
    public var sourceType: KnowledgeSourceType
    public var format: KnowledgeFormat
    public var language: String
    public var metadata: [String: JSONValue]
    /// Code points of content.
    public var contentLength: Int
    /// Moves with every change; `indexedVersion` catches up when the index job ran.
    public var contentVersion: Int
    public var indexedVersion: Int
    /// `pending` until the current version is searchable, then `indexed`.
    public var status: String
    public var chunkCount: Int
    public var createdAt: Date
    public var updatedAt: Date
}

public struct KnowledgeChunkDTO: Codable, Sendable, Equatable {
    public var id: UUID
    public var ordinal: Int
    public var content: String
}

/// One document with its content and its chunks (those of the indexed version).
public struct KnowledgeDocumentDetail: Codable, Sendable, Equatable {
    public var document: KnowledgeDocumentDTO
    public var content: String
    public var chunks: [KnowledgeChunkDTO]
}

public struct NewKnowledgeDocument: Codable, Sendable {
    public var title: String
    public var content: String
    public var sourceType: KnowledgeSourceType
    public var format: KnowledgeFormat?
    public var language: String?
    public var metadata: [String: JSONValue]?
}

public struct UpdateKnowledgeDocument: Codable, Sendable {
    public var title: String?
    public var content: String?
    public var sourceType: KnowledgeSourceType?
    public var format: KnowledgeFormat?
    public var language: String?
    public var metadata: [String: JSONValue]?
}

public struct KnowledgeSearchRequest: Codable, Sendable {
    public var query: String
    public var limit: Int?
    public var sourceTypes: [KnowledgeSourceType]?
    /// The query's language (`en`, `fr`, `sw`, …): which text-search configuration reads it; absent, `simple`.
    public var language: String?
}

public struct KnowledgeSearchResult: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        public var documentId: UUID
        public var title: String
        public var sourceType: KnowledgeSourceType
        public var chunkId: UUID
        public var ordinal: Int
    }
    /// 1 for the best.
    public var rank: Int
    /// The reciprocal-rank-fusion score: Σ 1/(60 + rank) over the full-text and the vector ranking.
    public var score: Double
    /// PostgreSQL's `ts_rank`; nil when the text search did not find this chunk.
    public var ftsRank: Double?
    /// Cosine similarity of the query's and the chunk's embeddings.
    public var vectorScore: Double
    public var content: String
    public var source: Source
}

public struct KnowledgeSearchResponse: Codable, Sendable, Equatable {
    /// The text-search configuration the query was read with.
    public var regconfig: String
    public var results: [KnowledgeSearchResult]
}

/// The knowledge base's limits, checked before anything is written.
enum KnowledgeRules {
    static let maxContent = 200_000
    static let maxTitle = 300
    static let maxQuery = 1_000
    static let maxMetadataBytes = 16_384
    static let maxChunks = 2_000
    static let maxSearchLimit = 50

    /// A language code as the documents carry it: two or three lower-case letters, or `sheng`.
    static func checkLanguage(_ language: String?) throws {
        guard let language else { return }
        guard language == "sheng" || ((2...3).contains(language.count) && language.allSatisfy({ $0.isASCII && $0.isLowercase })) else {
            throw APIError.unprocessable("invalid_language", "language is a two- or three-letter code such as en, fr, sw or rw.")
        }
    }

    static func checkMetadata(_ metadata: [String: JSONValue]?) throws {
        guard let metadata else { return }
        let size = (try? JSONEncoder.sokoni.encode(metadata).count) ?? Int.max
        guard size <= Self.maxMetadataBytes else {
            throw APIError.unprocessable("metadata_too_large", "metadata is a JSON object of at most \(Self.maxMetadataBytes) bytes.")
        }
    }

    /// Title, content (in its format: a CSV must parse), language and metadata of a new document.
    static func check(title: String?, content: String?, format: KnowledgeFormat, language: String?, metadata: [String: JSONValue]?) throws {
        try TextRules.check(title, field: "title", length: 1...Self.maxTitle)
        if let title, title.allSatisfy(\.isWhitespace) { throw APIError.unprocessable("invalid_title", "title must not be blank.") }
        try TextRules.check(content, field: "content", length: 1...Self.maxContent)
        if let content {
            if content.allSatisfy(\.isWhitespace) { throw APIError.unprocessable("invalid_content", "content must not be blank.") }
            let pieces = try KnowledgeChunker.chunks(content, format: format)
            guard !pieces.isEmpty else { throw APIError.unprocessable("invalid_content", "content has nothing to index.") }
            guard pieces.count <= Self.maxChunks else {
                throw APIError.unprocessable("invalid_content", "content makes more than \(Self.maxChunks) chunks.")
            }
        }
        try Self.checkLanguage(language)
        try Self.checkMetadata(metadata)
    }
}

// MARK: chunking

enum KnowledgeChunker {
    /// Chunks of at most `size` characters; each after the first begins with up to `overlap` characters of the end
    /// of the one before (whole words), so a sentence cut at a boundary is whole in one of them. A chunk ends at a
    /// paragraph break, else a sentence end, in its last 40% when there is one.
    static let size = 800
    static let overlap = 160

    static func chunks(_ content: String, format: KnowledgeFormat) throws -> [String] {
        switch format {
        case .text, .markdown: Self.text(content)
        case .csv: try Self.csv(content)
        }
    }

    static func text(_ content: String, size: Int = Self.size, overlap: Int = Self.overlap) -> [String] {
        let characters = Array(content)
        // words: runs of non-whitespace, as ranges of characters
        var words: [Range<Int>] = []
        var index = 0
        while index < characters.count {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
            let start = index
            while index < characters.count, !characters[index].isWhitespace, index - start < size { index += 1 }
            if index > start { words.append(start..<index) }
        }
        guard !words.isEmpty else { return [] }
        var chunks: [String] = []
        var first = 0
        while first < words.count {
            let start = words[first].lowerBound
            // the last word that still fits
            var last = first
            while last + 1 < words.count, words[last + 1].upperBound - start <= size { last += 1 }
            if last + 1 < words.count {
                // a natural end in the last 40%: a paragraph break beats a sentence end
                let floor = start + size * 6 / 10
                var paragraph: Int?
                var sentence: Int?
                for candidate in stride(from: last, through: first, by: -1) where words[candidate].upperBound >= floor {
                    let end = words[candidate].upperBound
                    if paragraph == nil, candidate + 1 < words.count,
                        characters[end..<words[candidate + 1].lowerBound].filter({ $0 == "\n" }).count >= 2
                    {
                        paragraph = candidate
                    }
                    if sentence == nil, [".", "!", "?", ";", ":"].contains(characters[end - 1]) { sentence = candidate }
                }
                last = paragraph ?? sentence ?? last
            }
            chunks.append(String(characters[start..<words[last].upperBound]))
            guard last + 1 < words.count else { break }
            // the next chunk starts with the trailing words of this one that fit in `overlap`
            var next = last + 1
            while next - 1 > first, words[last].upperBound - words[next - 1].lowerBound <= overlap { next -= 1 }
            first = next
        }
        return chunks
    }

    /// One chunk per data row: `header: value` lines, empty values left out. The first row names the columns.
    static func csv(_ content: String) throws -> [String] {
        let rows = try CSV.parse(content)
        guard let header = rows.first else { return [] }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces) }
        return rows.dropFirst().compactMap { row in
            let lines = row.enumerated().compactMap { column, value -> String? in
                let value = value.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !value.isEmpty else { return nil }
                let name = column < names.count && !names[column].isEmpty ? names[column] : "column \(column + 1)"
                return "\(name): \(value)"
            }
            return lines.isEmpty ? nil : lines.joined(separator: "\n")
        }
    }
}

/// RFC 4180 CSV: commas, double-quoted fields with `""` for a quote, CRLF or LF line ends.
enum CSV {
    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return iterator.next()
        }
        while let scalar = next() {
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            quoted = false
                            afterQuote = true
                            pending = following
                        }
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                row.append(field)
                field = ""
                afterQuote = false
            case "\n", "\r":
                if scalar == "\r", let following = next(), following != "\n" { pending = following }
                row.append(field)
                field = ""
                afterQuote = false
                if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
                row = []
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true
            default:
                if afterQuote {
                    throw APIError.unprocessable("invalid_csv", "A quoted CSV field must end at a comma or a line end (row \(rows.count + 1)).")
                }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw APIError.unprocessable("invalid_csv", "A quoted CSV field is not closed (row \(rows.count + 1)).") }
        if !field.isEmpty || !row.isEmpty || afterQuote {
            row.append(field)
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
        }
        return rows
    }
}

// MARK: embedding

/// The built-in offline embedder. It is NOT a language model: it hashes features of the text (feature hashing, the
/// "hashing trick") into a fixed number of dimensions — each lower-cased, accent-folded word (stop words left out)
/// and each character trigram of those words, with a sign from the hash, so collisions cancel out on average —
/// and L2-normalises the sum. Texts that share words or word pieces ("hours"/"hour", "fuel"/"fueling") come out
/// close; synonyms with no letters in common do not. A real embedding model (configure
/// `AGENT_EMBEDDINGS_BASE_URL`) is better; this one needs nothing outside and is deterministic across processes
/// and machines (FNV-1a, not Swift's seeded `Hasher`), so stored vectors stay valid after a restart.
struct HashingEmbedder: Sendable {
    let dimensions: Int

    init(dimensions: Int = 256) {
        self.dimensions = dimensions
    }

    var model: String { "sokoni-hashing-v1-\(self.dimensions)" }

    static let stopWords: Set<String> = [
        // English
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "in", "is", "it", "me", "my", "of", "on",
        "or", "our", "please", "that", "the", "this", "to", "was", "we", "what", "when", "where", "which", "who", "will", "with", "you", "your",
        // French
        "au", "aux", "ce", "de", "des", "du", "elle", "en", "est", "et", "il", "je", "la", "le", "les", "mon", "ne", "nous", "ou", "par", "pas",
        "pour", "que", "qui", "sur", "un", "une", "vous", "votre",
        // Swahili and Kinyarwanda, the commonest particles
        "cha", "kwa", "la", "na", "ni", "wa", "ya", "za", "ku", "mu", "n", "y", "z",
    ]

    /// Lower-cased, accent-folded words of letters and digits.
    static func words(_ text: String) -> [String] {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
            .split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    func embed(_ text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: self.dimensions)
        for word in Self.words(text) where !Self.stopWords.contains(word) {
            self.add("w|" + word, weight: 1, to: &vector)
            let padded = Array("<" + word + ">")
            if padded.count > 4 {
                for start in 0...(padded.count - 3) { self.add("t|" + String(padded[start..<start + 3]), weight: 0.35, to: &vector) }
            }
        }
        return VectorMath.normalised(vector)
    }

    func add(_ feature: String, weight: Float, to vector: inout [Float]) {
        let hash = Self.fnv1a(feature)
        let index = Int(hash % UInt64(self.dimensions))
        vector[index] += (hash >> 63) == 0 ? weight : -weight
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        // FNV's high bits mix poorly for short inputs: one round of a finaliser (splitmix64's)
        hash ^= hash >> 31
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        return hash
    }
}

enum VectorMath {
    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return 0 }
        var sum: Float = 0
        for index in a.indices { sum += a[index] * b[index] }
        return sum
    }
}

// MARK: fusion and languages

enum RankFusion {
    /// Reciprocal rank fusion (Cormack, Clarke and Büttcher 2009): each ranking gives an item 1/(k + rank), rank 1
    /// for its best; the sums decide. It needs no calibration between `ts_rank` and cosine scores, which live on
    /// unrelated scales. Ties keep the order of first appearance.
    static func fuse<Key: Hashable>(_ rankings: [[Key]], k: Double = 60) -> [(key: Key, score: Double)] {
        var scores: [Key: Double] = [:]
        var order: [Key] = []
        for ranking in rankings {
            for (index, key) in ranking.enumerated() {
                if scores[key] == nil { order.append(key) }
                scores[key, default: 0] += 1 / (k + Double(index + 1))
            }
        }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return order.map { ($0, scores[$0]!) }.sorted { $0.score != $1.score ? $0.score > $1.score : position[$0.key]! < position[$1.key]! }
    }
}

enum TextSearchLanguage {
    /// The text-search configurations PostgreSQL 15 ships with, by ISO 639-1 code. Swahili, Kinyarwanda, Sheng and
    /// every other language without one are read with `simple`: lower-cased words, no stemming, no stop words.
    static let configurations: [String: String] = [
        "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
        "fr": "french", "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian",
        "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian",
        "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
    ]

    static func regconfig(_ language: String?) -> String {
        language.flatMap { Self.configurations[$0] } ?? "simple"
    }
}
