/// One provider's circuit: after `threshold` failures in a row (transient, unreachable, timeout) it opens and the
/// provider is not called for `coolDown`; then one trial call goes through (half-open), and its outcome closes
/// the circuit or opens it again. A refusal (400, 401, …) is an answer: the provider is up, so it counts as success.
actor CircuitBreaker {
    enum State: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        /// `trial`: the one call let through is under way, and no other goes.
        case halfOpen(trial: Bool)
    }

    let provider: String
    let threshold: Int
    let coolDown: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private(set) var state: State = .closed(failures: 0)

    /// - Parameters:
    ///   - now: the clock; tests move it past the cool-down instead of waiting.
    init(provider: String, threshold: Int = 5, coolDown: Duration = .seconds(30), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.provider = provider
        self.threshold = max(1, threshold)
        self.coolDown = coolDown
        self.now = now
    }

    /// Whether a call may go now; a true in half-open makes it the trial, which must end with `record` or `release`.
    func acquire() -> Bool {
        switch self.state {
        case .closed:
            return true
        case .open(let until):
            guard self.now() >= until else { return false }
            self.state = .halfOpen(trial: true)
            return true
        case .halfOpen(let trial):
            if trial { return false }
            self.state = .halfOpen(trial: true)
            return true
        }
    }

    /// The outcome of a call `acquire` let through.
    func record(_ error: LLMError?) {
        guard let error, error.isProviderFault else {
            self.state = .closed(failures: 0)
            return
        }
        switch self.state {
        case .closed(let failures) where failures + 1 < self.threshold:
            self.state = .closed(failures: failures + 1)
        case .closed, .halfOpen, .open:
            self.state = .open(until: self.now() + self.coolDown)
        }
    }

    /// A call that ended without an outcome (cancelled): a half-open trial is given back for the next caller.
    func release() {
        if case .halfOpen(true) = self.state { self.state = .halfOpen(trial: false) }
    }

    var isOpen: Bool {
        if case .open(let until) = self.state { return self.now() < until }
        return false
    }
}
