import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat

/// Turns texts into unit vectors; a document's chunks and the queries that search them go through the same one.
protocol Embedder: Sendable {
    /// Names the vector space: chunks embedded by another model are not compared with this one's queries.
    var model: String { get }
    func embed(_ texts: [String], logger: Logger) async throws -> [[Float]]
}

extension HashingEmbedder: Embedder {
    func embed(_ texts: [String], logger: Logger) async throws -> [[Float]] { texts.map { self.embed($0) } }
}

struct EmbeddingError: Error, CustomStringConvertible {
    var description: String
}

/// Any server speaking OpenAI's embeddings API, `POST {baseURL}/embeddings` (`{"model","input":[…]}` →
/// `{"data":[{"index","embedding"}]}`): OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp's server, Gemini's compatible
/// endpoint. Vectors are L2-normalised here, so a dot product is their cosine whatever the provider returns.
struct OpenAICompatibleEmbedder: Embedder {
    /// Up to and including the version path, as for the chat model: "https://api.openai.com/v1".
    let baseURL: String
    let apiKey: String?
    let modelName: String
    let http: HTTPClient
    let timeout: Duration
    /// Texts per request.
    let batch = 64

    init(baseURL: String, apiKey: String?, model: String, http: HTTPClient, timeout: Duration = .seconds(30)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.modelName = model
        self.http = http
        self.timeout = timeout
    }

    var model: String { self.modelName }

    struct Body: Encodable {
        var model: String
        var input: [String]
    }

    struct Answer: Decodable {
        struct Item: Decodable {
            var index: Int
            var embedding: [Float]
        }
        var data: [Item]
    }

    func embed(_ texts: [String], logger: Logger) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for start in stride(from: 0, to: texts.count, by: self.batch) {
            let part = Array(texts[start..<min(texts.count, start + self.batch)])
            var request = HTTPClientRequest(url: "\(self.baseURL)/embeddings")
            request.method = .POST
            if let apiKey = self.apiKey, !apiKey.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(Body(model: self.modelName, input: part))))
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await self.http.execute(request, timeout: .seconds(Int64(self.timeout.seconds.rounded(.up))), logger: logger)
                body = try await response.body.collect(upTo: 64 << 20)
            } catch {
                throw EmbeddingError(description: "the embeddings provider is unreachable: \(error)")
            }
            guard (200..<300).contains(Int(response.status.code)) else {
                throw EmbeddingError(description: "the embeddings provider answered HTTP \(response.status.code)")
            }
            guard let answer = try? JSONDecoder().decode(Answer.self, from: body), answer.data.count == part.count,
                Set(answer.data.map(\.index)) == Set(0..<part.count)
            else { throw EmbeddingError(description: "the embeddings provider's answer is not one vector per text") }
            let sorted = answer.data.sorted { $0.index < $1.index }.map { VectorMath.normalised($0.embedding) }
            guard let dimensions = sorted.first?.count, dimensions > 0, dimensions <= 8192, sorted.allSatisfy({ $0.count == dimensions }) else {
                throw EmbeddingError(description: "the embeddings provider's vectors differ in length")
            }
            vectors.append(contentsOf: sorted)
        }
        return vectors
    }
}
