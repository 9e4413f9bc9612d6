import Contracts
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Models
import ServiceKit

/// Relays the WebSockets the services declare (`MessagingAPI.sockets`) message by message: the browser talks
/// to the gateway, the gateway opens the same socket to the service with the client's origin and address, and
/// each side's messages are written to the other until either closes. The service authenticates (the first
/// frame carries the token or the visitor's); the gateway only decides where a socket goes.
struct SocketRelay: Sendable {
    let upstreams: [ServiceName: URL]
    let sockets: [Endpoint]

    func upgrade(_ request: WebSocketRequest, logger: Logger) -> WebSocketUpgrade? {
        guard let endpoint = self.sockets.first(where: { $0.path == request.path }), let base = self.upstreams[endpoint.service],
            var components = URLComponents(url: base, resolvingAgainstBaseURL: false)
        else { return nil }
        components.scheme = components.scheme == "https" ? "wss" : "ws"
        components.path = String(request.path)
        if let target = request.head.path, let mark = target.firstIndex(of: "?") {
            components.percentEncodedQuery = String(target[target.index(after: mark)...])
        }
        guard let url = components.string else { return nil }
        var headers = HTTPFields()
        // the client library sends an Origin of its own; the browser's travels in a header the service trusts from the gateway
        if let origin = request.head.headerFields[values: .origin].last { headers[.forwardedOrigin] = origin }
        if let address = request.remoteAddress { headers[ClientAddress.forwardedFor] = address }
        headers[.requestID] = request.head.headerFields[.requestID] ?? UUID().uuidString
        let configuration = WebSocketClientConfiguration(maxFrameSize: webSocketMaxMessageSize, additionalHeaders: headers)
        return WebSocketUpgrade { inbound, outbound, logger in
            do {
                try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { upstreamInbound, upstreamOutbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await message in upstreamInbound.messages(maxSize: webSocketMaxMessageSize) { try await outbound.write(message.frame) }
                            try? await outbound.close(.normalClosure, reason: nil)
                        }
                        for try await message in inbound.messages(maxSize: webSocketMaxMessageSize) { try await upstreamOutbound.write(message.frame) }
                        try? await upstreamOutbound.close(.normalClosure, reason: nil)
                        group.cancelAll()
                    }
                }
            } catch {
                logger.warning("socket upstream unreachable", metadata: ["upstream": .string(endpoint.service.rawValue), "error": "\(error)"])
                try? await outbound.close(.unexpectedServerError, reason: "upstream unreachable")
            }
        }
    }
}

extension WebSocketMessage {
    /// The same message, to write on the other socket.
    var frame: WebSocketOutboundWriter.OutboundFrame {
        switch self {
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(bytes)
        }
    }
}
