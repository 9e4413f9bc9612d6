import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// What `messaging_live` announces (migration 0003's triggers): a message stored or its status changed, or a
/// conversation's status changed. It names rows; whoever shows them reads them.
struct LiveEvent: Codable, Sendable, Equatable {
    /// `message`, `status`, `conversation`; `resync` when the listener reconnected and events may have been missed.
    var type: String
    var tenantId: TenantID?
    var channelId: ChannelID?
    var conversationId: ConversationID?
    var messageId: MessageID?
    var sequenceNo: Int?
    var direction: String?
    var status: String?

    static let resync = LiveEvent(type: "resync")
}

/// The sockets this replica holds, each with what it wants to hear. One LISTEN per replica (`LiveListener`)
/// feeds it; a subscriber that reads too slowly loses the oldest events, never blocks the others, and reads
/// the database anyway.
actor LiveHub {
    struct Subscription: Sendable {
        var tenant: TenantID
        /// Only this channel's events (a web-chat visitor); nil: the whole tenant (the console).
        var channel: ChannelID?
    }

    private var subscribers: [UUID: (Subscription, AsyncStream<LiveEvent>.Continuation)] = [:]

    func subscribe(_ subscription: Subscription) -> (UUID, AsyncStream<LiveEvent>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        self.subscribers[id] = (subscription, continuation)
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        self.subscribers.removeValue(forKey: id)?.1.finish()
    }

    var count: Int { self.subscribers.count }

    func publish(_ event: LiveEvent) {
        for (subscription, continuation) in self.subscribers.values {
            if event.type == "resync"
                || (event.tenantId == subscription.tenant && (subscription.channel == nil || subscription.channel == event.channelId))
            {
                continuation.yield(event)
            }
        }
    }
}

/// Holds one connection in LISTEN on `messaging_live` for the life of the service and hands every notification
/// to the hub. A lost connection is opened again after a second, and the sockets are told to read again.
struct LiveListener: Service {
    static let channel = "messaging_live"
    let postgres: PostgresClient
    let hub: LiveHub
    let logger: Logger

    func run() async throws {
        let hub = self.hub
        let logger = self.logger
        await PostgresListener.run(
            channel: Self.channel, postgres: self.postgres, logger: self.logger,
            // listening again: what was announced meanwhile is in the database
            listening: { again in if again { await hub.publish(.resync) } },
            received: { payload in
                guard let event = try? JSONDecoder().decode(LiveEvent.self, from: Data(payload.utf8)) else {
                    logger.warning("unreadable live notification", metadata: ["payload": "\(payload.prefix(200))"])
                    return
                }
                await hub.publish(event)
            })
    }
}
