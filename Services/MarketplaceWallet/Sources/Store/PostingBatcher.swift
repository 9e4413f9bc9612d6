import Logging
import Synchronization

/// Transfers waiting to be posted, taken together: each request queues its posting and waits; up to `drains` tasks
/// each take what has queued (at most `maxBatch`) and post it in one database transaction. Nothing waits for a
/// batch to fill: an idle ledger posts each transfer as it comes (a batch of one), and under load the postings that
/// queued while the drains were busy share the next transaction, its round trips and its commit (TigerBeetle's
/// batching, in PostgreSQL).
final class PostingBatcher: Sendable {
    typealias Outcome = Result<(TransferDTO, replayed: Bool), any Error>

    struct Item: Sendable {
        var posting: Posting
        var requestID: String
        var continuation: CheckedContinuation<(TransferDTO, replayed: Bool), any Error>
    }

    private struct State {
        var queue: [Item] = []
        var draining = 0
    }

    private let state = Mutex(State())
    let maxBatch: Int
    let drains: Int
    /// Posts a batch and answers each of its items, in order.
    let post: @Sendable ([Item], Logger) async -> [Outcome]

    /// Two drains: one batch is checked and answered while the other waits on PostgreSQL (measured by `sokoni-bench
    /// ledger` on two cores: one drain 1,636 postings/s, two 1,810, four 1,351).
    init(maxBatch: Int = 64, drains: Int = 2, post: @escaping @Sendable ([Item], Logger) async -> [Outcome]) {
        self.maxBatch = maxBatch
        self.drains = drains
        self.post = post
    }

    func submit(_ posting: Posting, requestID: String, logger: Logger) async throws -> (TransferDTO, replayed: Bool) {
        try await withCheckedThrowingContinuation { continuation in
            let start = self.state.withLock { state -> Bool in
                state.queue.append(Item(posting: posting, requestID: requestID, continuation: continuation))
                guard state.draining < self.drains else { return false }
                state.draining += 1
                return true
            }
            // an unstructured task: the drain outlives the request that started it, and ends when the queue is empty
            if start { Task { await self.drain(logger: logger) } }
        }
    }

    private func drain(logger: Logger) async {
        while true {
            let batch = self.state.withLock { state -> [Item] in
                guard !state.queue.isEmpty else {
                    state.draining -= 1
                    return []
                }
                let taken = Array(state.queue.prefix(self.maxBatch))
                state.queue.removeFirst(taken.count)
                return taken
            }
            guard !batch.isEmpty else { return }
            let outcomes = await self.post(batch, logger)
            for (item, outcome) in zip(batch, outcomes) { item.continuation.resume(with: outcome) }
            // never leave a request waiting, even if `post` answered too few
            for item in batch.dropFirst(outcomes.count) {
                item.continuation.resume(throwing: APIErrorForBatch.unanswered)
            }
        }
    }
}

/// A posting the batch did not answer (a bug): the request fails with a 500 rather than waiting forever.
enum APIErrorForBatch: Error {
    case unanswered
}
