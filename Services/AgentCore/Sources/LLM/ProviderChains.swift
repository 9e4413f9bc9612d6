import AsyncHTTPClient
import Synchronization

/// Builds a reply's fallback chain from the providers it may ask (the platform's or a tenant's), each call metered
/// into the reply's ledger, each provider behind a circuit breaker kept across replies: one per owner (the
/// platform, or a tenant), provider name and URL, so one tenant's failing provider never opens another's circuit.
final class ProviderChains: Sendable {
    let http: HTTPClient
    let timeout: Duration
    let retry: FallbackChain.RetryPolicy
    private let breakers = Mutex<[String: CircuitBreaker]>([:])

    init(http: HTTPClient, timeout: Duration, retry: FallbackChain.RetryPolicy = .init()) {
        self.http = http
        self.timeout = timeout
        self.retry = retry
    }

    func breaker(owner: String, provider: ProviderSpec) -> CircuitBreaker {
        let key = "\(owner)|\(provider.name)|\(provider.baseURL)"
        return self.breakers.withLock { breakers in
            if let breaker = breakers[key] { return breaker }
            let breaker = CircuitBreaker(provider: provider.name)
            breakers[key] = breaker
            return breaker
        }
    }

    func chain(owner: String, providers: [ProviderSpec], ledger: CallLedger) -> FallbackChain {
        FallbackChain(
            providers.enumerated().map { position, provider in
                FallbackChain.Link(
                    MeteredModel(
                        inner: OpenAICompatibleModel(
                            name: provider.name, baseURL: provider.baseURL, apiKey: provider.apiKey, model: provider.model, http: self.http,
                            timeout: self.timeout),
                        ledger: ledger, configuredModel: provider.model, position: position),
                    breaker: self.breaker(owner: owner, provider: provider))
            }, retry: self.retry)
    }
}
