import Logging
import PostgresNIO
import ServiceLifecycle

/// Holds one connection in `LISTEN` on a channel until graceful shutdown, and listens again a second after the
/// connection is lost. `listening` runs each time listening starts (`again` after a lost connection: whatever was
/// announced meanwhile was missed), `received` for each notification's payload.
public enum PostgresListener {
    public static func run(
        channel: String, postgres: PostgresClient, logger: Logger, listening: @escaping @Sendable (_ again: Bool) async -> Void,
        received: @escaping @Sendable (String) async -> Void
    ) async {
        await cancelWhenGracefulShutdown {
            var attempts = 0
            while !Task.isCancelled {
                let again = attempts > 0
                attempts += 1
                do {
                    try await postgres.withConnection { connection in
                        try await connection.listen(on: channel) { notifications in
                            await listening(again)
                            for try await notification in notifications { await received(notification.payload) }
                        }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("listener lost its connection", metadata: ["channel": "\(channel)", "error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
