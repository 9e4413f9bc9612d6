import Logging
import Synchronization

/// Providers in order of preference, each behind its circuit breaker. A transient failure (429, 5xx) is retried on
/// the same provider with exponential backoff, honouring `Retry-After`; when the retries are spent, or the
/// provider refused, timed out or could not be reached, the next provider is asked. Providers with an open circuit
/// are skipped without a call.
struct FallbackChain: ChatModel {
    struct Link: Sendable {
        var model: any ChatModel
        var breaker: CircuitBreaker

        init(_ model: any ChatModel, breaker: CircuitBreaker? = nil) {
            self.model = model
            self.breaker = breaker ?? CircuitBreaker(provider: model.name)
        }
    }

    struct RetryPolicy: Sendable {
        /// Retries on the same provider after the first try (so `retries + 1` calls at most).
        var retries = 2
        /// The first backoff; each retry doubles it.
        var baseDelay: Duration = .milliseconds(250)
        /// The longest wait; a `Retry-After` beyond it sends the turn to the next provider instead of waiting.
        var maxDelay: Duration = .seconds(5)
    }

    let name: String
    let links: [Link]
    let retry: RetryPolicy
    let sleep: @Sendable (Duration) async throws -> Void

    init(
        name: String = "fallback", _ links: [Link], retry: RetryPolicy = RetryPolicy(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.name = name
        self.links = links
        self.retry = retry
        self.sleep = sleep
    }

    func complete(_ request: ChatRequest, logger: Logger) async throws -> ChatResponse {
        try await self.run(logger: logger, spoke: { false }, call: { model in try await model.complete(request, logger: logger) })
    }

    /// The turn streamed from the first provider that answers (one that cannot stream gives its text in one piece).
    /// Once some text has reached `onText` there is no retry and no fallback: the customer would hear it twice.
    func stream(_ request: ChatRequest, logger: Logger, onText: @escaping @Sendable (String) async throws -> Void) async throws -> ChatResponse {
        let spoke = Mutex(false)
        let relay: @Sendable (String) async throws -> Void = { text in
            spoke.withLock { $0 = true }
            do {
                try await onText(text)
            } catch {
                throw ListenerFailure(error: error)
            }
        }
        return try await self.run(
            logger: logger, spoke: { spoke.withLock { $0 } },
            call: { model in
                if let streaming = model as? any StreamingChatModel { return try await streaming.stream(request, logger: logger, onText: relay) }
                let response = try await model.complete(request, logger: logger)
                if let content = response.content, !content.isEmpty { try await relay(content) }
                return response
            })
    }

    /// Asks the providers in turn; `spoke` says whether a failed call already delivered part of its answer.
    private func run(
        logger: Logger, spoke: @Sendable () -> Bool, call: @Sendable (any ChatModel) async throws -> ChatResponse
    ) async throws -> ChatResponse {
        var failures: [LLMError.ProviderFailure] = []
        for (position, link) in self.links.enumerated() {
            let provider = link.model.name
            var attempt = 0
            var lastError: LLMError?
            while true {
                guard await link.breaker.acquire() else {
                    // a circuit that opened between retries: the failure that opened it says more
                    failures.append(.init(provider: provider, error: lastError ?? .circuitOpen(provider: provider)))
                    break
                }
                let error: LLMError
                do {
                    var response = try await call(link.model)
                    await link.breaker.record(nil)
                    response.usedFallback = position > 0
                    return response
                } catch let failure as LLMError {
                    error = failure
                } catch is CancellationError {
                    await link.breaker.release()
                    throw CancellationError()
                } catch let failure as ListenerFailure {
                    // the listener's own failure says nothing of the provider
                    await link.breaker.release()
                    throw failure.error
                } catch {
                    // an adapter that threw something else: count it like a connection failure
                    if Task.isCancelled {
                        await link.breaker.release()
                        throw CancellationError()
                    }
                    await link.breaker.record(.unreachable("\(error)"))
                    failures.append(.init(provider: provider, error: .unreachable("\(error)")))
                    if spoke() { throw LLMError.allFailed(failures) }
                    break
                }
                await link.breaker.record(error)
                logger.warning("llm provider failed", metadata: ["llm.provider": "\(provider)", "llm.attempt": "\(attempt + 1)", "llm.error": "\(error)"])
                lastError = error
                if spoke() {
                    failures.append(.init(provider: provider, error: error))
                    throw LLMError.allFailed(failures)
                }
                // no retry into a circuit this failure just opened
                guard case .transient(_, _, let retryAfter) = error, attempt < self.retry.retries, await !link.breaker.isOpen,
                    let delay = self.delay(attempt: attempt, retryAfter: retryAfter)
                else {
                    failures.append(.init(provider: provider, error: error))
                    break
                }
                try await self.sleep(delay)
                attempt += 1
            }
        }
        throw LLMError.allFailed(failures)
    }

    /// What `onText` threw, told apart from the provider's failures.
    private struct ListenerFailure: Error {
        var error: any Error
    }

    /// The wait before retry `attempt + 1`: the provider's `Retry-After` when longer than the backoff; nil when that
    /// is more than the cap (better the next provider than a customer waiting).
    func delay(attempt: Int, retryAfter: Duration?) -> Duration? {
        let backoff = min(self.retry.maxDelay, self.retry.baseDelay * (1 << min(attempt, 20)))
        guard let retryAfter else { return backoff }
        return retryAfter > self.retry.maxDelay ? nil : max(backoff, retryAfter)
    }
}
