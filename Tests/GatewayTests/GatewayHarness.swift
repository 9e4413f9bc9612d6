import Foundation
import Gateway
import Logging
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing
import Vouchers

/// The gateway and the vouchers service on loopback, sharing a fresh database.
struct GatewayHarness: Sendable {
    let gateway: String
    let vouchers: String
    let database: DatabaseURL
    let environment: ServiceEnvironment

    static func with<T: Sendable>(
        overrides: [String: String] = [:], upstreams: [ServiceName: String] = [:], _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        // a service pointed at a fake upstream is not started
        try await TestServices.with(upstreams[.vouchers] == nil ? [.gateway, .vouchers] : [.gateway], settings: [.gateway: overrides], upstreams: upstreams) {
            platform in
            try await body(
                GatewayHarness(
                    gateway: platform.url(.gateway), vouchers: upstreams[.vouchers] ?? platform.url(.vouchers), database: platform.database,
                    environment: platform.environment(.gateway)))
        }
    }

    var superAdmin: String {
        get async throws { try await TestKeys.token(subject: UUID().uuidString, tenant: nil, roles: [.superAdmin]) }
    }

    func createTenant(_ slug: String, plan: String = "pro") async throws -> TenantDTO {
        let response = try await TestHTTP.request(
            .POST, "\(self.gateway)/v1/tenants", token: try await self.superAdmin,
            body: Data(#"{"name":"\#(slug)","slug":"\#(slug)","plan":"\#(plan)","currency":"KES"}"#.utf8))
        #expect(response.status == 201, "\(response.text)")
        return try response.json(TenantDTO.self)
    }

    func createUser(email: String, password: String = "correct-horse-battery", tenant: String?, roles: [Role], station: StationID? = nil) async throws
        -> UserDTO
    {
        let body = CreateUser(email: email, password: password, name: "Test", tenantId: tenant, roles: roles, stationId: station?.description)
        let response = try await TestHTTP.post("\(self.gateway)/v1/users", token: try await self.superAdmin, json: body)
        #expect(response.status == 201, "\(response.text)")
        return try response.json(UserDTO.self)
    }

    func login(_ email: String, _ password: String = "correct-horse-battery") async throws -> TestResponse {
        try await TestHTTP.post("\(self.gateway)/v1/auth/login", json: LoginRequest(email: email, password: password))
    }
}
