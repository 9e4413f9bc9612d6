import Logging
import Models

/// Web chat has no provider: a reply is "sent" once stored, and the visitor's socket (on whichever replica holds
/// it) pushes it, woken by the message's notification.
struct WebChatAdapter: ProviderAdapter {
    func send(_ message: OutboundMessage, channel: ChannelDTO, secrets: ChannelSecrets, logger: Logger) async throws -> SendOutcome {
        .accepted(providerMessageID: "wc-out:\(message.id)", status: .sent)
    }
}
