import Logging
import Models

/// The LLM providers module: one `ChatModel` protocol, the OpenAI-compatible chat-completions adapter, and the
/// fallback chain with a circuit breaker per provider. Its one public face is `ChatModel` and the types it takes and
/// returns; nothing else of the service reaches inside.
///
/// A `ChatModel` answers one chat turn: a provider adapter (`OpenAICompatibleModel`) or a `FallbackChain` of them.
/// Failures are thrown as `LLMError`, which says whether another try is worth it.
protocol ChatModel: Sendable {
    /// The provider's name ("openai", "groq", "ollama"): it names the answer's `provider`, the breaker and the price.
    var name: String { get }
    func complete(_ request: ChatRequest, logger: Logger) async throws -> ChatResponse
}

/// A model that can also stream its answer: `onText` hears each piece of the text as it comes, and the whole
/// answer (tool calls assembled) is returned at the end.
protocol StreamingChatModel: ChatModel {
    func stream(_ request: ChatRequest, logger: Logger, onText: @escaping @Sendable (String) async throws -> Void) async throws -> ChatResponse
}

/// One chat turn asked of a model.
struct ChatRequest: Sendable, Equatable {
    /// The model id; a provider configured with a model of its own uses that one instead (a fallback names its own).
    var model: String
    var messages: [ChatMessage]
    var tools: [ToolSpec] = []
    var maxTokens: Int? = nil
    var temperature: Double? = nil
    /// An answer held to a JSON schema (OpenAI's `response_format` `json_schema`, strict): the extractions' features.
    var responseFormat: JSONValue? = nil

    init(
        model: String, messages: [ChatMessage], tools: [ToolSpec] = [], maxTokens: Int? = nil, temperature: Double? = nil, responseFormat: JSONValue? = nil
    ) {
        self.model = model
        self.messages = messages
        self.tools = tools
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.responseFormat = responseFormat
    }
}

struct ChatMessage: Sendable, Equatable {
    enum Role: String, Sendable, Equatable {
        case system
        case user
        case assistant
        case tool
    }

    var role: Role
    var content: String?
    /// What an assistant turn asked for; sent back as history so the model sees its own calls.
    var toolCalls: [ToolCall] = []
    /// A tool turn answers the call with this id.
    var toolCallId: String? = nil

    static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, content: text) }
    static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, content: text) }
    static func assistant(_ text: String?, toolCalls: [ToolCall] = []) -> ChatMessage {
        ChatMessage(role: .assistant, content: text, toolCalls: toolCalls)
    }
    static func tool(callId: String, _ result: String) -> ChatMessage { ChatMessage(role: .tool, content: result, toolCallId: callId) }
}

/// A function the model may call.
struct ToolSpec: Sendable, Equatable {
    var name: String
    var description: String
    /// A JSON schema of the arguments (`{"type":"object","properties":…}`).
    var parameters: JSONValue
}

/// A call the model asked for; `arguments` is the JSON text the model wrote, which may not parse.
struct ToolCall: Sendable, Equatable {
    var id: String
    var name: String
    var arguments: String
}

struct TokenUsage: Sendable, Equatable {
    /// Every prompt token, the cached ones included (as OpenAI counts `prompt_tokens`).
    var input: Int
    var output: Int
    /// Of `input`, those read from the provider's prompt cache (billed at a lower price).
    var cached: Int = 0

    static let zero = TokenUsage(input: 0, output: 0)
}

struct ChatResponse: Sendable, Equatable {
    var content: String?
    var toolCalls: [ToolCall]
    var usage: TokenUsage
    /// The model that answered, as the provider names it.
    var model: String
    /// "stop", "length", "tool_calls", "content_filter", … as the provider says.
    var finishReason: String?
    /// The `ChatModel.name` of the provider that answered.
    var provider: String
    var latency: Duration
    /// True when a provider other than the chain's first answered.
    var usedFallback: Bool = false
}

/// Why a model did not answer.
enum LLMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Rate limited or the provider failing (429, 5xx): another try may work, after `retryAfter` when it said.
    case transient(code: String, message: String, retryAfter: Duration?)
    /// Refused (400, 401, 403, 404): the same request will fail again.
    case permanent(code: String, message: String)
    /// No answer: the connection failed or was reset.
    case unreachable(String)
    /// No answer within the call's timeout.
    case timeout
    /// The provider's circuit is open: it was not called.
    case circuitOpen(provider: String)
    /// Every provider of a chain failed, each for the reason listed, in order.
    case allFailed([ProviderFailure])

    struct ProviderFailure: Sendable, Equatable {
        var provider: String
        var error: LLMError
    }

    var description: String {
        switch self {
        case .transient(let code, let message, let retryAfter):
            "transient \(code): \(message)" + (retryAfter.map { " (retry after \($0))" } ?? "")
        case .permanent(let code, let message): "permanent \(code): \(message)"
        case .unreachable(let reason): "unreachable: \(reason)"
        case .timeout: "timed out"
        case .circuitOpen(let provider): "circuit open for \(provider)"
        case .allFailed(let failures): "all providers failed: " + failures.map { "\($0.provider): \($0.error)" }.joined(separator: "; ")
        }
    }

    /// Whether the failure says the provider is unhealthy (what a circuit breaker counts).
    var isProviderFault: Bool {
        switch self {
        case .transient, .unreachable, .timeout: true
        case .permanent, .circuitOpen, .allFailed: false
        }
    }
}
