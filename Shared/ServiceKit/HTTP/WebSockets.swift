import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// An upgrade request as a service sees it: the head (no body comes with an upgrade) and the peer's address.
public struct WebSocketRequest: Sendable {
    public var head: HTTPRequest
    public var remoteAddress: String?

    public init(head: HTTPRequest, remoteAddress: String?) {
        self.head = head
        self.remoteAddress = remoteAddress
    }

    /// The path without its query.
    public var path: Substring { (self.head.path ?? "/").prefix { $0 != "?" } }
    /// The query's values (a key given twice keeps the first).
    public var query: [String: String] {
        guard let path = self.head.path, let components = URLComponents(string: path) else { return [:] }
        var values: [String: String] = [:]
        for item in components.queryItems ?? [] where values[item.name] == nil { values[item.name] = item.value ?? "" }
        return values
    }
}

/// A socket a service agreed to open: the extra headers of its 101 answer and the code that talks on it. The
/// handler returns when the conversation is over; the socket is closed then.
public struct WebSocketUpgrade: Sendable {
    public typealias Handler = @Sendable (WebSocketInboundStream, WebSocketOutboundWriter, Logger) async throws -> Void
    public var headers: HTTPFields
    public var handler: Handler

    public init(headers: HTTPFields = [:], handler: @escaping Handler) {
        self.headers = headers
        self.handler = handler
    }
}

/// The frame limit of every socket: web chat and live events are small JSON messages.
public let webSocketMaxMessageSize = 1 << 16

extension WebSocketOutboundWriter {
    /// Sends a value as one JSON text message.
    public func send(json value: some Encodable) async throws {
        try await self.write(.text(String(decoding: try JSONEncoder.sokoni.encode(value), as: UTF8.self)))
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 that upgrades to a WebSocket where the module accepts one (`ServiceModule.webSocket`); every
    /// other request, upgrade or not, goes to the router as usual. Pings every 30 s keep idle sockets open through
    /// load balancers and find dead peers.
    static func sokoni<Module: ServiceModule>(module: Module) -> HTTPServerBuilder {
        .http1WebSocketUpgrade(
            configuration: .init(maxFrameSize: webSocketMaxMessageSize, autoPing: .enabled(timePeriod: .seconds(30)))
        ) { head, channel, logger in
            let request = WebSocketRequest(head: head, remoteAddress: channel.remoteAddress?.ipAddress)
            guard let upgrade = try await module.webSocket(request, logger: logger) else { return .dontUpgrade }
            return .upgrade(upgrade.headers) { inbound, outbound, context in
                try await upgrade.handler(inbound, outbound, context.logger)
            }
        }
    }
}
