import AsyncHTTPClient
import Foundation
import Logging
import Models
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Any server speaking OpenAI's Chat Completions API: `POST {baseURL}/chat/completions`. OpenAI, Groq, Together,
/// OpenRouter, vLLM, Ollama and llama.cpp all do, so one adapter serves them, each at its own base URL.
struct OpenAICompatibleModel: StreamingChatModel {
    let name: String
    /// Up to and including the version path: "https://api.openai.com/v1", "http://127.0.0.1:11434/v1".
    let baseURL: String
    /// Sent as a bearer token; nil for local servers that want none (Ollama, llama.cpp).
    let apiKey: String?
    /// When set, replaces the request's model: a fallback provider serves a model of its own.
    let model: String?
    let http: HTTPClient
    /// The whole call, answer read (streamed ones included).
    let timeout: Duration

    init(name: String, baseURL: String, apiKey: String?, model: String? = nil, http: HTTPClient, timeout: Duration = .seconds(60)) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.model = model
        self.http = http
        self.timeout = timeout
    }

    func complete(_ request: ChatRequest, logger: Logger) async throws -> ChatResponse {
        let started = ContinuousClock.now
        let httpRequest = try self.httpRequest(request, stream: false)
        let (status, headers, body) = try await Self.withTimeout(self.timeout) {
            let response = try await self.execute(httpRequest, logger: logger)
            return (Int(response.status.code), response.headers, try await Self.read(response.body))
        }
        guard (200..<300).contains(status) else { throw Self.failure(status: status, headers: headers, body: body) }
        guard let completion = try? JSONDecoder().decode(OpenAIWire.Completion.self, from: body), let choice = completion.choices.first else {
            throw LLMError.permanent(code: "unreadable_response", message: "The provider's answer is not a chat completion.")
        }
        return ChatResponse(
            content: choice.message.content,
            toolCalls: (choice.message.toolCalls ?? []).map { ToolCall(id: $0.id, name: $0.function.name, arguments: $0.function.arguments ?? "") },
            usage: completion.usage?.tokenUsage ?? .zero,
            model: completion.model ?? self.model ?? request.model,
            finishReason: choice.finishReason,
            provider: self.name,
            latency: ContinuousClock.now - started)
    }

    /// The same turn streamed (`stream: true`): `onText` hears each piece of the answer's text as it comes, and the
    /// assembled answer is returned at `data: [DONE]`, tool calls whole (their arguments arrive in fragments).
    func stream(
        _ request: ChatRequest, logger: Logger, onText: @escaping @Sendable (String) async throws -> Void
    ) async throws -> ChatResponse {
        let started = ContinuousClock.now
        let httpRequest = try self.httpRequest(request, stream: true)
        var answer = try await Self.withTimeout(self.timeout) {
            let response = try await self.execute(httpRequest, logger: logger)
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                throw Self.failure(status: status, headers: response.headers, body: try await Self.read(response.body))
            }
            var assembler = StreamAssembler()
            var lines = ServerSentLines()
            for try await buffer in response.body {
                for data in lines.feed(buffer) {
                    if let text = try assembler.take(data) { try await onText(text) }
                    if assembler.done { return assembler.response }
                }
            }
            throw LLMError.unreachable("The stream ended before data: [DONE].")
        }
        answer.provider = self.name
        answer.model = answer.model.isEmpty ? (self.model ?? request.model) : answer.model
        answer.latency = ContinuousClock.now - started
        return answer
    }

    func httpRequest(_ request: ChatRequest, stream: Bool) throws -> HTTPClientRequest {
        var body = OpenAIWire.Request(request, model: self.model ?? request.model)
        if stream {
            body.stream = true
            body.streamOptions = .init(includeUsage: true)
        }
        var httpRequest = HTTPClientRequest(url: "\(self.baseURL)/chat/completions")
        httpRequest.method = .POST
        if let apiKey = self.apiKey, !apiKey.isEmpty { httpRequest.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        httpRequest.headers.add(name: "Content-Type", value: "application/json")
        if stream { httpRequest.headers.add(name: "Accept", value: "text/event-stream") }
        httpRequest.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return httpRequest
    }

    func execute(_ request: HTTPClientRequest, logger: Logger) async throws -> HTTPClientResponse {
        do {
            // the deadline is ours (`withTimeout`): AHC's would cover only the response head
            return try await self.http.execute(request, timeout: .hours(1), logger: logger)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            if let error = error as? HTTPClientError, error == .readTimeout || error == .deadlineExceeded { throw LLMError.timeout }
            throw LLMError.unreachable("\(error)")
        }
    }

    static func read(_ body: HTTPClientResponse.Body) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: 8 << 20)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw LLMError.unreachable("The answer was cut off: \(error)")
        }
    }

    /// A refusal, read from OpenAI's error body (`{"error":{"message","type","code"}}`) when there is one.
    static func failure(status: Int, headers: HTTPHeaders, body: ByteBuffer, now: Date = Date()) -> LLMError {
        let error = (try? JSONDecoder().decode(OpenAIWire.ErrorBody.self, from: body))?.error
        let code = error?.code?.text ?? error?.type ?? "http_\(status)"
        let message = error?.message ?? "The provider answered HTTP \(status)."
        switch status {
        case 408, 425, 429, 500...:
            return .transient(code: code, message: message, retryAfter: headers.first(name: "Retry-After").flatMap { Self.retryAfter($0, now: now) })
        default:
            return .permanent(code: code, message: message)
        }
    }

    /// `Retry-After` as RFC 9110 gives it: delay-seconds or an HTTP-date.
    static func retryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let value = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(value) { return seconds >= 0 ? .seconds(seconds) : nil }
        guard let date = Self.httpDate.withLock({ $0.date(from: value) }) else { return nil }
        return .milliseconds(max(0, Int64((date.timeIntervalSince(now) * 1000).rounded(.up))))
    }

    /// DateFormatter is not Sendable: one, behind a lock.
    static let httpDate = LockedFormatter(
        {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            return formatter
        }())

    /// The body's answer, or `LLMError.timeout` once `timeout` passes (and the body is cancelled).
    static func withTimeout<Result: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else { throw LLMError.timeout }
            return result
        }
    }
}

/// A lock around a value that is not Sendable.
final class LockedFormatter: @unchecked Sendable {
    private let lock = NSLock()
    private let formatter: DateFormatter

    init(_ formatter: DateFormatter) { self.formatter = formatter }

    func withLock<Result>(_ body: (DateFormatter) -> Result) -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body(self.formatter)
    }
}

/// Splits a server-sent event stream into its events' `data`, however the bytes were cut into buffers.
struct ServerSentLines {
    private var pending: [UInt8] = []
    private var data: [String] = []

    /// The data of each event this buffer completed (an event ends at a blank line).
    mutating func feed(_ buffer: ByteBuffer) -> [String] {
        self.pending.append(contentsOf: buffer.readableBytesView)
        var events: [String] = []
        while let newline = self.pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = String(decoding: self.pending[..<newline], as: UTF8.self)
            self.pending.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty {
                if !self.data.isEmpty { events.append(self.data.joined(separator: "\n")) }
                self.data = []
            } else if line.hasPrefix("data:") {
                let value = line.dropFirst(5)
                self.data.append(String(value.hasPrefix(" ") ? value.dropFirst() : value))
            }
            // comments (": keep-alive"), event:, id: and retry: lines carry nothing a chat completion needs
        }
        return events
    }
}

/// Builds the answer from `chat.completion.chunk`s: text appended, tool calls gathered by index (the first
/// fragment brings the id and name, later ones pieces of the arguments).
struct StreamAssembler {
    private(set) var done = false
    private var text = ""
    private var calls: [Int: (id: String, name: String, arguments: String)] = [:]
    private var finishReason: String?
    private var usage: TokenUsage = .zero
    private var model = ""

    /// Takes one event's data; returns the text it adds, if any.
    mutating func take(_ data: String) throws -> String? {
        if data == "[DONE]" {
            self.done = true
            return nil
        }
        if let failure = try? JSONDecoder().decode(OpenAIWire.ErrorBody.self, from: Data(data.utf8)) {
            throw LLMError.transient(
                code: failure.error.code?.text ?? failure.error.type ?? "stream_error", message: failure.error.message ?? "The stream failed.",
                retryAfter: nil)
        }
        guard let chunk = try? JSONDecoder().decode(OpenAIWire.Chunk.self, from: Data(data.utf8)) else {
            throw LLMError.permanent(code: "unreadable_response", message: "A streamed chunk is not a chat.completion.chunk.")
        }
        if let model = chunk.model, !model.isEmpty { self.model = model }
        if let usage = chunk.usage { self.usage = usage.tokenUsage }
        var added: String?
        for choice in chunk.choices ?? [] where (choice.index ?? 0) == 0 {
            if let reason = choice.finishReason { self.finishReason = reason }
            if let content = choice.delta?.content, !content.isEmpty {
                self.text += content
                added = (added ?? "") + content
            }
            for fragment in choice.delta?.toolCalls ?? [] {
                let index = self.slot(of: fragment)
                var call = self.calls[index] ?? (id: "", name: "", arguments: "")
                if let id = fragment.id, !id.isEmpty { call.id = id }
                // the name comes whole in the first fragment; some servers repeat it in later ones
                if let name = fragment.function?.name, !name.isEmpty, call.name.isEmpty { call.name = name }
                call.arguments += fragment.function?.arguments ?? ""
                self.calls[index] = call
            }
        }
        return added
    }

    /// The call a fragment belongs to: its `index`; servers that send none (Ollama sends each call whole) by its id.
    private func slot(of fragment: OpenAIWire.Chunk.ToolCallFragment) -> Int {
        if let index = fragment.index { return index }
        guard let id = fragment.id, !id.isEmpty else { return self.calls.keys.max() ?? 0 }
        return self.calls.first { $0.value.id == id }?.key ?? (self.calls.keys.max().map { $0 + 1 } ?? 0)
    }

    var response: ChatResponse {
        ChatResponse(
            content: self.text.isEmpty ? nil : self.text,
            toolCalls: self.calls.sorted { $0.key < $1.key }.map { ToolCall(id: $0.value.id, name: $0.value.name, arguments: $0.value.arguments) },
            usage: self.usage, model: self.model, finishReason: self.finishReason, provider: "", latency: .zero)
    }
}

/// OpenAI's Chat Completions wire format, as documented (platform.openai.com/docs/api-reference/chat).
enum OpenAIWire {
    struct Request: Encodable {
        var model: String
        var messages: [Message]
        var tools: [Tool]?
        var maxTokens: Int?
        var temperature: Double?
        var stream: Bool?
        var streamOptions: StreamOptions?
        var responseFormat: JSONValue?

        enum CodingKeys: String, CodingKey {
            case model, messages, tools, temperature, stream
            case maxTokens = "max_tokens"
            case streamOptions = "stream_options"
            case responseFormat = "response_format"
        }

        init(_ request: ChatRequest, model: String) {
            self.model = model
            self.messages = request.messages.map(Message.init)
            self.tools =
                request.tools.isEmpty ? nil : request.tools.map { Tool(function: .init(name: $0.name, description: $0.description, parameters: $0.parameters)) }
            self.maxTokens = request.maxTokens
            self.temperature = request.temperature
            self.responseFormat = request.responseFormat
        }
    }

    struct StreamOptions: Encodable {
        var includeUsage: Bool
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    struct Message: Encodable {
        var role: String
        var content: String?
        var toolCalls: [ToolCallBody]?
        var toolCallId: String?

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case toolCallId = "tool_call_id"
        }

        init(_ message: ChatMessage) {
            self.role = message.role.rawValue
            self.content = message.content
            self.toolCalls =
                message.toolCalls.isEmpty
                ? nil : message.toolCalls.map { ToolCallBody(id: $0.id, type: "function", function: .init(name: $0.name, arguments: $0.arguments)) }
            self.toolCallId = message.toolCallId
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.role, forKey: .role)
            // an assistant turn that only called tools has content null, as OpenAI sends it
            try container.encode(self.content, forKey: .content)
            try container.encodeIfPresent(self.toolCalls, forKey: .toolCalls)
            try container.encodeIfPresent(self.toolCallId, forKey: .toolCallId)
        }
    }

    struct ToolCallBody: Encodable {
        var id: String
        var type: String
        var function: Function
        struct Function: Encodable {
            var name: String
            var arguments: String
        }
    }

    struct Tool: Encodable {
        var type = "function"
        var function: Function
        struct Function: Encodable {
            var name: String
            var description: String
            var parameters: JSONValue
        }
    }

    struct Completion: Decodable {
        var model: String?
        var choices: [Choice]
        var usage: Usage?

        struct Choice: Decodable {
            var message: ResponseMessage
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case message
                case finishReason = "finish_reason"
            }
        }

        struct ResponseMessage: Decodable {
            var content: String?
            var toolCalls: [ResponseToolCall]?
            enum CodingKeys: String, CodingKey {
                case content
                case toolCalls = "tool_calls"
            }
        }

        struct ResponseToolCall: Decodable {
            var id: String
            var function: ResponseFunction
        }
    }

    struct ResponseFunction: Decodable {
        var name: String
        var arguments: String?
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?
        var promptTokensDetails: Details?

        struct Details: Decodable {
            var cachedTokens: Int?
            enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
        }

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case promptTokensDetails = "prompt_tokens_details"
        }

        var tokenUsage: TokenUsage {
            TokenUsage(input: self.promptTokens ?? 0, output: self.completionTokens ?? 0, cached: self.promptTokensDetails?.cachedTokens ?? 0)
        }
    }

    struct Chunk: Decodable {
        var model: String?
        var choices: [Choice]?
        var usage: Usage?

        struct Choice: Decodable {
            var index: Int?
            var delta: Delta?
            var finishReason: String?
            enum CodingKeys: String, CodingKey {
                case index, delta
                case finishReason = "finish_reason"
            }
        }

        struct Delta: Decodable {
            var content: String?
            var toolCalls: [ToolCallFragment]?
            enum CodingKeys: String, CodingKey {
                case content
                case toolCalls = "tool_calls"
            }
        }

        struct ToolCallFragment: Decodable {
            var index: Int?
            var id: String?
            var function: FunctionFragment?
        }

        struct FunctionFragment: Decodable {
            var name: String?
            var arguments: String?
        }
    }

    struct ErrorBody: Decodable {
        var error: Detail
        struct Detail: Decodable {
            var message: String?
            var type: String?
            /// A string at OpenAI ("invalid_api_key"), a number or null at some compatible servers.
            var code: JSONValue?
        }
    }
}

extension JSONValue {
    /// A scalar as text ("invalid_api_key", "429"); nil for null and containers.
    fileprivate var text: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): String(value)
        case .null, .array, .object: nil
        }
    }
}
