import Models
import ServiceClient

extension Endpoint {
    /// The path with its `{name}` parameters filled in.
    public func path(_ parameters: [String: String]) -> String {
        var path = self.path
        for (name, value) in parameters { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
        return path
    }
}

/// Typed calls to the gateway.
public struct GatewayClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// The tenant, or nil when there is none with this id.
    public func tenant(_ id: TenantID, context: CallContext) async throws -> GatewayAPI.Tenant? {
        do {
            return try await self.client.get(GatewayAPI.tenant.path(["id": id.description]), context: context)
        } catch ServiceClientError.api(404, _, _) {
            return nil
        }
    }
}

/// Typed calls to the vouchers service.
public struct VouchersClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// The station in the tenant the context acts on, or nil when it has none with this id.
    public func station(_ id: StationID, context: CallContext) async throws -> VouchersAPI.Station? {
        do {
            return try await self.client.get(VouchersAPI.getStation.path(["id": id.description]), context: context)
        } catch ServiceClientError.api(404, _, _) {
            return nil
        }
    }
}

/// Typed calls to messaging.
public struct MessagingClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    public func notify(_ notification: MessagingAPI.Notification, idempotencyKey: String, context: CallContext) async throws {
        let _: MessagingAPI.Receipt = try await self.client.post(
            MessagingAPI.notify.path, body: notification, idempotencyKey: idempotencyKey, context: context)
    }
}
