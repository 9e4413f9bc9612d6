/// Runs `operation` in a task of its own and answers its result, or nil when `trigger` returns first: the operation
/// is then cancelled and left behind, so one that ignores cancellation (a hung database call, a stubborn handler)
/// cannot hold the caller. Cancelling the caller cancels both.
public func race<T: Sendable>(
    _ operation: @escaping @Sendable () async throws -> T, until trigger: @escaping @Sendable () async -> Void
) async -> Result<T, any Error>? {
    let (stream, continuation) = AsyncStream.makeStream(of: Result<T, any Error>?.self)
    let work = Task {
        do { continuation.yield(.success(try await operation())) } catch { continuation.yield(.failure(error)) }
    }
    let timer = Task {
        await trigger()
        if !Task.isCancelled { continuation.yield(nil) }
    }
    let first: Result<T, any Error>?? = await withTaskCancellationHandler {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    } onCancel: {
        work.cancel()
        timer.cancel()
        continuation.finish()
    }
    work.cancel()
    timer.cancel()
    continuation.finish()
    // the caller was cancelled before either finished: the operation's cancellation is its answer
    return first ?? .failure(CancellationError())
}
