import Logging
import Synchronization

/// Every round trip a reply made to a provider, as it happened: answered or failed, which provider and model, the
/// tokens the provider counted, how long it took, and whether it was a fallback. The reply engine records them
/// (`agent.llm_calls`) and bills the reply their sum.
final class CallLedger: Sendable {
    struct Call: Sendable, Equatable {
        var provider: String
        var model: String
        /// `chat` (the first turn), `tool_round` (a turn after tool results), `embedding`.
        var callType: String
        var usage: TokenUsage
        var latency: Duration
        /// Why the call failed; nil when it answered.
        var error: String?
        /// True when a provider other than the chain's first was asked.
        var usedFallback: Bool
    }

    private let state = Mutex<(calls: [Call], callType: String)>(([], "chat"))

    var calls: [Call] { self.state.withLock { $0.calls } }

    /// What the next calls are (the reply loop says so before each round).
    func begin(_ callType: String) {
        self.state.withLock { $0.callType = callType }
    }

    func record(_ call: Call) {
        self.state.withLock { $0.calls.append(call) }
    }

    var currentCallType: String { self.state.withLock { $0.callType } }
}

/// A provider whose every call, success or failure, is written to a ledger; the chain's order says whether it is a
/// fallback. Streaming passes through the same way.
struct MeteredModel: StreamingChatModel {
    let inner: any ChatModel
    let ledger: CallLedger
    /// The model this provider is configured to serve (nil: the request's).
    let configuredModel: String?
    /// Its place in the chain: 0 the first, others fallbacks.
    let position: Int

    var name: String { self.inner.name }

    func complete(_ request: ChatRequest, logger: Logger) async throws -> ChatResponse {
        try await self.metered(request) { try await self.inner.complete(request, logger: logger) }
    }

    func stream(_ request: ChatRequest, logger: Logger, onText: @escaping @Sendable (String) async throws -> Void) async throws -> ChatResponse {
        try await self.metered(request) {
            if let streaming = self.inner as? any StreamingChatModel { return try await streaming.stream(request, logger: logger, onText: onText) }
            let response = try await self.inner.complete(request, logger: logger)
            if let content = response.content, !content.isEmpty { try await onText(content) }
            return response
        }
    }

    private func metered(_ request: ChatRequest, _ call: () async throws -> ChatResponse) async throws -> ChatResponse {
        let started = ContinuousClock.now
        let callType = self.ledger.currentCallType
        let asked = self.configuredModel ?? request.model
        do {
            let response = try await call()
            self.ledger.record(
                .init(
                    provider: self.name, model: response.model.isEmpty ? asked : response.model, callType: callType, usage: response.usage,
                    latency: ContinuousClock.now - started, error: nil, usedFallback: self.position > 0))
            return response
        } catch {
            // a failed call is recorded too: the provider may have billed the prompt, and the console shows why
            let reason = (error as? LLMError)?.description ?? (error is CancellationError ? "cancelled" : "\(error)")
            self.ledger.record(
                .init(
                    provider: self.name, model: asked, callType: callType, usage: .zero, latency: ContinuousClock.now - started,
                    error: String(reason.prefix(500)), usedFallback: self.position > 0))
            throw error
        }
    }
}
